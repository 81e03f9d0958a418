"""Follow-up workflows, as keyword-only functions.

Questionnaires: versions are drafts until published; publishing retires the version in use in
the same transaction; published and retired versions never change again (answers point at
them), so editing a questionnaire in use goes through a new draft version.

Surveys: a resolved case gets one Survey (scheduled inside the plan's follow-up window);
`survey_dispatch_sweep` (in dispatch.py) sends what is due, reminds once, expires old links. Every
answer — a survey link or a call — is recorded by `response_record`, which hands a low
overall score to complaints' satisfaction hook and turns reported problems into cases.
"""

import calendar
import datetime
import logging
import secrets
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import ProhibitNullCharactersValidator
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import services as case_services
from complaints.models import (
    Case,
    CaseEvent,
    CaseType,
    Category,
    Channel,
    Customer,
    EventKind,
    State,
    Urgency,
)
from servicedesk import workdays
from servicedesk.calendar.services import calendar_missing_year_warn, load_calendar

from . import rewards, sampling, scheduling, sms, tokens
from .dispatch import survey_dispatch_sweep, survey_resend, survey_to_phone  # noqa: F401
from .models import (
    CHOICE_KINDS,
    TEXT_ANSWER_MAX_LENGTH,
    Answer,
    CallAttempt,
    Choice,
    Delivery,
    FollowUp,
    FollowUpPlan,
    FollowUpPlanKind,
    FollowUpPurpose,
    FollowUpStatus,
    Grade,
    Method,
    ProblemCategory,
    ProblemReport,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    Response,
    Sample,
    Survey,
    SurveyChannel,
    SurveyStatus,
    VersionStatus,
)

logger = logging.getLogger(__name__)

#: The questionnaire satisfaction surveys use (shipped by migration 0002).
SATISFACTION_QUESTIONNAIRE = "satisfaction-callback"

# ---------------------------------------------------------------------------------------------
# Questionnaires


def questionnaire_version_check_editable(*, version):
    """Raise ValidationError unless `version` is a draft (published/retired are read-only)."""
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            _(
                "Version %(number)s is %(status)s and can no longer be changed; "
                "create a new version instead."
            )
            % {"number": version.number, "status": version.get_status_display()},
            code="read_only",
        )


def questionnaire_version_update(*, version, user, **fields):
    """Change a draft's greeting/closing (and their translations). Published or retired
    versions refuse."""
    allowed = {"greeting", "closing", "greeting_translations", "closing_translations"}
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: _("This field cannot be changed.") for name in unknown})
    with transaction.atomic():
        version = QuestionnaireVersion.objects.select_for_update().get(pk=version.pk)
        questionnaire_version_check_editable(version=version)
        for name, value in fields.items():
            setattr(version, name, value)
        version.save(update_fields=list(fields))
    return version


def _publish_problems(version):
    errors = []
    questions = list(version.questions.prefetch_related("choices"))
    if not questions:
        errors.append(_("A questionnaire needs at least one question."))
    for q in questions:
        choices = list(q.choices.all())
        if q.kind in CHOICE_KINDS and len(choices) < 2:
            errors.append(_("Question “%(code)s” needs at least two choices.") % {"code": q.code})
        if q.kind == QuestionKind.SCALE5 and any(c.score is None for c in choices):
            errors.append(
                _("Every option of the rating question “%(code)s” needs a score.")
                % {"code": q.code}
            )
        if q.is_overall_satisfaction and q.kind != QuestionKind.SCALE5:
            errors.append(
                _("The overall satisfaction question “%(code)s” must be a rating scale.")
                % {"code": q.code}
            )
    return errors


def questionnaire_publish(*, version, user):
    """Make the draft `version` the one in use; the previously published one is retired."""
    with transaction.atomic():
        # Lock the questionnaire row so two publishers serialise.
        Questionnaire.objects.select_for_update().get(pk=version.questionnaire_id)
        version = QuestionnaireVersion.objects.get(pk=version.pk)
        if version.status != VersionStatus.DRAFT:
            raise ValidationError(
                _("Only a draft can be published; version %(number)s is %(status)s.")
                % {"number": version.number, "status": version.get_status_display()},
                code="not_draft",
            )
        problems = _publish_problems(version)
        if problems:
            raise ValidationError(problems, code="incomplete")
        QuestionnaireVersion.objects.filter(
            questionnaire_id=version.questionnaire_id, status=VersionStatus.PUBLISHED
        ).update(status=VersionStatus.RETIRED)
        version.status = VersionStatus.PUBLISHED
        version.published_at = timezone.now()
        version.published_by = user
        version.save(update_fields=["status", "published_at", "published_by"])
    return version


