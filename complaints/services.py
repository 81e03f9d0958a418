"""Case workflows: the only place that changes a case and causes side effects.

Every entry point (admin, public form, REST API, follow-up calls) calls these functions.
Each locks the case row, checks, changes, saves, writes the timeline event and enqueues
follow-up work on commit.

The workflows live in signals, deadlines, transitions, case_edits, intake_workflow,
satisfaction and return_steps; this module re-exports them, so callers keep using
complaints.services.
"""

from .case_edits import (
    EDITABLE_FIELDS,
    _display,
    case_add_attachment,
    case_add_event,
    case_create_article,
    case_update,
)
from .deadlines import (
    _SWEEP_RELATED,
    _breach_levels,
    _complete_stages,
    _escalate_cases,
    _escalate_cases_set_based,
    _escalate_tech_requests,
    _level2_after,
    _Recipients,
    _schedule_escalation,
    _send_pending_emails,
    case_refresh_deadlines,
    cases_satisfaction_followup_made,
    sla_sweep,
    technical_request_answer,
    technical_request_create,
)
from .intake_assign import handler_candidates, least_loaded, least_loaded_handler, next_number
from .intake_workflow import (
    CUSTOMER_FIELDS,
    IntakeResult,
    _absorb,
    case_accepts_contact,
    case_add_contact,
    case_intake,
    customer_find,
    customer_find_or_create,
)
from .return_steps import RETURN_STEP_MESSAGES, available_return_steps, return_request_step
from .satisfaction import (
    UNSATISFIED_BELOW,
    _any_department,
    case_record_feedback,
    case_satisfaction_result,
    case_waive_satisfaction,
)
from .signals import case_contact_added, case_created, case_events_bulk_created, case_transitioned
from .transitions import (
    _STEP_TIMESTAMPS,
    CaseChanged,
    _apply_inputs,
    _assign_event_text,
    _do_transition,
    _label,
    _require,
    _unmet_condition,
    available_transitions,
    case_transition,
    notify_assignee,
)

__all__ = [
    "CUSTOMER_FIELDS",
    "EDITABLE_FIELDS",
    "RETURN_STEP_MESSAGES",
    "UNSATISFIED_BELOW",
    "_STEP_TIMESTAMPS",
    "_SWEEP_RELATED",
    "CaseChanged",
    "IntakeResult",
    "_Recipients",
    "_absorb",
    "_any_department",
    "_apply_inputs",
    "_assign_event_text",
    "_breach_levels",
    "_complete_stages",
    "_display",
    "_do_transition",
    "_escalate_cases",
    "_escalate_cases_set_based",
    "_escalate_tech_requests",
    "_label",
    "_level2_after",
    "_require",
    "_schedule_escalation",
    "_send_pending_emails",
    "_unmet_condition",
    "available_return_steps",
    "available_transitions",
    "case_accepts_contact",
    "case_add_attachment",
    "case_add_contact",
    "case_add_event",
    "case_contact_added",
    "case_create_article",
    "case_created",
    "case_events_bulk_created",
    "case_intake",
    "case_record_feedback",
    "case_refresh_deadlines",
    "case_satisfaction_result",
    "case_transition",
    "case_transitioned",
    "case_update",
    "case_waive_satisfaction",
    "cases_satisfaction_followup_made",
    "customer_find",
    "customer_find_or_create",
    "handler_candidates",
    "least_loaded",
    "least_loaded_handler",
    "next_number",
    "notify_assignee",
    "return_request_step",
    "sla_sweep",
    "technical_request_answer",
    "technical_request_create",
]
