"""Loading the working-day calendar: the cached WorkCalendar the deadline engine uses, an
administrator's import of a year's official schedule, and the warning to load a missing year.
"""

import datetime
import logging
import re
import threading
import time
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections, transaction
from django.db.models import Q
from django.dispatch import Signal
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from servicedesk.workdays import WorkCalendar

from .models import CalendarDay, CalendarYear, DayKind, YearSource, day_problem

logger = logging.getLogger(__name__)

CACHE_SECONDS = 60
# The next year's schedule is published by the State Council in late October or November:
# warning about it earlier would only teach administrators to ignore the banner.
NEXT_YEAR_WARNING_FROM_MONTH = 10

# Sent after commit when a year's schedule was (re)loaded: a higher app may recompute the
# deadlines it marked provisional. Arguments: year (int).
calendar_year_loaded = Signal()

_lock = threading.Lock()
_cached = None  # (expires at, monotonic clock; WorkCalendar)
_warned_years = set()


def clear_caches(**kwargs):
    """Forget the cached calendar and which missing years were warned about. Called on every
    save/delete of the calendar tables (signals connected in apps.py) and by tests."""
    global _cached
    with _lock:
        _cached = None
        _warned_years.clear()


def invalidate_calendar(**kwargs):
    clear_caches()
    # Also after commit: another thread may have cached the old rows while the change was
    # still uncommitted. Other processes pick the change up within CACHE_SECONDS.
    transaction.on_commit(clear_caches)


def _time_setting(name):
    value = getattr(settings, name)
    try:
        return datetime.time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f'{name} must be a time like "09:00", not {value!r}.') from exc


def business_hours_problem():
    """Why BUSINESS_DAY_START/END are unusable, or None (a system check reports it at start-up
    rather than in the middle of a sweep)."""
    try:
        start, end = _time_setting("BUSINESS_DAY_START"), _time_setting("BUSINESS_DAY_END")
    except ImproperlyConfigured as exc:
        return str(exc)
    if end <= start:
        return f"BUSINESS_DAY_END ({end}) must be later than BUSINESS_DAY_START ({start})."
    return None


def build_calendar():
    """A WorkCalendar from the tables and settings, uncached (two queries)."""
    holidays, workdays = set(), set()
    for date, kind in CalendarDay.objects.values_list("date", "kind"):
        (workdays if kind == DayKind.WORKDAY else holidays).add(date)
    return WorkCalendar(
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        known_years=frozenset(CalendarYear.objects.values_list("year", flat=True)),
        tz=ZoneInfo(settings.TIME_ZONE),
        day_start=_time_setting("BUSINESS_DAY_START"),
        day_end=_time_setting("BUSINESS_DAY_END"),
    )


def load_calendar():
    """The working-day calendar, cached in this process for CACHE_SECONDS: the sweeps call this
    every minute. Saving or deleting a calendar row in this process drops the cache at once."""
    global _cached
    now = time.monotonic()
    cached = _cached
    if cached is not None and cached[0] > now:
        return cached[1]
    cal = build_calendar()
    with _lock:
        _cached = (now + CACHE_SECONDS, cal)
    return cal


def missing_years_to_warn(today=None):
    """The years an administrator should load now: the current year, and from October the
    next one, when their schedule is not in the calendar. Uses the cached calendar."""
    today = today or timezone.localdate()
    years = [today.year]
    if today.month >= NEXT_YEAR_WARNING_FROM_MONTH:
        years.append(today.year + 1)
    known = load_calendar().known_years
    return [y for y in years if y not in known]


# --- Import --------------------------------------------------------------------------

KIND_WORDS = {
    "holiday": DayKind.HOLIDAY,
    "off": DayKind.HOLIDAY,
    "休": DayKind.HOLIDAY,
    "假": DayKind.HOLIDAY,
    "放假": DayKind.HOLIDAY,
    "workday": DayKind.WORKDAY,
    "work": DayKind.WORKDAY,
    "班": DayKind.WORKDAY,
    "上班": DayKind.WORKDAY,
    "补班": DayKind.WORKDAY,
    # Not "调休": staff use it both for the worked weekend day and for the day off in lieu.
}
_SEPARATORS = re.compile(r"[\s,，、;；]+")
_RANGE = re.compile(r"^(\S+?)(?:~|～|\.\.)(\S+)$")
_MAX_RANGE_DAYS = 31


def _parse_date(text):
    try:
        return datetime.date.fromisoformat(text.replace("/", "-"))
    except ValueError:
        # fromisoformat wants zero-padded months and days; accept 2027-1-1 too.
        parts = text.replace("/", "-").split("-")
        if len(parts) == 3 and all(p.isdigit() for p in parts):
            try:
                return datetime.date(*map(int, parts))
            except ValueError:
                return None
        return None


