"""Case transitions: validating a step's input, running it on the locked case, writing its
timeline entry and telling the assignee."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed

from servicedesk.staff.models import Department, User
from servicedesk.staff.services import notify

from .deadlines import _complete_stages, case_refresh_deadlines
from .models import ACTIVE_STATES, TRANSITION_NAMES, Case, CaseContact, CaseEvent, EventKind, State
from .signals import case_transitioned


class CaseChanged(Exception):
    """The case was changed by someone else since the caller loaded it."""

    def __init__(self, case):
        self.case = case
        super().__init__(
            _("Case %(number)s was changed by someone else. Reload it and try again.")
            % {"number": case.number}
        )


# --- transitions -------------------------------------------------------------------------


def _require(inputs, field, message):
    value = inputs.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError({field: message})
    return value.strip() if isinstance(value, str) else value


def _apply_inputs(case, name, inputs, user):
    """Validate a transition's input (field errors) and set it on the locked case."""
    if name == "assign":
        dept = _require(inputs, "department", _("Choose the department that handles the case."))
        assignee = _require(inputs, "assignee", _("Choose the person responsible."))
        if not isinstance(dept, Department):
            dept = Department.objects.filter(pk=dept, is_active=True).first()
            if dept is None:
                raise ValidationError({"department": _("Unknown department.")})
        if not isinstance(assignee, User):
            assignee = User.objects.filter(pk=assignee).first()
            if assignee is None:
                raise ValidationError({"assignee": _("Unknown staff member.")})
        if not assignee.is_active:
            raise ValidationError({"assignee": _("This staff member is not active.")})
        if not (
            assignee.sees_all_departments or assignee.memberships.filter(department=dept).exists()
        ):
            raise ValidationError(
                {
                    "assignee": _("%(user)s is not a member of %(dept)s.")
                    % {"user": assignee, "dept": dept}
                }
            )
        case.department, case.assignee = dept, assignee
    elif name == "propose_solution":
        case.solution = _require(inputs, "solution", _("Describe the proposed solution."))
    elif name == "resolve":
        case.result = _require(inputs, "result", _("Describe the result of the handling."))
        if inputs.get("cause"):
            case.cause = inputs["cause"].strip()
    elif name in ("reopen", "cancel"):
        _require(inputs, "reason", _("Give the reason."))
    elif name == "merge":
        into = _require(inputs, "into", _("Give the number of the case to merge into."))
        if not isinstance(into, Case):
            into = Case.objects.filter(number=str(into).strip()).first()
            if into is None:
                raise ValidationError({"into": _("No case with this number.")})
        if into.pk == case.pk:
            raise ValidationError({"into": _("A case cannot be merged into itself.")})
        if into.state not in ACTIVE_STATES and into.state != State.RESOLVED:
            raise ValidationError(
                {
                    "into": _("Case %(number)s is finished; merge into an open case.")
                    % {"number": into.number}
                }
            )
        if user is not None and not into.is_visible_to(user):
            raise ValidationError({"into": _("No case with this number.")})
        case.merged_into = into


def _unmet_condition(case, name):
    """Field errors for a transition whose conditions fail after its input was applied."""
    messages = {
        "assign": {"assignee": _("Assignment needs a department and a person.")},
        "start_investigation": {
            "assignee": _("Assign the case to a department and a person first.")
        },
        "propose_solution": {"solution": _("Describe the proposed solution.")},
        "resolve": {"result": _("Describe the result of the handling.")},
        "close": {
            "feedback_score": _(
                "The satisfaction follow-up is not done. Record the customer's feedback, or have a supervisor waive it."
            )
        },
        "merge": {"into": _("Choose an open case to merge into.")},
    }
    return messages.get(name, {"__all__": _("The conditions for this step are not met.")})


_STEP_TIMESTAMPS = {"resolve": "resolved_at", "close": "closed_at"}


