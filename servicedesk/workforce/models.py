"""Workforce and quality: cases offered to a backup (B角) while their handler is away,
staffing targets per channel, QA scorecards (versioned), the monthly QA sample, reviews and
disputes, and mystery-shopper results.

Sits above complaints and callbacks and below reports (reports shows its figures)."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from callbacks.models import VersionStatus
from complaints.models import Channel

# Each rubric item is scored 0..MAX_POINTS; a review's score is the weighted share, 0–100.
MAX_POINTS = 5


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


# --- Quality assurance (质检) ----------------------------------------------------------------


class Scorecard(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=100)

    class Meta:
        verbose_name = _("QA scorecard")
        verbose_name_plural = _("QA scorecards")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def published_version(self):
        return self.versions.filter(status=VersionStatus.PUBLISHED).first()


class ScorecardVersion(models.Model):
    """A scorecard's rubric as published: reviews keep the version they were scored with;
    a published version's items are not edited (publish a new version instead)."""

    scorecard = models.ForeignKey(
        Scorecard, on_delete=models.PROTECT, related_name="versions", verbose_name=_("scorecard")
    )
    number = models.PositiveIntegerField(_("version"))
    status = models.CharField(
        _("status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)

    class Meta:
        verbose_name = _("QA scorecard version")
        verbose_name_plural = _("QA scorecard versions")
        ordering = ["scorecard", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["scorecard", "number"], name="qa_scorecard_version"),
            models.UniqueConstraint(
                fields=["scorecard"], condition=Q(status="published"),
                name="qa_one_published_scorecard",
            ),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.scorecard} v{self.number}"

    def score(self, points):
        """The weighted score 0–100 of {item_id: points 0..MAX_POINTS}."""
        items = list(self.items.all())
        total = sum(i.weight for i in items)
        if not total:
            return Decimal(0)
        got = sum(Decimal(i.weight) * Decimal(points.get(str(i.pk), 0)) / MAX_POINTS for i in items)
        return (got * 100 / total).quantize(Decimal("0.01"))


class ScorecardItem(models.Model):
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.CASCADE, related_name="items",
        verbose_name=_("scorecard version"),
    )  # fmt: skip
    label = models.CharField(_("item"), max_length=100)
    description = models.CharField(_("what good looks like"), max_length=300, blank=True)
    weight = models.PositiveSmallIntegerField(
        _("weight"), default=1, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        verbose_name = _("scorecard item")
        verbose_name_plural = _("scorecard items")
        ordering = ["version", "order", "pk"]

    def __str__(self):
        return self.label


class QaSample(models.Model):
    """A month's reproducible random sample of closed cases per agent (seed recorded)."""

    month = models.DateField(_("month"), unique=True)
    seed = models.BigIntegerField(_("random seed"))
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("scorecard version"),
    )  # fmt: skip
    share = models.DecimalField(
        _("share of each agent's cases (%)"), max_digits=5, decimal_places=2, default=5,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )  # fmt: skip
    minimum = models.PositiveSmallIntegerField(_("minimum per agent"), default=3)
    low_satisfaction_factor = models.PositiveSmallIntegerField(
        _("factor for agents under the satisfaction target"), default=2,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
    )  # fmt: skip
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("created by"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("monthly QA sample")
        verbose_name_plural = _("monthly QA samples")
        ordering = ["-month"]

    def __str__(self):
        return f"{self.month:%Y-%m}"


class ReviewStatus(models.TextChoices):
    PENDING = "pending", _("To review")
    REVIEWED = "reviewed", _("Reviewed")
    DISPUTED = "disputed", _("Disputed")
    SETTLED = "settled", _("Dispute settled")


class QaReview(models.Model):
    sample = models.ForeignKey(
        QaSample, on_delete=models.CASCADE, related_name="reviews", verbose_name=_("sample")
    )
    case = models.ForeignKey(
        "complaints.Case", on_delete=models.PROTECT, related_name="+", verbose_name=_("case")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="qa_reviews",
        verbose_name=_("agent"),
    )  # fmt: skip
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("scorecard version"),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PENDING
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("reviewer"),
    )  # fmt: skip
    points = models.JSONField(_("points per item"), default=dict, blank=True)
    comment = models.TextField(_("reviewer's comments"), blank=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    dispute_reason = models.TextField(_("agent's dispute"), blank=True)
    disputed_at = models.DateTimeField(_("disputed at"), null=True, blank=True)
    settlement = models.TextField(_("supervisor's decision"), blank=True)
    settled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("settled by"),
    )  # fmt: skip
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        verbose_name = _("QA review")
        verbose_name_plural = _("QA reviews")
        ordering = ["status", "agent", "case"]
        constraints = [
            models.UniqueConstraint(fields=["sample", "case"], name="qa_review_once_per_sample")
        ]

    def __str__(self):
        return f"{self.case} / {self.agent}"


class MysteryShop(models.Model):
    """A mystery shopper's (神秘顾客) contact, scored on the same scorecard."""

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="mystery_shops", verbose_name=_("agent"),
        help_text=_("Where known."),
    )  # fmt: skip
    version = models.ForeignKey(
        ScorecardVersion, on_delete=models.PROTECT, related_name="+",
        verbose_name=_("scorecard version"),
    )  # fmt: skip
    shopped_at = models.DateTimeField(_("contact made at"))
    shopper = models.CharField(_("shopper"), max_length=100)
    scenario = models.CharField(_("scenario"), max_length=200)
    points = models.JSONField(_("points per item"), default=dict, blank=True)
    comment = models.TextField(_("findings"), blank=True)
    score = models.DecimalField(_("score"), max_digits=5, decimal_places=2, null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("recorded by"),
    )  # fmt: skip

    class Meta:
        verbose_name = _("mystery shopper result")
        verbose_name_plural = _("mystery shopper results")
        ordering = ["-shopped_at"]

    def __str__(self):
        return f"{self.get_channel_display()} {self.shopped_at:%Y-%m-%d}"


class AgentPerformance(QaReview):
    """The agent performance page hangs on this proxy: its changelist is the page."""

    class Meta:
        proxy = True
        verbose_name = _("agent performance")
        verbose_name_plural = _("agent performance")
