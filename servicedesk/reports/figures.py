"""The structure of a reporting period's figures (servicedesk.reports.data.period_figures):
plain dataclasses, no ORM objects, what the workbook and the report page read."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from .periods import share


@dataclass
class Kpis:
    """The headline figures of one period (the Summary sheet compares two of them)."""

    received: int = 0
    ended: int = 0  # of the received: merged or cancelled
    resolved: int = 0  # resolution time in the period
    closed: int = 0
    open_at_end: int = 0
    resolved_of_received: int = 0
    resolution_rate: Decimal | None = None
    first_responses: int = 0
    first_response_mean: float | None = None  # hours
    first_response_median: float | None = None  # hours
    deadlines_due: int = 0
    deadlines_met: int = 0
    sla_met_share: Decimal | None = None
    escalations: int = 0
    answers: int = 0
    satisfaction_score: Decimal | None = None
    satisfaction_rate: Decimal | None = None
    meets_target: bool | None = None
    # The targets of the plan in force for the period (knowledge.targets).
    satisfaction_target: Decimal | None = None
    first_response_target_hours: Decimal | None = None
    first_response_target_met: bool | None = None
    customers_surveyed: int = 0
    customers_with_problem: int = 0
    problem_incidence: Decimal | None = None
    repeat_customers: int = 0  # of the customers answering, those who bought again
    repeat_purchase_rate: Decimal | None = None
    followups_due: int = 0
    followups_done: int = 0
    followup_completion: Decimal | None = None
    # The raw group-bys the detail sheets are built from.
    stage_counts: dict = field(default_factory=dict)  # {stage: (due, met)}
    breaches: list = field(default_factory=list)  # [(stage, level, n)]
    scores: list = field(default_factory=list)  # satisfaction rows, see _satisfaction
    followup_rows: list = field(default_factory=list)  # [(purpose, status, n)]


@dataclass
class Group:
    """One row of a by-channel / type / category / department / person table."""

    key: object
    label: object  # a str, or a lazy translation resolved when the sheet is written
    received: int = 0
    resolved: int = 0
    open: int = 0
    missed: int = 0
    resolution_hours: float | None = None
    answers: int = 0
    satisfaction_score: Decimal | None = None
    satisfaction_rate: Decimal | None = None
    category: object = None  # the second key of a (type, category) pair
    category_label: object = None

    @property
    def resolution_rate(self):
        """Resolved ÷ (resolved + open): merged and cancelled cases left out."""
        return share(self.resolved, self.resolved + self.open)


@dataclass
class StageFigures:
    stage: str
    label: object
    due: int
    met: int

    @property
    def missed(self):
        return self.due - self.met

    @property
    def share(self):
        return share(self.met, self.due)


@dataclass
class Escalations:
    stage: str
    label: object
    level1: int = 0
    level2: int = 0

    @property
    def total(self):
        return self.level1 + self.level2


@dataclass
class FollowUpFigures:
    purpose: str
    label: object
    due: int = 0
    done: int = 0
    unreachable: int = 0
    pending: int = 0
    cancelled: int = 0

    @property
    def completion(self):
        return share(self.done, self.due - self.cancelled)

    @property
    def unreachable_share(self):
        return share(self.unreachable, self.due - self.cancelled)

    @property
    def pending_share(self):
        return share(self.pending, self.due - self.cancelled)


@dataclass
class ReturnFigures:
    reason: str
    label: object
    requests: int = 0
    awaiting: int = 0  # application not reviewed yet
    approved: int = 0  # approved, whatever step it reached since
    rejected: int = 0
    refunded: int = 0
    exchanged: int = 0
    refunds: Decimal = Decimal(0)

    @property
    def approved_share(self):
        return share(self.approved, self.approved + self.rejected)


@dataclass
class Problem:
    category: str
    category_label: object
    product: str
    cases: int
    share: Decimal | None
    complaints: int
    reopened: int
    unresolved: int


@dataclass
class Month:
    month: datetime.date  # the first day
    received: int = 0
    deadlines_due: int = 0
    deadlines_met: int = 0
    answers: int = 0
    satisfaction_score: Decimal | None = None
    satisfaction_rate: Decimal | None = None
    satisfaction_target: Decimal | None = None  # the plan in force for the month

    @property
    def sla_met_share(self):
        return share(self.deadlines_met, self.deadlines_due)


@dataclass
class PeriodFigures:
    start: datetime.date
    end: datetime.date
    previous_start: datetime.date
    previous_end: datetime.date
    now: datetime.datetime
    kpis: Kpis
    previous: Kpis
    by_channel: list = field(default_factory=list)
    by_type_category: list = field(default_factory=list)
    by_type: list = field(default_factory=list)
    by_category: list = field(default_factory=list)
    by_department: list = field(default_factory=list)
    by_person: list = field(default_factory=list)
    stages: list = field(default_factory=list)
    escalations: list = field(default_factory=list)
    score_distribution: list = field(default_factory=list)  # [(score, label, answers)]
    opinions: list = field(default_factory=list)  # [(label, mentions, share)]
    followups: list = field(default_factory=list)
    returns: list = field(default_factory=list)
    problems: list = field(default_factory=list)
    daily: list = field(default_factory=list)  # [(date, received, resolved)]
    months: list = field(default_factory=list)

    @property
    def followup_total(self):
        total = FollowUpFigures("", _("All follow-ups"))
        for f in self.followups:
            for name in ("due", "done", "unreachable", "pending", "cancelled"):
                setattr(total, name, getattr(total, name) + getattr(f, name))
        return total

    @property
    def returns_total(self):
        total = ReturnFigures("", _("All returns and exchanges"))
        for r in self.returns:
            for name in ("requests", "awaiting", "approved", "rejected", "refunded", "exchanged"):
                setattr(total, name, getattr(total, name) + getattr(r, name))
            total.refunds += r.refunds
        return total