def parse_day_list(text):
    """Parse the simple list an administrator pastes, one date (or range) per line:

        2027-01-01 holiday 元旦
        2027-02-06~2027-02-12 休 春节
        2027-02-07, workday, 春节调休

    Kind words: holiday/休/假 (a day off) and workday/班/补班 (a make-up working day);
    separators: spaces, tabs or commas; blank lines and lines starting with # are skipped.
    Returns [(date, kind, name)] in line order, or raises ValidationError naming the lines.
    """
    days, errors, seen = [], [], {}
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        parts = _SEPARATORS.split(line, maxsplit=2)
        if len(parts) < 2:
            errors.append(
                _("Line %(line)s: expected a date and a kind (holiday or workday), got “%(text)s”.")
                % {"line": number, "text": line}
            )
            continue
        date_text, kind_text = parts[0], parts[1]
        name = parts[2].strip() if len(parts) > 2 else ""
        range_match = _RANGE.match(date_text)
        if range_match:
            first, last = _parse_date(range_match[1]), _parse_date(range_match[2])
        else:
            first = last = _parse_date(date_text)
        kind = KIND_WORDS.get(kind_text.lower())
        if first is None or last is None:
            errors.append(
                _("Line %(line)s: “%(text)s” is not a date like 2027-01-01.")
                % {"line": number, "text": date_text}
            )
            continue
        if last < first or (last - first).days >= _MAX_RANGE_DAYS:
            errors.append(
                _("Line %(line)s: “%(text)s” is not a range of at most %(max)s days.")
                % {"line": number, "text": date_text, "max": _MAX_RANGE_DAYS}
            )
            continue
        if kind is None:
            errors.append(
                _("Line %(line)s: “%(text)s” is not a kind; use holiday (休) or workday (班).")
                % {"line": number, "text": kind_text}
            )
            continue
        if len(name) > CalendarDay._meta.get_field("name").max_length:
            errors.append(_("Line %(line)s: the name is too long.") % {"line": number})
            continue
        day = first
        while day <= last:
            if day in seen:
                errors.append(
                    _("Line %(line)s: %(date)s is already listed on line %(first)s.")
                    % {"line": number, "date": day.isoformat(), "first": seen[day]}
                )
                break
            seen[day] = number
            days.append((day, kind, name))
            day += datetime.timedelta(days=1)
    if errors:
        raise ValidationError(errors)
    return days


def calendar_year_load(*, year, days, user, source=YearSource.MANUAL, notes=""):
    """Replace `year`'s official schedule with `days` ([(date, kind, name)]), atomically.

    Raises ValidationError keyed by field ("year", "days") and saves nothing when a date is
    outside the year, listed twice, of an unknown kind or a make-up working day on a weekday.
    """
    errors = {}
    try:
        year = int(year)
    except (TypeError, ValueError):
        year = None
    if year is None or not 2000 <= year <= 2200:
        errors["year"] = [_("Enter a year between 2000 and 2200.")]
    days = list(days)
    day_errors = []
    if not days:
        day_errors.append(_("Enter at least one day."))
    seen = set()
    max_name = CalendarDay._meta.get_field("name").max_length
    for date, kind, name in days:
        if kind not in DayKind.values:
            day_errors.append(
                _("%(date)s: “%(kind)s” is not a kind of day.")
                % {"date": date.isoformat(), "kind": kind}
            )
        elif date in seen:
            day_errors.append(_("%(date)s is listed twice.") % {"date": date.isoformat()})
        elif len(name or "") > max_name:
            day_errors.append(_("%(date)s: the name is too long.") % {"date": date.isoformat()})
        elif year is not None:
            problem = day_problem(year, date, kind)
            if problem:
                day_errors.append(str(problem))
        seen.add(date)
    if day_errors:
        errors["days"] = day_errors
    if errors:
        raise ValidationError(errors)

    with transaction.atomic():
        calendar_year, _created = CalendarYear.objects.update_or_create(
            year=year,
            defaults={
                "source": source,
                "notes": notes,
                "loaded_at": timezone.now(),
                "loaded_by": user,
            },
        )
        calendar_year.days.all().delete()
        CalendarDay.objects.bulk_create(
            CalendarDay(calendar_year=calendar_year, date=date, kind=kind, name=name)
            for date, kind, name in sorted(days)
        )
        # bulk_create sends no signal: drop the cached calendar here.
        invalidate_calendar()
        transaction.on_commit(lambda: calendar_year_loaded.send(sender=CalendarYear, year=year))
    return calendar_year


