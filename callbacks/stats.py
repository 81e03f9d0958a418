"""Satisfaction figures from the database: ORM reads that feed callbacks.metrics.

What the admin summary page and `GET /api/v1/metrics/satisfaction/` show comes from here:
`PeriodForm` parses the period both take (`from`, `to` inclusive, `group_by`), and
`satisfaction_summary` turns the Response rows answered in it into the handbook's figures,
overall, for the previous period of equal length, and per group (month/week/day, department,
agent, case channel or follow-up method). The formulas themselves live in callbacks.metrics.

Aggregated in SQL: the database counts answers per score and distinct customers, per period
and per group, and Python sees only those grouped rows (one per group) — a constant number of
queries whatever the volume: the answers' counts (_read_counts), problem categories and
multiple-choice picks (opinion concentration, one UNION), the written suggestions, and the
department or agent names when grouping by them. Problem incidence counts distinct customers
(a customer answering twice is surveyed once).

On PostgreSQL the period, the one before, each month, week or day and the page's 12-month
trend are ranges of answered_at, aggregated in one statement (_range_counts: an index-only
range scan of callbacks_response_stats each, nothing sorted as a whole); grouping by
department, agent, channel or method adds one GROUP BY. At 1,000,000 cases (~180,000
answers) the 12-month page reads its answers in ~50 ms instead of ~180 ms in three scans.
Other databases run the same figures as ORM aggregates (_two_periods, _group_counts).
"""

import datetime
import itertools

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import connection
from django.db.models import Count, F, Q, Value
from django.db.models.functions import TruncDate, TruncMonth, TruncWeek
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


def _period_ranges(kind, date_from, date_to):
    """[(key, start, end)]: every period from date_from to date_to (both included), in order,
    so empty periods show too, as aware [start, end) from local midnight to local midnight;
    the first and the last are cut to the dates."""
    periods, day = [], date_from
    while day <= date_to:
        key = PERIOD_KEY[kind](day)
        if periods and periods[-1][0] == key:
            periods[-1][2] = day
        else:
            periods.append([key, day, day])
        day += datetime.timedelta(days=1)
    one = datetime.timedelta(days=1)
    return [(key, day_start(first), day_start(last + one)) for key, first, last in periods]


def _period_keys(kind, date_from, date_to):
    """Every period key from date_from to date_to, in order."""
    return [key for key, _start, _end in _period_ranges(kind, date_from, date_to)]


def _trend_months(last_day, months=TREND_MONTHS):
    """[(key, start, end)] of the `months` whole months ending with the month of `last_day`."""
    first = month_start(last_day.replace(day=1), -(months - 1))
    starts = [month_start(first, i) for i in range(months + 1)]
    return [(_month_key(a), day_start(a), day_start(b)) for a, b in itertools.pairwise(starts)]


# --- reads: grouped rows only ------------------------------------------------------------------