def _do_transition(case, name, *, user, inputs, note="", customer_notified=False,
                   check_permission=True, now=None):  # fmt: skip
    """Run transition `name` on the already locked `case`; save; write the event."""
    if name not in TRANSITION_NAMES:
        raise TransitionNotAllowed(_("Unknown step “%(name)s”.") % {"name": name})
    method = getattr(case, name)
    meta = method._django_fsm
    if check_permission:
        any_transition = next(iter(meta.transitions.values()))
        if user is None or not any_transition.has_perm(case, user):
            raise PermissionDenied(_("You do not have permission for this step on this case."))
    source = case.state
    if not meta.has_transition(source):
        raise TransitionNotAllowed(
            _("“%(step)s” is not possible while the case is “%(state)s”.")
            % {"step": _label(name), "state": case.get_state_display()}
        )
    _apply_inputs(case, name, inputs, user)
    if not meta.conditions_met(case, source):
        raise ValidationError(_unmet_condition(case, name))
    method()
    if now is not None and name in _STEP_TIMESTAMPS:
        # Backdated work (demo data, imported history): the step's own time follows `now`.
        setattr(case, _STEP_TIMESTAMPS[name], now)
    _complete_stages(case, name, customer_notified=customer_notified, now=now or timezone.now())
    case_refresh_deadlines(case, now=now)
    case.version += 1
    case.save()
    reason = (inputs.get("reason") or "").strip()
    message = "\n".join(x for x in [reason, (note or "").strip()] if x)
    data = {}
    if name == "assign":
        message, data = _assign_event_text(case, message)
    elif name == "propose_solution":
        message = message or case.solution
    elif name == "resolve":
        message = message or case.result
    elif name == "merge":
        data = {"into": case.merged_into.number}
        message = message or _("Merged into %(number)s") % {"number": case.merged_into.number}
    event = CaseEvent.objects.create(
        case=case, kind=EventKind.TRANSITION, transition=name, from_state=source,
        to_state=case.state, message=message, customer_notified=customer_notified,
        data=data, author=user, created_at=now or timezone.now(),
    )  # fmt: skip
    transaction.on_commit(
        lambda: case_transitioned.send(sender=Case, case=case, event=event, name=name)
    )
    return case


def _assign_event_text(case, message):
    """(message, data) of an assignment's timeline entry."""
    data = {"department": case.department.name, "assignee": str(case.assignee)}
    message = message or _("Assigned to %(dept)s / %(user)s") % {
        "dept": case.department,
        "user": case.assignee,
    }
    return message, data


def _label(name):
    method = getattr(Case, name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta:
        for t in meta.transitions.values():
            return str(t.custom.get("label", name))
    return name


def case_transition(*, case, name, user, expected_version=None, note="", customer_notified=False,
                    now=None, **inputs):  # fmt: skip
    """Move `case` through transition `name` for `user`.

    Raises PermissionDenied (no permission), TransitionNotAllowed (not from this state),
    CaseChanged (someone changed the case since `expected_version`) or ValidationError
    (missing or bad input, unmet condition). Nothing is saved on error. `now` backdates the
    step (demo data, imported history); by default it happens now.
    """
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and int(expected_version) != locked.version:
            raise CaseChanged(locked)
        locked = _do_transition(
            locked, name, user=user, inputs=inputs, note=note, customer_notified=customer_notified,
            now=now,
        )  # fmt: skip
        if name == "merge":
            survivor = Case.objects.select_for_update().get(pk=locked.merged_into_id)
            CaseContact.objects.create(
                case=survivor, channel=locked.channel, received_at=locked.created_at,
                subject=locked.subject, raw_text=_("Merged from %(number)s") % {"number": locked.number},
                created_by=user,
            )  # fmt: skip
            CaseEvent.objects.create(
                case=survivor, kind=EventKind.MERGE, author=user,
                message=_("Case %(number)s was merged into this case.") % {"number": locked.number},
                data={"merged": locked.number}, created_at=now or timezone.now(),
            )  # fmt: skip
            survivor.version += 1
            survivor.save(update_fields=["version", "updated_at"])
    if name == "assign" and locked.assignee_id and locked.assignee_id != getattr(user, "pk", None):
        notify_assignee(locked)
    return locked


def available_transitions(case, user):
    """The transitions `user` may start on `case` in its current state (buttons to show)."""
    out = []
    for name in TRANSITION_NAMES:
        meta = getattr(case, name)._django_fsm
        t = meta.get_transition(case.state)
        if t is not None and t.has_perm(case, user):
            out.append((name, t.custom.get("label", name), t.custom.get("inputs", [])))
    return out


def notify_assignee(case):
    transaction.on_commit(
        lambda: notify(
            recipients=[case.assignee],
            event_key=f"case:{case.number}:assigned:{case.version}",
            subject=_("Case %(number)s assigned to you: %(subject)s")
            % {"number": case.number, "subject": case.subject},
            body=case.description[:500],
            link=f"/admin/complaints/case/{case.pk}/change/",
        )
    )
