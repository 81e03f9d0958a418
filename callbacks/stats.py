"""Satisfaction figures from the database: ORM reads that feed callbacks.metrics.

What the admin summary page and `GET /api/v1/metrics/satisfaction/` show comes from here:
`PeriodForm` parses the period both take (`from`, `to` inclusive, `group_by`), and
`satisfaction_summary` turns the Response rows answered in it into the handbook's figures,
overall, for the previous period of equal length, and per group (month/week/day, department,
agent, case channel or follow-up method). The formulas themselves live in callbacks.metrics.

A constant number of queries whatever the volume: one `values()` read of the responses of
both periods, one of the problem categories and one of the multiple-choice answers (opinion
concentration), and one for the department or agent names when grouping by them. Problem
incidence counts distinct customers (a customer answering twice is surveyed once).
"""

import datetime
from collections import Counter

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from complaints.models import Channel
from knowledge.targets import targets_for_period
from servicedesk.staff.models import Department, User
from servicedesk.workdays import month_start

from . import metrics, opinions
from .models import (
    Answer,
    Method,
    OpinionCategory,
    ProblemCategory,
    ProblemReport,
    QuestionKind,
    Response,
)

#: Longest period one request may cover (three years, one leap day included).
MAX_DAYS = 3 * 365 + 1
MIN_DATE = datetime.date(2000, 1, 1)
MAX_DATE = datetime.date(2099, 12, 31)
TREND_MONTHS = 12

PERIOD_KINDS = ("period", "week", "day")
GROUP_BY_CHOICES = [
    ("period", gettext_lazy("Month")),
    ("week", gettext_lazy("Week")),
    ("day", gettext_lazy("Day")),
    ("department", gettext_lazy("Department")),
    ("agent", gettext_lazy("Agent")),
    ("channel", gettext_lazy("Case channel")),
    ("method", gettext_lazy("Follow-up method")),
]
GROUP_BY = [value for value, _label in GROUP_BY_CHOICES]


class PeriodForm(forms.Form):
    """`from` and `to` (YYYY-MM-DD, both included) and `group_by`; blanks take the defaults:
    the first of this month, today, by month."""

    group_by = forms.ChoiceField(label=gettext_lazy("Group by"), choices=GROUP_BY_CHOICES)

    def __init__(self, data=None, *, today=None):
        today = today or timezone.localdate()
        self.defaults = {
            "from": today.replace(day=1).isoformat(),
            "to": today.isoformat(),
            "group_by": "period",
        }
        values = dict(self.defaults)
        for name in values:
            given = data.get(name) if data is not None else None
            if given not in (None, ""):
                values[name] = given.strip() if isinstance(given, str) else given
        super().__init__(values)
        date_field = {
            "input_formats": ["%Y-%m-%d"],
            "validators": [MinValueValidator(MIN_DATE), MaxValueValidator(MAX_DATE)],
            "widget": forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
            "error_messages": {"invalid": gettext_lazy("Enter a date as YYYY-MM-DD.")},
        }
        # "from" is a Python keyword, so these are added here rather than declared.
        self.fields = {
            "from": forms.DateField(label=gettext_lazy("From"), **date_field),
            "to": forms.DateField(label=gettext_lazy("To (included)"), **date_field),
            "group_by": self.fields["group_by"],
        }

    def clean(self):
        data = super().clean()
        start, end = data.get("from"), data.get("to")
        if start and end:
            if start > end:
                self.add_error("to", _("The end date is before the start date."))
            elif (end - start).days + 1 > MAX_DAYS:
                self.add_error(
                    "from", _("At most %(days)s days (three years) at a time.") % {"days": MAX_DAYS}
                )
        return data


# --- periods ---------------------------------------------------------------------------------


