"""Return / exchange requests and their choices."""

import datetime

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from .fields import BoundedTextField
from .models_case import Case

# Goods bought longer ago than this are not returned: an older purchase date is a typo.
PURCHASE_MAX_AGE_YEARS = 10


# --- return / exchange -------------------------------------------------------------------


class ReturnReason(models.TextChoices):
    QUALITY = "quality", _("Quality problem")
    PERSONAL = "personal", _("Personal reason (size, colour …)")
    LOGISTICS_DAMAGE = "logistics_damage", _("Damaged in transit")


class ReturnStep(models.TextChoices):
    APPLIED = "applied", _("Application received")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    CUSTOMER_NOTIFIED = "customer_notified", _("Return instructions sent to customer")
    SHIPPED_BACK = "shipped_back", _("Goods shipped back")
    INSPECTED = "inspected", _("Inspected")
    REFUNDED = "refunded", _("Refunded")
    EXCHANGED = "exchanged", _("Exchanged")


class ReturnResolution(models.TextChoices):
    REFUND = "refund", _("Refund by the original payment method")
    EXCHANGE = "exchange", _("Exchange the goods")


# Days from purchase within which a return is accepted, per reason (SPEC §1.4): personal
# reasons 7 days (goods unopened, customer pays return shipping); quality problems 30 days.
RETURN_WINDOW_DAYS = {
    ReturnReason.PERSONAL: 7,
    ReturnReason.QUALITY: 30,
    ReturnReason.LOGISTICS_DAMAGE: 30,
}


class RefundMethod(models.TextChoices):
    ORIGINAL = "original", _("Original payment method")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")
    STORE_CREDIT = "store_credit", _("Store credit")


class ReturnRequest(FSMModelMixin, models.Model):
    """The return/exchange data of a case of type return_exchange, and its own steps:
    application → review → customer notified → shipped back → inspection → refund/exchange."""

    case = models.OneToOneField(
        Case, on_delete=models.CASCADE, related_name="return_request", verbose_name=_("case")
    )
    order_no = models.CharField(_("order number"), max_length=64)
    product = models.CharField(_("product"), max_length=200)
    purchase_date = models.DateField(_("purchase date"))
    reason = models.CharField(_("reason"), max_length=20, choices=ReturnReason.choices)
    unopened = models.BooleanField(_("unopened and resellable"), default=False)
    evidence_notes = BoundedTextField(_("evidence"), blank=True)
    outside_window = models.BooleanField(
        _("outside the return window"), default=False, editable=False
    )
    window_note = models.CharField(_("window check"), max_length=200, blank=True, editable=False)
    customer_pays_shipping = models.BooleanField(
        _("customer pays return shipping"), default=False, editable=False
    )
    step = FSMField(
        _("step"),
        max_length=20,
        choices=ReturnStep.choices,
        default=ReturnStep.APPLIED,
        protected=True,
    )
    review_comment = BoundedTextField(_("review comment"), blank=True)
    tracking_no = models.CharField(_("return tracking number"), max_length=64, blank=True)
    inspection_result = BoundedTextField(_("inspection result"), blank=True)
    resolution = models.CharField(
        _("resolution"), max_length=10, choices=ReturnResolution.choices, blank=True
    )
    refund_amount = models.DecimalField(
        _("refund amount"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    refund_method = models.CharField(
        _("refund method"), max_length=20, choices=RefundMethod.choices, blank=True
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("return / exchange")
        verbose_name_plural = _("returns / exchanges")

    def __str__(self):
        return f"{self.order_no} {self.product}"

    def check_window(self, today=None):
        """Flag (never silently accept) a request outside its window or its conditions."""
        today = today or timezone.localdate()
        days = RETURN_WINDOW_DAYS[self.reason]
        age = (today - self.purchase_date).days
        notes = []
        if age > days:
            notes.append(
                _("%(age)s days since purchase; the window for this reason is %(days)s days.")
                % {"age": age, "days": days}
            )
        if self.reason == ReturnReason.PERSONAL and not self.unopened:
            notes.append(_("Personal-reason returns need the goods unopened and resellable."))
        self.outside_window = bool(notes)
        self.window_note = " ".join(str(n) for n in notes)[:200]
        self.customer_pays_shipping = self.reason == ReturnReason.PERSONAL

    def clean(self):
        if self.purchase_date and self.purchase_date > timezone.localdate() + datetime.timedelta(
            days=1
        ):
            raise ValidationError({"purchase_date": _("The purchase date is in the future.")})
        if self.purchase_date and self.purchase_date < timezone.localdate() - datetime.timedelta(
            days=PURCHASE_MAX_AGE_YEARS * 366
        ):
            raise ValidationError(
                {
                    "purchase_date": _("The purchase date is more than %(years)s years ago.")
                    % {"years": PURCHASE_MAX_AGE_YEARS}
                }
            )

    @transition(
        field=step,
        source=ReturnStep.APPLIED,
        target=ReturnStep.APPROVED,
        custom={"label": _("Approve return"), "inputs": ["review_comment?"]},
    )
    def approve(self):
        pass

    @transition(
        field=step,
        source=ReturnStep.APPLIED,
        target=ReturnStep.REJECTED,
        conditions=[lambda self: bool(self.review_comment.strip())],
        custom={"label": _("Reject return"), "inputs": ["review_comment"]},
    )
    def reject(self):
        pass

    @transition(
        field=step,
        source=ReturnStep.APPROVED,
        target=ReturnStep.CUSTOMER_NOTIFIED,
        custom={"label": _("Instructions sent to customer"), "inputs": []},
    )
    def notify_customer(self):
        pass

    @transition(
        field=step,
        source=ReturnStep.CUSTOMER_NOTIFIED,
        target=ReturnStep.SHIPPED_BACK,
        conditions=[lambda self: bool(self.tracking_no.strip())],
        custom={"label": _("Goods shipped back"), "inputs": ["tracking_no"]},
    )
    def ship_back(self):
        pass

    @transition(
        field=step,
        source=ReturnStep.SHIPPED_BACK,
        target=ReturnStep.INSPECTED,
        conditions=[lambda self: bool(self.inspection_result.strip())],
        custom={"label": _("Inspected"), "inputs": ["inspection_result"]},
    )
    def inspect(self):
        pass

    @transition(
        field=step,
        source=ReturnStep.INSPECTED,
        target=ReturnStep.REFUNDED,
        custom={"label": _("Refunded"), "inputs": ["refund_method", "refund_amount"]},
    )
    def refund(self):
        self.resolution = ReturnResolution.REFUND

    @transition(
        field=step,
        source=ReturnStep.INSPECTED,
        target=ReturnStep.EXCHANGED,
        custom={"label": _("Exchanged"), "inputs": []},
    )
    def exchange(self):
        self.resolution = ReturnResolution.EXCHANGE


# Steps of a return request, in order; "name?" in a step's inputs marks an optional input.
RETURN_STEP_NAMES = [
    "approve", "reject", "notify_customer", "ship_back", "inspect", "refund", "exchange",
]  # fmt: skip
