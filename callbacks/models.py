"""Follow-up questionnaires (回访问卷).

A Questionnaire is built in the admin as numbered versions. A version is a draft while it is
being written; publishing it makes it the one in use and retires the previous one. Published
and retired versions are read-only, so an answer always points at the exact wording the
customer saw. Changing a questionnaire in use means starting a new draft version (a copy).

The models live in models_questionnaires, models_surveys, models_followups and
models_responses (and followup_report, opinions, recall, rewards); this module imports
them all, so Django registers them, and re-exports every name.
"""

from .models_followups import (
    CallAttempt,
    Delivery,
    FollowUp,
    FollowUpPlan,
    FollowUpPlanKind,
    FollowUpPurpose,
    FollowUpQuerySet,
    FollowUpStatus,
    Sample,
    local_day,
)
from .models_questionnaires import (
    CHOICE_KINDS,
    HOTLINE_PLACEHOLDER,
    SCALE_SETS,
    TEXT_ANSWER_MAX_LENGTH,
    Choice,
    ProblemCategory,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    VersionStatus,
    with_hotline,
)
from .models_responses import Answer, ProblemReport, Response, ResponseQuerySet, SatisfactionSummary
from .models_surveys import (
    Grade,
    Method,
    Survey,
    SurveyChannel,
    SurveyQuerySet,
    SurveyStatus,
    _of_visible_cases,
)

__all__ = [
    "CHOICE_KINDS",
    "HOTLINE_PLACEHOLDER",
    "SCALE_SETS",
    "TEXT_ANSWER_MAX_LENGTH",
    "Answer",
    "CallAttempt",
    "Choice",
    "Delivery",
    "FollowUp",
    "FollowUpPlan",
    "FollowUpPlanKind",
    "FollowUpPurpose",
    "FollowUpQuerySet",
    "FollowUpStatus",
    "Grade",
    "Method",
    "ProblemCategory",
    "ProblemReport",
    "Question",
    "QuestionKind",
    "Questionnaire",
    "QuestionnaireVersion",
    "Response",
    "ResponseQuerySet",
    "Sample",
    "SatisfactionSummary",
    "Survey",
    "SurveyChannel",
    "SurveyQuerySet",
    "SurveyStatus",
    "VersionStatus",
    "_of_visible_cases",
    "local_day",
    "with_hotline",
]


from .followup_report import ActionItem, FollowUpReport  # noqa: F401
from .opinions import OpinionCategory  # noqa: F401
from .recall import Compensation, RecallCampaign, RecallContact  # noqa: F401
from .rewards import RewardCoupon  # noqa: F401
