"""Cases (投诉 / 客户需求工单): customers, the case and its lifecycle, contacts, the timeline,
evidence, routing and urgency rules, return/exchange data.

The case lifecycle is a django-fsm state machine. Transition methods only change the
instance; `services.case_transition` locks the row, calls them, saves and writes the
timeline. The state field is protected: nothing assigns it directly.

The models live in models_customers, models_intake, models_case, models_timeline,
models_returns, models_sla, models_privacy, models_escalation, models_similar and models_load
(choices in choices, the shared field and validator in fields); this module imports them all, so Django
registers them, and re-exports every name, so complaints.models.X keeps working.
"""

# isort: off
# In the order the models were defined in: Django registers them in import order.
from .fields import PROMISE_MAX_DAYS, TEXT_MAX_LENGTH, BoundedTextField, validate_promised_time
from .choices import (
    ACTIVE_STATES,
    FINAL_STATES,
    OPEN_STATES,
    URGENCY_RANK,
    CaseType,
    Category,
    Channel,
    ContactMethod,
    CustomerKind,
    CustomerTier,
    State,
    Urgency,
)
from .models_customers import (
    _NON_DIGIT,
    Customer,
    display_phone,
    mask_email,
    mask_phone,
    normalize_email,
    normalize_member_no,
    normalize_phone,
)
from .models_intake import CaseNumberSequence, RoutingRule, UrgencyRule, split_keywords
from .models_case import (
    COLLABORATION_LIST_MAX,
    TRANSITION_NAMES,
    Case,
    CaseQuerySet,
    _can_assign,
    _can_cancel,
    _can_merge,
    _can_work,
    _visibility_ids,
    user_collaboration_case_ids,
    user_department_ids,
)
from .models_timeline import (
    ATTACHMENT_EXTENSIONS,
    Attachment,
    CaseContact,
    CaseEvent,
    EventKind,
    attachment_path,
    validate_attachment,
)
from .models_returns import (
    PURCHASE_MAX_AGE_YEARS,
    RETURN_STEP_NAMES,
    RETURN_WINDOW_DAYS,
    RefundMethod,
    ReturnReason,
    ReturnRequest,
    ReturnResolution,
    ReturnStep,
)
from .models_sla import (
    STAGE_LABELS,
    SlaBreach,
    SlaStage,
    TechnicalRequest,
    deadline_pending_q,
)
from .models_privacy import PersonalDataLog, PrivacyAction
from .models_escalation import CaseEscalation, write_escalations
from .models_similar import CaseSimilar, text_hash
from .models_load import AssigneeLoad
# isort: on

__all__ = [
    "ACTIVE_STATES",
    "ATTACHMENT_EXTENSIONS",
    "COLLABORATION_LIST_MAX",
    "FINAL_STATES",
    "OPEN_STATES",
    "PROMISE_MAX_DAYS",
    "PURCHASE_MAX_AGE_YEARS",
    "RETURN_STEP_NAMES",
    "RETURN_WINDOW_DAYS",
    "STAGE_LABELS",
    "TEXT_MAX_LENGTH",
    "TRANSITION_NAMES",
    "URGENCY_RANK",
    "_NON_DIGIT",
    "AssigneeLoad",
    "Attachment",
    "BoundedTextField",
    "Case",
    "CaseContact",
    "CaseEscalation",
    "CaseEvent",
    "CaseNumberSequence",
    "CaseQuerySet",
    "CaseSimilar",
    "CaseType",
    "Category",
    "Channel",
    "ContactMethod",
    "Customer",
    "CustomerKind",
    "CustomerTier",
    "EventKind",
    "PersonalDataLog",
    "PrivacyAction",
    "RefundMethod",
    "ReturnReason",
    "ReturnRequest",
    "ReturnResolution",
    "ReturnStep",
    "RoutingRule",
    "SlaBreach",
    "SlaStage",
    "State",
    "TechnicalRequest",
    "Urgency",
    "UrgencyRule",
    "_can_assign",
    "_can_cancel",
    "_can_merge",
    "_can_work",
    "_visibility_ids",
    "attachment_path",
    "deadline_pending_q",
    "display_phone",
    "mask_email",
    "mask_phone",
    "normalize_email",
    "normalize_member_no",
    "normalize_phone",
    "split_keywords",
    "text_hash",
    "user_collaboration_case_ids",
    "user_department_ids",
    "validate_attachment",
    "validate_promised_time",
    "write_escalations",
]
