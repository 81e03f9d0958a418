"""Follow-up calls: plans (periodic by tier, after delivery), deliveries, samples, the
follow-ups themselves and each attempt at one."""

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from complaints.models import BoundedTextField

from .models_questionnaires import Questionnaire, QuestionnaireVersion
from .models_surveys import Method, Survey, _of_visible_cases


class FollowUpPlanKind(models.TextChoices):
    TIER = "tier", _("Periodic, by customer tier")
    DELIVERY = "delivery", _("After delivery")


class FollowUpPlan(models.Model):
    """When customers are called without a case: periodic care by tier, and after delivery."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=10, choices=FollowUpPlanKind.choices)
    tier = models.CharField(
        _("customer tier"),
        max_length=12,
        blank=True,
        help_text=_("For periodic plans: the tier it covers (one plan per tier)."),
    )
    every_months = models.PositiveSmallIntegerField(
        _("every (months)"),
        null=True,
        blank=True,
        help_text=_("For periodic plans: 1 = monthly, 3 = quarterly, 6 = half-yearly."),
    )
    working_days_after_delivery = models.PositiveSmallIntegerField(
        _("within (working days after delivery)"), null=True, blank=True
    )
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("questionnaire"),
        help_text=_("Empty: the satisfaction questionnaire."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    # 003: the plan needs a manager's approval before it generates calls; changing its rules
    # takes the approval away again.
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        verbose_name=_("approved by"),
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("follow-up plan")
        verbose_name_plural = _("follow-up plans")
        ordering = ["kind", "name"]
        permissions = [("approve_followupplan", _("Can approve follow-up plans (managers)"))]
        constraints = [
            models.UniqueConstraint(
                fields=["tier"],
                condition=Q(kind="tier", is_active=True),
                name="callbacks_one_active_plan_per_tier",
            ),
        ]

    def __str__(self):
        return self.name


class Delivery(models.Model):
    """A delivered order (from the order system): its first follow-up is due within the
    delivery plan's working days."""

    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="deliveries",
        verbose_name=_("customer"),
    )
    order_no = models.CharField(_("order number"), max_length=64, unique=True)
    product = models.CharField(_("product"), max_length=200, blank=True)
    amount = models.DecimalField(
        _("amount"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    delivered_at = models.DateTimeField(_("delivered at"), db_index=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-delivered_at"]

    def __str__(self):
        return self.order_no


class Sample(models.Model):
    """A stratified sample of customers to call (抽样), reproducible from its seed."""

    name = models.CharField(_("name"), max_length=100)
    size = models.PositiveIntegerField(_("sample size"))
    seed = models.BigIntegerField(
        _("seed"), help_text=_("The same seed and population give the same sample.")
    )
    min_new_share = models.DecimalField(
        _("minimum share of new customers"),
        max_digits=3,
        decimal_places=2,
        default=0,
        help_text=_(
            "For example 0.20: at least one in five sampled customers is new (when there are enough)."
        ),
    )
    new_within_days = models.PositiveSmallIntegerField(
        _("new customer = first contact within (days)"), default=90
    )
    population = models.PositiveIntegerField(_("population"), default=0, editable=False)
    strata = models.JSONField(_("strata"), default=list, blank=True, editable=False)
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("questionnaire"),
    )
    due_at = models.DateTimeField(_("calls due"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("sample")
        verbose_name_plural = _("samples")
        ordering = ["-created_at"]

    def __str__(self):
        return self.name


class FollowUpPurpose(models.TextChoices):
    SATISFACTION = "satisfaction", _("Satisfaction after a case")
    DELIVERY = "delivery", _("After delivery")
    PERIODIC = "periodic", _("Periodic care")
    SAMPLE = "sample", _("Sample")
    RECALL = "recall", _("Product recall")


class FollowUpStatus(models.TextChoices):
    PENDING = "pending", _("To call")
    DONE = "done", pgettext_lazy("status", "Done")
    UNREACHABLE = "unreachable", _("Unreachable")
    CANCELLED = "cancelled", _("Cancelled")


def local_day(now):
    """Today's bounds in local time: [start, end). What "today" and "overdue" mean in the
    callback queue."""
    start = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


class FollowUpQuerySet(models.QuerySet):
    def pending(self):
        return self.filter(status=FollowUpStatus.PENDING)

    def due_by(self, moment):
        return self.pending().filter(due_at__lte=moment)

    def overdue(self, now):
        """Pending and due before today began (local time)."""
        return self.pending().filter(due_at__lt=local_day(now)[0])

    def due_today(self, now):
        start, end = local_day(now)
        return self.pending().filter(due_at__gte=start, due_at__lt=end)

    def due_later(self, now):
        return self.pending().filter(due_at__gte=local_day(now)[1])

    def visible_to(self, user):
        """Follow-ups of cases `user` may see, about no case, or assigned to `user`."""
        return _of_visible_cases(self, user, Q(assignee=user))


class FollowUp(models.Model):
    """One follow-up call to make: an item of the agents' callback queue (回访任务)."""

    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="followups",
        verbose_name=_("customer"),
    )
    purpose = models.CharField(_("purpose"), max_length=12, choices=FollowUpPurpose.choices)
    case = models.ForeignKey(
        "complaints.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("case"),
    )
    survey = models.OneToOneField(
        Survey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followup",
        verbose_name=_("survey"),
    )
    delivery = models.OneToOneField(
        Delivery,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followup",
        verbose_name=_("delivery"),
    )
    plan = models.ForeignKey(
        FollowUpPlan,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("follow-up plan"),
    )
    period = models.CharField(
        _("period"),
        max_length=10,
        blank=True,
        help_text=_("For periodic care: 2026-12, 2026-Q4, 2026-H2."),
    )
    sample = models.ForeignKey(
        Sample,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("sample"),
    )
    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="followups",
        verbose_name=_("questionnaire version"),
    )
    due_at = models.DateTimeField(_("due"))
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="followups",
        verbose_name=_("agent"),
    )
    status = models.CharField(
        _("status"),
        max_length=12,
        choices=FollowUpStatus.choices,
        default=FollowUpStatus.PENDING,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    max_attempts = models.PositiveSmallIntegerField(_("attempts before unreachable"), default=3)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = FollowUpQuerySet.as_manager()

    class Meta:
        verbose_name = _("follow-up call")
        verbose_name_plural = _("follow-up calls")
        ordering = ["due_at", "pk"]
        indexes = [
            models.Index(fields=["status", "due_at"], name="callbacks_followup_due"),
            models.Index(fields=["assignee", "status", "due_at"], name="callbacks_followup_mine"),
            models.Index(fields=["purpose", "status"], name="callbacks_followup_purpose"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "customer", "period"],
                condition=Q(plan__isnull=False) & ~Q(period=""),
                name="callbacks_one_followup_per_plan_period",
            ),
            models.UniqueConstraint(
                fields=["sample", "customer"],
                condition=Q(sample__isnull=False),
                name="callbacks_one_followup_per_sample_customer",
            ),
        ]

    def __str__(self):
        return _("%(purpose)s: %(customer)s") % {
            "purpose": self.get_purpose_display(),
            "customer": self.customer,
        }


class CallAttempt(models.Model):
    """One try at a follow-up (电话/邮件/面对面): reached or not."""

    followup = models.ForeignKey(
        FollowUp, on_delete=models.CASCADE, related_name="attempt_log", verbose_name=_("follow-up")
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("agent"),
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    at = models.DateTimeField(_("time"), default=timezone.now)
    reached = models.BooleanField(_("reached the customer"))
    note = BoundedTextField(_("note"), blank=True)

    class Meta:
        verbose_name = _("call attempt")
        verbose_name_plural = _("call attempts")
        ordering = ["followup", "at"]

    def __str__(self):
        return f"{self.followup_id} {self.at:%Y-%m-%d %H:%M}"
