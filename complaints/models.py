"""Cases (投诉 / 客户需求工单): customers, the case and its lifecycle, contacts, the timeline,
evidence, routing and urgency rules, return/exchange data.

The case lifecycle is a django-fsm state machine. Transition methods only change the
instance; `services.case_transition` locks the row, calls them, saves and writes the
timeline. The state field is protected: nothing assigns it directly.
"""

import datetime
import os
import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Right, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMModelMixin, transition

from knowledge import text
from servicedesk import customer_language
from servicedesk.staff.models import Department

from . import filetypes, sla

# Free text a person typed (a description, a note, an answer): long enough for any real
# message, short enough that a 4 MB paste is a field error instead of a row nobody can open.
TEXT_MAX_LENGTH = 10_000


class BoundedTextField(models.TextField):
    """A TextField whose max_length (TEXT_MAX_LENGTH unless given) is checked like a
    CharField's: by forms, serializers and full_clean (the database does not limit it)."""

    def __init__(self, *args, max_length=TEXT_MAX_LENGTH, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        self.validators.append(MaxLengthValidator(self.max_length))


# A time promised to a customer (next contact, expected resolution) lies at most this far ahead.
PROMISE_MAX_DAYS = 730


def validate_promised_time(value):
    """No promise further ahead than PROMISE_MAX_DAYS: the deadline engine adds working days
    and hours to it (the year 9999 would overflow), and nobody promises a call in 2031."""
    if value is not None and value > timezone.now() + datetime.timedelta(days=PROMISE_MAX_DAYS):
        raise ValidationError(
            _("This time is too far ahead (at most %(years)s years)."),
            params={"years": PROMISE_MAX_DAYS // 365},
            code="too_far_ahead",
        )


# Goods bought longer ago than this are not returned: an older purchase date is a typo.
PURCHASE_MAX_AGE_YEARS = 10


# --- choices ----------------------------------------------------------------------------


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    WEB = "web", _("Web form")
    CHAT = "chat", _("Online chat")
    SOCIAL = "social", _("Social media")
    STORE = "store", _("Store")
    CALLBACK = "callback", _("Follow-up call")
    API = "api", _("API")
    WECHAT = "wechat", _("WeChat")


class CaseType(models.TextChoices):
    CONSULTATION = "consultation", _("Consultation")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    FEATURE_REQUEST = "feature_request", _("Feature request")
    RETURN_EXCHANGE = "return_exchange", _("Return / exchange")
    OTHER = "other", _("Other")


class Category(models.TextChoices):
    PRODUCT = "product", _("Product")
    SERVICE = "service", _("Service")
    LOGISTICS = "logistics", _("Logistics")
    PROCESS = "process", _("Process")
    TECHNICAL = "technical", _("Technical")
    OTHER = "other", _("Other")


class Urgency(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


URGENCY_RANK = {Urgency.LOW: 0, Urgency.MEDIUM: 1, Urgency.HIGH: 2}


class ContactMethod(models.TextChoices):
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")
    WECHAT = "wechat", _("WeChat")


class CustomerKind(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ENTERPRISE = "enterprise", _("Enterprise")


class CustomerTier(models.TextChoices):
    KEY = "key", _("Key account")
    HIGH_VALUE = "high_value", _("High value")
    ORDINARY = "ordinary", _("Ordinary")
    LOW_VALUE = "low_value", _("Low value")


class State(models.TextChoices):
    RECEIVED = "received", _("Received")
    ASSIGNED = "assigned", _("Assigned")
    INVESTIGATING = "investigating", _("Investigating")
    SOLUTION_PROPOSED = "solution_proposed", _("Solution proposed")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")
    REOPENED = "reopened", _("Reopened")
    MERGED = "merged", _("Merged")
    CANCELLED = "cancelled", _("Cancelled")


# Active: somebody still has work to do. Resolved cases wait for the satisfaction step.
ACTIVE_STATES = [
    State.RECEIVED,
    State.ASSIGNED,
    State.INVESTIGATING,
    State.SOLUTION_PROPOSED,
    State.REOPENED,
]
OPEN_STATES = [*ACTIVE_STATES, State.RESOLVED]
FINAL_STATES = [State.CLOSED, State.MERGED, State.CANCELLED]


# --- normalisation and masking ----------------------------------------------------------

_NON_DIGIT = re.compile(r"\D+")


def normalize_phone(value):
    """Digits only, without the +86 / 0086 country prefix: '+86 138-0013-8000' -> '13800138000'."""
    digits = _NON_DIGIT.sub("", value or "")
    if digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    return digits


def normalize_email(value):
    return (value or "").strip().lower()


def normalize_member_no(value):
    return re.sub(r"\s+", "", value or "").upper()


def mask_phone(value):
    """'13800138000' -> '138****8000'; short numbers keep only their last two digits."""
    if not value:
        return ""
    v = value.strip()
    if len(v) >= 7:
        return f"{v[:3]}****{v[-4:]}"
    return "*" * max(len(v) - 2, 0) + v[-2:]


def display_phone(value, *, masked=False):
    """One form for every phone shown: a mainland mobile as '138 1234 5678' ('138 **** 5678'
    masked), whatever was typed (+86 138-1234-5678, 13812345678); other numbers as typed
    (mask_phone when masked)."""
    digits = normalize_phone(value)
    if len(digits) == 11 and digits.startswith("1"):
        middle = "****" if masked else digits[3:7]
        return f"{digits[:3]} {middle} {digits[7:]}"
    return mask_phone(value) if masked else (value or "").strip()


def mask_email(value):
    """'zhangsan@example.com' -> 'zh***@example.com'."""
    if not value or "@" not in value:
        return value or ""
    local, domain = value.split("@", 1)
    return f"{local[:2]}***@{domain}"


# --- customers ---------------------------------------------------------------------------


class Customer(models.Model):
    """A customer as we know them across channels; matched by normalised phone, e-mail or
    member number. Never deleted: anonymised on request or after retention (PIPL)."""

    name = models.CharField(_("name"), max_length=100)
    member_no = models.CharField(_("member number"), max_length=40, blank=True)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    preferred_contact = models.CharField(
        _("preferred contact method"),
        max_length=10,
        choices=ContactMethod.choices,
        default=ContactMethod.PHONE,
    )
    # The language we write to them in and serve their pages in (004: multilingual service).
    language = models.CharField(
        _("language"),
        max_length=10,
        choices=customer_language.choices,
        default="zh-hans",
        help_text=_("Surveys and replies to this customer are sent in this language."),
    )
    kind = models.CharField(
        _("customer type"),
        max_length=12,
        choices=CustomerKind.choices,
        default=CustomerKind.INDIVIDUAL,
    )
    tier = models.CharField(
        _("customer tier"),
        max_length=12,
        choices=CustomerTier.choices,
        default=CustomerTier.ORDINARY,
    )
    company = models.CharField(_("company"), max_length=200, blank=True)
    # From the order system; they place the customer in the follow-up sampling strata.
    purchase_amount = models.DecimalField(
        _("purchases in the last 12 months (yuan)"), max_digits=14, decimal_places=2, default=0
    )
    purchase_count = models.PositiveIntegerField(_("orders in the last 12 months"), default=0)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    phone_normalized = models.CharField(max_length=32, blank=True, editable=False, db_index=True)
    email_normalized = models.CharField(max_length=254, blank=True, editable=False, db_index=True)
    member_no_normalized = models.CharField(
        max_length=40, blank=True, editable=False, db_index=True
    )
    created_at = models.DateTimeField(_("first contact"), default=timezone.now, editable=False)
    anonymized_at = models.DateTimeField(_("anonymised at"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")
        ordering = ["-created_at"]
        indexes = [
            # Periodic follow-ups walk one tier's customers in id order.
            models.Index(fields=["tier", "id"], name="customer_tier_idx"),
            # Search by the last four digits of the phone (尾号): complaints/lookup.py.
            models.Index(Right("phone_normalized", 4), name="customer_phone_tail_idx"),
        ]

    def __str__(self):
        return self.name

    def save(self, *args, **kwargs):
        # Derived matching keys: always in step with what they are derived from.
        self.phone_normalized = normalize_phone(self.phone)
        self.email_normalized = normalize_email(self.email)
        self.member_no_normalized = normalize_member_no(self.member_no)
        super().save(*args, **kwargs)

    def clean(self):
        if self.phone and not 5 <= len(normalize_phone(self.phone)) <= 15:
            raise ValidationError({"phone": _("Enter a valid phone number.")})
        if not (self.phone or self.email or self.member_no):
            raise ValidationError(
                _("Give at least one way to reach the customer: phone, e-mail or member number.")
            )

    @property
    def phone_masked(self):
        return mask_phone(self.phone)

    @property
    def email_masked(self):
        return mask_email(self.email)


# --- rules -------------------------------------------------------------------------------


def split_keywords(text):
    """Keywords separated by commas (either width), semicolons, 、 or new lines."""
    return [k.strip() for k in re.split(r"[,，;；、\n]+", text or "") if k.strip()]


class UrgencyRule(models.Model):
    """A keyword rule that raises urgency and priority on intake (曝光, 律师, 12315 …)."""

    name = models.CharField(_("name"), max_length=100)
    keywords = models.TextField(
        _("keywords"),
        help_text=_("Separated by commas or new lines; any one matching fires the rule."),
    )
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices)
    priority = models.PositiveSmallIntegerField(
        _("priority at least"), validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("urgency rule")
        verbose_name_plural = _("urgency rules")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.name

    def matched_keyword(self, text):
        text = (text or "").lower()
        return next((k for k in split_keywords(self.keywords) if k.lower() in text), None)


class RoutingRule(models.Model):
    """Maps type / category / keywords / product to the department that handles the case.
    Rules are tried in order; the first whose every filled condition matches wins."""

    name = models.CharField(_("name"), max_length=100)
    case_type = models.CharField(_("type"), max_length=20, choices=CaseType.choices, blank=True)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices, blank=True)
    keywords = models.TextField(
        _("keywords"), blank=True, help_text=_("Any one in the subject or description matches.")
    )
    product = models.CharField(
        _("product contains"),
        max_length=100,
        blank=True,
        help_text=_("Upper and lower case are treated alike."),
    )
    department = models.ForeignKey(
        Department, on_delete=models.PROTECT, related_name="+", verbose_name=_("department")
    )
    assign_automatically = models.BooleanField(
        _("assign to the least-loaded handler"), default=True
    )
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=100)

    class Meta:
        verbose_name = _("routing rule")
        verbose_name_plural = _("routing rules")
        ordering = ["order", "pk"]

    def __str__(self):
        return self.name

    def matches(self, *, case_type, category, text, product):
        if self.case_type and self.case_type != case_type:
            return False
        if self.category and self.category != category:
            return False
        if self.product and self.product.lower() not in (product or "").lower():
            return False
        words = split_keywords(self.keywords)
        return not words or any(w.lower() in (text or "").lower() for w in words)


# --- numbering ---------------------------------------------------------------------------


class CaseNumberSequence(models.Model):
    """The last case number issued per month; the row is locked while a number is taken."""

    period = models.CharField(max_length=6, primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case number sequence")
        verbose_name_plural = _("case number sequences")

    def __str__(self):
        return f"{self.period}: {self.last}"


# --- the case ----------------------------------------------------------------------------


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


# Beyond this many cases a department was asked to help with, they are read by a subquery.
COLLABORATION_LIST_MAX = 2000


def _visibility_ids(user):
    """(the user's department ids, the ids of the cases those departments were asked to help
    with — at most COLLABORATION_LIST_MAX + 1). One query, read once per user object (a
    request's user), like Django's permission cache."""
    if not hasattr(user, "_visibility_ids_cache"):
        from django.db import connections, router

        connection = connections[router.db_for_read(Case)]
        qn = connection.ops.quote_name
        memberships = qn(user.memberships.model._meta.db_table)
        through = qn(Case.collaborating_departments.through._meta.db_table)
        sql = (
            f"SELECT 'd', department_id FROM {memberships} WHERE user_id = %s UNION ALL "
            f"SELECT 'c', case_id FROM (SELECT DISTINCT case_id FROM {through} WHERE "
            f"department_id IN (SELECT department_id FROM {memberships} WHERE user_id = %s) "
            "LIMIT %s) helped"
        )
        departments, cases = [], []
        with connection.cursor() as cursor:
            cursor.execute(sql, [user.pk, user.pk, COLLABORATION_LIST_MAX + 1])
            for kind, pk in cursor.fetchall():
                (departments if kind == "d" else cases).append(pk)
        user._visibility_ids_cache = (departments, cases)
    return user._visibility_ids_cache


def user_department_ids(user):
    """The ids of the user's departments: as a list, an index can serve `department_id IN
    (…)`; a subquery inside an OR it cannot."""
    return _visibility_ids(user)[0]


def user_collaboration_case_ids(user):
    """The cases the user's departments were asked to help with (技术协作): a list of ids while
    short, else the subquery."""
    cases = _visibility_ids(user)[1]
    if len(cases) <= COLLABORATION_LIST_MAX:
        return cases
    return Case.collaborating_departments.through.objects.filter(
        department__in=user_department_ids(user)
    ).values("case_id")


class CaseQuerySet(models.QuerySet):
    def active(self):
        """Somebody still has work to do: the working queues."""
        return self.filter(state__in=ACTIVE_STATES)

    def open(self):
        """Not finished: active, or resolved and waiting for the satisfaction step."""
        return self.filter(state__in=OPEN_STATES)

    def overdue(self, now):
        """Open cases whose earliest unmet deadline (`current_due`: first response,
        investigation, solution, promised contact or satisfaction follow-up) has passed."""
        return self.open().filter(current_due__lt=now)

    def due_within(self, now, hours):
        """Open cases whose earliest unmet deadline falls in the next `hours` (not yet past)."""
        return self.open().filter(
            current_due__gte=now, current_due__lte=now + datetime.timedelta(hours=hours)
        )

    def visible_to(self, user):
        """Agents and handlers see their departments' cases (and their own); whoever may
        assign also sees the unrouted ones; supervisors, managers and administrators see all.

        Written so PostgreSQL can serve it from indexes (a bitmap OR of the department,
        assignee, creator and primary-key indexes, ANDed with a filter's index): the
        departments and the cases they help with as lists of ids, not subqueries, which
        inside an OR no index can serve."""
        if user.sees_all_departments:
            return self
        departments = user_department_ids(user)
        q = Q(department__in=departments) | Q(assignee=user) | Q(created_by=user)
        # A department asked to help (技术协作) sees the case it helps with.
        q |= Q(pk__in=user_collaboration_case_ids(user))
        if user.has_perm("complaints.assign_case"):
            # The triage queue: cases no rule routed wait for a dispatcher.
            q |= Q(department__isnull=True)
        return self.filter(q)

    def for_list(self):
        return self.select_related("customer", "department", "assignee")


def _can_work(case, user):
    """Object-level permission shared by the working transitions."""
    return user.has_perm("complaints.transition_case") and case.is_visible_to(user)


def _can_assign(case, user):
    return user.has_perm("complaints.assign_case") and case.is_visible_to(user)


def _can_cancel(case, user):
    return user.has_perm("complaints.cancel_case") and case.is_visible_to(user)


def _can_merge(case, user):
    return user.has_perm("complaints.merge_case") and case.is_visible_to(user)


class Case(ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("case number"), max_length=13, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    customer = models.ForeignKey(
        Customer, on_delete=models.PROTECT, related_name="cases", verbose_name=_("customer")
    )
    customer_is_new = models.BooleanField(
        _("new customer"), default=True, help_text=_("No earlier case from this customer.")
    )
    subject = models.CharField(_("subject"), max_length=200)
    description = BoundedTextField(_("description"), help_text=_("Objective, in our words."))
    customer_words = BoundedTextField(_("customer's own words"), blank=True)
    expected_outcome = BoundedTextField(_("expected outcome"), blank=True)
    prior_history = BoundedTextField(_("prior handling history"), blank=True)
    type = models.CharField(_("type"), max_length=20, choices=CaseType.choices)
    category = models.CharField(_("category"), max_length=20, choices=Category.choices)
    product = models.CharField(_("product"), max_length=200, blank=True)
    order_no = models.CharField(_("order number"), max_length=64, blank=True, db_index=True)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.MEDIUM
    )
    priority = models.PositiveSmallIntegerField(
        _("priority"),
        default=3,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text=_("1 lowest … 5 highest"),
    )
    urgency_reason = models.CharField(
        _("urgency rule fired"), max_length=200, blank=True, editable=False
    )
    department = models.ForeignKey(
        Department,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("lead department"),
    )
    collaborating_departments = models.ManyToManyField(
        Department,
        blank=True,
        related_name="collaborating_cases",
        verbose_name=_("collaborating departments"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("assignee"),
    )
    state = FSMField(
        _("state"), max_length=20, choices=State.choices, default=State.RECEIVED, protected=True
    )
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    cause = BoundedTextField(_("cause"), blank=True)
    solution = BoundedTextField(_("proposed solution"), blank=True)
    result = BoundedTextField(_("result"), blank=True)
    expected_resolution_at = models.DateTimeField(
        _("expected resolution"), null=True, blank=True, validators=[validate_promised_time]
    )
    next_contact_at = models.DateTimeField(
        _("next contact with customer"), null=True, blank=True, validators=[validate_promised_time]
    )
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True, editable=False)
    feedback_score = models.PositiveSmallIntegerField(
        _("customer feedback score"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
    )
    feedback_text = BoundedTextField(_("customer feedback"), blank=True)
    satisfaction_waived_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("satisfaction step waived by"),
        editable=False,
    )
    remarks = BoundedTextField(_("remarks"), blank=True)
    plan_revision = models.ForeignKey(
        "knowledge.PlanRevision",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("contingency plan revision"),
        editable=False,
        help_text=_("The published plan revision in force when the case was received."),
    )
    articles = models.ManyToManyField(
        "knowledge.Article",
        blank=True,
        related_name="source_cases",
        verbose_name=_("knowledge articles"),
        help_text=_("Articles written from this case."),
    )
    # jieba tokens of the subject (weighted), description, customer's words, cause and result:
    # full-text search for similar cases (knowledge.search.ranked_search, migration 0004).
    search_text = models.TextField(editable=False, default="")
    # --- deadlines (时限), computed by services.case_refresh_deadlines from complaints/sla.py ---
    cycle_started_at = models.DateTimeField(
        _("handling started"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("When the case was received, or last reopened."),
    )
    first_response_due = models.DateTimeField(
        _("first response due"), null=True, blank=True, editable=False
    )
    first_response_at = models.DateTimeField(
        _("first response at"), null=True, blank=True, editable=False
    )
    investigation_due = models.DateTimeField(
        _("investigation due"), null=True, blank=True, editable=False
    )
    investigation_done_at = models.DateTimeField(
        _("investigation done at"), null=True, blank=True, editable=False
    )
    solution_due = models.DateTimeField(
        _("solution to customer due"), null=True, blank=True, editable=False
    )
    solution_sent_at = models.DateTimeField(
        _("solution told to customer at"), null=True, blank=True, editable=False
    )
    next_contact_met_at = models.DateTimeField(
        _("promised contact made at"), null=True, blank=True, editable=False
    )
    # 002 daily tracking: priority 4–5 cases need a progress update every working day.
    daily_update_due = models.DateTimeField(
        _("daily progress update due"), null=True, blank=True, editable=False
    )
    last_progress_at = models.DateTimeField(
        _("last progress update"), null=True, blank=True, editable=False
    )
    satisfaction_due = models.DateTimeField(
        _("satisfaction follow-up due"), null=True, blank=True, editable=False
    )
    satisfaction_done_at = models.DateTimeField(
        _("satisfaction follow-up done at"), null=True, blank=True, editable=False
    )
    deadlines_provisional = models.BooleanField(
        _("deadlines provisional"),
        default=False,
        editable=False,
        help_text=_("A deadline falls in a year whose holiday schedule is not loaded yet."),
    )
    current_due = models.DateTimeField(
        _("current deadline"),
        null=True,
        blank=True,
        editable=False,
        help_text=_("The earliest deadline not yet met."),
    )
    current_stage = models.CharField(_("current stage"), max_length=30, blank=True, editable=False)
    escalation_level = models.PositiveSmallIntegerField(
        _("escalation level"), default=0, editable=False
    )
    next_escalation_at = models.DateTimeField(null=True, blank=True, editable=False)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0, editable=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
        verbose_name=_("merged into"),
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("received at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = CaseQuerySet.as_manager()

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created_at"]
        permissions = [
            ("transition_case", _("Can work cases (investigate, propose, resolve, close, reopen)")),
            ("assign_case", _("Can assign and reassign cases")),
            ("cancel_case", _("Can cancel cases (spam, withdrawn)")),
            ("merge_case", _("Can merge cases")),
            ("waive_satisfaction", _("Can waive the satisfaction step before closing")),
            ("view_personal_data", _("Can see customers' full phone numbers and e-mails")),
        ]
        indexes = [
            models.Index(fields=["state", "-created_at"], name="case_state_created_idx"),
            models.Index(fields=["department", "state"], name="case_dept_state_idx"),
            models.Index(fields=["assignee", "state"], name="case_assignee_state_idx"),
            # Each handler's open cases only: intake's least-loaded choice counts them in
            # time that grows with the open workload, not with every case ever assigned.
            models.Index(
                fields=["assignee"],
                name="case_open_by_assignee_idx",
                condition=Q(state__in=ACTIVE_STATES),
            ),
            models.Index(fields=["customer", "-created_at"], name="case_customer_idx"),
            models.Index(fields=["channel", "-created_at"], name="case_channel_idx"),
            models.Index(fields=["urgency", "state"], name="case_urgency_idx"),
            models.Index(fields=["priority", "state"], name="case_priority_idx"),
            models.Index(fields=["type", "-created_at"], name="case_type_idx"),
            models.Index(fields=["category", "-created_at"], name="case_category_idx"),
            # Reports and the dashboard count by receipt and resolution time.
            models.Index(fields=["-created_at"], name="case_created_idx"),
            # Exact order-number search whatever the case typed (complaints/lookup.py).
            models.Index(Upper("order_no"), name="case_order_no_upper_idx"),
            models.Index(
                fields=["resolved_at"],
                name="case_resolved_idx",
                condition=Q(resolved_at__isnull=False),
            ),
            # The escalation sweep's one column; only cases with a deadline ahead are in it.
            models.Index(
                fields=["next_escalation_at"],
                name="case_next_escalation_idx",
                condition=Q(next_escalation_at__isnull=False),
            ),
            models.Index(
                fields=["current_due"],
                name="case_current_due_idx",
                condition=Q(current_due__isnull=False),
            ),
            # Every queue's default: open cases, most urgent first (the list's ORDER BY
            # current_due ASC NULLS LAST, id DESC), read in index order down to one page.
            models.Index(
                fields=["current_due", "-id"],
                name="case_open_due_idx",
                condition=Q(state__in=OPEN_STATES),
            ),
            # The 已升级 filter and the dashboard tile: only escalated cases are in it.
            models.Index(
                fields=["escalation_level"],
                name="case_escalated_idx",
                condition=Q(escalation_level__gte=1),
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(priority__gte=1) & Q(priority__lte=5), name="case_priority_1_5"
            ),
            models.CheckConstraint(
                condition=Q(feedback_score__isnull=True)
                | (Q(feedback_score__gte=1) & Q(feedback_score__lte=5)),
                name="case_feedback_1_5",
            ),
            models.CheckConstraint(
                condition=~Q(state="merged") | Q(merged_into__isnull=False),
                name="case_merged_has_survivor",
            ),
        ]

    def __str__(self):
        return f"{self.number} {self.subject}"

    def save(self, *args, **kwargs):
        # Derived column, always in step with what it is derived from (like a slug).
        self.search_text = text.search_text(
            self.subject, self.subject, self.subject, self.description, self.customer_words,
            self.cause, self.result,
        )  # fmt: skip
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "search_text"}
        super().save(*args, **kwargs)

    # --- rules about one case -----------------------------------------------------------

    def is_visible_to(self, user):
        if user.sees_all_departments:
            return True
        if self.assignee_id == user.pk or self.created_by_id == user.pk:
            return True
        if self.department_id is None and user.has_perm("complaints.assign_case"):
            return True
        mine = user.memberships.values("department_id")
        return (
            self.department_id is not None
            and user.memberships.filter(department_id=self.department_id).exists()
        ) or self.collaborating_departments.filter(pk__in=mine).exists()

    def pending_deadlines(self):
        """{stage: due} of the deadlines still to meet in the case's current state."""
        if self.state in FINAL_STATES:
            return {}
        pending = {}
        if self.first_response_at is None and self.first_response_due:
            pending["first_response"] = self.first_response_due
        if self.state in ACTIVE_STATES:
            if self.investigation_done_at is None and self.investigation_due:
                pending["investigation"] = self.investigation_due
            if self.solution_sent_at is None and self.solution_due:
                pending["solution_to_customer"] = self.solution_due
            if self.next_contact_at and self.next_contact_met_at is None:
                pending["next_contact"] = self.next_contact_at
            if self.daily_update_due:
                pending[sla.DAILY_UPDATE] = self.daily_update_due
        if (
            self.state == State.RESOLVED
            and self.satisfaction_done_at is None
            and self.satisfaction_due
        ):
            pending["satisfaction_followup"] = self.satisfaction_due
        return pending

    def deadline_summary(self, now):
        """{stage: {"due", "done_at", "met", "overdue", "pending"}} for the five deadline
        stages, in the order they fall due. `met` is True when done by the deadline, False when
        done late or overdue now, None while still to come (or never due: no promised contact,
        not resolved yet, or the case ended before the stage was reached)."""
        pending = self.pending_deadlines()
        summary = {}
        for stage, (due_field, done_field) in sla.CASE_STAGES.items():
            due, done = getattr(self, due_field), getattr(self, done_field)
            overdue = stage in pending and pending[stage] < now
            met = None
            if done is not None and due is not None:
                met = done <= due
            elif overdue:
                met = False
            summary[stage] = {
                "due": due, "done_at": done, "met": met, "overdue": overdue,
                "pending": stage in pending,
            }  # fmt: skip
        if self.daily_update_due:  # a rolling deadline: due again after each update
            overdue = sla.DAILY_UPDATE in pending and self.daily_update_due < now
            summary[sla.DAILY_UPDATE] = {
                "due": self.daily_update_due, "done_at": None, "met": False if overdue else None,
                "overdue": overdue, "pending": sla.DAILY_UPDATE in pending,
            }  # fmt: skip
        return summary

    def is_overdue(self, now):
        """The one-row reading of CaseQuerySet.overdue: open, and its current deadline passed."""
        return self.state in OPEN_STATES and self.current_due is not None and self.current_due < now

    @property
    def is_active(self):
        return self.state in ACTIVE_STATES

    @property
    def satisfaction_done(self):
        return self.feedback_score is not None or self.satisfaction_waived_by_id is not None

    def has_department_and_assignee(self):
        return self.department_id is not None and self.assignee_id is not None

    def has_solution(self):
        return bool(self.solution.strip())

    def has_result(self):
        return bool(self.result.strip())

    def has_survivor(self):
        return (
            self.merged_into_id is not None
            and self.merged_into_id != self.pk
            and self.merged_into.state not in FINAL_STATES
        )

    # --- lifecycle (django-fsm) ------------------------------------------------------------
    # Input a transition needs is set on the instance by the service first; the conditions
    # then check it. Each condition has a message in TRANSITION_REQUIREMENTS (services).

    @transition(
        field=state,
        source=[State.RECEIVED, State.ASSIGNED, State.REOPENED],
        target=State.ASSIGNED,
        conditions=[has_department_and_assignee],
        permission=_can_assign,
        custom={"label": _("Assign case"), "inputs": ["department", "assignee"]},
    )
    def assign(self):
        pass

    @transition(
        field=state,
        source=[State.ASSIGNED, State.REOPENED],
        target=State.INVESTIGATING,
        conditions=[has_department_and_assignee],
        permission=_can_work,
        custom={"label": _("Start investigation"), "inputs": []},
    )
    def start_investigation(self):
        pass

    @transition(
        field=state,
        source=[State.INVESTIGATING, State.SOLUTION_PROPOSED],
        target=State.SOLUTION_PROPOSED,
        conditions=[has_solution],
        permission=_can_work,
        custom={"label": _("Propose solution"), "inputs": ["solution"]},
    )
    def propose_solution(self):
        pass

    @transition(
        field=state,
        source=[State.INVESTIGATING, State.SOLUTION_PROPOSED],
        target=State.RESOLVED,
        conditions=[has_result],
        permission=_can_work,
        custom={"label": _("Mark resolved"), "inputs": ["result", "cause"]},
    )
    def resolve(self):
        self.resolved_at = timezone.now()

    @transition(
        field=state,
        source=State.RESOLVED,
        target=State.CLOSED,
        conditions=[lambda self: self.satisfaction_done],
        permission=_can_work,
        custom={"label": _("Close case"), "inputs": []},
    )
    def close(self):
        self.closed_at = timezone.now()

    @transition(
        field=state,
        source=[State.RESOLVED, State.CLOSED],
        target=State.REOPENED,
        permission=_can_work,
        custom={"label": _("Reopen case"), "inputs": ["reason"]},
    )
    def reopen(self):
        self.reopen_count += 1
        self.resolved_at = None
        self.closed_at = None
        self.feedback_score = None
        self.satisfaction_waived_by = None

    @transition(
        field=state,
        source=ACTIVE_STATES,
        target=State.MERGED,
        conditions=[has_survivor],
        permission=_can_merge,
        custom={"label": _("Merge into another case"), "inputs": ["into"]},
    )
    def merge(self):
        pass

    @transition(
        field=state,
        source=ACTIVE_STATES,
        target=State.CANCELLED,
        permission=_can_cancel,
        custom={"label": _("Cancel (spam / withdrawn)"), "inputs": ["reason"]},
    )
    def cancel(self):
        pass


TRANSITION_NAMES = [
    "assign",
    "start_investigation",
    "propose_solution",
    "resolve",
    "close",
    "reopen",
    "merge",
    "cancel",
]


class CaseContact(models.Model):
    """Each time the customer reached us about a case, through whichever channel."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("case")
    )
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    received_at = models.DateTimeField(_("received at"), default=timezone.now)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    raw_text = BoundedTextField(_("what the customer said"), blank=True)
    similarity = models.FloatField(_("similarity"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("registered by"),
    )

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["received_at", "pk"]
        indexes = [models.Index(fields=["case", "received_at"], name="contact_case_idx")]

    def __str__(self):
        return f"{self.get_channel_display()} {self.received_at:%Y-%m-%d %H:%M}"


class EventKind(models.TextChoices):
    CREATED = "created", _("Case received")
    TRANSITION = "transition", _("State change")
    PROGRESS = "progress", _("Progress update")
    NOTE = "note", _("Internal note")
    CONTACT = "contact", _("Customer contact")
    CHANGE = "change", _("Details changed")
    MERGE = "merge", _("Merge")
    ATTACHMENT = "attachment", _("Attachment")
    ESCALATION = "escalation", _("Escalation")
    RETURN_STEP = "return_step", _("Return / exchange step")
    REPLY = "reply", _("Public reply")
    DELIVERY = "delivery", _("Delivery status")


class CaseEvent(models.Model):
    """The case timeline. Append-only: an event is never edited or deleted."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="events", verbose_name=_("case")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=EventKind.choices)
    transition = models.CharField(_("transition"), max_length=30, blank=True)
    from_state = models.CharField(_("from"), max_length=20, choices=State.choices, blank=True)
    to_state = models.CharField(_("to"), max_length=20, choices=State.choices, blank=True)
    message = BoundedTextField(_("message"), blank=True)
    customer_notified = models.BooleanField(_("customer told"), default=False)
    data = models.JSONField(_("details"), default=dict, blank=True)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    created_at = models.DateTimeField(_("at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("timeline event")
        verbose_name_plural = _("timeline")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["case", "created_at"], name="event_case_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(_("Timeline entries cannot be changed."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(_("Timeline entries cannot be deleted."))


# --- evidence ----------------------------------------------------------------------------

ATTACHMENT_EXTENSIONS = {
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".heic", ".bmp",
    ".mp4", ".mov", ".avi", ".webm", ".mp3", ".m4a", ".amr", ".wav",
    ".pdf", ".txt", ".log", ".csv", ".json", ".zip",
    ".doc", ".docx", ".xls", ".xlsx", ".ppt", ".pptx",
}  # fmt: skip


def validate_attachment(file):
    """Field-level checks for evidence files: a size limit and a list of allowed types."""
    limit = settings.ATTACHMENT_MAX_BYTES
    ext = os.path.splitext(file.name or "")[1].lower()
    if ext not in ATTACHMENT_EXTENSIONS:
        raise ValidationError(
            _(
                "File type %(ext)s is not allowed. Allowed: pictures, video, audio, PDF, text, logs, office documents, zip."
            ),
            params={"ext": ext or "?"},
            code="file_type",
        )
    if file.size > limit:
        raise ValidationError(
            _("The file is too large (%(size)s MB); the limit is %(limit)s MB."),
            params={"size": round(file.size / 1048576, 1), "limit": round(limit / 1048576)},
            code="file_size",
        )
    if getattr(file, "_committed", False):
        return  # stored already: it was checked on its way in
    # An upload says its type; a model's FieldFile wraps the upload.
    declared = getattr(file, "content_type", None) or getattr(
        getattr(file, "file", None), "content_type", ""
    )
    declared = (declared or "").split(";")[0].strip().lower()
    if declared in filetypes.ACTIVE_CONTENT_TYPES or not filetypes.content_matches(
        ext, filetypes.read_head(file)
    ):
        raise ValidationError(
            _("The file's content does not match its type (%(ext)s)."),
            params={"ext": ext},
            code="file_content",
        )


def attachment_path(instance, filename):
    ext = os.path.splitext(filename)[1].lower()
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{instance.case.number}-{now:%d%H%M%S%f}{ext}"


class Attachment(models.Model):
    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="attachments", verbose_name=_("case")
    )
    file = models.FileField(
        _("file"), upload_to=attachment_path, validators=[validate_attachment], max_length=255
    )
    original_name = models.CharField(_("file name"), max_length=255, editable=False)
    size = models.PositiveBigIntegerField(_("size"), editable=False, default=0)
    description = models.CharField(_("description"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
        editable=False,
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at", "pk"]

    def __str__(self):
        return self.original_name


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


# --- deadlines and escalation --------------------------------------------------------------


class SlaStage(models.TextChoices):
    FIRST_RESPONSE = "first_response", _("First response")
    INVESTIGATION = "investigation", _("Investigation")
    SOLUTION = "solution_to_customer", _("Solution to customer")
    NEXT_CONTACT = "next_contact", _("Promised contact")
    DAILY_UPDATE = "daily_update", _("Daily progress update")
    SATISFACTION = "satisfaction_followup", _("Satisfaction follow-up")
    TECH_COLLABORATION = "tech_collaboration", _("Technical collaboration")


class SlaBreach(models.Model):
    """A deadline that passed unmet, and each escalation it caused (level 1: the department's
    supervisors; level 2: the managers). One row per (case, stage, deadline, level): the
    unique constraint is what makes a doubled sweep escalate once."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="breaches", verbose_name=_("case")
    )
    technical_request = models.ForeignKey(
        "TechnicalRequest", on_delete=models.CASCADE, null=True, blank=True,
        related_name="breaches", verbose_name=_("technical request"),
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
        indexes = [models.Index(fields=["stage", "escalated_at"], name="breach_stage_idx")]

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


from .models_privacy import PersonalDataLog, PrivacyAction  # noqa: E402, F401
