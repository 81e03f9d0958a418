"""Case deadlines (时限) and when to escalate: pure functions, no ORM, `now` passed in.

The stages and their limits come from the contingency-plan revision a case was opened under
(`PlanLimits.from_revision`), the date maths from servicedesk.workdays. Stored on the case
as indexed columns by services.case_refresh_deadlines; swept by services.sla_sweep.
"""

import datetime
from dataclasses import dataclass, field

from servicedesk import workdays

FIRST_RESPONSE = "first_response"
INVESTIGATION = "investigation"
SOLUTION = "solution_to_customer"
NEXT_CONTACT = "next_contact"
SATISFACTION = "satisfaction_followup"
TECH_COLLABORATION = "tech_collaboration"
# 002 daily tracking: a rolling deadline, due one working day after the last progress update
# (or receipt) while a case of priority 4–5 is active. Not one of CASE_STAGES (the reports'
# met/missed stages): each miss is recorded by its escalation.
DAILY_UPDATE = "daily_update"
DAILY_UPDATE_MIN_PRIORITY = 4
# Rolling stages: {stage: due column}; pending while set and the case is active (the set-based
# sweep in escalation.py reads them too).
ROLLING_STAGES = {DAILY_UPDATE: "daily_update_due"}

# Case stages in the order they fall due; each maps to (due column, done column) on Case.
CASE_STAGES = {
    FIRST_RESPONSE: ("first_response_due", "first_response_at"),
    INVESTIGATION: ("investigation_due", "investigation_done_at"),
    SOLUTION: ("solution_due", "solution_sent_at"),
    NEXT_CONTACT: ("next_contact_at", "next_contact_met_at"),
    SATISFACTION: ("satisfaction_due", "satisfaction_done_at"),
}

# The handbook's plan (SPEC §1.3), used when a case has no plan revision.
DEFAULT_STAGES = {
    FIRST_RESPONSE: (24, "hours"),
    INVESTIGATION: (48, "hours"),
    SOLUTION: (48, "hours"),
    SATISFACTION: (72, "hours"),
    TECH_COLLABORATION: (2, "hours"),
}


@dataclass(frozen=True)
class PlanLimits:
    first_response_hours: float = 24
    urgency_high_hours: float = 24
    urgency_medium_working_days: float = 3
    urgency_low_hours: float = 120
    stages: dict = field(default_factory=lambda: dict(DEFAULT_STAGES))

    @classmethod
    def from_revision(cls, revision):
        if revision is None:
            return cls()
        stages = dict(DEFAULT_STAGES)
        for stage in revision.stages.all():
            stages[stage.code] = (stage.time_limit, stage.unit)
        # The revision's own first-response target is the one limit (the stage row names
        # the step; plan_revision_submit keeps the two equal).
        stages[FIRST_RESPONSE] = (revision.first_response_hours, "hours")
        return cls(
            first_response_hours=revision.first_response_hours,
            urgency_high_hours=revision.urgency_high_hours,
            urgency_medium_working_days=revision.urgency_medium_working_days,
            urgency_low_hours=revision.urgency_low_hours,
            stages=stages,
        )


@dataclass
class CaseClock:
    """What the deadlines depend on, read off a case."""

    received_at: datetime.datetime
    urgency: str
    cycle_started_at: datetime.datetime  # received, or the last reopening
    first_response_at: datetime.datetime | None = None
    investigation_done_at: datetime.datetime | None = None
    resolved_at: datetime.datetime | None = None
    priority: int = 0
    last_progress_at: datetime.datetime | None = None


def first_response_deadline(received_at, urgency, plan, cal):
    """The plan's first-response target (clock hours) for every urgency: the handbook asks
    for a reply to every complaint within 24 h."""
    return workdays.add_clock_hours(received_at, plan.first_response_hours)


def _stage(plan, code, start, cal):
    limit, unit = plan.stages[code]
    return workdays.add(start, limit, unit, cal)


def compute_deadlines(clock, plan, cal):
    """{stage: Deadline or None}. Each stage starts when the previous one is done, or — until
    it is — when the previous one is due; after a reopening the clock restarts then."""
    first = first_response_deadline(clock.received_at, clock.urgency, plan, cal)
    start = clock.first_response_at or first.at
    start = max(start, clock.cycle_started_at)
    investigation = _stage(plan, INVESTIGATION, start, cal)
    solution = _stage(plan, SOLUTION, clock.investigation_done_at or investigation.at, cal)
    satisfaction = _stage(plan, SATISFACTION, clock.resolved_at, cal) if clock.resolved_at else None
    return {
        FIRST_RESPONSE: first,
        INVESTIGATION: investigation,
        SOLUTION: solution,
        SATISFACTION: satisfaction,
    }


def daily_update_deadline(clock, cal):
    """Priority 4–5: one working day after the last progress update (or receipt, or the last
    reopening); None below priority 4."""
    if clock.priority < DAILY_UPDATE_MIN_PRIORITY:
        return None
    start = max(clock.last_progress_at or clock.received_at, clock.cycle_started_at)
    return workdays.add_working_days(start, 1, cal)


def tech_request_deadline(requested_at, plan, cal):
    return _stage(plan, TECH_COLLABORATION, requested_at, cal)


@dataclass(frozen=True)
class Escalation:
    stage: str
    due_at: datetime.datetime
    level: int


def escalations_due(pending, breaches, now, level2_after):
    """The escalations to raise now, and when the next one falls due (or None).

    `pending`: {stage: due_at} of unmet deadlines; `breaches`: {(stage, due_at): {levels}}
    already raised. A deadline past due escalates to level 1 at once and to level 2 when
    `level2_after` has passed since it fell due and it is still unmet.
    """
    raise_now, upcoming = [], []
    for stage, due in pending.items():
        if due is None:
            continue
        levels = breaches.get((stage, due), set())
        level2_at = due + level2_after
        if 1 not in levels:
            if due <= now:
                raise_now.append(Escalation(stage, due, 1))
                upcoming.append(level2_at)
            else:
                upcoming.append(due)
        if 2 not in levels and (1 in levels or due <= now):
            if level2_at <= now:
                raise_now.append(Escalation(stage, due, 2))
            else:
                upcoming.append(level2_at)
    later = [t for t in upcoming if t > now]
    return raise_now, (min(later) if later else None)
