"""The follow-up report (回访报告, 003): per period, the problems and suggestions the follow-ups
found, each turned into an action item with an owner department and a due date, tracked to
closure. Submitted for a manager's approval like a plan revision (four eyes); its action items
are a sheet of the monthly workbook. Models here; the workflow in followup_report_services."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ReportState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Pending approval")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class FollowUpReport(models.Model):
    period_start = models.DateField(_("from"))
    period_end = models.DateField(_("to"))
    findings = models.TextField(
        _("problems and suggestions found"),
        blank=True,
        help_text=_(
            "Filled in from the period's follow-ups when the report is created; edit freely."
        ),
    )
    state = models.CharField(
        _("state"), max_length=10, choices=ReportState.choices, default=ReportState.DRAFT
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
        editable=False, verbose_name=_("author"),
    )  # fmt: skip
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
        blank=True, editable=False, verbose_name=_("reviewer"),
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True, editable=False)
    review_comment = models.TextField(_("reviewer's comment"), blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)

    class Meta:
        app_label = "callbacks"
        verbose_name = _("follow-up report")
        verbose_name_plural = _("follow-up reports")
        ordering = ["-period_start", "-pk"]
        permissions = [("approve_followupreport", _("Can approve follow-up reports (managers)"))]

    def __str__(self):
        return _("Follow-up report %(start)s – %(end)s") % {
            "start": self.period_start.isoformat(),
            "end": self.period_end.isoformat(),
        }

    @property
    def is_editable(self):
        return self.state in (ReportState.DRAFT, ReportState.REJECTED)


class ActionStatus(models.TextChoices):
    OPEN = "open", _("Open")
    DONE = "done", _("Done")


class ActionItemQuerySet(models.QuerySet):
    def overdue(self, today):
        return self.filter(status=ActionStatus.OPEN, due_on__lt=today)


class ActionItem(models.Model):
    report = models.ForeignKey(
        FollowUpReport, on_delete=models.PROTECT, related_name="actions", verbose_name=_("report")
    )
    problem = models.TextField(_("problem or suggestion"))
    action = models.TextField(_("action"))
    department = models.ForeignKey(
        "staff.Department", on_delete=models.PROTECT, related_name="+",
        verbose_name=_("owner department"),
    )  # fmt: skip
    due_on = models.DateField(_("due"))
    status = models.CharField(
        _("status"), max_length=6, choices=ActionStatus.choices, default=ActionStatus.OPEN
    )
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True,
        blank=True, editable=False, verbose_name=_("closed by"),
    )  # fmt: skip
    outcome = models.TextField(_("outcome"), blank=True)

    objects = ActionItemQuerySet.as_manager()

    class Meta:
        app_label = "callbacks"
        verbose_name = _("follow-up action item")
        verbose_name_plural = _("follow-up action items")
        ordering = ["status", "due_on", "pk"]
        indexes = [
            # The overdue filter and the daily reminder: open items by due date.
            models.Index(fields=["status", "due_on"], name="actionitem_status_due_idx"),
        ]

    def __str__(self):
        return self.action[:60]
