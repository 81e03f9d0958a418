"""Follow-up questionnaires (回访问卷).

A Questionnaire is built in the admin as numbered versions. A version is a draft while it is
being written; publishing it makes it the one in use and retires the previous one. Published
and retired versions are read-only, so an answer always points at the exact wording the
customer saw. Changing a questionnaire in use means starting a new draft version (a copy).
"""

import datetime
import re

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from complaints.models import BoundedTextField

from .languages import in_language, validate_translations


class QuestionKind(models.TextChoices):
    SCALE5 = "scale5", _("Rating scale")
    SINGLE = "single", _("Single choice")
    MULTIPLE = "multiple", _("Multiple choice")
    TEXT = "text", _("Open text")


CHOICE_KINDS = (QuestionKind.SCALE5, QuestionKind.SINGLE, QuestionKind.MULTIPLE)


class ProblemCategory(models.TextChoices):
    """The handbook's classes of problems found in a follow-up (§2)."""

    PRODUCT_QUALITY = "product_quality", _("Product quality")
    SERVICE_ATTITUDE = "service_attitude", _("Service attitude")
    TECHNICAL_SUPPORT = "technical_support", _("Technical support")
    DELIVERY = "delivery", _("Delivery")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PUBLISHED = "published", _("Published")
    RETIRED = "retired", _("Retired")


# The handbook's wording sets for rating scales, best first, as (label, score). Labels are
# questionnaire content shown to customers in Chinese, so they are data, not msgids.
# "needs" has only four options in the handbook; it is scored 5/4/3/1 so that every scale
# shares the 1-5 range and "4 or 5 = positive" (the satisfaction-rate rule) means the same
# thing on every question: 完全满足 and 基本满足 count as positive, 不满足 is the bottom.
SCALE_SETS = {
    "satisfaction": [("非常满意", 5), ("满意", 4), ("一般", 3), ("不满意", 2), ("非常不满意", 1)],
    "quality": [("很好", 5), ("较好", 4), ("一般", 3), ("较差", 2), ("很差", 1)],
    "promptness": [("总是能", 5), ("经常能", 4), ("有时能", 3), ("很少能", 2), ("不能", 1)],
    "needs": [("完全满足", 5), ("基本满足", 4), ("部分满足", 3), ("不满足", 1)],
}

TEXT_ANSWER_MAX_LENGTH = 2000


class Questionnaire(models.Model):
    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Inactive questionnaires are not sent out.")
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("questionnaire")
        verbose_name_plural = _("questionnaires")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def published_version(self):
        return self.versions.filter(status=VersionStatus.PUBLISHED).first()


HOTLINE_PLACEHOLDER = "{热线}"


def with_hotline(text):
    hotline = getattr(settings, "SERVICE_HOTLINE", "")
    if not hotline:
        # The phrase that names it goes too, in each customer language's wording.
        label = r"(客服热线|热线|customer service hotline|カスタマーサービス|고객센터)?"
        pattern = r"[：:，,]?\s*" + label + r"[：:]?\s*" + re.escape(HOTLINE_PLACEHOLDER)
        return re.sub(pattern, "", text).rstrip()
    return text.replace(HOTLINE_PLACEHOLDER, hotline)


