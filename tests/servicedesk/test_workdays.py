"""Deadline arithmetic over real mainland China holiday periods (2026 Spring Festival and
National Day week with their make-up working days) and into a year whose schedule is not
loaded. Each case runs on a calendar built from chinese-calendar directly and on the one
the deadline engine reads from the database (seeded by the migration)."""

import datetime
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest

from servicedesk import workdays
from servicedesk.calendar import services
from servicedesk.calendar.models import CalendarYear
from servicedesk.workdays import WorkCalendar

SH = ZoneInfo("Asia/Shanghai")
LAST_KNOWN = 2026  # chinese-calendar 1.11 stops here; 2027 plays the unpublished year


def at(year, month, day, hour=9, minute=0):
    return datetime.datetime(year, month, day, hour, minute, tzinfo=SH)


def package_calendar(**options):
    """The calendar straight from chinese-calendar, without any year after LAST_KNOWN."""
    holidays = frozenset(d for d in chinese_calendar.holidays if d.year <= LAST_KNOWN)
    workdays_ = frozenset(d for d in chinese_calendar.workdays if d.year <= LAST_KNOWN)
    first = min(holidays).year
    return WorkCalendar(
        holidays=holidays,
        workdays=workdays_,
        known_years=frozenset(range(first, LAST_KNOWN + 1)),
        tz=SH,
        **options,
    )


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    services.clear_caches()
    yield
    services.clear_caches()


@pytest.fixture(params=["package", "database"])
def cal(request):
    if request.param == "package":
        return package_calendar()
    request.getfixturevalue("db")
    # Should a later chinese-calendar cover 2027, keep it the unpublished year here.
    CalendarYear.objects.filter(year__gt=LAST_KNOWN).delete()
    return services.load_calendar()


def test_the_real_2026_schedule_is_what_these_tests_assume():
    # Spring Festival: Sun 15 – Mon 23 Feb off, Sat 14 and Sat 28 Feb worked.
    assert chinese_calendar.is_holiday(datetime.date(2026, 2, 16))
    assert chinese_calendar.is_workday(datetime.date(2026, 2, 14))
    assert chinese_calendar.is_workday(datetime.date(2026, 2, 28))
    # National Day: 1–7 Oct off, Sun 20 Sep and Sat 10 Oct worked.
    assert chinese_calendar.is_holiday(datetime.date(2026, 10, 7))
    assert chinese_calendar.is_workday(datetime.date(2026, 9, 20))
    assert chinese_calendar.is_workday(datetime.date(2026, 10, 10))


def test_the_database_calendar_is_the_package_calendar(db):
    CalendarYear.objects.filter(year__gt=LAST_KNOWN).delete()
    from_db = services.load_calendar()
    from_package = package_calendar()
    assert from_db.holidays == from_package.holidays
    assert from_db.workdays == from_package.workdays
    assert from_db.known_years == from_package.known_years


# --- Working days over holiday periods ---------------------------------------------------


def test_three_working_days_across_spring_festival_count_the_make_up_saturday(cal):
    # Friday before the holiday: Sat 14 Feb is worked, then nine days off.
    d = workdays.add_working_days(at(2026, 2, 13, 10), 3, cal)
    assert d.at == at(2026, 2, 25, 10)  # Sat 14, Tue 24, Wed 25
    assert not d.provisional


def test_received_on_the_make_up_saturday_the_clock_runs(cal):
    d = workdays.add_working_days(at(2026, 2, 14, 11), 1, cal)
    assert d.at == at(2026, 2, 24, 11)


def test_the_saturday_after_spring_festival_is_a_working_day(cal):
    d = workdays.add_working_days(at(2026, 2, 26, 15), 3, cal)
    assert d.at == at(2026, 3, 2, 15)  # Fri 27, Sat 28 (worked), Mon 2 Mar


def test_three_working_days_across_national_day_week_end_on_the_make_up_saturday(cal):
    d = workdays.add_working_days(at(2026, 9, 30, 16), 3, cal)
    assert d.at == at(2026, 10, 10, 16)  # Thu 8, Fri 9, Sat 10 Oct (worked)


def test_friday_evening_before_a_make_up_sunday_starts_that_sunday(cal):
    # Fri 18 Sep 20:00: Sun 20 Sep is a working day, so the clock starts there.
    d = workdays.add_working_days(at(2026, 9, 18, 20), 1, cal)
    assert d.at == at(2026, 9, 21, 9)


def test_received_during_the_holiday_starts_after_it(cal):
    d = workdays.add_working_days(at(2026, 10, 3, 12), 1, cal)
    assert d.at == at(2026, 10, 9, 9)  # starts Thu 8 Oct 09:00


# --- Receipt time, fractions, business hours -----------------------------------------------