def day_start(day):
    """Local midnight at the start of `day`, as an aware datetime."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def previous_range(date_from, date_to):
    """The period of equal length just before [date_from, date_to] (both inclusive)."""
    length = (date_to - date_from).days + 1
    return date_from - datetime.timedelta(days=length), date_from - datetime.timedelta(days=1)


def _month_key(day):
    return f"{day.year:04d}-{day.month:02d}"


def _week_key(day):
    year, week, _weekday = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


PERIOD_KEY = {"period": _month_key, "week": _week_key, "day": lambda day: day.isoformat()}


def _period_keys(kind, date_from, date_to):
    """Every period key from date_from to date_to, in order, so empty periods show too."""
    keys, day = [], date_from
    while day <= date_to:
        key = PERIOD_KEY[kind](day)
        if not keys or keys[-1] != key:
            keys.append(key)
        day += datetime.timedelta(days=1)
    return keys


# --- reads -----------------------------------------------------------------------------------


def response_rows(start, end):
    """The responses answered in [start, end) as the rows metrics.summarise takes, with the
    group keys: period (month), week, day, department, agent, channel, method. One query."""
    rows = []
    values = Response.objects.filter(answered_at__gte=start, answered_at__lt=end).values_list(
        "pk", "customer_id", "answered_at", "overall_score", "has_problem",
        "department_id", "agent_id", "case_channel", "method",
    )  # fmt: skip
    for pk, customer, at, score, problem, department, agent, channel, method in values:
        day = timezone.localtime(at).date()
        rows.append({
            "id": pk, "customer": customer, "day_date": day, "score": score,
            "problem": problem, "opinions": [], "period": _month_key(day),
            "week": _week_key(day), "day": day.isoformat(), "department": department,
            "agent": agent, "channel": channel or None, "method": method,
        })  # fmt: skip
    return rows


def opinion_labels(start, end):
    """{response id: [opinion category]} and {category: label} for the responses answered in
    [start, end): the categories of the problems found, and the options picked in
    multiple-choice questions (category "<question code>:<option>"), and the categories of
    the written suggestions ("opinion:<id>", callbacks.opinions). Four queries."""
    by_response, labels = {}, {}
    problems = ProblemReport.objects.filter(
        response__answered_at__gte=start, response__answered_at__lt=end
    ).values_list("response_id", "category")
    for response_id, category in problems:
        by_response.setdefault(response_id, []).append(category)
        if category not in labels:
            try:
                labels[category] = str(ProblemCategory(category).label)
            except ValueError:
                labels[category] = category
    picked = Answer.objects.filter(
        response__answered_at__gte=start,
        response__answered_at__lt=end,
        question__kind=QuestionKind.MULTIPLE,
        choice__isnull=False,
    ).values_list("response_id", "question__code", "choice__label")
    for response_id, code, label in picked:
        category = f"{code}:{label}"
        by_response.setdefault(response_id, []).append(category)
        labels[category] = label
    # What customers wrote: the suggestions, classified by keywords (callbacks.opinions).
    categories = list(OpinionCategory.objects.filter(is_active=True))
    written = Response.objects.filter(answered_at__gte=start, answered_at__lt=end).exclude(
        suggestions=""
    )
    for response_id, suggestion in written.values_list("pk", "suggestions"):
        for category in opinions.classify(suggestion, categories):
            by_response.setdefault(response_id, []).append(category)
    labels.update({c.code: c.name for c in categories})
    labels[opinions.OTHER] = _("Other suggestions")
    return by_response, labels


def _group_names(group_by, keys):
    """{raw key: (key, label)} for the group keys, one query at most. Departments are keyed
    by code and agents by username (stable, readable, what the cases API filters take)."""
    present = [k for k in keys if k is not None]
    if group_by == "department":
        rows = Department.objects.filter(pk__in=present).values_list("pk", "code", "name")
        names = {pk: (code, name) for pk, code, name in rows}
        missing = _("No department")
    elif group_by == "agent":
        users = User.objects.filter(pk__in=present).only("username", "first_name", "last_name")
        names = {u.pk: (u.username, str(u)) for u in users}
        missing = _("No agent")
    elif group_by == "channel":
        names = {k: (k, str(Channel(k).label) if k in Channel.values else k) for k in present}
        missing = _("Not about a case")
    elif group_by == "method":
        names = {k: (k, str(Method(k).label) if k in Method.values else k) for k in present}
        missing = _("Not recorded")
    else:
        names = {k: (k, k) for k in present}
        missing = _("Not recorded")
    return {k: names.get(k, (str(k), str(k))) if k is not None else (None, missing) for k in keys}


# --- figures ---------------------------------------------------------------------------------


def _customers(rows):
    surveyed, with_problem = set(), set()
    for row in rows:
        surveyed.add(row["customer"])
        if row["problem"]:
            with_problem.add(row["customer"])
    return len(surveyed), len(with_problem)


def _figures(rows, summary, target):
    """One group's figures: metrics.summarise's, with problem incidence over distinct
    customers (問題發生率 = customers with a problem ÷ customers surveyed)."""
    summary = summary or {"surveyed": 0, "answers": 0, "score": None, "rate": None}
    surveyed, with_problem = _customers(rows)
    return {
        "responses": summary["surveyed"],
        "answers": summary["answers"],
        "score": summary["score"],
        "rate": summary["rate"],
        "meets_target": metrics.meets_target(summary["rate"], target),
        "customers_surveyed": surveyed,
        "customers_with_problem": with_problem,
        "problem_incidence": metrics.problem_incidence(surveyed, with_problem),
    }


def _totals(rows, target):
    summary = metrics.summarise(rows, group_by=lambda row: "all", target=target).get("all")
    return _figures(rows, summary, target), (summary["opinions"] if summary else [])


def satisfaction_summary(*, date_from, date_to, group_by="period", target=None):
    """The satisfaction figures for [date_from, date_to] (dates, both included).

    Returns {"from", "to", "group_by", "target", "totals", "previous" (the period of equal
    length before, with its own "from"/"to"), "improvement" (score now − score then),
    "incidence_reduction" (incidence then − now), "groups": [{"key", "label", ...figures}],
    "opinions": [{"category", "label", "count", "share"}], "distribution": [{"score",
    "count"}] (answers per overall score 1–5)}. Shares are Decimals in 0..1 (metrics'
    convention); "nothing to measure" is None.
    """
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}, got {group_by!r}")
    prev_from, prev_to = previous_range(date_from, date_to)
    start, end = day_start(date_from), day_start(date_to + datetime.timedelta(days=1))
    if target is None:  # the plan in force for the period (knowledge.targets)
        target = targets_for_period(start, end).satisfaction_rate
    both = response_rows(day_start(prev_from), end)
    rows = [r for r in both if r["day_date"] >= date_from]
    before = [r for r in both if r["day_date"] < date_from]

    opinions_of, opinion_label = opinion_labels(start, end)
    for row in rows:
        row["opinions"] = opinions_of.get(row["id"], [])

    totals, opinions = _totals(rows, target)
    previous, _prev_opinions = _totals(before, target)

    by_key = metrics.summarise(rows, group_by=group_by, target=target)
    members = {}
    for row in rows:
        members.setdefault(row[group_by], []).append(row)
    # Periods are listed whole, the empty ones included, so a table or chart shows gaps.
    periodic = group_by in PERIOD_KINDS
    keys = _period_keys(group_by, date_from, date_to) if periodic else list(by_key)
    names = _group_names(group_by, keys)
    groups = [
        {
            "key": names[key][0],
            "label": names[key][1],
            **_figures(members.get(key, []), by_key.get(key), target),
        }
        for key in keys
    ]
    if not periodic:
        groups.sort(key=lambda g: (g["key"] is None, g["label"]))

    scores = Counter(r["score"] for r in rows if r["score"] is not None)
    return {
        "from": date_from,
        "to": date_to,
        "group_by": group_by,
        "target": target,
        "totals": totals,
        "previous": {"from": prev_from, "to": prev_to, **previous},
        "improvement": metrics.score_improvement(
            [r["score"] for r in rows if r["score"] is not None],
            [r["score"] for r in before if r["score"] is not None],
        ),
        "incidence_reduction": metrics.incidence_reduction(
            previous["problem_incidence"], totals["problem_incidence"]
        ),
        "groups": groups,
        "opinions": [
            {"category": c, "label": opinion_label.get(c, c), "count": n, "share": share}
            for c, n, share in opinions
        ],
        "distribution": [
            {"score": s, "count": scores.get(s, 0)}
            for s in range(metrics.SCORE_MAX, metrics.SCORE_MIN - 1, -1)
        ],
    }


def monthly_trend(*, last_day, months=TREND_MONTHS, target=None):
    """Score and satisfaction rate per month for the `months` months ending with the month
    of `last_day`, oldest first; months without answers have None. One query (answers are
    counted per month and score by the database)."""
    first = month_start(last_day.replace(day=1), -(months - 1))
    end = month_start(last_day.replace(day=1), 1)
    if target is None:
        target = targets_for_period(day_start(first), day_start(end)).satisfaction_rate
    counts = (
        Response.objects.filter(
            answered_at__gte=day_start(first),
            answered_at__lt=day_start(end),
            overall_score__isnull=False,
        )
        .annotate(month=TruncMonth("answered_at"))
        .values_list("month", "overall_score")
        .annotate(n=Count("pk"))
        .order_by()
    )
    rows = []
    for month, score, n in counts:
        key = _month_key(timezone.localtime(month).date() if timezone.is_aware(month) else month)
        rows.extend([{"score": score, "period": key}] * n)
    by_month = metrics.summarise(rows, group_by="period", target=target)
    trend = []
    for i in range(months):
        key = _month_key(month_start(first, i))
        summary = by_month.get(key) or {}
        trend.append({
            "key": key,
            "label": key,
            "answers": summary.get("answers", 0),
            "score": summary.get("score"),
            "rate": summary.get("rate"),
            "meets_target": summary.get("meets_target"),
        })  # fmt: skip
    return trend