def questionnaire_new_version(*, questionnaire, user):
    """A new draft version, copying the published (else the latest) version's content.

    Refused while a draft already exists: finish or delete that one first.
    """
    with transaction.atomic():
        questionnaire = Questionnaire.objects.select_for_update().get(pk=questionnaire.pk)
        draft = questionnaire.versions.filter(status=VersionStatus.DRAFT).first()
        if draft:
            raise ValidationError(
                _("Version %(number)s is already a draft; edit that one.")
                % {"number": draft.number},
                code="draft_exists",
            )
        source = (
            questionnaire.versions.filter(status=VersionStatus.PUBLISHED).first()
            or questionnaire.versions.order_by("-number").first()
        )
        number = (questionnaire.versions.aggregate(n=Max("number"))["n"] or 0) + 1
        new = QuestionnaireVersion.objects.create(
            questionnaire=questionnaire,
            number=number,
            greeting=source.greeting if source else "",
            closing=source.closing if source else "",
            greeting_translations=source.greeting_translations if source else {},
            closing_translations=source.closing_translations if source else {},
            created_by=user,
        )
        if source:
            for q in source.questions.prefetch_related("choices"):
                choices = list(q.choices.all())
                copy = Question.objects.create(
                    version=new,
                    order=q.order,
                    code=q.code,
                    text=q.text,
                    translations=q.translations,
                    kind=q.kind,
                    required=q.required,
                    is_overall_satisfaction=q.is_overall_satisfaction,
                    problem_category=q.problem_category,
                )
                Choice.objects.bulk_create(
                    Choice(
                        question=copy,
                        order=c.order,
                        label=c.label,
                        score=c.score,
                        translations=c.translations,
                    )
                    for c in choices
                )
    return new


def _choice_by_id(choices, value):
    try:
        pk = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    return choices.get(pk)


def validate_answers(*, version, answers):
    """Check `answers` ({question code: value}) against `version`.

    Values: a choice id for rating and single-choice questions, a list of choice ids for
    multiple choice, a string for open text. Returns {code: Choice | [Choice] | str} for the
    questions answered, or raises ValidationError keyed by question code.
    """
    answers = answers or {}
    cleaned, errors = {}, {}
    questions = list(version.questions.prefetch_related("choices"))
    known = {q.code for q in questions}
    for code in answers:
        if code not in known:
            errors[code] = _("There is no such question in this questionnaire.")
    for q in questions:
        value = answers.get(q.code)
        if isinstance(value, str):
            value = value.strip()
        empty = value is None or value == "" or value == [] or value == ()
        if empty:
            if q.required:
                errors[q.code] = _("Please answer this question.")
            continue
        if q.kind == QuestionKind.TEXT:
            if not isinstance(value, str):
                errors[q.code] = _("Please answer in text.")
            elif "\x00" in value:
                # PostgreSQL refuses NUL in text: a field error, not a failed INSERT.
                errors[q.code] = ProhibitNullCharactersValidator.message
            elif len(value) > TEXT_ANSWER_MAX_LENGTH:
                errors[q.code] = _(
                    "Please keep the answer under %(max)s characters (it has %(len)s)."
                ) % {"max": TEXT_ANSWER_MAX_LENGTH, "len": len(value)}
            else:
                cleaned[q.code] = value
            continue
        choices = {c.pk: c for c in q.choices.all()}
        if q.kind == QuestionKind.MULTIPLE:
            values = value if isinstance(value, (list, tuple)) else [value]
            picked = [_choice_by_id(choices, v) for v in values]
            if any(c is None for c in picked):
                errors[q.code] = _("Please pick from the options offered.")
            else:
                cleaned[q.code] = sorted(set(picked), key=lambda c: (c.order, c.pk))
            continue
        if isinstance(value, (list, tuple)):
            if len(value) != 1:
                errors[q.code] = _("Please pick only one option.")
                continue
            value = value[0]
        choice = _choice_by_id(choices, value)
        if choice is None:
            errors[q.code] = _("Please pick from the options offered.")
        else:
            cleaned[q.code] = choice
    if errors:
        raise ValidationError(errors)
    return cleaned


# ---------------------------------------------------------------------------------------------
# Recording answers (survey links and calls alike)

PROBLEM_CASE_CATEGORY = {
    ProblemCategory.PRODUCT_QUALITY: Category.PRODUCT,
    ProblemCategory.SERVICE_ATTITUDE: Category.SERVICE,
    ProblemCategory.TECHNICAL_SUPPORT: Category.TECHNICAL,
    ProblemCategory.DELIVERY: Category.LOGISTICS,
}
GRADE_URGENCY = {
    Grade.MAJOR: Urgency.HIGH,
    Grade.IMPORTANT: Urgency.MEDIUM,
    Grade.GENERAL: Urgency.LOW,
}
URGENCY_GRADE = {v: k for k, v in GRADE_URGENCY.items()}

# What customers write in a "did you have a problem?" box when they had none.
NO_PROBLEM_ANSWERS = {
    "无", "没有", "没", "否", "无问题", "没有问题", "没问题", "暂无", "暂时没有", "还没有",
    "没有出现", "没出现过", "没有出现过", "一切正常", "正常", "无。", "没有。",
    "no", "none", "n/a", "na", "-", "/", "—",
}  # fmt: skip


def _is_problem_text(text):
    return text.strip().lower().rstrip("。.!！") not in NO_PROBLEM_ANSWERS


