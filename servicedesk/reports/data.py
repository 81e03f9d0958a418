"""The figures of a reporting period, read from the database: what the monthly workbook shows.

`period_figures(start, end)` returns a `PeriodFigures` (plain dataclasses, no ORM objects) for
the dates `start`..`end`, both included, cut at local midnight (TIME_ZONE, Asia/Shanghai). It
issues a constant number of queries whatever the volume — aggregates, `values()` group-bys and
one ordered slice for the median — and never one per case. `case_rows(start, end)` streams
the period's cases as tuples for the case list, contact details always masked.

Definitions:

* received: cases registered in the period, whatever became of them; merged (duplicates) and
  cancelled (spam, withdrawn) ones are left out of the resolution rate and the open counts;
* resolved / closed: cases whose resolution / closing time falls in the period; the
  resolution rate is the share of the period's cases (merged and cancelled left out) resolved
  by the end of the period;
* open at the end: received by then and not resolved by then (nor merged or cancelled);
* top problems: the most frequent (category, product) pairs among the period's cases;
* first response: from receipt to the first answer to the customer, cases received in the
  period; the median is taken by the database (an ordered slice), so it is portable;
* deadlines met, per stage: of the stages that fell due in the period (the `*_due` columns)
  and were done (`*_done_at`) or are still to meet (the rule of `Case.pending_deadlines`:
  a stage of a case that ended before reaching it is not counted), those done by their
  deadline;
* a case "missed a deadline" when a stage was done late or is pending past its deadline;
* satisfaction: the answers given in the period, through callbacks.metrics (problem
  incidence counts distinct customers, as the satisfaction summary does);
* follow-ups: the calls due in the period; completion = done ÷ (due − cancelled).
"""

import datetime
from collections import Counter, defaultdict

from django.db.models import (
    Avg,
    Count,
    Q,
    Sum,
)
from django.db.models.functions import TruncDate, TruncMonth
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from callbacks import loyalty, metrics
from callbacks.models import (
    FollowUp,
    FollowUpPurpose,
    FollowUpStatus,
    ProblemCategory,
    ProblemReport,
    Response,
)
from complaints import sla
from complaints.models import (
    Case,
    CaseType,
    Category,
    Channel,
    ReturnReason,
    ReturnRequest,
    ReturnStep,
    SlaBreach,
    SlaStage,
)
from knowledge.targets import targets_for_period, targets_for_periods
from servicedesk.workdays import month_start

# The figures' structure, the periods, the shared query expressions and the case list live in
# their own modules; every name stays importable from here (data.case_rows, data.moments, …).
from .case_list import CASE_COLUMNS, CASE_ROWS_CHUNK, _naive, _person_label, case_rows  # noqa: F401
from .expressions import (  # noqa: F401
    ENDED,
    _duration,
    _group_aggregates,
    _missed,
    stage_counted,
    stage_met,
)
from .figures import (
    Escalations,
    FollowUpFigures,
    Group,
    Kpis,
    Month,
    PeriodFigures,
    Problem,
    ReturnFigures,
    StageFigures,
)
from .periods import (  # noqa: F401
    _hours,
    _local_key,
    local_midnight,
    moments,
    month_end,
    previous_month,
    previous_period,
    share,
)

TREND_MONTHS = 12
TOP_PROBLEMS = 10

SATISFACTION_LABELS = {
    5: _("Very satisfied"),
    4: _("Satisfied"),
    3: _("Neutral"),
    2: _("Dissatisfied"),
    1: _("Very dissatisfied"),
}


# --- reads -------------------------------------------------------------------------------


def _satisfaction(start_m, end_m):
    """Scores per (score, department, agent, channel) of the answers in the period, and the
    surveyed / with-problem customer counts. Two queries."""
    answered = Response.objects.filter(answered_at__gte=start_m, answered_at__lt=end_m)
    scores = list(
        answered.filter(overall_score__isnull=False)
        .values(
            "overall_score",
            "department",
            "department__name",
            "agent",
            "agent__username",
            "agent__first_name",
            "agent__last_name",
            "case_channel",
        )
        .annotate(n=Count("pk"))
        .order_by()
    )
    customers = answered.aggregate(
        surveyed=Count("customer", distinct=True),
        with_problem=Count("customer", filter=Q(has_problem=True), distinct=True),
    )
    return scores, customers


