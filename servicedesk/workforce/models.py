"""Workforce and quality: cases offered to a backup (B角) while their handler is away,
staffing targets per channel, QA scorecards (versioned), the monthly QA sample, reviews and
disputes, and mystery-shopper results.

Sits above complaints and callbacks and below reports (reports shows its figures)."""

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from complaints.models import Channel


class BackupOffer(models.Model):
    """A case of someone on leave, offered to their backup; taken over or left."""

    case = models.ForeignKey(
        "complaints.Case", on_delete=models.CASCADE, related_name="+", verbose_name=_("case")
    )
    absence = models.ForeignKey(
        "rota.Absence", on_delete=models.CASCADE, related_name="+", verbose_name=_("absence")
    )
    absent_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+",
        verbose_name=_("away"),
    )  # fmt: skip
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="backup_offers",
        verbose_name=_("backup (B角)"),
    )  # fmt: skip
    offered_at = models.DateTimeField(_("offered at"))
    taken_at = models.DateTimeField(_("taken over at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case offered to a backup")
        verbose_name_plural = _("cases offered to backups")
        ordering = ["-offered_at"]
        constraints = [
            models.UniqueConstraint(fields=["case", "absence"], name="backup_offer_once")
        ]

    def __str__(self):
        return f"{self.case_id} → {self.backup}"


class StaffingTarget(models.Model):
    """The service level a channel is staffed for. Phone-like channels: Erlang C (a share
    answered within so many seconds); written channels: the backlog cleared within hours."""

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices, unique=True)
    queued = models.BooleanField(
        _("answered live (Erlang C)"), default=False,
        help_text=_("Phone and chat: customers wait in a queue. Otherwise the channel is written."),
    )  # fmt: skip
    service_level = models.DecimalField(
        _("service level (%)"), max_digits=5, decimal_places=2, default=80,
        validators=[MinValueValidator(1), MaxValueValidator(99.99)],
    )  # fmt: skip
    answer_seconds = models.PositiveIntegerField(_("answered within (seconds)"), default=20)
    response_hours = models.DecimalField(
        _("written: cleared within (hours)"), max_digits=6, decimal_places=2, default=24,
        validators=[MinValueValidator(0.5)],
    )  # fmt: skip
    default_handling_seconds = models.PositiveIntegerField(
        _("handling time when not measured (seconds)"), default=300,
        validators=[MinValueValidator(1)],
    )  # fmt: skip
    shrinkage = models.DecimalField(
        _("shrinkage (%)"), max_digits=5, decimal_places=2, default=0,
        validators=[MinValueValidator(0), MaxValueValidator(90)],
        help_text=_("Share of paid time not available for contacts (breaks, training)."),
    )  # fmt: skip

    class Meta:
        verbose_name = _("staffing target")
        verbose_name_plural = _("staffing targets")
        ordering = ["channel"]

    def __str__(self):
        return self.get_channel_display()


class StaffingForecast(StaffingTarget):
    """The staffing page (人员配置) hangs on this proxy: its changelist is the page."""

    class Meta:
        proxy = True
        verbose_name = _("staffing forecast")
        verbose_name_plural = _("staffing forecast")