def _clean_problems(problems):
    """Problems an agent recorded on a call: [{category, grade, description}]."""
    cleaned, errors = [], []
    for i, p in enumerate(problems or ()):
        category, grade = p.get("category"), p.get("grade")
        description = (p.get("description") or "").strip()
        if category not in ProblemCategory.values:
            errors.append(_("Problem %(n)s: choose the problem category.") % {"n": i + 1})
        if grade not in Grade.values:
            errors.append(_("Problem %(n)s: choose the grade.") % {"n": i + 1})
        if not description:
            errors.append(_("Problem %(n)s: describe the problem.") % {"n": i + 1})
        cleaned.append({"category": category, "grade": grade, "description": description})
    if errors:
        raise ValidationError({"problems": errors})
    return cleaned


def _open_problem_case(*, problem, customer, case, user, now):
    # The customer's own words make the subject: intake's de-duplication compares subjects,
    # so two different problems from one answer stay two cases, while the same problem
    # already open for this customer is added to that case.
    text = " ".join(problem["description"].split())
    subject = _("Follow-up, %(category)s: %(text)s") % {
        "category": ProblemCategory(problem["category"]).label,
        "text": text if len(text) <= 60 else text[:59] + "…",
    }
    result = case_services.case_intake(
        channel=Channel.CALLBACK,
        customer={
            "name": customer.name,
            "phone": customer.phone,
            "email": customer.email,
            "member_no": customer.member_no,
        },
        subject=subject,
        description=problem["description"],
        customer_words=problem["description"],
        type=CaseType.COMPLAINT,
        category=PROBLEM_CASE_CATEGORY[problem["category"]],
        product=case.product if case else "",
        order_no=case.order_no if case else "",
        prior_history=_("Raised in the follow-up of case %(number)s.") % {"number": case.number}
        if case
        else "",
        urgency=GRADE_URGENCY[problem["grade"]] if problem["grade"] else None,
        user=user,
        now=now,
    )
    return result.case


def response_record(
    *,
    version,
    customer,
    answers,
    method,
    case=None,
    survey=None,
    followup=None,
    problems=(),
    suggestions="",
    agent=None,
    recorded_by=None,
    now=None,
):
    """Store a customer's answers to `version` and act on them.

    `answers` is {question code: value} (see validate_answers); `problems` are the ones an
    agent classified on a call ([{category, grade, description}]). A non-empty answer to a
    question with a problem category is a problem too, graded by the intake's urgency rules.
    Each problem becomes a case (through complaints' intake, channel "follow-up call"); an
    overall score goes to the case's satisfaction hook (below 4: reopened, manager, escalated).
    Raises ValidationError keyed by question code (or "problems"); nothing is saved then.
    """
    now = now or timezone.now()
    cleaned = validate_answers(version=version, answers=answers)
    extra_problems = _clean_problems(problems)
    questions = {q.code: q for q in version.questions.all()}
    overall = None
    found = []
    for code, value in cleaned.items():
        q = questions[code]
        if q.is_overall_satisfaction and isinstance(value, Choice):
            overall = value.score
        if q.problem_category and isinstance(value, str) and _is_problem_text(value):
            found.append({"category": q.problem_category, "grade": None, "description": value})
    found.extend(extra_problems)
    with transaction.atomic():
        response = Response.objects.create(
            version=version, customer=customer, case=case, survey=survey, followup=followup,
            method=method, answered_at=now, overall_score=overall, has_problem=bool(found),
            suggestions=(suggestions or "").strip(),
            department=case.department if case else None,
            agent=agent or (case.assignee if case else None),
            case_channel=case.channel if case else "", recorded_by=recorded_by,
        )  # fmt: skip
        rows = []
        for code, value in cleaned.items():
            q = questions[code]
            if isinstance(value, str):
                rows.append(Answer(response=response, question=q, text=value))
            else:
                for choice in value if isinstance(value, list) else [value]:
                    rows.append(Answer(response=response, question=q, choice=choice))
        Answer.objects.bulk_create(rows)
        for problem in found:
            new_case = _open_problem_case(
                problem=problem, customer=customer, case=case, user=recorded_by, now=now
            )
            ProblemReport.objects.create(
                response=response,
                category=problem["category"],
                grade=problem["grade"] or URGENCY_GRADE.get(new_case.urgency, Grade.GENERAL),
                description=problem["description"],
                case=new_case if not ProblemReport.objects.filter(case=new_case).exists() else None,
            )
        if case is not None and overall is not None:
            words = " ".join(v for v in cleaned.values() if isinstance(v, str))
            case_services.case_satisfaction_result(
                case=case, score=overall, text=words[:1000], source=method
            )
    return response


# ---------------------------------------------------------------------------------------------
# Satisfaction surveys


def satisfaction_version():
    """The published version of the satisfaction questionnaire, or None."""
    return QuestionnaireVersion.objects.filter(
        questionnaire__code=SATISFACTION_QUESTIONNAIRE,
        questionnaire__is_active=True,
        status=VersionStatus.PUBLISHED,
    ).first()