def _expand(counts):
    """{score: n} → the list of scores metrics takes."""
    return [score for score, n in sorted(counts.items()) for _ in range(n)]


def _kpis(start_m, end_m, cutoff):
    """The headline figures of [start_m, end_m). Eight queries."""
    received = Case.objects.filter(created_at__gte=start_m, created_at__lt=end_m)
    answered = Q(first_response_at__isnull=False)
    first_response = _duration("first_response_at", "created_at")
    k = Kpis(
        **received.aggregate(
            received=Count("pk"),
            ended=Count("pk", filter=Q(state__in=ENDED)),
            resolved_of_received=Count(
                "pk", filter=Q(resolved_at__isnull=False, resolved_at__lt=end_m)
            ),
            first_responses=Count("pk", filter=answered),
        )
    )
    mean = received.aggregate(mean=Avg(first_response, filter=answered))["mean"]
    k.first_response_mean = _hours(mean)
    k.resolution_rate = share(k.resolved_of_received, k.received - k.ended)

    # The median, by the database: the middle one or two of the ordered durations.
    if k.first_responses:
        middle = (k.first_responses - 1) // 2
        size = 2 if k.first_responses % 2 == 0 else 1
        values = list(
            received.filter(answered)
            .annotate(d=first_response)
            .order_by("d")
            .values_list("d", flat=True)[middle : middle + size]
        )
        k.first_response_median = sum(_hours(v) for v in values) / len(values)

    stage_counts = {}
    for stage in sla.CASE_STAGES:
        stage_counts[f"due_{stage}"] = Count(
            "pk", filter=stage_counted(stage, start_m, end_m, cutoff)
        )
        stage_counts[f"met_{stage}"] = Count("pk", filter=stage_met(stage, start_m, end_m))
    totals = Case.objects.filter(created_at__lt=end_m).aggregate(
        resolved=Count("pk", filter=Q(resolved_at__gte=start_m, resolved_at__lt=end_m)),
        closed=Count("pk", filter=Q(closed_at__gte=start_m, closed_at__lt=end_m)),
        open_at_end=Count(
            "pk",
            filter=~Q(state__in=ENDED) & (Q(resolved_at__isnull=True) | Q(resolved_at__gte=end_m)),
        ),
        **stage_counts,
    )
    k.resolved, k.closed, k.open_at_end = (
        totals["resolved"],
        totals["closed"],
        totals["open_at_end"],
    )
    k.stage_counts = {
        stage: (totals[f"due_{stage}"], totals[f"met_{stage}"]) for stage in sla.CASE_STAGES
    }
    k.deadlines_due = sum(due for due, _met in k.stage_counts.values())
    k.deadlines_met = sum(met for _due, met in k.stage_counts.values())
    k.sla_met_share = share(k.deadlines_met, k.deadlines_due)

    k.breaches = list(
        SlaBreach.objects.filter(escalated_at__gte=start_m, escalated_at__lt=end_m)
        .values_list("stage", "level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    k.escalations = sum(n for _stage, _level, n in k.breaches)

    k.scores, customers = _satisfaction(start_m, end_m)
    counts = Counter()
    for row in k.scores:
        counts[row["overall_score"]] += row["n"]
    scores = _expand(counts)
    k.answers = len(scores)
    k.satisfaction_score = metrics.satisfaction_score(scores)
    k.satisfaction_rate = metrics.satisfaction_rate(scores)
    targets = targets_for_period(start_m, end_m, now=cutoff)
    k.satisfaction_target = targets.satisfaction_rate
    k.first_response_target_hours = targets.first_response_hours
    k.meets_target = metrics.meets_target(k.satisfaction_rate, k.satisfaction_target)
    if k.first_response_median is not None:
        k.first_response_target_met = k.first_response_median <= k.first_response_target_hours
    k.customers_surveyed = customers["surveyed"]
    k.customers_with_problem = customers["with_problem"]
    k.problem_incidence = metrics.problem_incidence(k.customers_surveyed, k.customers_with_problem)
    repeat = loyalty.repeat_purchase(start_m, end_m, customers=k.customers_surveyed)
    k.repeat_customers, k.repeat_purchase_rate = repeat.repeat, repeat.rate

    k.followup_rows = list(
        FollowUp.objects.filter(due_at__gte=start_m, due_at__lt=end_m)
        .values_list("purpose", "status")
        .annotate(n=Count("pk"))
        .order_by()
    )
    cancelled = sum(n for _p, s, n in k.followup_rows if s == FollowUpStatus.CANCELLED)
    k.followups_due = sum(n for _p, _s, n in k.followup_rows) - cancelled
    k.followups_done = sum(n for _p, s, n in k.followup_rows if s == FollowUpStatus.DONE)
    k.followup_completion = share(k.followups_done, k.followups_due)
    return k


def _groups(queryset, keys, label, aggregates):
    rows = queryset.values(*keys).annotate(**aggregates).order_by()
    result = []
    for row in rows:
        result.append(
            Group(
                key=row[keys[0]],
                label=label(row),
                received=row["received"],
                resolved=row["resolved"],
                open=row["open"],
                missed=row["missed"],
                resolution_hours=_hours(row["resolution"]),
                category=row.get("category"),
            )
        )
    return result


def _choice_label(choices, value):
    if value in choices.values:
        return choices(value).label
    return value or "—"


def _add_satisfaction(groups, scores, key, label, missing_label):
    """Attach satisfaction per group; groups with answers but no case received get a row."""
    by_key = defaultdict(Counter)
    labels = {}
    for row in scores:
        k = row[key] if row[key] != "" else None
        by_key[k][row["overall_score"]] += row["n"]
        labels[k] = label(row) if k is not None else missing_label
    present = {g.key: g for g in groups}
    for k, counts in by_key.items():
        group = present.get(k)
        if group is None:
            group = Group(key=k, label=labels[k])
            groups.append(group)
        values = _expand(counts)
        group.answers = len(values)
        group.satisfaction_score = metrics.satisfaction_score(values)
        group.satisfaction_rate = metrics.satisfaction_rate(values)


def _by_type_and_category(pairs):
    by_type, by_category = {}, {}
    for pair in pairs:
        for index, key, label in (
            (by_type, pair.key, _choice_label(CaseType, pair.key)),
            (by_category, pair.category, _choice_label(Category, pair.category)),
        ):
            g = index.setdefault(key, Group(key=key, label=label))
            if pair.resolution_hours is not None:
                # Weighted back into a sum so the mean of the merged group stays exact.
                g.resolution_hours = (
                    g.resolution_hours or 0
                ) + pair.resolution_hours * pair.resolved
            g.received += pair.received
            g.resolved += pair.resolved
            g.open += pair.open
            g.missed += pair.missed
    for index in (by_type, by_category):
        for g in index.values():
            if g.resolution_hours is not None:
                g.resolution_hours = g.resolution_hours / g.resolved if g.resolved else None
    return _sorted(by_type.values()), _sorted(by_category.values())


def _sorted(groups):
    return sorted(groups, key=lambda g: (-g.received, -g.answers, str(g.key)))


def _trend(first_m, end_m, cutoff, months):
    """Received, deadlines met and satisfaction per month: seven queries."""
    tz = timezone.get_default_timezone()
    by_month = {m.month: m for m in months}
    received = (
        Case.objects.filter(created_at__gte=first_m, created_at__lt=end_m)
        .annotate(m=TruncMonth("created_at", tzinfo=tz))
        .values_list("m")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for m, n in received:
        by_month[_local_key(m)].received = n
    for stage, (due, _done) in sla.CASE_STAGES.items():
        rows = (
            Case.objects.filter(**{f"{due}__gte": first_m, f"{due}__lt": end_m})
            .annotate(m=TruncMonth(due, tzinfo=tz))
            .values_list("m")
            .annotate(
                counted=Count("pk", filter=stage_counted(stage, first_m, end_m, cutoff)),
                met=Count("pk", filter=stage_met(stage, first_m, end_m)),
            )
            .order_by()
        )
        for m, counted, met in rows:
            month = by_month[_local_key(m)]
            month.deadlines_due += counted
            month.deadlines_met += met
    answers = (
        Response.objects.filter(
            answered_at__gte=first_m, answered_at__lt=end_m, overall_score__isnull=False
        )
        .annotate(m=TruncMonth("answered_at", tzinfo=tz))
        .values_list("m", "overall_score")
        .annotate(n=Count("pk"))
        .order_by()
    )
    scores = defaultdict(Counter)
    for m, score, n in answers:
        scores[_local_key(m)][score] += n
    periods = [(local_midnight(m.month), local_midnight(month_start(m.month, 1))) for m in months]
    for month, targets in zip(months, targets_for_periods(periods, cutoff), strict=True):
        month.satisfaction_target = targets.satisfaction_rate
    for key, counts in scores.items():
        values = _expand(counts)
        month = by_month[key]
        month.answers = len(values)
        month.satisfaction_score = metrics.satisfaction_score(values)
        month.satisfaction_rate = metrics.satisfaction_rate(values)


def period_figures(start, end, *, now=None):
    """Everything the report shows for the dates start..end (both included)."""
    if start > end:
        raise ValueError(f"start {start} is after end {end}")
    now = now or timezone.now()
    tz = timezone.get_default_timezone()
    start_m, end_m = moments(start, end)
    cutoff = min(end_m, now)
    prev_start, prev_end = previous_period(start, end)
    prev_m = moments(prev_start, prev_end)

    kpis = _kpis(start_m, end_m, cutoff)
    previous = _kpis(*prev_m, min(prev_m[1], now))
    figures = PeriodFigures(
        start=start, end=end, previous_start=prev_start, previous_end=prev_end, now=now,
        kpis=kpis, previous=previous,
    )  # fmt: skip

    received = Case.objects.filter(created_at__gte=start_m, created_at__lt=end_m)
    aggregates = _group_aggregates(end_m, cutoff)
    scores = kpis.scores

    channels = _groups(
        received, ["channel"], lambda r: _choice_label(Channel, r["channel"]), aggregates
    )
    _add_satisfaction(
        channels, scores, "case_channel",
        lambda r: _choice_label(Channel, r["case_channel"]), _("Not about a case"),
    )  # fmt: skip
    figures.by_channel = _sorted(channels)

    pairs = _groups(
        received, ["type", "category"], lambda r: _choice_label(CaseType, r["type"]), aggregates
    )
    types, categories = list(CaseType.values), list(Category.values)
    for pair in pairs:
        pair.category_label = _choice_label(Category, pair.category)
    figures.by_type_category = sorted(
        pairs,
        key=lambda g: (
            types.index(g.key) if g.key in types else 99,
            -g.received,
            categories.index(g.category) if g.category in categories else 99,
        ),
    )
    figures.by_type, figures.by_category = _by_type_and_category(figures.by_type_category)

    departments = _groups(
        received, ["department", "department__name"],
        lambda r: r["department__name"] or _("No department"), aggregates,
    )  # fmt: skip
    _add_satisfaction(
        departments, scores, "department", lambda r: r["department__name"], _("No department")
    )
    figures.by_department = _sorted(departments)

    people = _groups(
        received,
        ["assignee", "assignee__username", "assignee__first_name", "assignee__last_name"],
        lambda r: _person_label(
            r["assignee__username"], r["assignee__first_name"], r["assignee__last_name"]
        ) if r["assignee"] else _("Unassigned"),
        aggregates,
    )  # fmt: skip
    _add_satisfaction(
        people, scores, "agent",
        lambda r: _person_label(r["agent__username"], r["agent__first_name"], r["agent__last_name"]),
        _("Unassigned"),
    )  # fmt: skip
    figures.by_person = _sorted(people)

    figures.stages = [
        StageFigures(stage, SlaStage(stage).label, *kpis.stage_counts[stage])
        for stage in sla.CASE_STAGES
    ]
    escalations = {}
    for stage, level, n in kpis.breaches:
        label = _choice_label(SlaStage, stage)
        e = escalations.setdefault(stage, Escalations(stage, label))
        if level >= 2:
            e.level2 += n
        else:
            e.level1 += n
    order = list(SlaStage.values)
    figures.escalations = sorted(
        escalations.values(), key=lambda e: order.index(e.stage) if e.stage in order else 99
    )

    counts = Counter()
    for row in scores:
        counts[row["overall_score"]] += row["n"]
    figures.score_distribution = [
        (s, SATISFACTION_LABELS[s], counts.get(s, 0))
        for s in range(metrics.SCORE_MAX, metrics.SCORE_MIN - 1, -1)
    ]
    mentions = ProblemReport.objects.filter(
        response__answered_at__gte=start_m, response__answered_at__lt=end_m
    ).values_list("category", flat=True)
    figures.opinions = [
        (_choice_label(ProblemCategory, category), n, part)
        for category, n, part in metrics.opinion_concentration(mentions)
    ]

    followups = {}
    for purpose, status, n in kpis.followup_rows:
        f = followups.setdefault(
            purpose, FollowUpFigures(purpose, _choice_label(FollowUpPurpose, purpose))
        )
        f.due += n
        attribute = {
            FollowUpStatus.DONE: "done",
            FollowUpStatus.UNREACHABLE: "unreachable",
            FollowUpStatus.PENDING: "pending",
            FollowUpStatus.CANCELLED: "cancelled",
        }.get(status)
        if attribute:
            setattr(f, attribute, getattr(f, attribute) + n)
    purposes = list(FollowUpPurpose.values)
    figures.followups = sorted(
        followups.values(),
        key=lambda f: purposes.index(f.purpose) if f.purpose in purposes else 99,
    )

    figures.returns = _returns(start_m, end_m)
    figures.problems = _problems(received, kpis.received, end_m)

    days = {}
    day = start
    while day <= end:
        days[day] = [0, 0]
        day += datetime.timedelta(days=1)
    for d, n in (
        received.annotate(d=TruncDate("created_at", tzinfo=tz))
        .values_list("d")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        days[_local_key(d)][0] = n
    for d, n in (
        Case.objects.filter(resolved_at__gte=start_m, resolved_at__lt=end_m)
        .annotate(d=TruncDate("resolved_at", tzinfo=tz))
        .values_list("d")
        .annotate(n=Count("pk"))
        .order_by()
    ):
        days[_local_key(d)][1] = n
    figures.daily = [(d, r, s) for d, (r, s) in days.items()]

    last = end.replace(day=1)
    first = month_start(last, -(TREND_MONTHS - 1))
    figures.months = [Month(month_start(first, i)) for i in range(TREND_MONTHS)]
    _trend(local_midnight(first), local_midnight(month_start(last, 1)), now, figures.months)
    return figures


def _returns(start_m, end_m):
    """Return/exchange requests of the cases received in the period, per reason. One query."""
    rows = (
        ReturnRequest.objects.filter(case__created_at__gte=start_m, case__created_at__lt=end_m)
        .values_list("reason", "step")
        .annotate(n=Count("pk"), refunds=Sum("refund_amount"))
        .order_by()
    )
    after_approval = {
        ReturnStep.APPROVED, ReturnStep.CUSTOMER_NOTIFIED, ReturnStep.SHIPPED_BACK,
        ReturnStep.INSPECTED, ReturnStep.REFUNDED, ReturnStep.EXCHANGED,
    }  # fmt: skip
    by_reason = {}
    for reason, step, n, refunds in rows:
        r = by_reason.setdefault(reason, ReturnFigures(reason, _choice_label(ReturnReason, reason)))
        r.requests += n
        r.refunds += refunds or 0
        if step == ReturnStep.APPLIED:
            r.awaiting += n
        elif step == ReturnStep.REJECTED:
            r.rejected += n
        elif step in after_approval:
            r.approved += n
        if step == ReturnStep.REFUNDED:
            r.refunded += n
        elif step == ReturnStep.EXCHANGED:
            r.exchanged += n
    reasons = list(ReturnReason.values)
    return sorted(
        by_reason.values(), key=lambda r: reasons.index(r.reason) if r.reason in reasons else 99
    )


def _problems(received, total, end_m):
    """The most frequent (category, product) pairs among the period's cases. One query."""
    resolved = Q(resolved_at__isnull=False, resolved_at__lt=end_m)
    rows = (
        received.values_list("category", "product")
        .annotate(
            n=Count("pk"),
            complaints=Count("pk", filter=Q(type=CaseType.COMPLAINT)),
            reopened=Count("pk", filter=Q(reopen_count__gt=0)),
            unresolved=Count("pk", filter=~resolved & ~Q(state__in=ENDED)),
        )
        .order_by("-n", "category", "product")[:TOP_PROBLEMS]
    )
    return [
        Problem(
            category=category,
            category_label=_choice_label(Category, category),
            product=product,
            cases=n,
            share=share(n, total),
            complaints=complaints,
            reopened=reopened,
            unresolved=unresolved,
        )
        for category, product, n, complaints, reopened, unresolved in rows
    ]
