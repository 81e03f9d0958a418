"""Staffing forecast (人员配置): next week's arrivals per 30-minute interval and channel from
the intake history, the handling time from the timeline, and the agents needed.

The history is read with ONE grouped query (contacts per local date, half hour and channel:
at most days × 48 × channels rows, whatever the volume); everything after works on those
counts. Every contact counts — a new case's first contact and each later contact about it.

Day types come from the China calendar: a date is a working day or a rest day (holidays and
调休 included), and each future date is forecast from the past dates of the same type and
weekday — a 调休 Saturday has no such past dates, so it takes the mean of all working days;
a holiday Monday takes the mean of all rest days.
"""

import datetime
import math
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Count, When
from django.db.models.functions import ExtractHour, TruncDate
from django.utils import timezone

from complaints.models import CaseContact, CaseEvent, Channel
from servicedesk.calendar.services import load_calendar

from . import erlang
from .models import StaffingTarget

INTERVAL = datetime.timedelta(minutes=30)
SLOTS = 48
ONE_DAY = datetime.timedelta(days=1)
QUEUED_BY_DEFAULT = {Channel.PHONE, Channel.CHAT}
# Timeline gaps longer than this are not one working session on a case.
SESSION_GAP = datetime.timedelta(minutes=30)
AHT_SAMPLE_CASES = 500


def intake_counts(*, start, end, department=None):
    """{(date, slot, channel): contacts} for [start, end) in local time — one GROUP BY."""
    rows = intake_counts_queryset(start=start, end=end, department=department)
    return {(day, hour * 2 + half, channel): n for day, hour, half, channel, n in rows}


def intake_counts_queryset(*, start, end, department=None):
    contacts = CaseContact.objects.filter(received_at__gte=start, received_at__lt=end)
    if department is not None:
        contacts = contacts.filter(case__department=department)
    return (
        contacts.annotate(
            day=TruncDate("received_at"),
            hour=ExtractHour("received_at"),
            half=models.Case(When(received_at__minute__gte=30, then=1), default=0),
        )
        .values_list("day", "hour", "half", "channel")
        .annotate(n=Count("pk"))
        .order_by()
    )


def day_key(cal, day):
    return ("work" if cal.is_workday(day) else "rest", day.weekday())


@dataclass
class Forecast:
    monday: datetime.date
    weeks: int
    channels: list
    # {(date, slot, channel): expected arrivals}
    arrivals: dict = field(default_factory=dict)
    basis: dict = field(default_factory=dict)  # {date: text on which past days it rests}

    def total(self, day, slot):
        return sum(self.arrivals.get((day, slot, c), 0.0) for c in self.channels)


def forecast_week(*, monday, weeks=8, department=None, counts=None):
    """Expected arrivals for the week starting `monday`, from the `weeks` before it."""
    cal = load_calendar()
    tz = timezone.get_current_timezone()
    start_day = monday - datetime.timedelta(weeks=weeks)
    if counts is None:
        counts = intake_counts(
            start=datetime.datetime.combine(start_day, datetime.time(), tzinfo=tz),
            end=datetime.datetime.combine(monday, datetime.time(), tzinfo=tz),
            department=department,
        )
    past_days = [start_day + i * ONE_DAY for i in range(weeks * 7)]
    by_key, by_class = {}, {}
    for day in past_days:
        key = day_key(cal, day)
        by_key.setdefault(key, []).append(day)
        by_class.setdefault(key[0], []).append(day)
    # Sum per (key, slot, channel) once; divide by the number of such days.
    sums_key, sums_class = {}, {}
    keys = {day: day_key(cal, day) for day in past_days}
    channels = sorted({c for (_d, _s, c) in counts})
    for (day, slot, channel), n in counts.items():
        key = keys.get(day)
        if key is None:
            continue
        sums_key[(key, slot, channel)] = sums_key.get((key, slot, channel), 0) + n
        sums_class[(key[0], slot, channel)] = sums_class.get((key[0], slot, channel), 0) + n
    result = Forecast(monday=monday, weeks=weeks, channels=channels)
    for i in range(7):
        day = monday + i * ONE_DAY
        key = day_key(cal, day)
        if by_key.get(key):
            n_days, sums, lookup = len(by_key[key]), sums_key, key
            result.basis[day] = ("same", len(by_key[key]))
        elif by_class.get(key[0]):
            n_days, sums, lookup = len(by_class[key[0]]), sums_class, key[0]
            result.basis[day] = ("class", len(by_class[key[0]]))
        else:
            result.basis[day] = ("none", 0)
            continue
        for slot in range(SLOTS):
            for channel in channels:
                n = sums.get((lookup, slot, channel), 0)
                if n:
                    result.arrivals[(day, slot, channel)] = n / n_days
    return result