# The package names the holiday periods in English; staff read Chinese. (The data migration
# keeps its own frozen copy of this map.)
PACKAGE_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "Mid-autumn Festival": "中秋节",
    "National Day": "国庆节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def calendar_seed_from_package(*, using=DEFAULT_DB_ALIAS):
    """Load every year the installed chinese-calendar covers that is not loaded yet (years an
    administrator entered are left alone). Returns the years loaded."""
    import chinese_calendar

    def name(english, suffix=""):
        chinese = PACKAGE_NAMES.get(english)
        return f"{chinese}{suffix}" if chinese else english

    dates = [*chinese_calendar.holidays, *chinese_calendar.workdays]
    existing = set(CalendarYear.objects.using(using).values_list("year", flat=True))
    years = [y for y in range(min(dates).year, max(dates).year + 1) if y not in existing]
    notes = f"chinese-calendar {getattr(chinese_calendar, '__version__', '')}".strip()
    with transaction.atomic(using=using):
        CalendarYear.objects.using(using).bulk_create(
            CalendarYear(year=y, source=YearSource.PACKAGE, notes=notes) for y in years
        )
        # Read back: bulk_create does not set primary keys on every database.
        ids = dict(
            CalendarYear.objects.using(using).filter(year__in=years).values_list("year", "pk")
        )
        days = [
            CalendarDay(calendar_year_id=ids[d.year], date=d, kind=DayKind.HOLIDAY, name=name(v))
            for d, v in chinese_calendar.holidays.items()
            if d.year in ids
        ] + [
            CalendarDay(
                calendar_year_id=ids[d.year], date=d, kind=DayKind.WORKDAY, name=name(v, "调休")
            )
            for d, v in chinese_calendar.workdays.items()
            if d.year in ids
        ]
        CalendarDay.objects.using(using).bulk_create(sorted(days, key=lambda day: day.date))
    clear_caches()
    return years


def seed_empty_calendar(using=DEFAULT_DB_ALIAS, **kwargs):
    """After migrate (and after a test's flush, which empties every table but re-sends
    post_migrate), put the package's years into a calendar that has none at all."""
    if any(backwards for _migration, backwards in kwargs.get("plan") or ()):
        return  # unapplying migrations: leave the calendar as it is
    if CalendarYear._meta.db_table not in connections[using].introspection.table_names():
        return
    if not CalendarYear.objects.using(using).exists():
        calendar_seed_from_package(using=using)


def calendar_year_as_text(calendar_year):
    """A loaded year in the format parse_day_list reads, to edit it as a list."""
    # English kind words: they parse whatever the administrator's language.
    return "\n".join(
        f"{d.date.isoformat()} {d.kind} {d.name}".rstrip()
        for d in calendar_year.days.order_by("date")
    )


# --- Warning ---------------------------------------------------------------------------


def _administrators():
    from django.contrib.auth import get_user_model

    from servicedesk.staff import roles

    return (
        get_user_model()
        .objects.filter(Q(is_superuser=True) | Q(groups__name=roles.ADMINISTRATOR), is_active=True)
        .distinct()
    )


def calendar_missing_year_warn(*, years):
    """Ask the administrators, once per year, to load the official schedule of `years`.

    Called by the deadline engine every time it computes a provisional deadline, so it is
    cheap once sent: an in-process memo, and one query per year the first time. Never raises
    a database error into its caller: the warning is best effort, the deadline is not.
    """
    from servicedesk.staff.models import Notification
    from servicedesk.staff.services import notify

    pending = sorted({int(y) for y in years} - _warned_years)
    if not pending:
        return []
    created = []
    try:
        with transaction.atomic():
            keys = {f"calendar:missing-year:{y}": y for y in pending}
            sent = {
                keys[k]
                for k in Notification.objects.filter(event_key__in=keys).values_list(
                    "event_key", flat=True
                )
            }
            admins = list(_administrators())
            for year in pending:
                if year not in sent and admins:
                    # Stored text: rendered in the site's language, whoever triggered it.
                    with translation.override(settings.LANGUAGE_CODE):
                        created += notify(
                            recipients=admins,
                            event_key=f"calendar:missing-year:{year}",
                            subject=_("Please enter the official holiday schedule for %(year)s")
                            % {"year": year},
                            body=_(
                                "Deadlines reaching into %(year)s are computed with Monday to "
                                "Friday as working days and marked provisional, because the "
                                "official holidays and make-up working days of %(year)s are "
                                "not in the working-day calendar. Import them as soon as the "
                                "State Council publishes them."
                            )
                            % {"year": year},
                            link=reverse("admin:workcalendar_calendaryear_import")
                            + f"?year={year}",
                        )
                    sent.add(year)
    except DatabaseError:
        logger.exception("Could not warn administrators about missing calendar years %s", pending)
        return []
    # Memo only what was sent: with no administrator yet, the next call tries again.
    _warned_years.update(sent)
    return created