def on_case_transitioned(sender, case, name, **kwargs):
    """complaints.services.case_transitioned receiver (after commit): resolved → survey.
    A failure here must not turn the agent's successful "resolve" into an error page."""
    if name != "resolve":
        return
    try:
        survey_schedule(case=case)
    except Exception:
        logger.exception("Could not schedule the satisfaction survey of case %s", case.pk)


def survey_schedule(*, case, now=None):
    """Schedule the satisfaction survey of a resolved case. Idempotent.

    Returns the Survey (or, when the case was already surveyed once and has been resolved
    again after reopening, the phone follow-up that takes its place: a survey never goes to
    the same case twice), or None when there is nothing to schedule.
    """
    now = now or timezone.now()
    case = Case.objects.select_related("customer").get(pk=case.pk)
    if case.state != State.RESOLVED or case.resolved_at is None:
        return None
    version = satisfaction_version()
    if version is None:
        logger.warning(
            "No published satisfaction questionnaire: case %s gets no survey", case.number
        )
        return None
    existing = Survey.objects.filter(case=case).first()
    if existing is not None:
        if case.resolved_at <= existing.created_at:  # this resolution already has it
            return existing
        return _second_round_followup(case=case, version=version, now=now)
    window_ends = case.satisfaction_due or case.resolved_at + datetime.timedelta(
        hours=settings.SURVEY_WINDOW_HOURS
    )
    customer = case.customer
    channel = scheduling.choose_channel(
        preferred=customer.preferred_contact,
        email=customer.email,
        phone=customer.phone,
        sms_available=sms.sms_available(),
    )
    send_at = scheduling.send_time(
        resolved_at=case.resolved_at,
        window_ends_at=window_ends,
        delay=datetime.timedelta(hours=settings.SURVEY_DELAY_HOURS),
        send_from=scheduling.parse_hhmm(settings.SURVEY_SEND_FROM),
        send_until=scheduling.parse_hhmm(settings.SURVEY_SEND_UNTIL),
        tz=timezone.get_current_timezone(),
    )
    try:
        with transaction.atomic():
            survey = Survey.objects.create(
                case=case, customer=customer, version=version, channel=channel,
                nonce=tokens.new_nonce(), send_at=send_at, window_ends_at=window_ends,
                created_at=now,
            )  # fmt: skip
            CaseEvent.objects.create(
                case=case, kind=EventKind.NOTE, created_at=now,
                message=_("Satisfaction survey scheduled: %(channel)s at %(at)s")
                % {"channel": survey.get_channel_display(),
                   "at": timezone.localtime(send_at).strftime("%Y-%m-%d %H:%M")},
            )  # fmt: skip
    except IntegrityError:  # scheduled concurrently by another process
        return Survey.objects.get(case=case)
    return survey


def _second_round_followup(*, case, version, now):
    """After a reopened case is resolved again: a phone follow-up (once per resolution)."""
    followup = FollowUp.objects.filter(
        case=case, purpose=FollowUpPurpose.SATISFACTION, created_at__gte=case.resolved_at
    ).first()
    if followup is None:
        followup = FollowUp.objects.create(
            customer=case.customer, purpose=FollowUpPurpose.SATISFACTION, case=case,
            version=version, due_at=max(now, case.resolved_at), created_at=now,
            max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
        )  # fmt: skip
    return followup


class SurveyUnavailable(Exception):
    """The survey cannot be answered: `reason` is "answered" or "expired"."""

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason


def survey_check_open(survey, now=None):
    """Raise SurveyUnavailable unless the customer can answer `survey` now."""
    now = now or timezone.now()
    if survey.status == SurveyStatus.ANSWERED or survey.answered_at is not None:
        raise SurveyUnavailable("answered")
    if survey.status != SurveyStatus.SENT or survey.channel == SurveyChannel.PHONE:
        raise SurveyUnavailable("expired")
    if survey.expires_at is None or survey.expires_at <= now:
        raise SurveyUnavailable("expired")


def survey_find(token):
    """The survey of a link token, or None when the token is forged, tampered or unknown."""
    nonce = tokens.nonce_from_token(token)
    if nonce is None:
        return None
    return (
        Survey.objects.select_related("case", "customer", "version__questionnaire")
        .filter(nonce=nonce)
        .first()
    )


def survey_submit(*, survey, answers, now=None):
    """The customer's answers through the survey link. Once only: the row lock and the
    one-to-one response make a double click or a replayed POST answer nothing twice."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = (
            Survey.objects.select_for_update().select_related("case", "customer").get(pk=survey.pk)
        )
        survey_check_open(locked, now)
        response = response_record(
            version=locked.version, customer=locked.customer, answers=answers,
            method=Method.ONLINE, case=locked.case, survey=locked, now=now,
        )  # fmt: skip
        locked.status = SurveyStatus.ANSWERED
        locked.answered_at = now
        locked.save(update_fields=["status", "answered_at"])
        rewards.reward_give(response=response, now=now)  # off unless SURVEY_REWARD_ENABLED
    return response


# ---------------------------------------------------------------------------------------------
# Callback queue


def _pending_followup_for_update(followup):
    """Lock the follow-up's row; refuse unless it is still waiting for a call."""
    # of=("self",): PostgreSQL cannot lock the nullable side of the outer joins (case, survey).
    locked = (
        FollowUp.objects.select_for_update(of=("self",))
        .select_related("customer", "case", "survey", "version")
        .get(pk=followup.pk)
    )
    if locked.status != FollowUpStatus.PENDING:
        raise ValidationError(
            _("This follow-up is no longer waiting for a call: it is “%(status)s”.")
            % {"status": locked.get_status_display()},
            code="not_pending",
        )
    return locked