class QuestionnaireVersion(models.Model):
    questionnaire = models.ForeignKey(
        Questionnaire,
        on_delete=models.PROTECT,
        related_name="versions",
        verbose_name=_("questionnaire"),
    )
    number = models.PositiveIntegerField(_("version"))
    greeting = models.TextField(
        _("greeting"), blank=True, help_text=_("Thanks the customer and states the purpose.")
    )
    closing = models.TextField(
        _("closing"), blank=True, help_text=_("Thanks again and says how to contact us.")
    )
    greeting_translations = models.JSONField(
        _("greeting in other languages"), default=dict, blank=True,
        validators=[validate_translations], help_text=_('Other languages, e.g. {"en": "…", "ja": "…", "ko": "…"}; Chinese is used where one is missing.'),
    )  # fmt: skip
    closing_translations = models.JSONField(
        _("closing in other languages"), default=dict, blank=True,
        validators=[validate_translations], help_text=_('Other languages, e.g. {"en": "…", "ja": "…", "ko": "…"}; Chinese is used where one is missing.'),
    )  # fmt: skip
    status = models.CharField(
        _("status"), max_length=20, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )

    class Meta:
        verbose_name = _("questionnaire version")
        verbose_name_plural = _("questionnaire versions")
        ordering = ["questionnaire", "-number"]
        constraints = [
            models.UniqueConstraint(
                fields=["questionnaire", "number"], name="callbacks_questionnaire_version_number"
            ),
            models.UniqueConstraint(
                fields=["questionnaire"],
                condition=Q(status="published"),
                name="callbacks_one_published_version",
            ),
        ]

    def __str__(self):
        return _("%(name)s v%(number)s") % {"name": self.questionnaire.name, "number": self.number}

    @property
    def closing_text(self):
        """The closing as customers read it: {热线} becomes the service hotline (the
        SERVICE_HOTLINE setting); with none set, "客服热线 {热线}" is left out."""
        return with_hotline(self.closing)

    @property
    def is_editable(self):
        return self.status == VersionStatus.DRAFT

    def greeting_in(self, language):
        return in_language(self.greeting, self.greeting_translations, language)

    def closing_in(self, language):
        """The closing in `language` (Chinese when it has none), {热线} filled in."""
        return with_hotline(in_language(self.closing, self.closing_translations, language))


class Question(models.Model):
    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.CASCADE,
        related_name="questions",
        verbose_name=_("questionnaire version"),
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    code = models.SlugField(
        _("code"),
        max_length=50,
        help_text=_("A stable key, kept across versions (e.g. overall, quality)."),
    )
    text = models.CharField(_("question"), max_length=500)
    translations = models.JSONField(
        _("question in other languages"), default=dict, blank=True,
        validators=[validate_translations], help_text=_('Other languages, e.g. {"en": "…", "ja": "…", "ko": "…"}; Chinese is used where one is missing.'),
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=20, choices=QuestionKind.choices)
    required = models.BooleanField(_("required"), default=True)
    is_overall_satisfaction = models.BooleanField(
        _("overall satisfaction"),
        default=False,
        help_text=_("Its score feeds the satisfaction metrics. At most one per version."),
    )
    problem_category = models.CharField(
        _("problem category"),
        max_length=30,
        choices=ProblemCategory.choices,
        blank=True,
        help_text=_("For “did you have a problem?” questions: the class a reported problem gets."),
    )

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["version", "order", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "code"], name="callbacks_question_code_per_version"
            ),
            models.UniqueConstraint(
                fields=["version"],
                condition=Q(is_overall_satisfaction=True),
                name="callbacks_one_overall_question",
            ),
        ]

    def __str__(self):
        return self.text

    @property
    def has_choices(self):
        return self.kind in CHOICE_KINDS

    def text_in(self, language):
        return in_language(self.text, self.translations, language)


class Choice(models.Model):
    question = models.ForeignKey(
        Question, on_delete=models.CASCADE, related_name="choices", verbose_name=_("question")
    )
    order = models.PositiveIntegerField(_("order"), default=0)
    label = models.CharField(_("label"), max_length=200)
    translations = models.JSONField(
        _("label in other languages"), default=dict, blank=True,
        validators=[validate_translations], help_text=_('Other languages, e.g. {"en": "…", "ja": "…", "ko": "…"}; Chinese is used where one is missing.'),
    )  # fmt: skip
    score = models.SmallIntegerField(
        _("score"),
        null=True,
        blank=True,
        help_text=_("For rating scales: 5 for the best option down to 1."),
    )

    class Meta:
        verbose_name = _("choice")
        verbose_name_plural = _("choices")
        ordering = ["question", "order", "id"]

    def __str__(self):
        return self.label

    def label_in(self, language):
        return in_language(self.label, self.translations, language)


