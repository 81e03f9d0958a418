"""The case list: queue tabs, filters, columns (state, time left, urgency, customer), bulk
assignment. Mixed into CaseAdmin (complaints/admin.py).
"""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_fsm import TransitionNotAllowed

from . import lookup, services
from .admin_common import (
    DUE_COLOURS,
    DUE_SOON_HOURS,
    STAGE_LABELS,
    STATE_COLOURS,
    URGENCY_COLOURS,
    _prime_user,
    badge,
    due_state,
    escalation_badge,
    shows_personal_data,
    time_left_text,
)
from .admin_forms import BulkAssignForm
from .models import Case, State, user_department_ids


class ScopeFilter(admin.SimpleListFilter):
    title = gettext_lazy("queue")
    parameter_name = "scope"

    def lookups(self, request, model_admin):
        return [
            ("mine", gettext_lazy("My cases")),
            ("my_departments", gettext_lazy("My departments")),
            ("unassigned", gettext_lazy("Unassigned")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(assignee=request.user)
        if self.value() == "my_departments":
            return queryset.filter(department__in=user_department_ids(request.user))
        if self.value() == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


class StateFilter(admin.SimpleListFilter):
    title = gettext_lazy("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("active", gettext_lazy("Active (work to do)")),
            ("open", gettext_lazy("Open (incl. resolved)")),
            *State.choices,
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "active":
            return queryset.active()
        if value == "open":
            return queryset.open()
        if value in State.values:
            return queryset.filter(state=value)
        return queryset


class PriorityFilter(admin.SimpleListFilter):
    title = gettext_lazy("priority")
    parameter_name = "priority"

    def lookups(self, request, model_admin):
        return [(str(p), str(p)) for p in range(5, 0, -1)]

    def queryset(self, request, queryset):
        if self.value() in {"1", "2", "3", "4", "5"}:
            return queryset.filter(priority=int(self.value()))
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    title = gettext_lazy("deadlines")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [
            ("yes", gettext_lazy("Overdue")),
            ("soon", _("Due within %(hours)s h") % {"hours": DUE_SOON_HOURS}),
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.overdue(timezone.now())
        if self.value() == "soon":
            return queryset.due_within(timezone.now(), DUE_SOON_HOURS)
        return queryset


class AssigneeFilter(admin.SimpleListFilter):
    """The people a case can be assigned to: staff of the user's departments (everyone's for
    those who see all cases). Read from the staff tables, not from the cases: Django's
    RelatedOnlyFieldListFilter would scan every visible case for its distinct assignees."""

    title = gettext_lazy("assignee")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        from servicedesk.staff.models import User

        people = User.objects.filter(is_active=True, memberships__isnull=False)
        if not request.user.sees_all_departments:
            people = people.filter(memberships__department__in=user_department_ids(request.user))
        people = people.distinct().order_by("username").only("username", "first_name", "last_name")
        return [(str(u.pk), str(u)) for u in people]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(assignee_id=int(self.value()))
        return queryset


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows: a list page never counts the whole table. Beyond that
    the page says "2,000+" and offers the first COUNT_CAP / per page pages; a filter or a
    search narrows it."""

    COUNT_CAP = 2000

    @cached_property
    def count(self):
        counted = self.object_list.order_by()[: self.COUNT_CAP + 1].count()
        self.capped = counted > self.COUNT_CAP
        return min(counted, self.COUNT_CAP)


# --- cases -------------------------------------------------------------------------------


class CaseListMixin:
    """The case list and its queues."""

    # What a supervisor scans first (state, time left, urgency) sits left of what identifies
    # the customer and where the case came from, so it stays on screen on a laptop.
    list_display = [
        "number", "subject", "state_badge", "time_left", "urgency_badge", "priority",
        "customer", "assignee", "department", "channel", "type", "received",
    ]  # fmt: skip
    list_display_links = ["number", "subject"]
    list_filter = [
        ScopeFilter,
        StateFilter,
        OverdueFilter,
        "urgency",
        PriorityFilter,
        "channel",
        "type",
        "category",
        "department",
        AssigneeFilter,
    ]
    search_fields = [
        "number",
        "subject",
        "customer__name",
        "=customer__phone_normalized",
        "=customer__member_no_normalized",
        "order_no",
    ]
    search_help_text = gettext_lazy(
        "Case number, subject, customer name, phone, member number or order number"
    )
    list_per_page = 50
    # No full count of the table for "N cases in all" nor for the page count.
    show_full_result_count = False
    paginator = CappedCountPaginator
    ordering = ["-created_at"]
    actions = ["assign_selected"]

    # --- the list ------------------------------------------------------------------------

    def get_queryset(self, request):
        _prime_user(request)
        return super().get_queryset(request).visible_to(request.user).for_list()

    def get_search_results(self, request, queryset, search_term):
        # Ours, not Django's OR of substring matches over every field (complaints/lookup.py).
        return lookup.case_search(queryset, search_term, user=request.user), False

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        display[display.index("customer")] = self._customer_column(shows_personal_data(request))
        return display

    @staticmethod
    def _customer_column(full):
        # A closure, not request state on the shared admin instance: masking per request.
        @admin.display(description=gettext_lazy("customer"), ordering="customer__name")
        def customer(obj):
            phone = obj.customer.phone if full else obj.customer.phone_masked
            return format_html(
                '{}<br><span class="sd-muted">{}</span>', obj.customer.name, phone or ""
            )

        return customer

    @admin.display(description=gettext_lazy("urgency"), ordering="urgency")
    def urgency_badge(self, obj):
        return badge(obj.get_urgency_display(), URGENCY_COLOURS.get(obj.urgency, "#6b7280"))

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_badge(self, obj):
        return badge(obj.get_state_display(), STATE_COLOURS.get(obj.state, "#6b7280"))

    @admin.display(description=gettext_lazy("time left"), ordering="current_due")
    def time_left(self, obj):
        """The current stage's deadline: green, amber within 4 h, red when overdue; with the
        escalation level and a mark when the deadlines are provisional. No query: columns."""
        parts = []
        if obj.current_due is not None and obj.current_stage:
            now = timezone.now()
            state = due_state(obj.current_due, now)
            stage = STAGE_LABELS.get(obj.current_stage, obj.current_stage)
            parts.append(
                format_html(
                    '<span class="sd-badge sd-due sd-due-{}" style="background:{}" title="{}">'
                    "{} · {}</span>",
                    state,
                    DUE_COLOURS[state],
                    timezone.localtime(obj.current_due).strftime("%Y-%m-%d %H:%M"),
                    stage,
                    time_left_text(obj.current_due, now),
                )
            )
        else:
            parts.append("—")
        parts.append(escalation_badge(obj.escalation_level))
        if obj.deadlines_provisional:
            parts.append(
                format_html(
                    '<span class="sd-chip sd-provisional" title="{}">{}</span>',
                    Case._meta.get_field("deadlines_provisional").help_text,
                    _("provisional"),
                )
            )
        return format_html_join(" ", "{}", ((p,) for p in parts if p))

    @admin.display(description=gettext_lazy("received at"), ordering="created_at")
    def received(self, obj):
        # Compact and the same in every language: the list is wide enough already.
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M")

    def changelist_view(self, request, extra_context=None):
        _prime_user(request)
        current = request.GET.get("scope", "")
        tabs = []
        for value, label in [
            ("", _("All my visible cases")),
            ("mine", _("My cases")),
            ("my_departments", _("My departments")),
            ("unassigned", _("Unassigned")),
        ]:
            params = request.GET.copy()
            params.pop("p", None)
            params.pop("scope", None)
            if value:
                params["scope"] = value
            tabs.append(
                {"label": label, "url": "?" + params.urlencode(), "active": value == current}
            )
        context = {"title": capfirst(self.opts.verbose_name_plural), "scope_tabs": tabs}
        return super().changelist_view(request, {**context, **(extra_context or {})})

    # --- permissions ---------------------------------------------------------------------

    def has_delete_permission(self, request, obj=None):
        return False  # cases are cancelled or merged, never deleted

    def has_assign_permission(self, request):
        return request.user.has_perm("complaints.assign_case")

    # --- bulk assignment -----------------------------------------------------------------

    @admin.action(description=gettext_lazy("Assign to…"), permissions=["assign"])
    def assign_selected(self, request, queryset):
        form = BulkAssignForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            dept, assignee = form.cleaned_data["department"], form.cleaned_data["assignee"]
            done, failed = [], []
            for case in queryset.order_by("number"):
                try:
                    services.case_transition(
                        case=case, name="assign", user=request.user, department=dept,
                        assignee=assignee,
                    )  # fmt: skip
                except (PermissionDenied, TransitionNotAllowed, services.CaseChanged) as exc:
                    failed.append((case.number, str(exc)))
                except ValidationError as exc:
                    failed.append((case.number, " ".join(exc.messages)))
                else:
                    done.append(case.number)
            if done:
                self.message_user(
                    request,
                    ngettext(
                        "%(count)d case assigned to %(dept)s / %(user)s: %(numbers)s",
                        "%(count)d cases assigned to %(dept)s / %(user)s: %(numbers)s",
                        len(done),
                    )
                    % {
                        "count": len(done),
                        "dept": dept,
                        "user": assignee,
                        "numbers": ", ".join(done),
                    },
                    messages.SUCCESS,
                )
            for number, error in failed:
                self.message_user(
                    request,
                    _("%(number)s not assigned: %(error)s") % {"number": number, "error": error},
                    messages.ERROR,
                )
            return None
        context = {
            **self.admin_site.each_context(request),
            "title": _("Assign cases"),
            "opts": self.opts,
            "form": form,
            "cases": queryset.order_by("number"),
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/complaints/case/bulk_assign.html", context)

    # --- intake (the add view) -----------------------------------------------------------