def followup_take(*, followup, user):
    """Assign a pending follow-up to `user` ("take"). Taking one that is already yours does
    nothing; one somebody else has taken is refused."""
    # A conditional UPDATE: two agents taking the same call at once, one wins.
    taken = FollowUp.objects.filter(
        pk=followup.pk, status=FollowUpStatus.PENDING, assignee__isnull=True
    ).update(assignee=user)
    current = FollowUp.objects.select_related("assignee").get(pk=followup.pk)
    if current.status != FollowUpStatus.PENDING:
        raise ValidationError(
            _("This follow-up is no longer waiting for a call: it is “%(status)s”.")
            % {"status": current.get_status_display()},
            code="not_pending",
        )
    if taken or current.assignee_id == user.pk:
        return current
    raise ValidationError(
        _("%(user)s has already taken this follow-up.") % {"user": current.assignee},
        code="taken",
    )


def followup_record_call(
    *,
    followup,
    agent,
    method,
    at,
    reached,
    note="",
    answers=None,
    problems=(),
    suggestions="",
    now=None,
):
    """Record one call (or visit, or e-mail) of a pending follow-up by `agent`.

    Not reached: the attempt is counted; after `max_attempts` the follow-up is "unreachable",
    otherwise it is due again in FOLLOWUP_RETRY_HOURS. Reached: the answers, problems and
    suggestions go through response_record (low score → the case's second handling, problems
    → new cases) and the follow-up is done. A satisfaction follow-up's call meets the case's
    follow-up deadline, reached or not. Raises ValidationError keyed by field ("method", "at",
    "reached"), question code or "problems"; nothing is saved then.
    """
    now = now or timezone.now()
    errors = {}
    if method not in Method.values:
        errors["method"] = _("Choose how the customer was contacted.")
    if at is None:
        errors["at"] = _("Enter when the call was made.")
    elif at > now:
        errors["at"] = _("The time of the call cannot be in the future.")
    if reached not in (True, False):
        errors["reached"] = _("Say whether the customer was reached.")
    if errors:
        raise ValidationError(errors)
    note = (note or "").strip()
    with transaction.atomic():
        locked = _pending_followup_for_update(followup)
        CallAttempt.objects.create(
            followup=locked, agent=agent, method=method, at=at, reached=reached, note=note
        )
        # Every call is counted; only unanswered ones can add up to "unreachable", because a
        # reached call completes the follow-up.
        locked.attempts += 1
        if locked.assignee_id is None:
            locked.assignee = agent
        satisfaction_case = locked.case if locked.purpose == FollowUpPurpose.SATISFACTION else None
        if satisfaction_case is not None:
            case_services.cases_satisfaction_followup_made(case_ids=[satisfaction_case.pk], now=at)
        if reached:
            response_record(
                version=locked.version, customer=locked.customer, answers=answers or {},
                method=method, case=locked.case, survey=locked.survey, followup=locked,
                problems=problems, suggestions=suggestions,
                # The answer is about whoever handled the case (as for survey links); without
                # a case, about the caller.
                agent=None if locked.case_id else agent,
                recorded_by=agent, now=at,
            )  # fmt: skip
            locked.status = FollowUpStatus.DONE
            locked.completed_at = at
            if locked.survey_id:
                Survey.objects.filter(pk=locked.survey_id).update(
                    status=SurveyStatus.ANSWERED, answered_at=at
                )
        elif locked.attempts >= locked.max_attempts:
            locked.status = FollowUpStatus.UNREACHABLE
            locked.completed_at = at
            if locked.survey_id:
                Survey.objects.filter(pk=locked.survey_id, answered_at__isnull=True).update(
                    status=SurveyStatus.EXPIRED
                )
            message = _(
                "Satisfaction call: the customer could not be reached after %(count)s attempts."
            ) % {"count": locked.attempts}
        else:
            locked.due_at = now + datetime.timedelta(hours=settings.FOLLOWUP_RETRY_HOURS)
            message = _(
                "Satisfaction call attempt %(count)s of %(max)s: the customer was not reached; "
                "next try from %(due)s."
            ) % {
                "count": locked.attempts,
                "max": locked.max_attempts,
                "due": timezone.localtime(locked.due_at).strftime("%Y-%m-%d %H:%M"),
            }
        locked.save(update_fields=["attempts", "assignee", "status", "completed_at", "due_at"])
        if satisfaction_case is not None and not reached:
            CaseEvent.objects.create(
                case=satisfaction_case, kind=EventKind.CONTACT, author=agent, created_at=at,
                message=f"{message} {note}".strip(),
                data={"followup": locked.pk, "attempt": locked.attempts, "reached": False},
            )  # fmt: skip
    return locked


