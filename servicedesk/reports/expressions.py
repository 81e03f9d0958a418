"""Query expressions the period's figures share: which deadline stages count in a period,
which were met, whether a case missed one, durations and the per-group aggregates."""

from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, Q

from complaints import sla
from complaints.models import State, deadline_pending_q

ENDED = [State.MERGED, State.CANCELLED]


def stage_counted(stage, start_m, end_m, cutoff):
    """Fell due in [start_m, end_m), and was done, or is still to meet and past due at
    `cutoff` (a stage of a case that ended before reaching it is not counted)."""
    due, done = sla.CASE_STAGES[stage]
    window = Q(**{f"{due}__gte": start_m, f"{due}__lt": end_m})
    return window & (
        Q(**{f"{done}__isnull": False}) | (deadline_pending_q(stage) & Q(**{f"{due}__lt": cutoff}))
    )


def stage_met(stage, start_m, end_m):
    due, done = sla.CASE_STAGES[stage]
    return Q(**{f"{due}__gte": start_m, f"{due}__lt": end_m, f"{done}__lte": F(due)})


def _missed(cutoff):
    """Some stage done late, or pending past its deadline at `cutoff`."""
    q = Q()
    for stage, (due, done) in sla.CASE_STAGES.items():
        q |= Q(**{f"{done}__gt": F(due)}) | (
            deadline_pending_q(stage) & Q(**{f"{due}__lt": cutoff})
        )
    return q


def _duration(later, earlier):
    return ExpressionWrapper(F(later) - F(earlier), output_field=DurationField())


def _group_aggregates(end_m, cutoff):
    resolved = Q(resolved_at__isnull=False, resolved_at__lt=end_m)
    return {
        "received": Count("pk"),
        "resolved": Count("pk", filter=resolved),
        "open": Count("pk", filter=~resolved & ~Q(state__in=ENDED)),
        "missed": Count("pk", filter=_missed(cutoff)),
        "resolution": Avg(_duration("resolved_at", "created_at"), filter=resolved),
    }
