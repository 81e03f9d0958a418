"""The recall workflow (召回, 004): who is affected, the outreach calls in bulk (idempotent),
contact outcomes, compensation on cases, and the progress figures. The only place that writes
recall rows."""

import datetime
from collections import Counter
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import Case, Customer

from .models import Delivery, FollowUp, FollowUpPurpose, FollowUpStatus
from .recall import Compensation, CompensationKind, RecallCampaign, RecallContact, RecallStatus


def _require(user, perm, message):
    if user is None or not user.has_perm(perm):
        raise PermissionDenied(message)


def _day(value, end=False):
    if value is None:
        return None
    moment = datetime.datetime.combine(value + datetime.timedelta(days=1 if end else 0),
                                       datetime.time.min)  # fmt: skip
    return timezone.make_aware(moment)


def affected_customers(campaign):
    """Customers who received the product (deliveries in the purchase window) or wrote to us
    about it (cases received in the window); never the anonymised."""
    deliveries = Q(product__icontains=campaign.product)
    cases = Q(product__icontains=campaign.product)
    if campaign.purchased_from:
        deliveries &= Q(delivered_at__gte=_day(campaign.purchased_from))
        cases &= Q(created_at__gte=_day(campaign.purchased_from))
    if campaign.purchased_to:
        deliveries &= Q(delivered_at__lt=_day(campaign.purchased_to, end=True))
        cases &= Q(created_at__lt=_day(campaign.purchased_to, end=True))
    return Customer.objects.filter(anonymized_at__isnull=True).filter(
        Q(pk__in=Delivery.objects.filter(deliveries).values("customer"))
        | Q(pk__in=Case.objects.filter(cases).values("customer"))
    )


def recall_outreach_generate(*, campaign, user, now=None):
    """One outreach call per affected customer not yet reached out to; returns how many were
    created. Run again, it creates only those for customers newly affected."""
    _require(user, "callbacks.manage_recall", _("Only a manager may run a recall."))
    from .services import satisfaction_version

    now = now or timezone.now()
    version = satisfaction_version()
    if version is None:
        raise ValidationError(_("Publish the satisfaction questionnaire first."))
    with transaction.atomic():
        locked = RecallCampaign.objects.select_for_update().get(pk=campaign.pk)
        if locked.closed_at:
            raise ValidationError(_("This recall is closed."))
        new = list(
            affected_customers(locked)
            .exclude(pk__in=RecallContact.objects.filter(campaign=locked).values("customer"))
            .values_list("pk", flat=True)
        )
        calls = FollowUp.objects.bulk_create(
            [
                FollowUp(
                    customer_id=pk, purpose=FollowUpPurpose.RECALL, version=version, due_at=now
                )
                for pk in new
            ]
        )
        RecallContact.objects.bulk_create(
            [RecallContact(campaign=locked, customer_id=c.customer_id, followup=c) for c in calls]
        )
    return len(calls)


def recall_contact_set(*, contact, status, user, note=""):
    _require(user, "callbacks.manage_recall", _("Only a manager may run a recall."))
    if status not in RecallStatus.values:
        raise ValidationError({"status": _("Choose a status.")})
    with transaction.atomic():
        locked = RecallContact.objects.select_for_update().get(pk=contact.pk)
        locked.status = status
        if note:
            locked.note = note.strip()
        locked.save(update_fields=["status", "note", "updated_at"])
    return locked


def effective_status(contact):
    """What the progress counts: a status set by hand, else what the outreach call says."""
    if contact.status != RecallStatus.PENDING or contact.followup is None:
        return contact.status
    return {
        FollowUpStatus.DONE: RecallStatus.CONTACTED,
        FollowUpStatus.UNREACHABLE: RecallStatus.UNREACHABLE,
    }.get(contact.followup.status, RecallStatus.PENDING)


def recall_progress(campaign):
    """{"affected", "calls", "pending", "contacted", "unreachable", "remedied",
    "compensations", "compensation_total"} — three queries."""
    contacts = list(campaign.contacts.select_related("followup"))
    counts = Counter(effective_status(c) for c in contacts)
    money = campaign.compensations.aggregate(total=Sum("amount"))
    return {
        "affected": affected_customers(campaign).count(),
        "calls": sum(1 for c in contacts if c.followup_id),
        **{status: counts.get(status, 0) for status in RecallStatus.values},
        "compensations": campaign.compensations.count(),
        "compensation_total": money["total"] or Decimal("0"),
    }


def compensation_record(*, case, user, kind, amount, campaign=None, note=""):
    """Record compensation given on a case; the recording manager is its approver."""
    _require(user, "callbacks.approve_compensation", _("Only a manager may approve compensation."))
    errors = {}
    if kind not in CompensationKind.values:
        errors["kind"] = _("Choose the type of compensation.")
    try:
        amount = Decimal(str(amount))
        if amount < 0:
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        errors["amount"] = _("Enter an amount of zero or more.")
    if errors:
        raise ValidationError(errors)
    return Compensation.objects.create(
        case=case, campaign=campaign, kind=kind, amount=amount, approved_by=user, note=note
    )