# ---------------------------------------------------------------------------------------------
# Surveys, follow-up calls and their answers


class SurveyChannel(models.TextChoices):
    EMAIL = "email", _("E-mail link")
    SMS = "sms", _("SMS link")
    PHONE = "phone", _("Phone callback")


class SurveyStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    ANSWERED = "answered", _("Answered")
    EXPIRED = "expired", _("Expired unanswered")
    FAILED = "failed", _("Could not be sent")
    CANCELLED = "cancelled", _("Cancelled")


class Method(models.TextChoices):
    """How a follow-up was made (回访方式)."""

    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    ONLINE = "online", _("Online questionnaire")
    FACE = "face", _("Face to face")


class Grade(models.TextChoices):
    """The handbook's grades for a problem found in a follow-up."""

    MAJOR = "major", _("Major")
    IMPORTANT = "important", _("Important")
    GENERAL = "general", _("General")


def _of_visible_cases(queryset, user, *also):
    """Rows of cases `user` may see (Case.objects.visible_to is the one rule), plus rows about
    no case (deliveries, samples, periodic calls: the callback team's own work) and `also`."""
    if user.sees_all_departments:
        return queryset
    from complaints.models import Case

    q = Q(case__isnull=True) | Q(case__in=Case.objects.visible_to(user).values("pk"))
    for extra in also:
        q |= extra
    return queryset.filter(q)


class SurveyQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _of_visible_cases(self, user)


class ResponseQuerySet(models.QuerySet):
    def visible_to(self, user):
        return _of_visible_cases(self, user)


