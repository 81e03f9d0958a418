"""A reporting period's dates and moments: local midnight in TIME_ZONE, month ends, the
previous period, and the shares and durations the figures are given in."""

import datetime
from decimal import Decimal

from django.utils import timezone

from callbacks import metrics
from servicedesk.workdays import month_start


def share(part, whole):
    """part ÷ whole as a Decimal share rounded like callbacks.metrics; None for nothing."""
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(metrics.RATE_PLACES)


def local_midnight(day):
    return datetime.datetime.combine(day, datetime.time.min, tzinfo=timezone.get_default_timezone())


def moments(start, end):
    """[start, end] as aware datetimes: [midnight of start, midnight after end)."""
    return local_midnight(start), local_midnight(end + datetime.timedelta(days=1))


def month_end(day):
    return month_start(day, 1) - datetime.timedelta(days=1)


def previous_month(today):
    """(first day, last day) of the month before `today`'s."""
    first = month_start(today.replace(day=1), -1)
    return first, month_end(first)


def previous_period(start, end):
    """The period compared with: the same number of whole months before when the period is
    whole months (so November is compared with October), else the same number of days."""
    if start.day == 1 and end == month_end(end):
        months = (end.year - start.year) * 12 + end.month - start.month + 1
        first = month_start(start, -months)
        return first, start - datetime.timedelta(days=1)
    days = (end - start).days + 1
    return start - datetime.timedelta(days=days), start - datetime.timedelta(days=1)


def _hours(value):
    return None if value is None else value.total_seconds() / 3600


def _local_key(value):
    """A TruncMonth/TruncDate result as a local date (SQLite and PostgreSQL differ)."""
    if isinstance(value, datetime.datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value, timezone.get_default_timezone())
        return value.date()
    return value