def test_friday_evening_receipt_starts_monday_morning(cal):
    d = workdays.add_working_days(at(2026, 3, 6, 20), 3, cal)
    assert d.at == at(2026, 3, 12, 9)  # Mon 09:00 + 3 working days


def test_receipt_before_business_hours_starts_at_opening(cal):
    d = workdays.add_working_days(at(2026, 3, 5, 7, 30), 3, cal)
    assert d.at == at(2026, 3, 10, 9)


def test_a_fraction_of_a_day_counts_business_hours(cal):
    # Half of a 09:00–18:00 day is 4.5 h: 3 h on Thursday, 1.5 h on Friday.
    assert workdays.add_working_days(at(2026, 3, 5, 15), 0.5, cal).at == at(2026, 3, 6, 10, 30)
    # 1.5 days from Thursday 15:00: Friday 15:00, then 4.5 h over the weekend to Monday.
    assert workdays.add_working_days(at(2026, 3, 5, 15), "1.5", cal).at == at(2026, 3, 9, 10, 30)


def test_business_hours_skip_nights_and_days_off(cal):
    # One hour left on Friday 13 Feb, the next is on the make-up Saturday.
    d = workdays.add_business_hours(at(2026, 2, 13, 17), 2, cal)
    assert d.at == at(2026, 2, 14, 10)
    assert workdays.add_business_hours(at(2026, 10, 3, 12), 2, cal).at == at(2026, 10, 8, 11)
    # Ending exactly at closing time stays on that day.
    assert workdays.add_business_hours(at(2026, 3, 5, 9), 9, cal).at == at(2026, 3, 5, 18)


def test_clock_hours_ignore_holidays(cal):
    d = workdays.add(at(2026, 10, 1, 10), 24, "hours", cal)
    assert d.at == at(2026, 10, 2, 10)
    assert not d.provisional


def test_business_hours_come_from_settings(db, settings):
    settings.BUSINESS_DAY_START = "08:30"
    settings.BUSINESS_DAY_END = "17:30"
    cal = services.load_calendar()
    assert workdays.add_working_days(at(2026, 3, 6, 20), 3, cal).at == at(2026, 3, 12, 8, 30)
    assert workdays.add_business_hours(at(2026, 3, 6, 17), 1, cal).at == at(2026, 3, 9, 9)


def test_results_are_utc():
    d = workdays.add_working_days(at(2026, 3, 5, 15), 1, package_calendar())
    assert d.at.utcoffset() == datetime.timedelta(0)
    assert d.at == datetime.datetime(2026, 3, 6, 7, 0, tzinfo=datetime.UTC)


def test_nonsense_is_refused():
    cal = package_calendar()
    with pytest.raises(ValueError):
        workdays.add(at(2026, 3, 5), 3, "fortnights", cal)
    with pytest.raises(ValueError):
        workdays.add_working_days(at(2026, 3, 5), -1, cal)
    with pytest.raises(ValueError):
        package_calendar(day_start=datetime.time(18), day_end=datetime.time(9))


# --- Into a year whose schedule is not loaded ----------------------------------------------


def test_into_an_unknown_year_falls_back_to_monday_friday_and_is_provisional(cal):
    # Wed 30 Dec 2026 + 3: Thu 31 Dec, Fri 1 Jan 2027 (unknown, so counted), Mon 4 Jan.
    d = workdays.add_working_days(at(2026, 12, 30, 10), 3, cal)
    assert d.at == at(2027, 1, 4, 10)
    assert d.provisional
    assert d.missing_years == {2027}


def test_a_deadline_inside_the_known_year_is_not_provisional(cal):
    d = workdays.add_working_days(at(2026, 12, 30, 10), 1, cal)
    assert d.at == at(2026, 12, 31, 10)
    assert not d.provisional


def test_business_hours_into_an_unknown_year_are_provisional(cal):
    d = workdays.add_business_hours(at(2026, 12, 31, 17), 2, cal)
    assert d.at == at(2027, 1, 1, 10)
    assert d.provisional


def test_loading_the_year_makes_the_deadline_firm_and_moves_it(db):
    CalendarYear.objects.filter(year__gt=LAST_KNOWN).delete()
    before = workdays.add_working_days(at(2026, 12, 30, 10), 3, services.load_calendar())
    assert before.provisional

    services.calendar_year_load(
        year=2027, days=[(datetime.date(2027, 1, 1), "holiday", "元旦")], user=None
    )

    after = workdays.add_working_days(at(2026, 12, 30, 10), 3, services.load_calendar())
    assert not after.provisional
    assert after.at == at(2027, 1, 5, 10)  # Thu 31 Dec, Mon 4 Jan, Tue 5 Jan