def _local_date(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def _group_expression(group_by):
    """The SQL expression a response is grouped by, and how its value becomes the group key."""
    tz = timezone.get_current_timezone()
    if group_by == "period":
        return TruncMonth("answered_at", tzinfo=tz), lambda v: _month_key(_local_date(v))
    if group_by == "week":
        return TruncWeek("answered_at", tzinfo=tz), lambda v: _week_key(_local_date(v))
    if group_by == "day":
        return TruncDate("answered_at", tzinfo=tz), lambda v: _local_date(v).isoformat()
    column = {"department": "department_id", "agent": "agent_id", "channel": "case_channel"}
    return F(column.get(group_by, group_by)), lambda v: v or None


def _answered(start, end):
    return Response.objects.filter(answered_at__gte=start, answered_at__lt=end).order_by()


def _counts(prefix="", condition=None):
    """Aggregates of responses (answers per score, responses, distinct customers, distinct
    customers with a problem), optionally only those matching `condition`, named with
    `prefix`."""

    def only(q=None):
        if condition is None:
            return q
        return condition if q is None else condition & q

    # customer is never null: counting it counts answers, and it is in the figures' indexes
    # (models_responses.FIGURES; the pk is not), so PostgreSQL reads an index only.
    scores = range(metrics.SCORE_MIN, metrics.SCORE_MAX + 1)
    return {
        f"{prefix}responses": Count("customer", filter=only()),
        f"{prefix}customers": Count("customer", distinct=True, filter=only()),
        f"{prefix}with_problem": Count("customer", distinct=True, filter=only(Q(has_problem=True))),
        **{
            f"{prefix}score_{s}": Count("customer", filter=only(Q(overall_score=s))) for s in scores
        },
    }


def _unpack(row, prefix=""):
    scores = range(metrics.SCORE_MIN, metrics.SCORE_MAX + 1)
    return {
        "scores": {s: row[f"{prefix}score_{s}"] for s in scores if row[f"{prefix}score_{s}"]},
        "responses": row[f"{prefix}responses"],
        "customers": row[f"{prefix}customers"],
        "customers_with_problem": row[f"{prefix}with_problem"],
    }


def _two_periods(before, start, end):
    """(counts of [start, end), counts of [before, start)) in one aggregate query."""
    row = _answered(before, end).aggregate(
        **_counts("now_", Q(answered_at__gte=start)),
        **_counts("before_", Q(answered_at__lt=start)),
    )
    return _unpack(row, "now_"), _unpack(row, "before_")


def _range_counts(ranges):
    """[counts] of the responses answered in each [start, end) of `ranges`, in order — one
    statement, PostgreSQL only. Each range is a LATERAL aggregate over an index-only range
    scan of callbacks_response_stats: no period is sorted or hashed as a whole to be grouped,
    and distinct customers are counted within each range only. A range asked twice (a month
    of the trend that is also a group) is read once."""
    unique = list(dict.fromkeys(ranges))
    quote = connection.ops.quote_name

    def column(name):
        return quote(Response._meta.get_field(name).column)

    customer, at = column("customer"), column("answered_at")
    scores = "".join(
        f", count(*) FILTER (WHERE {column('overall_score')} = {s}) AS score_{s}"
        for s in range(metrics.SCORE_MIN, metrics.SCORE_MAX + 1)
    )
    sql = f"""
        SELECT a.* FROM unnest(%s::timestamptz[], %s::timestamptz[]) WITH ORDINALITY
            AS r(lo, hi, i)
        CROSS JOIN LATERAL (
            SELECT count(*) AS responses, count(DISTINCT {customer}) AS customers,
                   count(DISTINCT {customer}) FILTER (WHERE {column("has_problem")})
                       AS with_problem{scores}
            FROM {quote(Response._meta.db_table)} WHERE {at} >= r.lo AND {at} < r.hi
        ) AS a
        ORDER BY r.i"""
    with connection.cursor() as cursor:
        cursor.execute(sql, [[lo for lo, _hi in unique], [hi for _lo, hi in unique]])
        names = [c.name for c in cursor.description]
        rows = cursor.fetchall()
    counts = {
        r: _unpack(dict(zip(names, row, strict=True))) for r, row in zip(unique, rows, strict=True)
    }
    return [counts[r] for r in ranges]


def _trend_scores(start, end):
    """{month key: {score: answers}} of [start, end), grouped by the database (other
    databases than PostgreSQL; there _range_counts does it)."""
    counts = (
        Response.objects.filter(
            answered_at__gte=start, answered_at__lt=end, overall_score__isnull=False
        )
        .annotate(month=TruncMonth("answered_at"))
        .values_list("month", "overall_score")
        .annotate(n=Count("customer"))
        .order_by()
    )
    by_month = {}
    for month, score, n in counts:
        key = _month_key(_local_date(month))
        by_month.setdefault(key, {})[score] = by_month.get(key, {}).get(score, 0) + n
    return by_month


def _read_counts(before, start, end, group_by, date_from, date_to, trend):
    """(counts of [start, end), of [before, start), {group key: counts}, {trend month:
    {score: answers}}) — `trend` being _trend_months or empty.

    On PostgreSQL one statement reads them all when grouping by period, week or day
    (_range_counts: the two periods, each group and each month of the trend are ranges of
    answered_at), plus one GROUP BY otherwise. Elsewhere: the two periods in one aggregate,
    the groups in one GROUP BY, the trend in another."""
    periodic = group_by in PERIOD_KINDS
    if connection.vendor != "postgresql":
        now, previous = _two_periods(before, start, end)
        by_month = _trend_scores(trend[0][1], trend[-1][2]) if trend else {}
        return now, previous, _group_counts(start, end, group_by), by_month
    groups = _period_ranges(group_by, date_from, date_to) if periodic else []
    ranges = [(before, start), (start, end)] + [(a, b) for _key, a, b in groups + trend]
    counts = _range_counts(ranges)
    previous, now = counts[0], counts[1]
    of_groups, of_trend = counts[2 : 2 + len(groups)], counts[2 + len(groups) :]
    if periodic:
        by_key = {key: c for (key, _a, _b), c in zip(groups, of_groups, strict=True)}
    else:
        by_key = _group_counts(start, end, group_by)
    by_month = {key: c["scores"] for (key, _a, _b), c in zip(trend, of_trend, strict=True)}
    return now, previous, by_key, by_month


def _group_counts(start, end, group_by):
    """{group key: counts} for the responses answered in [start, end). One grouped query."""
    expression, key_of = _group_expression(group_by)
    rows = _answered(start, end).annotate(group=expression).values("group").annotate(**_counts())
    groups = {}
    for row in rows:
        counts, key = _unpack(row), key_of(row["group"])
        if key in groups:  # two raw values make one key (channel '' and NULL): add them up
            mine = groups[key]
            for name in ("responses", "customers", "customers_with_problem"):
                mine[name] += counts[name]
            for s, n in counts["scores"].items():
                mine["scores"][s] = mine["scores"].get(s, 0) + n
        else:
            groups[key] = counts
    return groups


def opinion_counts(start, end):
    """({opinion category: mentions}, {category: label}) for the responses answered in
    [start, end): the categories of the problems found, and the options picked in
    multiple-choice questions (category "<question code>:<option>"), and the categories of the
    written suggestions ("opinion:<id>", callbacks.opinions). Three queries (a UNION of two
    grouped reads; the categories; the suggestions)."""
    problems = (
        ProblemReport.objects.filter(
            response__answered_at__gte=start, response__answered_at__lt=end
        )
        .annotate(code=Value(""), label=Value(""))
        .values_list("category", "code", "label")
        .annotate(n=Count("pk"))
        .order_by()
    )
    picked = (
        Answer.objects.filter(
            response__answered_at__gte=start,
            response__answered_at__lt=end,
            question__kind=QuestionKind.MULTIPLE,
            choice__isnull=False,
        )
        .annotate(category=Value(""), code=F("question__code"), label=F("choice__label"))
        .values_list("category", "code", "label")
        .annotate(n=Count("pk"))
        .order_by()
    )
    counts, labels = {}, {}
    for category, code, label, n in problems.union(picked, all=True):
        if code or label:
            category = f"{code}:{label}"
            labels[category] = label
        elif category not in labels:
            try:
                labels[category] = str(ProblemCategory(category).label)
            except ValueError:
                labels[category] = category
        counts[category] = counts.get(category, 0) + n
    # What customers wrote: the suggestions, classified by keywords (callbacks.opinions).
    categories = list(OpinionCategory.objects.filter(is_active=True))
    written = _answered(start, end).exclude(suggestions="").values_list("suggestions", flat=True)
    for suggestion in written:
        for category in opinions.classify(suggestion, categories):
            counts[category] = counts.get(category, 0) + 1
    labels.update({c.code: c.name for c in categories})
    labels[opinions.OTHER] = _("Other suggestions")
    return counts, labels


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


def _figures(counts, target):
    """One group's figures from its counts, with problem incidence over distinct customers
    (問題發生率 = customers with a problem ÷ customers surveyed)."""
    counts = counts or {"scores": {}, "responses": 0, "customers": 0, "customers_with_problem": 0}
    scores = counts["scores"]
    rate = metrics.satisfaction_rate_of_counts(scores)
    return {
        "responses": counts["responses"],
        "answers": sum(scores.values()),
        "score": metrics.satisfaction_score_of_counts(scores),
        "rate": rate,
        "meets_target": metrics.meets_target(rate, target),
        "customers_surveyed": counts["customers"],
        "customers_with_problem": counts["customers_with_problem"],
        "problem_incidence": metrics.problem_incidence(
            counts["customers"], counts["customers_with_problem"]
        ),
    }


def satisfaction_summary(*, date_from, date_to, group_by="period", target=None, trend_to=None):
    """The satisfaction figures for [date_from, date_to] (dates, both included).

    Returns {"from", "to", "group_by", "target", "totals", "previous" (the period of equal
    length before, with its own "from"/"to"), "improvement" (score now − score then),
    "incidence_reduction" (incidence then − now), "groups": [{"key", "label", ...figures}],
    "opinions": [{"category", "label", "count", "share"}], "distribution": [{"score",
    "count"}] (answers per overall score 1–5)}. Shares are Decimals in 0..1 (metrics'
    convention); "nothing to measure" is None. With `trend_to` (a date), also "trend": what
    monthly_trend(last_day=trend_to) returns, read in the same statement.

    The database counts and groups; Python sees grouped rows only (a few per group), so the
    cost does not grow with the number of answers in Python. A constant number of queries
    (_read_counts: one or two for the answers' counts, whatever the grouping and period).
    """
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {GROUP_BY}, got {group_by!r}")
    prev_from, prev_to = previous_range(date_from, date_to)
    start, end = day_start(date_from), day_start(date_to + datetime.timedelta(days=1))
    if target is None:  # the plan in force for the period (knowledge.targets)
        target = targets_for_period(start, end).satisfaction_rate

    trend = _trend_months(trend_to) if trend_to else []
    now, before, by_key, trend_scores = _read_counts(
        day_start(prev_from), start, end, group_by, date_from, date_to, trend
    )
    totals, previous = _figures(now, target), _figures(before, target)
    mentions, opinion_label = opinion_counts(start, end)

    # Periods are listed whole, the empty ones included, so a table or chart shows gaps.
    periodic = group_by in PERIOD_KINDS
    keys = (
        _period_keys(group_by, date_from, date_to)
        if periodic
        else sorted(by_key, key=lambda k: (k is None, str(k)))
    )
    names = _group_names(group_by, keys)
    groups = [
        {"key": names[key][0], "label": names[key][1], **_figures(by_key.get(key), target)}
        for key in keys
    ]
    if not periodic:
        groups.sort(key=lambda g: (g["key"] is None, g["label"]))

    summary = {
        "from": date_from,
        "to": date_to,
        "group_by": group_by,
        "target": target,
        "totals": totals,
        "previous": {"from": prev_from, "to": prev_to, **previous},
        "improvement": metrics.score_improvement_of_counts(now["scores"], before["scores"]),
        "incidence_reduction": metrics.incidence_reduction(
            previous["problem_incidence"], totals["problem_incidence"]
        ),
        "groups": groups,
        "opinions": [
            {"category": c, "label": opinion_label.get(c, c), "count": n, "share": share}
            for c, n, share in metrics.opinion_concentration_of_counts(mentions)
        ],
        "distribution": [
            {"score": s, "count": now["scores"].get(s, 0)}
            for s in range(metrics.SCORE_MAX, metrics.SCORE_MIN - 1, -1)
        ],
    }
    if trend:
        summary["trend"] = _trend(trend, trend_scores, None)
    return summary


def monthly_trend(*, last_day, months=TREND_MONTHS, target=None):
    """Score and satisfaction rate per month for the `months` months ending with the month
    of `last_day`, oldest first; months without answers have None. One query for the
    answers (counted per month and score by the database), one for the target."""
    months = _trend_months(last_day, months)
    if connection.vendor == "postgresql":
        counts = _range_counts([(a, b) for _key, a, b in months])
        scores = {key: c["scores"] for (key, _a, _b), c in zip(months, counts, strict=True)}
    else:
        scores = _trend_scores(months[0][1], months[-1][2])
    return _trend(months, scores, target)


def _trend(months, by_month, target):
    """monthly_trend's rows from {month key: {score: answers}}; target None: the plan in
    force over the months."""
    if target is None:
        target = targets_for_period(months[0][1], months[-1][2]).satisfaction_rate
    trend = []
    for key, _start, _end in months:
        scores = by_month.get(key, {})
        rate = metrics.satisfaction_rate_of_counts(scores)
        trend.append({
            "key": key,
            "label": key,
            "answers": sum(scores.values()),
            "score": metrics.satisfaction_score_of_counts(scores),
            "rate": rate,
            "meets_target": metrics.meets_target(rate, target) if scores else None,
        })  # fmt: skip
    return trend
