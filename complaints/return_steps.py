"""Return / exchange requests: the steps a user may take and taking one, logged on the case
timeline."""

import decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import TransitionNotAllowed

from . import returns
from .models import (
    RETURN_STEP_NAMES,
    Case,
    CaseEvent,
    EventKind,
    RefundMethod,
    ReturnReason,
    ReturnRequest,
)
from .transitions import CaseChanged

# --- return / exchange steps -------------------------------------------------------------

RETURN_STEP_MESSAGES = {
    "review_comment": gettext_lazy("Write the review comment for the customer."),
    "tracking_no": gettext_lazy("Enter the return tracking number."),
    "inspection_result": gettext_lazy("Describe what the inspection found."),
    "refund_amount": gettext_lazy("Enter a refund amount of zero or more."),
    "refund_method": gettext_lazy("Choose how the money goes back."),
}


def available_return_steps(return_request, user):
    """[(name, label, [(input, required)])] the user may take on this return request now."""
    if not (
        user.has_perm("complaints.change_returnrequest") and return_request.case.is_visible_to(user)
    ):
        return []
    out = []
    for name in RETURN_STEP_NAMES:
        t = getattr(return_request, name)._django_fsm.get_transition(return_request.step)
        if t is not None:
            inputs = [(i.rstrip("?"), not i.endswith("?")) for i in t.custom.get("inputs", [])]
            out.append((name, t.custom["label"], inputs))
    return out


def return_request_step(*, case, step, user, expected_version=None, **inputs):
    """Move a case's return/exchange request one step (review, instructions sent, shipped back
    with tracking number, inspected, refunded or exchanged), logged on the case timeline."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and int(expected_version) != locked.version:
            raise CaseChanged(locked)
        rr = ReturnRequest.objects.select_for_update().filter(case=locked).first()
        if rr is None:
            raise TransitionNotAllowed(_("This case has no return / exchange request."))
        if step not in RETURN_STEP_NAMES:
            raise TransitionNotAllowed(_("Unknown step “%(name)s”.") % {"name": step})
        if not (user.has_perm("complaints.change_returnrequest") and locked.is_visible_to(user)):
            raise PermissionDenied(_("You do not have permission for this step on this case."))
        meta = getattr(rr, step)._django_fsm
        t = meta.get_transition(rr.step)
        if t is None:
            raise TransitionNotAllowed(
                _("“%(step)s” is not possible while the return request is “%(state)s”.")
                % {"step": next(iter(meta.transitions.values())).custom["label"],
                   "state": rr.get_step_display()}
            )  # fmt: skip
        errors = {}
        for spec in t.custom.get("inputs", []):
            field, required = spec.rstrip("?"), not spec.endswith("?")
            value = inputs.get(field)
            if isinstance(value, str):
                value = value.strip()
            if value in (None, ""):
                if required:
                    errors[field] = RETURN_STEP_MESSAGES[field]
                continue
            if field == "refund_amount":
                try:
                    value = decimal.Decimal(str(value))
                except decimal.InvalidOperation:
                    value = None
                if value is None or value < 0:
                    errors[field] = RETURN_STEP_MESSAGES[field]
                    continue
            setattr(rr, field, value)
        method = inputs.get("refund_method")
        if method and method not in RefundMethod.values:
            errors["refund_method"] = RETURN_STEP_MESSAGES["refund_method"]
        if (
            step == "approve"
            and rr.reason == ReturnReason.QUALITY
            and not locked.attachments.exists()
        ):
            # 004: a quality return is approved on evidence (a photo or an inspection report).
            errors["evidence"] = _(
                "A quality return needs evidence before approval: attach a photo or an "
                "inspection report to the case."
            )
        if errors:
            raise ValidationError(errors)
        before = rr.step
        getattr(rr, step)()
        rr.save()
        instructions = None
        if step == "notify_customer":
            instructions = returns.return_instructions_send(case=locked, return_request=rr)
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
        CaseEvent.objects.create(
            case=locked, kind=EventKind.RETURN_STEP, author=user, transition=step,
            message=" ".join(
                str(x) for x in [t.custom["label"], rr.tracking_no if step == "ship_back" else "",
                                 inputs.get("review_comment") or inputs.get("inspection_result") or ""]
                if x
            ),
            data={"from": before, "to": rr.step, **({"instructions": instructions} if instructions else {})},
        )  # fmt: skip
    return rr
