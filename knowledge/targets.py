"""The targets of the plan in force (目标): what the metrics page, the alerts, the dashboard and
the monthly workbook measure against.

The default plan's revision in force at a moment holds the first-response target (hours) and
the satisfaction-rate target (%). A period is measured against the revision in force at its
last moment (or now, for a period still running). Before any revision was published the
first one published counts; with no plan at all, the handbook's figures (24 h, 90 %).
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from .models import PlanRevision

ONE_MICROSECOND = datetime.timedelta(microseconds=1)


@dataclass(frozen=True)
class PlanTargets:
    first_response_hours: Decimal
    satisfaction_rate: Decimal  # a share 0..1, as callbacks.metrics counts
    revision: PlanRevision | None = None

    @property
    def satisfaction_percent(self):
        return self.satisfaction_rate * 100


HANDBOOK = PlanTargets(first_response_hours=Decimal(24), satisfaction_rate=Decimal("0.90"))


def _published_revisions():
    """The default plan's revisions ever published, oldest first (a handful of rows)."""
    return list(
        PlanRevision.objects.filter(plan__is_default=True, published_at__isnull=False)
        .select_related("plan")
        .order_by("number", "pk")
    )


def _pick(revisions, at):
    in_force = [
        r
        for r in revisions
        if r.published_at <= at and (r.superseded_at is None or r.superseded_at > at)
    ]
    if in_force:
        return max(in_force, key=lambda r: r.published_at)
    # Before the first publication (or a clock set before it): the first one published.
    return revisions[0] if revisions else None


def _targets(revision):
    if revision is None:
        return HANDBOOK
    return PlanTargets(
        first_response_hours=Decimal(revision.first_response_hours),
        satisfaction_rate=(Decimal(revision.satisfaction_target_pct) / 100).quantize(
            Decimal("0.0001")
        ),
        revision=revision,
    )


def targets_at(at=None):
    """The PlanTargets of the default plan's revision in force at `at` (default now)."""
    return _targets(_pick(_published_revisions(), at or timezone.now()))


def targets_for_period(start, end, now=None):
    """The targets in force for [start, end): those at its last moment, or now if sooner."""
    return targets_for_periods([(start, end)], now)[0]


def targets_for_periods(periods, now=None):
    """targets_for_period for each (start, end) in `periods`, reading the plans once."""
    now = now or timezone.now()
    revisions = _published_revisions()
    return [_targets(_pick(revisions, min(end - ONE_MICROSECOND, now))) for _s, end in periods]
