"""Testing an alert rule against last month (004: test the early-warning system): what the
rule would have raised had it been checked at the end of each day of the previous month.
Reads only; one measurement (one or two queries) per day, on today's data (a first response
given later counts from the day its case was received)."""

import datetime
from dataclasses import dataclass

from django.utils import timezone

from . import data
from .services import alert_rule_measure


@dataclass(frozen=True)
class BacktestDay:
    day: datetime.date
    measured: bool
    breaches: tuple  # alerts.Breach
    raised: tuple  # the subjects newly in breach that day: an alert would have been raised


def alert_rule_backtest(*, rule, today=None):
    """(first day, last day, [BacktestDay]) for the month before `today` (default today).
    Like the real evaluation, a subject raises once and again only after it was back to
    normal."""
    today = today or timezone.localdate()
    first, last = data.previous_month(today)
    days, open_subjects = [], set()
    day = first
    while day <= last:
        evaluation = alert_rule_measure(
            rule=rule, now=data.local_midnight(day + datetime.timedelta(days=1))
        )
        subjects = evaluation.subjects if evaluation.measured else open_subjects
        raised = tuple(sorted(subjects - open_subjects))
        if evaluation.measured:
            open_subjects = set(subjects)
        days.append(BacktestDay(day, evaluation.measured, evaluation.breaches, raised))
        day += datetime.timedelta(days=1)
    return first, last, days
