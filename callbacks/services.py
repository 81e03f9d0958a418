"""Follow-up workflows, as keyword-only functions.

Questionnaires: versions are drafts until published; publishing retires the version in use in
the same transaction; published and retired versions never change again (answers point at
them), so editing a questionnaire in use goes through a new draft version.

Surveys: a resolved case gets one Survey (scheduled inside the plan's follow-up window);
`survey_dispatch_sweep` (in dispatch.py) sends what is due, reminds once, expires old links. Every
answer — a survey link or a call — is recorded by `response_record`, which hands a low
overall score to complaints' satisfaction hook and turns reported problems into cases.

The workflows live in modules named for what they do (questionnaires, responses, surveys,
callqueue, generation, dispatch); this module gathers them so callers keep one entry point
(`from callbacks import services`).
"""

# ruff: noqa: F401  (re-exports)
from .callqueue import (
    _pending_followup_for_update,
    followup_cancel,
    followup_record_call,
    followup_take,
)
from .dispatch import survey_dispatch_sweep, survey_resend, survey_to_phone
from .generation import (
    _INSERT_BATCH,
    _SEED_LIMIT,
    DELIVERY_LOOKBACK_DAYS,
    FOLLOWUP_BATCH_SIZE,
    _contactable,
    _delivery_followups,
    _int,
    _months_back,
    _parse_limits,
    _periodic_followups,
    _plan_version,
    _warn_if_provisional,
    followups_generate,
    plan_period,
    sample_create,
)
from .questionnaires import (
    SATISFACTION_QUESTIONNAIRE,
    _choice_by_id,
    _publish_problems,
    questionnaire_new_version,
    questionnaire_publish,
    questionnaire_version_check_editable,
    questionnaire_version_update,
    validate_answers,
)
from .responses import (
    GRADE_URGENCY,
    NO_PROBLEM_ANSWERS,
    PROBLEM_CASE_CATEGORY,
    URGENCY_GRADE,
    _clean_problems,
    _is_problem_text,
    _open_problem_case,
    response_record,
)
from .surveys import (
    SurveyUnavailable,
    _second_round_followup,
    on_case_transitioned,
    satisfaction_version,
    survey_check_open,
    survey_find,
    survey_schedule,
    survey_submit,
)
