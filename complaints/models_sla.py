"""Deadlines and escalation: which deadlines are pending (as a query), escalations raised, and
technical requests to other departments."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from servicedesk.staff.models import Department

from . import sla
from .choices import ACTIVE_STATES, FINAL_STATES, State
from .fields import BoundedTextField
from .models_case import Case

# --- deadlines and escalation --------------------------------------------------------------


def deadline_pending_q(stage):
    """Case.pending_deadlines as a query, for one stage: its deadline is set and not yet met,
    and the case is in a state where the stage still applies. Reports and alerts count
    deadlines with it, so they read "missed" exactly as the case page does."""
    due, done = sla.CASE_STAGES[stage]
    q = Q(**{f"{done}__isnull": True, f"{due}__isnull": False})
    if stage == sla.FIRST_RESPONSE:
        return q & ~Q(state__in=FINAL_STATES)
    if stage == sla.SATISFACTION:
        return q & Q(state=State.RESOLVED)
    return q & Q(state__in=ACTIVE_STATES)


class SlaStage(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    INVESTIGATION = "investigation", _("Investigation")
    SOLUTION = "solution_to_customer", _("Solution to customer")
    NEXT_CONTACT = "next_contact", _("Promised contact")
    DAILY_UPDATE = "daily_update", _("Daily progress update")
    SATISFACTION = "satisfaction_followup", _("Satisfaction follow-up")
    TECH_COLLABORATION = "tech_collaboration", _("Technical collaboration")


# {stage: label} (lazy: each str() is in the active language), for pages and notifications.
STAGE_LABELS = dict(SlaStage.choices)


class SlaBreach(models.Model):
    """A deadline that passed unmet, and each escalation it caused (level 1: the department's
    supervisors; level 2: the managers). One row per (case, stage, deadline, level): the
    unique constraint is what makes a doubled sweep escalate once."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="breaches", verbose_name=_("case"),
        db_index=False,  # breach_once_per_level leads with it
    )  # fmt: skip
    technical_request = models.ForeignKey(
        "TechnicalRequest", on_delete=models.CASCADE, null=True, blank=True,
        related_name="breaches", verbose_name=_("technical request"),
        db_index=False,  # breach_request_idx: only the requests' breaches
    )  # fmt: skip
    stage = models.CharField(_("stage"), max_length=30, choices=SlaStage.choices)
    due_at = models.DateTimeField(_("was due"))
    level = models.PositiveSmallIntegerField(_("escalation level"))
    escalated_at = models.DateTimeField(_("escalated at"), default=timezone.now, db_index=True)
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("department"),
    )  # fmt: skip
    notified = models.JSONField(_("notified"), default=list, blank=True)

    class Meta:
        verbose_name = _("deadline breach")
        verbose_name_plural = _("deadline breaches")
        ordering = ["-escalated_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case", "stage", "due_at", "level"], name="breach_once_per_level"
            )
        ]
        indexes = [
            models.Index(fields=["stage", "escalated_at"], name="breach_stage_idx"),
            models.Index(
                fields=["technical_request"],
                name="breach_request_idx",
                condition=Q(technical_request__isnull=False),
            ),
        ]

    def __str__(self):
        return f"{self.case_id} {self.get_stage_display()} L{self.level}"


class TechnicalRequest(models.Model):
    """A case asks another department (e.g. 技术部) for help, with its own deadline (2 h in
    the default plan) that escalates like the case's own."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="technical_requests", verbose_name=_("case")
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="technical_requests",
        verbose_name=_("asked department"),
    )  # fmt: skip
    question = BoundedTextField(_("question"))
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+",
        verbose_name=_("requested by"),
    )  # fmt: skip
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    due_at = models.DateTimeField(_("answer due"))
    answer = BoundedTextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True,
        related_name="+", verbose_name=_("answered by"),
    )  # fmt: skip
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(_("escalation level"), default=0)
    next_escalation_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("technical collaboration request")
        verbose_name_plural = _("technical collaboration requests")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(
                fields=["next_escalation_at"],
                name="techreq_next_escalation_idx",
                condition=Q(next_escalation_at__isnull=False),
            ),
            models.Index(fields=["department", "answered_at"], name="techreq_dept_idx"),
        ]

    def __str__(self):
        return f"{self.case_id} → {self.department}"
