"""The case: its queryset and visibility rules, and its lifecycle (a django-fsm state machine)."""

import datetime
import functools

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransitionMixin, FSMField, FSMFieldMixin, transition

from knowledge import text
from servicedesk import prepared
from servicedesk.staff.models import Department

from . import sla
from .choices import (
    ACTIVE_STATES,
    FINAL_STATES,
    OPEN_STATES,
    CaseType,
    Category,
    Channel,
    State,
    Urgency,
)
from .escalation_schedule import ESCALATION_FIELDS, EscalationScheduleMixin
from .fields import BoundedTextField, validate_promised_time
from .models_customers import Customer

# --- the case ----------------------------------------------------------------------------


# Beyond this many cases a department was asked to help with, they are read by a subquery.
COLLABORATION_LIST_MAX = 2000

# What the case list's sidebar filters, tabs and visibility rule test besides the state and
# the deadline: carried in case_open_due_idx (below).
OPEN_LIST_COLUMNS = [
    "state", "department", "assignee", "created_by", "urgency", "priority", "channel", "type",
    "category", "created_at",
]  # fmt: skip


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
        return self.select_related("customer", "department", "assignee", "escalation")


def _can_work(case, user):
    """Object-level permission shared by the working transitions."""
    return user.has_perm("complaints.transition_case") and case.is_visible_to(user)


def _can_assign(case, user):
    return user.has_perm("complaints.assign_case") and case.is_visible_to(user)


def _can_cancel(case, user):
    return user.has_perm("complaints.cancel_case") and case.is_visible_to(user)


def _can_merge(case, user):
    return user.has_perm("complaints.merge_case") and case.is_visible_to(user)


@functools.cache
def _state_fields(model):
    return tuple(f for f in model._meta.fields if isinstance(f, FSMFieldMixin))


class Case(EscalationScheduleMixin, ConcurrentTransitionMixin, models.Model):
    number = models.CharField(_("case number"), max_length=13, unique=True, editable=False)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    # Foreign keys whose column leads a composite index below carry no index of their own:
    # every index is written by each insert and by each update that is not HOT.
    customer = models.ForeignKey(
        Customer,
        on_delete=models.PROTECT,
        related_name="cases",
        verbose_name=_("customer"),
        db_index=False,  # case_customer_idx
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
    order_no = models.CharField(_("order number"), max_length=64, blank=True)  # upper-case idx
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
        db_index=False,  # case_dept_state_idx
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
        db_index=False,  # case_assignee_state_idx
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
        db_index=False,  # case_waived_by_idx: the few cases that have one
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
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0, editable=False)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
        verbose_name=_("merged into"),
        editable=False,
        db_index=False,  # case_merged_into_idx: the few cases that have one
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
            # Foreign keys set on few cases: only those cases are in their index.
            models.Index(
                fields=["merged_into"],
                name="case_merged_into_idx",
                condition=Q(merged_into__isnull=False),
            ),
            models.Index(
                fields=["satisfaction_waived_by"],
                name="case_waived_by_idx",
                condition=Q(satisfaction_waived_by__isnull=False),
            ),
            # Every queue's default: open cases, most urgent first (the list's ORDER BY
            # current_due ASC NULLS LAST, id DESC), read in index order down to one page.
            # It carries the columns the sidebar filters and the visibility rule test, so a
            # filtered queue's capped count reads the open cases' index entries alone
            # (PostgreSQL; an index-only scan) instead of ANDing a bitmap of every case of
            # that category or channel ever received (150,000 at 1M cases: 26 → 1.3 ms).
            models.Index(
                fields=["current_due", "-id"],
                name="case_open_due_idx",
                condition=Q(state__in=OPEN_STATES),
                include=OPEN_LIST_COLUMNS,
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
        if self._state.adding and self.pk is None and not args and not kwargs:
            self.save_new()
            return
        self.refresh_search_text()
        escalation = True
        if kwargs.get("update_fields") is not None:
            fields = set(kwargs["update_fields"])
            escalation = bool(fields & set(ESCALATION_FIELDS))
            kwargs["update_fields"] = {*(fields - set(ESCALATION_FIELDS)), "search_text"}
        rel = Case.escalation.related
        if self._state.adding and not rel.is_cached(self):
            rel.set_cached_value(self, None)  # a new case has no escalation row yet
        super().save(*args, **kwargs)
        if escalation and self.__dict__.get("_escalation_pending"):
            from .models_escalation import write_escalations

            write_escalations([self])

    def save_new(self, related=(), gate=None):
        """Save this new case with its escalation row (when its deadlines set one) and
        `related` (say its contact and first timeline entries, pointing at it, not saved) in
        one prepared statement on PostgreSQL (servicedesk.prepared.insert_with), not the ORM's
        insert built anew for ~50 columns — and its customer first when that is new (not
        saved yet: intake's first contact of a customer). save() of a new case comes here. No
        pre_save/post_save is sent: nothing listens; intake sends case_created after the
        commit. With `gate` (servicedesk/prepared_gate.py, intake's number draw) the rows go
        in only if the gate lets them; returns whether they went in."""
        from .models_escalation import escalations_written, new_case_escalation

        self.refresh_search_text()
        rel = Case.escalation.related
        if not rel.is_cached(self):
            rel.set_cached_value(self, None)  # a new case has no escalation row yet
        rows, items = new_case_escalation(self)
        customer = None
        if self.customer_id is None:  # a new customer's first case: they go in together
            customer = Case.customer.field.get_cached_value(self, default=None)
            if customer is not None and customer.pk is None:
                customer.derive_keys()
            else:
                customer = None
        if not prepared.insert_with(self, [*rows, *related], parent=customer, gate=gate):
            return False
        self._update_initial_state()  # the lifecycle's concurrency check, as save() does
        escalations_written(items, rows)
        return True

    def refresh_search_text(self):
        """The derived search column, in step with what it is derived from (like a slug):
        segmented again only when one of those changed since it was last derived here."""
        parts = (self.subject, self.description, self.customer_words, self.cause, self.result)
        if self.__dict__.get("_search_text_of") != parts:
            subject, description, words, cause, result = parts
            self.search_text = text.search_text(
                subject, subject, subject, description, words, cause, result
            )
            self._search_text_of = parts

    @property
    def state_fields(self):
        """The lifecycle's state fields (django-fsm reads them on every instance made and
        every save): found once per class, not by testing each of the ~55 fields each time."""
        return _state_fields(type(self))

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
