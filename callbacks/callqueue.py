"""The callback queue: taking a follow-up, recording a call (its answers too), cancelling."""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import services as case_services
from complaints.models import (
    CaseEvent,
    EventKind,
)

from .models import (
    CallAttempt,
    FollowUp,
    FollowUpPurpose,
    FollowUpStatus,
    Method,
    Survey,
    SurveyStatus,
)
from .responses import response_record

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
