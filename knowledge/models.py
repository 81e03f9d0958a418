"""Contingency plans (预案) with their revisions, stages and resources; post-incident reviews
(复盘); knowledge-base articles (知识库).

A plan's revisions follow a django-fsm lifecycle: draft → pending approval → published →
superseded, and pending approval → rejected (editable again, with the reviewer's comment).
Transition methods only change the instance; `services` locks, checks permissions and the
four-eyes rule, saves and writes the history. At most one revision per plan is published,
guaranteed by a partial unique constraint. Plans, revisions, stages, resources and articles
keep a django-simple-history trail.

The articles live in models_articles, the roll-out (acknowledgements, drills) in
models_rollout; this module imports them at its end, so Django registers them in the
original order, and re-exports their names.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.deconstruct import deconstructible
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition
from simple_history.models import HistoricalRecords

from servicedesk.staff.models import Department

from . import text

# The case types and categories a plan can govern. They mirror complaints.models.CaseType and
# Category, which this app cannot import (complaints depends on knowledge, never the reverse);
# tests/knowledge/test_plans.py checks that the two lists stay equal.
CASE_TYPE_CHOICES = [
    ("consultation", _("Consultation")),
    ("complaint", _("Complaint")),
    ("suggestion", _("Suggestion")),
    ("feature_request", _("Feature request")),
    ("return_exchange", _("Return / exchange")),
    ("other", _("Other")),
]
CATEGORY_CHOICES = [
    ("product", _("Product")),
    ("service", _("Service")),
    ("logistics", _("Logistics")),
    ("process", _("Process")),
    ("technical", _("Technical")),
    ("other", _("Other")),
]

REVIEW_INTERVAL_MONTHS = 12


def add_months(day, months):
    """`day` plus whole months; the 31st (or 29 February) falls back to the month's last day."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for d in (day.day, 30, 29, 28):
        try:
            return datetime.date(year, month, d)
        except ValueError:
            continue
    raise ValueError(day)


@deconstructible
class CodeListValidator:
    """A JSON list whose items are all codes of `kind` ("case_types" or "categories")."""

    def __init__(self, kind):
        self.kind = kind

    def __call__(self, value):
        codes = {
            c
            for c, _label in (CASE_TYPE_CHOICES if self.kind == "case_types" else CATEGORY_CHOICES)
        }
        if not isinstance(value, list) or any(v not in codes for v in value):
            raise ValidationError(
                _("Choose from: %(codes)s.") % {"codes": ", ".join(sorted(codes))}
            )

    def __eq__(self, other):
        return isinstance(other, CodeListValidator) and other.kind == self.kind


class NormalisedTextMixin:
    """Text fields are stored with "\n" line endings, however they arrive: a browser sends a
    textarea's lines ending in "\r\n", and a save that changed nothing but line endings
    must not show up as a change in the history, the diff or the four-eyes check."""

    def save(self, *args, **kwargs):
        for f in self._meta.concrete_fields:
            if isinstance(f, models.TextField):
                setattr(self, f.attname, text.normalise_newlines(getattr(self, f.attname)))
        super().save(*args, **kwargs)


# --- plans -------------------------------------------------------------------------------


class PlanQuerySet(models.QuerySet):
    def review_due(self, today, within_days=30):
        """Plans whose review falls due between `today` and `within_days` days later."""
        return self.filter(
            next_review_on__gte=today, next_review_on__lte=today + datetime.timedelta(within_days)
        )

    def review_overdue(self, today):
        """Plans whose review date has passed: the one definition of "review overdue"."""
        return self.filter(next_review_on__lt=today)


