"""Working-day arithmetic on the mainland China calendar. Pure: no ORM, no clock.

A `WorkCalendar` knows the official holidays, the weekend days made working days (调休), the
years whose schedule is loaded, the time zone and the business hours. Dates in a year that is
not loaded fall back to Monday–Friday, and any result that relied on such a date is marked
provisional — the engine never stops and never pretends to know. The calendar as data lives in
servicedesk/calendar (`services.load_calendar()` builds a WorkCalendar from it).
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

ONE_DAY = datetime.timedelta(days=1)
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(frozen=True)
class WorkCalendar:
    holidays: frozenset = field(default_factory=frozenset)
    workdays: frozenset = field(default_factory=frozenset)
    known_years: frozenset = field(default_factory=frozenset)
    tz: ZoneInfo = SHANGHAI
    day_start: datetime.time = datetime.time(9, 0)
    day_end: datetime.time = datetime.time(18, 0)

    def __post_init__(self):
        # An empty or inverted business day would make every business-hours loop endless.
        if self.day_end <= self.day_start:
            raise ValueError(
                f"Business hours end ({self.day_end}) must be after they start ({self.day_start})."
            )

    def is_known(self, day):
        return day.year in self.known_years

    def is_workday(self, day):
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def next_workday(self, day):
        """The first working day after `day`."""
        day += ONE_DAY
        while not self.is_workday(day):
            day += ONE_DAY
        return day

    def missing_years(self, first, last):
        """The years between the dates `first` and `last` (inclusive) that are not loaded."""
        return frozenset(y for y in range(first.year, last.year + 1) if y not in self.known_years)

    @property
    def business_hours_per_day(self):
        start = datetime.datetime.combine(datetime.date.min, self.day_start)
        end = datetime.datetime.combine(datetime.date.min, self.day_end)
        return (end - start).total_seconds() / 3600


@dataclass(frozen=True)
class Deadline:
    """When something is due (aware, UTC). `provisional` when the result relied on a year
    whose official schedule is not loaded; `missing_years` names those years."""

    at: datetime.datetime
    provisional: bool = False
    missing_years: frozenset = frozenset()


def _deadline(at, cal, first, last):
    missing = cal.missing_years(first, last)
    return Deadline(at.astimezone(datetime.UTC), bool(missing), missing)


def _amount(value):
    amount = Decimal(str(value))
    if amount < 0:
        raise ValueError(f"A deadline cannot be {value} before its start.")
    return amount


def _business_start(local, cal):
    """`local` if it is inside business hours of a working day, else the next business
    morning (the same day's opening when received early on a working day)."""
    day = local.date()
    if not cal.is_workday(day) or local.time() >= cal.day_end:
        return datetime.datetime.combine(cal.next_workday(day), cal.day_start, tzinfo=cal.tz)
    if local.time() < cal.day_start:
        return datetime.datetime.combine(day, cal.day_start, tzinfo=cal.tz)
    return local


def _add_business_seconds(at, seconds, cal):
    """Move `at` (inside business hours of a working day) forward by business seconds."""
    while seconds > 0:
        end = datetime.datetime.combine(at.date(), cal.day_end, tzinfo=cal.tz)
        left = (end - at).total_seconds()
        if seconds <= left:
            return at + datetime.timedelta(seconds=seconds)
        seconds -= left
        at = datetime.datetime.combine(cal.next_workday(at.date()), cal.day_start, tzinfo=cal.tz)
    return at


def add_clock_hours(start, hours):
    """Clock hours run day and night, holidays included (24 h for urgent cases)."""
    return Deadline(start + datetime.timedelta(hours=float(_amount(hours))), False)


def add_working_days(start, days, cal):
    """`start` plus `days` working days, at the same time of day.

    Work received outside business hours or on a day off starts at the next business
    morning: 3 working days from Thursday 15:00 is the next Tuesday 15:00 (the weekend does
    not count); from Friday 20:00 the clock starts Monday 09:00 and ends Thursday 09:00.
    A fraction of a day is counted in business hours (0.5 day = half the business day).
    """
    days = _amount(days)
    local = start.astimezone(cal.tz)
    begin = _business_start(local, cal)
    day = begin.date()
    whole = int(days)
    for _ in range(whole):
        day = cal.next_workday(day)
    at = datetime.datetime.combine(day, begin.timetz())
    fraction = days - whole
    if fraction:
        at = _add_business_seconds(at, float(fraction) * cal.business_hours_per_day * 3600, cal)
    return _deadline(at, cal, local.date(), at.date())


def add_business_hours(start, hours, cal):
    """`start` plus `hours` counted only inside business hours of working days."""
    seconds = float(_amount(hours)) * 3600
    local = start.astimezone(cal.tz)
    at = _add_business_seconds(_business_start(local, cal), seconds, cal)
    return _deadline(at, cal, local.date(), at.date())


def add(start, amount, unit, cal):
    """One entry point for plan stages: unit "hours" (clock), "business_hours" or
    "working_days"."""
    if unit == "working_days":
        return add_working_days(start, amount, cal)
    if unit == "business_hours":
        return add_business_hours(start, amount, cal)
    if unit == "hours":
        return add_clock_hours(start, amount)
    # A typo in a unit must not quietly become clock hours.
    raise ValueError(f"Unknown deadline unit {unit!r}.")


def month_start(day, months=0):
    """The first day of the month `months` after `day`'s month (negative: before)."""
    index = day.year * 12 + day.month - 1 + months
    return datetime.date(index // 12, index % 12 + 1, 1)