class Survey(models.Model):
    """The satisfaction survey of one case (满意度回访). One per case, ever: the one-to-one
    key is what makes "never twice for the same case" hold whatever the sweeps do."""

    case = models.OneToOneField(
        "complaints.Case", on_delete=models.PROTECT, related_name="survey", verbose_name=_("case")
    )
    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="surveys",
        verbose_name=_("customer"),
    )
    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="surveys",
        verbose_name=_("questionnaire version"),
    )
    channel = models.CharField(_("channel"), max_length=10, choices=SurveyChannel.choices)
    status = models.CharField(
        _("status"), max_length=12, choices=SurveyStatus.choices, default=SurveyStatus.SCHEDULED
    )
    # The random half of the link's token; the signature is the other half (see tokens.py).
    nonce = models.CharField(max_length=32, unique=True, editable=False)
    send_at = models.DateTimeField(_("send at"))
    window_ends_at = models.DateTimeField(
        _("follow-up window ends"), help_text=_("From the plan's satisfaction follow-up stage.")
    )
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    expires_at = models.DateTimeField(_("link expires"), null=True, blank=True)
    remind_at = models.DateTimeField(_("reminder due"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("send attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    # Set by the sweep's conditional UPDATE: the rows one sweep run owns (see services).
    claim = models.CharField(max_length=32, blank=True, editable=False, db_index=True)
    claimed_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    objects = SurveyQuerySet.as_manager()

    class Meta:
        verbose_name = _("satisfaction survey")
        verbose_name_plural = _("satisfaction surveys")
        ordering = ["-send_at"]
        indexes = [
            models.Index(fields=["status", "send_at"], name="callbacks_survey_due"),
            models.Index(fields=["status", "remind_at"], name="callbacks_survey_remind"),
            models.Index(fields=["status", "expires_at"], name="callbacks_survey_expiry"),
        ]

    def __str__(self):
        return _("Survey for %(case)s") % {"case": self.case.number}

    @property
    def is_open(self):
        return self.status in (SurveyStatus.SENT,) and self.answered_at is None


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


class Response(models.Model):
    """A customer's answers to one questionnaire version, from a survey link or a call."""

    version = models.ForeignKey(
        QuestionnaireVersion,
        on_delete=models.PROTECT,
        related_name="responses",
        verbose_name=_("questionnaire version"),
    )
    customer = models.ForeignKey(
        "complaints.Customer",
        on_delete=models.PROTECT,
        related_name="survey_responses",
        verbose_name=_("customer"),
    )
    case = models.ForeignKey(
        "complaints.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="survey_responses",
        verbose_name=_("case"),
    )
    survey = models.OneToOneField(
        Survey,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="response",
        verbose_name=_("survey"),
    )
    followup = models.OneToOneField(
        FollowUp,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="response",
        verbose_name=_("follow-up call"),
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices)
    answered_at = models.DateTimeField(_("answered at"), default=timezone.now, db_index=True)
    overall_score = models.PositiveSmallIntegerField(_("overall score"), null=True, blank=True)
    has_problem = models.BooleanField(_("reported a problem"), default=False)
    suggestions = BoundedTextField(_("suggestions"), blank=True)
    # Snapshots for the metrics' group-by: who and which channel the answer is about.
    department = models.ForeignKey(
        "staff.Department",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("department"),
    )
    agent = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("agent"),
    )
    case_channel = models.CharField(_("case channel"), max_length=10, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )

    objects = ResponseQuerySet.as_manager()

    class Meta:
        verbose_name = _("questionnaire answer")
        verbose_name_plural = _("questionnaire answers")
        ordering = ["-answered_at"]
        # The answer list's filters.
        indexes = [
            models.Index(fields=["method", "-answered_at"], name="callbacks_response_method"),
            models.Index(fields=["overall_score"], name="callbacks_response_score"),
            models.Index(
                fields=["-answered_at"],
                name="callbacks_response_problem",
                condition=Q(has_problem=True),
            ),
        ]

    def __str__(self):
        return _("%(customer)s on %(at)s") % {
            "customer": self.customer,
            "at": timezone.localtime(self.answered_at).strftime("%Y-%m-%d"),
        }


class Answer(models.Model):
    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="answers", verbose_name=_("answers")
    )
    question = models.ForeignKey(
        Question, on_delete=models.PROTECT, related_name="+", verbose_name=_("question")
    )
    choice = models.ForeignKey(
        Choice,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("choice"),
    )
    text = BoundedTextField(_("text"), blank=True)

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")
        ordering = ["response", "question__order", "pk"]

    def __str__(self):
        return self.choice.label if self.choice_id else self.text


class ProblemReport(models.Model):
    """A problem a customer raised in a follow-up: classified, graded, and turned into a case."""

    response = models.ForeignKey(
        Response, on_delete=models.CASCADE, related_name="problems", verbose_name=_("answers")
    )
    category = models.CharField(
        _("problem category"), max_length=30, choices=ProblemCategory.choices
    )
    grade = models.CharField(_("grade"), max_length=10, choices=Grade.choices)
    description = BoundedTextField(_("description"))
    case = models.OneToOneField(
        "complaints.Case",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="source_problem",
        verbose_name=_("case opened"),
    )

    class Meta:
        verbose_name = _("problem found")
        verbose_name_plural = _("problems found")
        ordering = ["-pk"]

    def __str__(self):
        return self.description[:50]


class SatisfactionSummary(Response):
    """No data of its own: the admin's satisfaction summary page (满意度统计) hangs on it, and
    its one permission, "view", is who may see the satisfaction figures (page and API)."""

    class Meta:
        proxy = True
        verbose_name = _("satisfaction summary")
        verbose_name_plural = _("satisfaction summary")
        default_permissions = ("view",)


from .followup_report import ActionItem, FollowUpReport  # noqa: E402, F401
from .opinions import OpinionCategory  # noqa: E402, F401
from .recall import Compensation, RecallCampaign, RecallContact  # noqa: E402, F401
from .rewards import RewardCoupon  # noqa: E402, F401