class Plan(NormalisedTextMixin, models.Model):
    """A contingency plan (预案): which situations it governs and who keeps it current. Its
    content lives in revisions; exactly one of them is in force (published) at a time."""

    code = models.SlugField(_("code"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=200)
    scope = models.TextField(_("scope"), blank=True)
    case_types = models.JSONField(
        _("case types governed"),
        default=list,
        blank=True,
        validators=[CodeListValidator("case_types")],
        help_text=_("Empty: every case type."),
    )
    categories = models.JSONField(
        _("categories governed"),
        default=list,
        blank=True,
        validators=[CodeListValidator("categories")],
        help_text=_("Empty: every category."),
    )
    situations = models.TextField(
        _("situations"),
        blank=True,
        help_text=_("Situations that activate the plan (equipment failure, mass complaints …)."),
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_plans",
        verbose_name=_("owner"),
        help_text=_("Keeps the plan current and is reminded when its review is due."),
    )
    departments = models.ManyToManyField(
        Department,
        blank=True,
        related_name="plans",
        verbose_name=_("affected departments"),
        help_text=_("Their staff are notified when a new revision is published."),
    )
    is_default = models.BooleanField(
        _("default plan"),
        default=False,
        help_text=_("Governs cases no more specific plan covers. One plan is the default."),
    )
    next_review_on = models.DateField(_("next review due"), null=True, blank=True)
    last_reviewed_on = models.DateField(_("last reviewed"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(m2m_fields=[departments])
    objects = PlanQuerySet.as_manager()

    class Meta:
        verbose_name = _("contingency plan")
        verbose_name_plural = _("contingency plans")
        ordering = ["-is_default", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=Q(is_default=True), name="plan_one_default"
            )
        ]

    def __str__(self):
        return self.name

    def specificity(self):
        """How narrowly the plan's scope is drawn: more restricted dimensions and fewer codes
        in them win."""
        restricted = bool(self.case_types) + bool(self.categories)
        return (restricted, -(len(self.case_types) + len(self.categories)))

    def governs(self, case_type, category):
        """Whether a case of this type and category falls under the plan's scope. A plan that
        is not the default must restrict a type or a category to be chosen automatically."""
        if not (self.case_types or self.categories):
            return self.is_default
        return (not self.case_types or case_type in self.case_types) and (
            not self.categories or category in self.categories
        )

    def review_is_overdue(self, today=None):
        today = today or timezone.localdate()
        return self.next_review_on is not None and self.next_review_on < today


class RevisionState(models.TextChoices):
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    PUBLISHED = "published", _("Published")
    SUPERSEDED = "superseded", _("Superseded")
    REJECTED = "rejected", _("Rejected")


EDITABLE_STATES = (RevisionState.DRAFT, RevisionState.REJECTED)


class PlanRevisionQuerySet(models.QuerySet):
    def published(self):
        return self.filter(state=RevisionState.PUBLISHED)

    def in_force_at(self, at):
        """Revisions that were the published one at the moment `at`."""
        return self.filter(published_at__lte=at).filter(
            Q(superseded_at__isnull=True) | Q(superseded_at__gt=at)
        )


class PlanRevision(NormalisedTextMixin, FSMModelMixin, models.Model):
    """One version of a plan's content. Editable while a draft (or after a rejection); frozen
    once submitted. Publishing supersedes the previously published revision."""

    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="revisions", verbose_name=_("plan")
    )
    number = models.PositiveIntegerField(_("revision"), editable=False)
    state = FSMField(
        _("state"),
        max_length=20,
        choices=RevisionState.choices,
        default=RevisionState.DRAFT,
        protected=True,
    )
    objectives = models.TextField(_("objectives"), blank=True)
    first_response_hours = models.PositiveIntegerField(
        _("first response target (hours)"),
        default=24,
        validators=[MinValueValidator(1)],
        help_text=_("Every case, whatever its urgency, gets a first response within this time."),
    )
    satisfaction_target_pct = models.PositiveSmallIntegerField(
        _("satisfaction target (%)"),
        default=90,
        validators=[MinValueValidator(1), MaxValueValidator(100)],
    )
    urgency_high_hours = models.PositiveIntegerField(
        _("high urgency: resolve within (hours)"), default=24
    )
    urgency_medium_working_days = models.PositiveIntegerField(
        _("medium urgency: resolve within (working days)"), default=3
    )
    urgency_low_hours = models.PositiveIntegerField(
        _("low urgency: resolve within (hours)"), default=120
    )
    reporting_path = models.TextField(
        _("reporting path"), blank=True, help_text=_("Who reports to whom, and when.")
    )
    risk_triggers = models.TextField(
        _("risk trigger conditions"),
        blank=True,
        help_text=_("Conditions that activate the plan or escalate under it, one per line."),
    )
    change_summary = models.TextField(
        _("change summary"), blank=True, help_text=_("What changed against the previous revision.")
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("author"),
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True, editable=False)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
        editable=False,
    )
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewer"),
        editable=False,
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True, editable=False)
    review_comment = models.TextField(_("reviewer's comment"), blank=True, editable=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True, editable=False)
    superseded_at = models.DateTimeField(_("superseded at"), null=True, blank=True, editable=False)

    history = HistoricalRecords()
    objects = PlanRevisionQuerySet.as_manager()

    class Meta:
        verbose_name = _("plan revision")
        verbose_name_plural = _("plan revisions")
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="planrevision_unique_number"),
            # The guarantee behind "exactly one revision in force": two concurrent publishes
            # cannot both commit.
            models.UniqueConstraint(
                fields=["plan"],
                condition=Q(state="published"),
                name="planrevision_one_published",
            ),
        ]
        permissions = [
            ("submit_planrevision", _("Can submit plan revisions for approval")),
            ("approve_planrevision", _("Can approve or reject plan revisions")),
        ]

    def __str__(self):
        return _("%(plan)s, revision %(number)s") % {"plan": self.plan, "number": self.number}

    @property
    def is_editable(self):
        return self.state in EDITABLE_STATES

    # Transitions only change the instance; services.py saves and records who and why.

    @transition(field=state, source=[RevisionState.DRAFT, RevisionState.REJECTED],
                target=RevisionState.PENDING_APPROVAL)  # fmt: skip
    def submit(self, *, user, now):
        self.submitted_at = now
        self.submitted_by = user

    @transition(field=state, source=RevisionState.PENDING_APPROVAL, target=RevisionState.PUBLISHED)
    def approve(self, *, user, comment, now):
        self.reviewer = user
        self.reviewed_at = now
        self.review_comment = comment
        self.published_at = now

    @transition(field=state, source=RevisionState.PENDING_APPROVAL, target=RevisionState.REJECTED)
    def reject(self, *, user, comment, now):
        self.reviewer = user
        self.reviewed_at = now
        self.review_comment = comment

    @transition(field=state, source=RevisionState.PUBLISHED, target=RevisionState.SUPERSEDED)
    def supersede(self, *, now):
        self.superseded_at = now

    def urgency_matrix(self):
        """[(urgency label, first response, resolve within)] as text, high urgency first: the
        first response is the same for every urgency, the longer stages differ."""
        first = _("%(n)s hours") % {"n": self.first_response_hours}
        return [
            (_("High"), first, _("%(n)s hours") % {"n": self.urgency_high_hours}),
            (
                _("Medium"),
                first,
                _("%(n)s working days") % {"n": self.urgency_medium_working_days},
            ),
            (_("Low"), first, _("%(n)s hours") % {"n": self.urgency_low_hours}),
        ]

    def editor_ids(self):
        """Who changed this revision's content, read from its history: whoever created it or
        saved a change to one of its content fields, and whoever added, changed or removed one
        of its stages or resources. The workflow's own saves (submit, reject, approve) change
        no content and make nobody an editor. Four eyes: none of them may approve it."""
        fields = [
            f.attname
            for f in self._meta.concrete_fields
            if f.editable and f.name not in ("id", "plan", "state")
        ]
        editors = set()
        previous = None
        for row in self.history.order_by("history_date", "history_id"):
            # Line endings alone are no edit (rows saved before they were normalised).
            if previous is None or any(
                text.normalise_newlines(getattr(row, f))
                != text.normalise_newlines(getattr(previous, f))
                for f in fields
            ):
                editors.add(row.history_user_id)
            previous = row
        for model in (PlanStage, PlanResource):
            rows = model.history.filter(revision_id=self.pk)
            editors.update(rows.values_list("history_user_id", flat=True))
        editors.discard(None)
        return editors

    def stage(self, code):
        """The stage with this code, or None (uses prefetched stages when present)."""
        return next((s for s in self.stages.all() if s.code == code), None)


