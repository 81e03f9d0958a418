"""Satisfaction surveys: scheduled when a case is resolved, opened by their link, answered once."""

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import (
    Case,
    CaseEvent,
    EventKind,
    State,
)

from . import rewards, scheduling, sms, tokens
from .models import (
    FollowUp,
    FollowUpPurpose,
    Method,
    QuestionnaireVersion,
    Survey,
    SurveyChannel,
    SurveyStatus,
    VersionStatus,
)
from .questionnaires import SATISFACTION_QUESTIONNAIRE
from .responses import response_record

logger = logging.getLogger(__name__)


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
