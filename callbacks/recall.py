"""Product-safety recalls (召回, 004): a manager names a product (and optionally a batch and a
purchase window); the customers affected are found from the deliveries and the cases; one
outreach follow-up call per customer is created in bulk (again: nothing new); each contact is
tracked as contacted / unreachable / remedied; compensation (补偿) is recorded on cases with
its type, amount and approver. Models here; the workflow in recall_services."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class RecallCampaign(models.Model):
    name = models.CharField(_("name"), max_length=200)
    product = models.CharField(
        _("product"), max_length=200, help_text=_("Matched against deliveries' and cases' product.")
    )
    batch = models.CharField(_("batch"), max_length=100, blank=True)
    purchased_from = models.DateField(_("purchased from"), null=True, blank=True)
    purchased_to = models.DateField(_("purchased until"), null=True, blank=True)
    description = models.TextField(_("what is wrong and the remedy"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
        editable=False, verbose_name=_("created by"),
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        app_label = "callbacks"
        verbose_name = _("recall campaign")
        verbose_name_plural = _("recall campaigns")
        ordering = ["-created_at"]
        permissions = [("manage_recall", _("Can run recall campaigns (managers)"))]

    def __str__(self):
        return self.name


class RecallStatus(models.TextChoices):
    PENDING = "pending", _("Not yet contacted")
    CONTACTED = "contacted", _("Contacted")
    UNREACHABLE = "unreachable", _("Unreachable")
    REMEDIED = "remedied", _("Remedied")


class RecallContact(models.Model):
    campaign = models.ForeignKey(
        RecallCampaign, on_delete=models.PROTECT, related_name="contacts",
        verbose_name=_("recall campaign"),
    )  # fmt: skip
    customer = models.ForeignKey(
        "complaints.Customer", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("customer"),
    )  # fmt: skip
    followup = models.OneToOneField(
        "callbacks.FollowUp", on_delete=models.PROTECT, null=True, blank=True,
        related_name="recall_contact", verbose_name=_("outreach call"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=12, choices=RecallStatus.choices, default=RecallStatus.PENDING
    )
    note = models.TextField(_("note"), blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        app_label = "callbacks"
        verbose_name = _("recall contact")
        verbose_name_plural = _("recall contacts")
        ordering = ["campaign", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "customer"], name="recall_once_per_customer"
            )
        ]

    def __str__(self):
        return f"{self.campaign} · {self.customer}"


class CompensationKind(models.TextChoices):
    REFUND = "refund", _("Refund")
    REPLACEMENT = "replacement", _("Replacement")
    REPAIR = "repair", _("Free repair")
    COUPON = "coupon", _("Coupon")
    CASH = "cash", _("Cash compensation")


class Compensation(models.Model):
    """Compensation (补偿) given on a case: type, amount and the manager who approved it."""

    case = models.ForeignKey(
        "complaints.Case", on_delete=models.PROTECT, related_name="compensations",
        verbose_name=_("case"),
    )  # fmt: skip
    campaign = models.ForeignKey(
        RecallCampaign, on_delete=models.PROTECT, null=True, blank=True,
        related_name="compensations", verbose_name=_("recall campaign"),
    )  # fmt: skip
    kind = models.CharField(_("type"), max_length=12, choices=CompensationKind.choices)
    amount = models.DecimalField(_("amount (yuan)"), max_digits=10, decimal_places=2)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("approved by"),
    )  # fmt: skip
    approved_at = models.DateTimeField(_("approved at"), default=timezone.now)
    note = models.TextField(_("note"), blank=True)

    class Meta:
        app_label = "callbacks"
        verbose_name = _("compensation")
        verbose_name_plural = _("compensations")
        ordering = ["-approved_at"]
        permissions = [("approve_compensation", _("Can approve compensation (managers)"))]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount}"
