"""Personal information under PIPL (《个人信息保护法》): the audit log of who saw, exported or
anonymised a customer's personal data. Rows are written once and never changed or deleted —
there is no add/change/delete permission to grant. Imported by complaints.models."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class PrivacyAction(models.TextChoices):
    VIEWED = "viewed", _("Viewed unmasked")
    EXPORTED = "exported", _("Exported unmasked")
    SUBJECT_ACCESS = "subject_access", _("Subject-access export")
    ANONYMISED = "anonymised", _("Anonymised on request")
    RETENTION = "retention", _("Anonymised after the retention period")


class PersonalDataLog(models.Model):
    action = models.CharField(_("action"), max_length=20, choices=PrivacyAction.choices)
    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("customer"),
    )
    case = models.ForeignKey(
        "complaints.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("case"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
        help_text=_("Empty: the scheduled retention task."),
    )
    where = models.CharField(_("where"), max_length=200, blank=True)
    detail = models.TextField(_("details"), blank=True)
    at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("personal-data access")
        verbose_name_plural = _("personal-data access log")
        ordering = ["-at", "-pk"]
        default_permissions = ("view",)
        permissions = [
            ("anonymise_customer", _("Can anonymise customers (PIPL)")),
            ("export_customer_data", _("Can export everything held about a customer (PIPL)")),
        ]
        indexes = [models.Index(fields=["customer", "at"], name="pdlog_customer_idx")]

    def __str__(self):
        return f"{self.get_action_display()} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("The personal-data log cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("The personal-data log cannot be deleted."))