def followup_cancel(*, followup, user, reason=""):
    """Take a pending follow-up off the queue (the customer asked not to be called, a
    duplicate…). Its survey, if any, is cancelled too; the case's timeline says so."""
    reason = (reason or "").strip()
    now = timezone.now()
    with transaction.atomic():
        locked = _pending_followup_for_update(followup)
        locked.status = FollowUpStatus.CANCELLED
        locked.completed_at = now
        locked.save(update_fields=["status", "completed_at"])
        if locked.survey_id:
            Survey.objects.filter(pk=locked.survey_id, answered_at__isnull=True).update(
                status=SurveyStatus.CANCELLED
            )
        if locked.case_id:
            message = _("Follow-up call cancelled by %(user)s.") % {"user": user}
            CaseEvent.objects.create(
                case_id=locked.case_id, kind=EventKind.NOTE, author=user, created_at=now,
                message=f"{message} {reason}".strip(), data={"followup": locked.pk},
            )  # fmt: skip
    return locked


# ---------------------------------------------------------------------------------------------
# Periodic follow-ups and deliveries
#
# followups_generate (hourly) turns the active FollowUpPlans into calls for the queue; the
# unique keys (plan, customer, period) and the one-to-one delivery make it idempotent, also
# when two runs overlap. sample_create draws a stratified sample (sampling.py) and queues it.


#: Customers (or deliveries) handled per batch: each batch costs a constant number of queries.
FOLLOWUP_BATCH_SIZE = 500
#: A delivery older than this that has no follow-up yet is left alone (an import of old
#: orders, a plan switched on late) rather than flooding the queue with overdue calls.
DELIVERY_LOOKBACK_DAYS = 30
_INSERT_BATCH = 250
_SEED_LIMIT = 2**63  # Sample.seed is a BigIntegerField


def _contactable(prefix=""):
    """Customers a call can go to: not anonymised, with a phone number or an e-mail."""
    return Q(**{f"{prefix}anonymized_at__isnull": True}) & (
        ~Q(**{f"{prefix}phone": ""}) | ~Q(**{f"{prefix}email": ""})
    )