def targets():
    """{channel: StaffingTarget} — stored rows, else the defaults (phone and chat queued
    80 % in 20 s; written channels cleared within 24 hours; 300 s handling)."""
    stored = {t.channel: t for t in StaffingTarget.objects.all()}
    return {
        c: stored.get(c) or StaffingTarget(channel=c, queued=c in QUEUED_BY_DEFAULT)
        for c in Channel.values
    }


def handling_seconds(*, since, until, channels):
    """{channel: mean handling seconds} measured on the timeline: for the latest cases
    received in the period, the staff's working sessions on each case (gaps between their
    consecutive timeline entries of at most SESSION_GAP) added up. Channels without data
    are left out (the target's default applies)."""
    measured = {}
    for channel in channels:
        case_ids = list(
            CaseContact.objects.filter(
                received_at__gte=since, received_at__lt=until, channel=channel
            )
            .order_by("-received_at")
            .values_list("case_id", flat=True)[:AHT_SAMPLE_CASES]
        )
        if not case_ids:
            continue
        last, totals = {}, {}
        for case_id, at in (
            CaseEvent.objects.filter(case_id__in=case_ids, author__isnull=False)
            .order_by("case_id", "created_at")
            .values_list("case_id", "created_at")
        ):
            previous = last.get(case_id)
            if previous is not None and at - previous <= SESSION_GAP:
                totals[case_id] = totals.get(case_id, 0) + (at - previous).total_seconds()
            last[case_id] = at
        worked = [s for s in totals.values() if s > 0]
        if worked:
            measured[channel] = sum(worked) / len(worked)
    return measured


@dataclass
class Need:
    """Agents needed per interval of the week: {(date, slot): agents} and the inputs."""

    per_interval: dict
    per_channel: dict  # {(date, slot, channel): agents}
    inputs: dict  # {channel: {"aht": s, "measured": bool, "target": StaffingTarget}}


def agents_needed(forecast, *, aht=None):
    """Erlang C for queued channels, the backlog rule for written ones (see erlang.py)."""
    goals = targets()
    aht = aht or {}
    inputs = {}
    per_channel = {}
    days = [forecast.monday + i * ONE_DAY for i in range(7)]
    timeline = [(d, s) for d in days for s in range(SLOTS)]
    for channel in forecast.channels:
        goal = goals.get(channel) or StaffingTarget(channel=channel)
        seconds = aht.get(channel) or goal.default_handling_seconds
        shrink = float(goal.shrinkage) / 100
        inputs[channel] = {"aht": seconds, "measured": channel in aht, "target": goal}
        if goal.queued:
            for d, s in timeline:
                calls = forecast.arrivals.get((d, s, channel), 0.0)
                req = erlang.agents_needed(
                    calls=calls, interval_seconds=INTERVAL.total_seconds(),
                    handling_seconds=seconds, target_level=float(goal.service_level) / 100,
                    target_seconds=goal.answer_seconds, shrinkage=shrink,
                )  # fmt: skip
                per_channel[(d, s, channel)] = req.positions
        else:
            window = max(1, math.ceil(float(goal.response_hours) * 2))
            arrivals = [forecast.arrivals.get((d, s, channel), 0.0) for d, s in timeline]
            running = 0.0
            for i, (d, s) in enumerate(timeline):
                running += arrivals[i]
                if i >= window:
                    running -= arrivals[i - window]
                per_channel[(d, s, channel)] = erlang.written_agents(
                    backlog_work_seconds=max(running, 0.0) * seconds,
                    window_seconds=window * INTERVAL.total_seconds(),
                    shrinkage=shrink,
                )
    per_interval = {
        (d, s): sum(per_channel.get((d, s, c), 0) for c in forecast.channels) for d, s in timeline
    }
    return Need(per_interval=per_interval, per_channel=per_channel, inputs=inputs)


def suggest_rota(need, shifts, *, monday, max_people=500):
    """A greedy rota suggestion: repeatedly add one person on the (day, shift) that covers
    the most still-uncovered need, until every interval is covered (or `max_people`). Greedy,
    not optimal: good enough to start a week's grid from. Returns {(date, shift): people}."""
    days = [monday + i * ONE_DAY for i in range(7)]
    index = {(d, s): i * SLOTS + s for i, d in enumerate(days) for s in range(SLOTS)}
    remaining = [0] * (7 * SLOTS)
    for key, n in need.items():
        if key in index:
            remaining[index[key]] = n
    options = []
    for i, day in enumerate(days):
        for shift in shifts:
            first = i * SLOTS + shift.start.hour * 2 + shift.start.minute // 30
            length = max(1, round(shift.hours * 2))
            options.append((day, shift, range(first, min(first + length, 7 * SLOTS))))
    plan = {}
    for _n in range(max_people):
        best, best_gain = None, 0
        for option in options:
            gain = sum(1 for k in option[2] if remaining[k] > 0)
            if gain > best_gain:
                best, best_gain = option, gain
        if best is None:
            break
        for k in best[2]:
            remaining[k] -= 1
        plan[(best[0], best[1])] = plan.get((best[0], best[1]), 0) + 1
    return plan
