"""The satisfaction follow-up: recording the customer's feedback, a supervisor's waiver, and
second handling (二次处理) when the customer is not satisfied."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.staff import roles
from servicedesk.staff.models import User
from servicedesk.staff.services import notify

from .deadlines import case_refresh_deadlines
from .intake_assign import least_loaded
from .models import Case, CaseEvent, EventKind, State
from .transitions import _do_transition


def case_waive_satisfaction(*, case, user, reason):
    """A supervisor lets a resolved case close without the satisfaction follow-up."""
    if not user.has_perm("complaints.waive_satisfaction"):
        raise PermissionDenied(_("Only a supervisor can waive the satisfaction step."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason.")})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        locked.satisfaction_waived_by = user
        locked.satisfaction_done_at = locked.satisfaction_done_at or timezone.now()
        case_refresh_deadlines(locked)
        locked.version += 1
        locked.save()
        CaseEvent.objects.create(
            case=locked, kind=EventKind.NOTE, author=user,
            message=_("Satisfaction follow-up waived: %(reason)s") % {"reason": reason.strip()},
        )  # fmt: skip
    return locked


def case_record_feedback(*, case, score, text="", user=None, now=None):
    """The customer's satisfaction score (1–5) and words, from a follow-up or survey."""
    if score is None or not 1 <= int(score) <= 5:
        raise ValidationError({"feedback_score": _("The score must be between 1 and 5.")})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        locked.feedback_score = int(score)
        locked.feedback_text = (text or "").strip()
        locked.satisfaction_done_at = locked.satisfaction_done_at or now or timezone.now()
        case_refresh_deadlines(locked, now=now)
        locked.version += 1
        locked.save()
        CaseEvent.objects.create(
            case=locked, kind=EventKind.NOTE, author=user,
            message=_("Customer feedback: %(score)s/5 %(text)s") % {"score": score, "text": text or ""},
            data={"feedback_score": int(score)}, created_at=now or timezone.now(),
        )  # fmt: skip
    return locked


# The score below which a satisfaction answer sends the case back for second handling.
UNSATISFIED_BELOW = 4


def case_satisfaction_result(*, case, score, text="", source=""):
    """The hook surveys and follow-up calls call with the customer's overall score (1–5).

    Records the feedback; a score below 4 reopens the case for second handling (二次处理),
    assigns it to the least-loaded manager and escalates to the managers.
    """
    with transaction.atomic():  # the score and the second handling land together or not at all
        case = case_record_feedback(case=case, score=score, text=text)
        if int(score) >= UNSATISFIED_BELOW:
            return case
        locked = Case.objects.select_for_update().get(pk=case.pk)
        reason = _("Customer not satisfied (%(score)s/5): second handling. %(text)s") % {
            "score": score,
            "text": text or "",
        }
        if locked.state in (State.RESOLVED, State.CLOSED):
            locked = _do_transition(
                locked, "reopen", user=None, inputs={"reason": reason}, check_permission=False
            )
        manager = least_loaded(User.objects.filter(is_active=True, groups__name=roles.MANAGER))
        if manager is not None and locked.state in (State.REOPENED, State.ASSIGNED, State.RECEIVED):
            locked = _do_transition(
                locked, "assign", user=None, check_permission=False,
                inputs={"department": locked.department or _any_department(manager), "assignee": manager},
                note=_("Second handling by a manager"),
            )  # fmt: skip
        locked.escalation_level = 2
        locked.save(update_fields=["escalation_level", "updated_at"])
        managers = list(User.objects.filter(is_active=True, groups__name=roles.MANAGER))
        event = CaseEvent.objects.create(
            case=locked, kind=EventKind.ESCALATION, message=reason,
            data={"level": 2, "reason": "unsatisfied", "score": int(score), "source": source,
                  "notified": [u.username for u in managers]},
        )  # fmt: skip
        transaction.on_commit(
            lambda: notify(
                recipients=managers,
                event_key=f"case:{locked.number}:unsatisfied:{event.pk}",
                subject=_("Case %(number)s: customer not satisfied (%(score)s/5)")
                % {"number": locked.number, "score": score},
                body=reason,
                link=f"/admin/complaints/case/{locked.pk}/change/",
            )
        )
    return locked


def _any_department(user):
    return user.departments.first()
