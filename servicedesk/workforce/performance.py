"""Agent performance (坐席绩效) for a period: per agent, cases handled, first-response
median, deadlines met, satisfaction rate, QA score and disputes. Three queries whatever the
number of agents; shown on the admin page and as a sheet of the monthly workbook."""

import statistics
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Avg, Count, Exists, OuterRef, Q

from callbacks import metrics
from complaints.models import Case, SlaBreach
from servicedesk.staff.models import User

from .models import MysteryShop, QaReview, ReviewStatus


@dataclass
class AgentFigures:
    agent: object
    handled: int = 0
    first_response_median_hours: float | None = None
    deadlines_met: object = None  # Decimal share 0..1 or None
    satisfaction_rate: object = None
    satisfaction_answers: int = 0
    qa_score: object = None
    qa_reviews: int = 0
    disputes: int = 0
    mystery_score: object = None


def agent_performance(*, start, end, agent_ids=None):
    """[AgentFigures] for cases resolved in [start, end), QA reviews of samples whose month
    starts in it and mystery shops made in it; agents ordered by name."""
    cases = Case.objects.filter(resolved_at__gte=start, resolved_at__lt=end, assignee__isnull=False)
    reviews = QaReview.objects.filter(sample__month__gte=start.date(), sample__month__lt=end.date())
    shops = MysteryShop.objects.filter(
        shopped_at__gte=start, shopped_at__lt=end, agent__isnull=False
    )
    if agent_ids is not None:
        cases = cases.filter(assignee_id__in=agent_ids)
        reviews = reviews.filter(agent_id__in=agent_ids)
        shops = shops.filter(agent_id__in=agent_ids)
    rows = {}
    for agent_id, created, first, score, breached in cases.annotate(
        breached=Exists(SlaBreach.objects.filter(case=OuterRef("pk")))
    ).values_list("assignee_id", "created_at", "first_response_at", "feedback_score", "breached"):
        r = rows.setdefault(agent_id, {"hours": [], "scores": [], "handled": 0, "met": 0})
        r["handled"] += 1
        r["met"] += 0 if breached else 1
        if first is not None:
            r["hours"].append((first - created).total_seconds() / 3600)
        if score is not None:
            r["scores"].append(score)
    qa = {
        a: (avg, n, disputes)
        for a, avg, n, disputes in reviews.exclude(status=ReviewStatus.PENDING)
        .values("agent_id")
        .annotate(
            avg=Avg("score"),
            n=Count("pk"),
            disputes=Count("pk", filter=Q(disputed_at__isnull=False)),
        )
        .values_list("agent_id", "avg", "n", "disputes")
        .order_by()
    }
    mystery = dict(
        shops.values("agent_id")
        .annotate(avg=Avg("score"))
        .values_list("agent_id", "avg")
        .order_by()
    )
    people = User.objects.in_bulk(set(rows) | set(qa) | set(mystery))
    result = []
    for agent_id, user in people.items():
        r = rows.get(agent_id, {"hours": [], "scores": [], "handled": 0, "met": 0})
        avg, n, disputes = qa.get(agent_id, (None, 0, 0))
        result.append(
            AgentFigures(
                agent=user,
                handled=r["handled"],
                first_response_median_hours=statistics.median(r["hours"]) if r["hours"] else None,
                deadlines_met=_share(r["met"], r["handled"]),
                satisfaction_rate=metrics.satisfaction_rate(r["scores"]),
                satisfaction_answers=len(r["scores"]),
                qa_score=avg,
                qa_reviews=n,
                disputes=disputes,
                mystery_score=mystery.get(agent_id),
            )
        )
    return sorted(result, key=lambda f: (str(f.agent), f.agent.pk))


def _share(part, whole):
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