class StageCode(models.TextChoices):
    """Stage codes the deadline engine knows; plans may add stages with other codes."""

    FIRST_RESPONSE = "first_response", _("First response")
    INVESTIGATION = "investigation", _("Investigation")
    SOLUTION_TO_CUSTOMER = "solution_to_customer", _("Solution to the customer")
    SATISFACTION_FOLLOWUP = "satisfaction_followup", _("Satisfaction follow-up")
    TECH_COLLABORATION = "tech_collaboration", _("Technical collaboration")


class TimeUnit(models.TextChoices):
    HOURS = "hours", _("clock hours")
    WORKING_DAYS = "working_days", _("working days")


class StageStart(models.TextChoices):
    """When a stage's clock starts."""

    RECEIVED = "received", _("when the case is received")
    PREVIOUS_STAGE = "previous_stage", _("when the previous stage is done")
    RESOLVED = "resolved", _("when the case is resolved")
    REQUESTED = "requested", _("when the collaboration is requested")


class ResponsibleRole(models.TextChoices):
    AGENT = "agent", _("Customer-service agent")
    HANDLER = "handler", _("Department handler")
    SUPERVISOR = "supervisor", _("Supervisor")
    MANAGER = "manager", _("Manager")
    TECHNICAL = "technical", _("Technical support")


