"""Seed the calendar with every year the installed `chinese-calendar` package covers.

Years already in the table (loaded by an administrator) are left alone. Years the package
does not cover (2027 onwards for chinese-calendar 1.11) are entered in the admin.
"""

from django.db import migrations

# The package names the periods in English; staff read Chinese.
CHINESE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _name(english, suffix=""):
    chinese = CHINESE_NAMES.get(english)
    return f"{chinese}{suffix}" if chinese else english


def seed(apps, schema_editor):
    import chinese_calendar

    CalendarYear = apps.get_model("workcalendar", "CalendarYear")
    CalendarDay = apps.get_model("workcalendar", "CalendarDay")
    db = schema_editor.connection.alias

    dates = [*chinese_calendar.holidays, *chinese_calendar.workdays]
    first, last = min(dates).year, max(dates).year
    version = getattr(chinese_calendar, "__version__", "")
    existing = set(CalendarYear.objects.using(db).values_list("year", flat=True))
    years = {
        y: CalendarYear(year=y, source="package", notes=f"chinese-calendar {version}".strip())
        for y in range(first, last + 1)
        if y not in existing
    }
    CalendarYear.objects.using(db).bulk_create(years.values())
    # Re-read for primary keys: bulk_create does not return them on every database.
    ids = dict(CalendarYear.objects.using(db).filter(year__in=years).values_list("year", "pk"))
    days = [
        CalendarDay(calendar_year_id=ids[d.year], date=d, kind="holiday", name=_name(v))
        for d, v in chinese_calendar.holidays.items()
        if d.year in ids
    ] + [
        CalendarDay(calendar_year_id=ids[d.year], date=d, kind="workday", name=_name(v, "调休"))
        for d, v in chinese_calendar.workdays.items()
        if d.year in ids
    ]
    CalendarDay.objects.using(db).bulk_create(sorted(days, key=lambda day: day.date))


def unseed(apps, schema_editor):
    CalendarYear = apps.get_model("workcalendar", "CalendarYear")
    CalendarYear.objects.using(schema_editor.connection.alias).filter(source="package").delete()


class Migration(migrations.Migration):
    dependencies = [("workcalendar", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