def plan_period(*, day, every_months):
    """The period of a plan repeating every `every_months` months that contains the local date
    `day`: (key, first day, first day of the next period).

    Keys: 2026-12 monthly, 2026-Q4 quarterly, 2026-H2 half-yearly, 2026 yearly. Any other
    interval cuts the months into blocks counted from January of year 0 — aligned with the
    year when it divides 12 — keyed by the block's first month (2026-11).
    """
    n = int(every_months)
    if n < 1:
        raise ValueError("every_months must be at least 1")
    first = (day.year * 12 + day.month - 1) // n * n
    start = datetime.date(first // 12, first % 12 + 1, 1)
    following = datetime.date((first + n) // 12, (first + n) % 12 + 1, 1)
    if n == 3:
        key = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    elif n == 6:
        key = f"{start.year}-H{(start.month - 1) // 6 + 1}"
    elif n == 12:
        key = str(start.year)
    else:
        key = f"{start.year}-{start.month:02d}"
    return key, start, following


def _months_back(moment, months):
    """The same local time `months` calendar months earlier (the 31st becomes the month's
    last day)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = index // 12, index % 12 + 1
    return moment.replace(
        year=year, month=month, day=min(moment.day, calendar.monthrange(year, month)[1])
    )


def _plan_version(plan, fallback):
    """The questionnaire version a plan's calls use: its questionnaire's published version
    (None when it has none or is inactive), else the satisfaction questionnaire's."""
    if plan.questionnaire_id is None:
        return fallback()
    if not plan.questionnaire.is_active:
        return None
    return plan.questionnaire.published_version()


def _warn_if_provisional(deadline):
    if deadline.provisional:
        calendar_missing_year_warn(years=deadline.missing_years)


def _periodic_followups(*, plan, version, now, cal, batch_size):
    """One plan's calls for the current period. A customer is skipped — and picked up by a
    later hourly run once the reason is gone — while they:
    * already have this plan's call for this period (whatever became of it);
    * were reached in a completed follow-up of any purpose within the plan's interval (a
      quarterly customer called on 28 September is next called from 28 December, still
      inside Q4: every period gets a contact, and nobody is called twice in a few days);
    * have a call of any purpose still waiting that is due before the period ends (one
      open call at a time; an overdue one is already in the queue).
    """
    local = timezone.localtime(now)
    key, _start, following = plan_period(day=local.date(), every_months=plan.every_months)
    period_end = datetime.datetime.combine(following, datetime.time.min, tzinfo=local.tzinfo)
    reached_since = _months_back(local, plan.every_months)
    # Due at once, or at the next business morning when run at night or on a day off.
    due = workdays.add_working_days(now, 0, cal)
    _warn_if_provisional(due)
    customers = Customer.objects.filter(_contactable(), tier=plan.tier).order_by("pk")
    created, last = 0, 0
    while True:
        ids = list(customers.filter(pk__gt=last).values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        last = ids[-1]
        busy = set(
            FollowUp.objects.filter(customer_id__in=ids)
            .filter(
                Q(plan=plan, period=key)
                | Q(status=FollowUpStatus.DONE, completed_at__gte=reached_since)
                | Q(status=FollowUpStatus.PENDING, due_at__lt=period_end)
            )
            .values_list("customer_id", flat=True)
        )
        rows = [
            FollowUp(
                customer_id=pk, purpose=FollowUpPurpose.PERIODIC, plan=plan, period=key,
                version=version, due_at=due.at, created_at=now,
                max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
            )
            for pk in ids
            if pk not in busy
        ]  # fmt: skip
        if rows:
            # ignore_conflicts: a run overlapping this one may have inserted some already.
            FollowUp.objects.bulk_create(rows, batch_size=_INSERT_BATCH, ignore_conflicts=True)
            created += FollowUp.objects.filter(
                plan=plan, period=key, created_at=now, customer_id__in=[r.customer_id for r in rows]
            ).count()
        if len(ids) < batch_size:
            break
    return created


def _delivery_followups(*, plan, version, now, cal, batch_size):
    """The first call after each recent delivery, due `working_days_after_delivery` working
    days after it (the handbook: 交付后X个工作日内首次回访)."""
    days = plan.working_days_after_delivery
    deliveries = Delivery.objects.filter(
        _contactable("customer__"),
        followup__isnull=True,
        delivered_at__gte=now - datetime.timedelta(days=DELIVERY_LOOKBACK_DAYS),
        delivered_at__lte=now,
    ).order_by("pk")
    created, last = 0, 0
    while True:
        batch = list(
            deliveries.filter(pk__gt=last).values_list("pk", "customer_id", "delivered_at")[
                :batch_size
            ]
        )
        if not batch:
            break
        last = batch[-1][0]
        rows = []
        for pk, customer_id, delivered_at in batch:
            due = workdays.add_working_days(delivered_at, days, cal)
            _warn_if_provisional(due)
            rows.append(
                FollowUp(
                    customer_id=customer_id, purpose=FollowUpPurpose.DELIVERY, delivery_id=pk,
                    plan=plan, version=version, due_at=due.at, created_at=now,
                    max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
                )
            )  # fmt: skip
        FollowUp.objects.bulk_create(rows, batch_size=_INSERT_BATCH, ignore_conflicts=True)
        created += FollowUp.objects.filter(
            delivery_id__in=[pk for pk, _customer, _at in batch], created_at=now
        ).count()
        if len(batch) < batch_size:
            break
    return created


def followups_generate(*, now=None, batch_size=None):
    """Create the follow-up calls due under the active plans: after-delivery calls first
    (a waiting delivery call then also stands for the periodic one), then each tier's call
    for the current period. Idempotent — FollowUp's unique keys and the one-to-one delivery,
    with inserts that ignore conflicts, make a second or concurrent run create nothing new.

    Returns {"delivery": n, "periodic": n, "skipped_plans": n}; a plan is skipped (and logged)
    when it is incomplete or its questionnaire has no published version.
    """
    now = now or timezone.now()
    batch_size = batch_size or FOLLOWUP_BATCH_SIZE
    counts = {"delivery": 0, "periodic": 0, "skipped_plans": 0}
    plans = list(
        # Only plans a manager approved generate calls (003).
        FollowUpPlan.objects.filter(is_active=True, approved_at__isnull=False)
        .select_related("questionnaire")
        .order_by("kind", "pk")
    )
    if not plans:
        return counts
    satisfaction = []

    def fallback():
        if not satisfaction:
            satisfaction.append(satisfaction_version())
        return satisfaction[0]

    cal = load_calendar()
    delivery_done = False
    for plan in plans:
        version = _plan_version(plan, fallback)
        if plan.kind == FollowUpPlanKind.DELIVERY:
            usable = plan.working_days_after_delivery is not None and not delivery_done
        else:
            # Plans are checked in the admin; a hand-edited row must not stop the others.
            usable = bool(plan.tier) and 1 <= (plan.every_months or 0) <= 1200
        if not usable or version is None:
            logger.warning(
                "Follow-up plan %s (%s) skipped: %s", plan.pk, plan.name,
                "no published questionnaire version" if usable else "incomplete or duplicate",
            )  # fmt: skip
            counts["skipped_plans"] += 1
            continue
        if plan.kind == FollowUpPlanKind.DELIVERY:
            delivery_done = True  # one call per delivery: the first active plan makes it
            counts["delivery"] += _delivery_followups(
                plan=plan, version=version, now=now, cal=cal, batch_size=batch_size
            )
        else:
            counts["periodic"] += _periodic_followups(
                plan=plan, version=version, now=now, cal=cal, batch_size=batch_size
            )
    return counts


# --- sampling ------------------------------------------------------------------------------


def _parse_limits(value, default, *, whole):
    """Band limits from a list or a "1000, 10000" string; ValueError when unusable."""
    if value is None or value == "":
        return default
    if isinstance(value, (list, tuple)):
        parts = list(value)
    else:
        parts = [p for p in str(value).replace("，", ",").split(",") if p.strip()]
    try:
        numbers = [Decimal(str(p).strip()) for p in parts]
    except InvalidOperation as exc:
        raise ValueError(str(exc)) from exc
    if not numbers or any(not n.is_finite() for n in numbers):
        raise ValueError("empty")
    if whole:
        if any(n != n.to_integral_value() for n in numbers):
            raise ValueError("not whole")
        numbers = [int(n) for n in numbers]
    return sampling.check_limits(numbers)


def _int(value):
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def sample_create(
    *,
    name,
    size,
    min_new_share,
    new_within_days,
    user,
    seed=None,
    questionnaire=None,
    due_at=None,
    amount_limits=None,
    count_limits=None,
    now=None,
):
    """Draw a stratified sample of the contactable customers and queue a call for each.

    Strata: customer type × purchase amount band × purchase frequency band (sampling.py;
    `amount_limits` in yuan and `count_limits` in orders, defaults 1000/10000 and 2/6). A
    customer is new when first seen within `new_within_days`; at least `min_new_share` (0..1)
    of the sample are new when there are enough. The seed (random when None) is stored: the
    same seed and the same population give the same sample. The calls use `questionnaire`'s
    published version (default: the satisfaction questionnaire) and are due at `due_at`
    (default now). Raises ValidationError keyed by argument name; nothing is saved then.
    """
    now = now or timezone.now()
    errors = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = [_("Give the sample a name.")]
    elif len(name) > Sample._meta.get_field("name").max_length:
        errors["name"] = [_("The name is too long.")]
    size = _int(size)
    if size is None or size < 1:
        errors["size"] = [_("The sample size must be a whole number of at least 1.")]
    try:
        share = Decimal(str(min_new_share).strip()).quantize(
            Decimal("0.01"), rounding=ROUND_HALF_UP
        )
    except (InvalidOperation, TypeError, ValueError):
        share = None
    if share is None or not share.is_finite() or not 0 <= share <= 1:
        errors["min_new_share"] = [_("Enter a share between 0 and 1 (0.20 = 20 %).")]
    new_within_days = _int(new_within_days)
    if new_within_days is None or not 0 <= new_within_days <= 32767:
        errors["new_within_days"] = [_("Enter a number of days between 0 and 32767.")]
    if seed is None or seed == "":
        seed = secrets.randbelow(_SEED_LIMIT)
    else:
        seed = _int(seed)
        if seed is None or not -_SEED_LIMIT <= seed < _SEED_LIMIT:
            errors["seed"] = [_("The seed must be a whole number (up to 19 digits).")]
    try:
        amount_limits = _parse_limits(amount_limits, sampling.DEFAULT_AMOUNT_LIMITS, whole=False)
    except ValueError:
        errors["amount_limits"] = [
            _("Enter ascending amounts in yuan separated by commas, e.g. 1000, 10000.")
        ]
    try:
        count_limits = _parse_limits(count_limits, sampling.DEFAULT_COUNT_LIMITS, whole=True)
    except ValueError:
        errors["count_limits"] = [
            _("Enter ascending whole numbers of orders separated by commas, e.g. 2, 6.")
        ]
    if questionnaire is not None:
        version = questionnaire.published_version() if questionnaire.is_active else None
        if version is None:
            errors["questionnaire"] = [
                _("This questionnaire is not in use: it is inactive or has no published version.")
            ]
    else:
        version = satisfaction_version()
        if version is None:
            errors["questionnaire"] = [
                _("There is no published satisfaction questionnaire: choose a questionnaire.")
            ]
    if errors:
        raise ValidationError(errors)

    cutoff = now - datetime.timedelta(days=new_within_days)
    rows = (
        Customer.objects.filter(_contactable())
        .order_by("pk")
        .values_list("pk", "kind", "purchase_amount", "purchase_count", "created_at")
    )
    candidates = [
        sampling.Candidate(id=pk, kind=kind, amount=amount, count=count, is_new=first >= cutoff)
        for pk, kind, amount, count, first in rows.iterator(chunk_size=2000)
    ]
    if not candidates:
        raise ValidationError(_("There are no customers to sample."), code="empty")
    result = sampling.draw(
        candidates, size, seed=seed, min_new_share=share,
        amount_limits=amount_limits, count_limits=count_limits,
    )  # fmt: skip
    due_at = due_at or now
    with transaction.atomic():
        sample = Sample.objects.create(
            name=name, size=size, seed=seed, min_new_share=share,
            new_within_days=new_within_days, population=result.population,
            strata=result.strata, questionnaire=version.questionnaire, due_at=due_at,
            created_by=user, created_at=now,
        )  # fmt: skip
        FollowUp.objects.bulk_create(
            [
                FollowUp(
                    customer_id=pk, purpose=FollowUpPurpose.SAMPLE, sample=sample,
                    version=version, due_at=due_at, created_at=now,
                    max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
                )
                for pk in result.ids
            ],
            batch_size=_INSERT_BATCH,
        )  # fmt: skip
    return sample