class PlanStage(NormalisedTextMixin, models.Model):
    """One step of a revision's process with its time limit and responsible role."""

    revision = models.ForeignKey(
        PlanRevision, on_delete=models.CASCADE, related_name="stages", verbose_name=_("revision")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    code = models.SlugField(
        _("code"),
        max_length=40,
        help_text=_(
            "Machine name the deadline engine looks up: first_response, investigation, "
            "solution_to_customer, satisfaction_followup, tech_collaboration, or your own."
        ),
    )
    name = models.CharField(_("name"), max_length=100)
    time_limit = models.DecimalField(
        _("time limit"),
        max_digits=6,
        decimal_places=1,
        validators=[MinValueValidator(0)],
    )
    unit = models.CharField(
        _("unit"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.HOURS
    )
    starts = models.CharField(
        _("clock starts"), max_length=20, choices=StageStart.choices, default=StageStart.RECEIVED
    )
    responsible_role = models.CharField(
        _("responsible role"), max_length=20, choices=ResponsibleRole.choices
    )
    description = models.TextField(_("what to do"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan stage")
        verbose_name_plural = _("plan stages")
        ordering = ["revision", "order", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["revision", "code"], name="planstage_unique_code")
        ]

    def __str__(self):
        return f"{self.name} ≤ {self.time_limit.normalize():f} {self.get_unit_display()}"


class ResourceKind(models.TextChoices):
    PEOPLE_SHIFT = "people_shift", _("People and shifts")
    TECHNICAL_SUPPORT = "technical_support", _("Technical support")
    SPARE_PART = "spare_part", _("Spare parts")
    TOOL = "tool", _("Tools")
    SYSTEM_ACCESS = "system_access", _("System access")


class PlanResource(NormalisedTextMixin, models.Model):
    """A resource a revision relies on: staff on shift, a support team, spare parts in stock
    at a location, tools, system access."""

    revision = models.ForeignKey(
        PlanRevision,
        on_delete=models.CASCADE,
        related_name="resources",
        verbose_name=_("revision"),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    kind = models.CharField(_("kind"), max_length=20, choices=ResourceKind.choices)
    name = models.CharField(_("name"), max_length=200)
    quantity = models.PositiveIntegerField(_("quantity"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("plan resource")
        verbose_name_plural = _("plan resources")
        ordering = ["revision", "order", "pk"]

    def __str__(self):
        return self.name


class PostIncidentReview(NormalisedTextMixin, models.Model):
    """A review after a major event (复盘): what happened, how the plan performed, lessons and
    proposed changes. It can start the plan's next draft revision."""

    plan = models.ForeignKey(
        Plan, on_delete=models.PROTECT, related_name="incident_reviews", verbose_name=_("plan")
    )
    event = models.CharField(_("event"), max_length=200)
    occurred_on = models.DateField(_("occurred on"))
    what_happened = models.TextField(_("what happened"))
    plan_performance = models.TextField(_("how the plan performed"))
    lessons = models.TextField(_("lessons learned"), blank=True)
    proposed_changes = models.TextField(_("proposed changes"), blank=True)
    revision_in_force = models.ForeignKey(
        PlanRevision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("revision in force"),
        editable=False,
    )
    resulting_revision = models.ForeignKey(
        PlanRevision,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="incident_reviews",
        verbose_name=_("draft revision started"),
        editable=False,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
        editable=False,
    )
    created_at = models.DateTimeField(_("recorded at"), default=timezone.now, editable=False)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("post-incident review")
        verbose_name_plural = _("post-incident reviews")
        ordering = ["-occurred_on", "-pk"]

    def __str__(self):
        return self.event


# The knowledge base (articles and their feedback), then the roll-out of published revisions,
# in the order they were defined in: Django registers the models in import order.
# isort: off
from .models_articles import (  # noqa: E402, F401
    Article,
    ArticleCategory,
    ArticleFeedback,
    ArticleQuerySet,
    ArticleStatus,
    HistoricalArticle,
    render_markdown,
)
from .models_rollout import PlanAcknowledgement, PlanDrill  # noqa: E402, F401
# isort: on
