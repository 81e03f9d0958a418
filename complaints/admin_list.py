"""The case list: queue tabs, filters, columns (state, time left, urgency, customer), bulk
assignment. Mixed into CaseAdmin (complaints/admin.py).
"""

import datetime
import html

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_fsm import TransitionNotAllowed

from servicedesk.pagination import capped_count

from . import lookup, services
from .admin_common import (
    DUE_COLOURS,
    DUE_SOON_HOURS,
    ESCALATION_COLOURS,
    STATE_COLOURS,
    URGENCY_COLOURS,
    _prime_user,
    badge,
    due_state,
    shows_personal_data,
)
from .admin_forms import BulkAssignForm
from .models import (
    FINAL_STATES,
    OPEN_STATES,
    STAGE_LABELS,
    Case,
    State,
    display_phone,
    user_department_ids,
)


def _escape(value):
    """Django's escape() without its lazy-string wrapper: html.escape of the text."""
    return html.escape(str(value))


# A deadline's state is said in words and a sign, never by colour alone (WCAG 1.4.1).
DUE_SIGNS = {"overdue": "⚠ ", "soon": "⏰ ", "ok": "", "done": "✓ "}


def compact_span(delta):
    """The largest whole unit only, for the list's badge: "2 days", "3 hours", "40 minutes"."""
    seconds = int(abs(delta.total_seconds()))
    if seconds >= 48 * 3600:
        n = seconds // 86400
        return ngettext("%(count)d day", "%(count)d days", n) % {"count": n}
    if seconds >= 3600:
        n = seconds // 3600
        return ngettext("%(count)d hour", "%(count)d hours", n) % {"count": n}
    n = max(seconds // 60, 1)
    return ngettext("%(count)d minute", "%(count)d minutes", n) % {"count": n}


def compact_time_left(due, now):
    """ "overdue by 2 days" / "3 hours left" (逾期 2 天 / 剩余 3 小时)."""
    if due < now:
        return _("overdue by %(time)s") % {"time": compact_span(now - due)}
    return _("%(time)s left") % {"time": compact_span(due - now)}


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


def state_choice(params):
    """The state filter's value for these query parameters: what was chosen, else open work
    (every queue's default), else — for a search — every state (a caller's old case too)."""
    value = params.get(StateFilter.parameter_name)
    if value:
        return value
    return StateFilter.ALL if (params.get(SEARCH_VAR) or "").strip() else StateFilter.DEFAULT


class StateFilter(admin.SimpleListFilter):
    """Open work by default; finished cases one click away (已完成, 全部状态)."""

    title = gettext_lazy("state")
    parameter_name = "state"
    DEFAULT = "open"
    ALL = "all"
    FINISHED = "done"

    def __init__(self, request, params, model, model_admin):
        self._choice = state_choice(request.GET)
        super().__init__(request, params, model, model_admin)

    def lookups(self, request, model_admin):
        return [
            ("open", gettext_lazy("Open (incl. resolved)")),
            ("active", gettext_lazy("Active (work to do)")),
            (self.FINISHED, gettext_lazy("Finished (closed, merged, cancelled)")),
            (self.ALL, gettext_lazy("All states")),
            *State.choices,
        ]

    def value(self):
        return self._choice

    def choices(self, changelist):
        # No Django "All" entry: "all" is a choice of its own, and no parameter means open.
        for choice, title in self.lookup_choices:
            yield {
                "selected": self.value() == str(choice),
                "query_string": changelist.get_query_string({self.parameter_name: choice}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value()
        if value == "active":
            return queryset.active()
        if value == "open":
            return queryset.open()
        if value == self.FINISHED:
            return queryset.filter(state__in=FINAL_STATES)
        if value in State.values:
            return queryset.filter(state=value)
        return queryset


class EscalatedFilter(admin.SimpleListFilter):
    """已升级: cases whose missed deadline was escalated (level 1: supervisors, level 2:
    managers). Served by `escalation_level_idx` of the escalation table (only escalated
    cases are in it)."""

    title = gettext_lazy("escalated")
    parameter_name = "escalated"

    def lookups(self, request, model_admin):
        return [
            ("any", gettext_lazy("Escalated (any level)")),
            ("1", gettext_lazy("Level 1 (supervisors)")),
            ("2", gettext_lazy("Level 2 (managers)")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "any":
            return queryset.filter(escalation__level__gte=1)
        if self.value() == "1":
            return queryset.filter(escalation__level=1)
        if self.value() == "2":
            return queryset.filter(escalation__level__gte=2)
        return queryset


def local_day_start(now):
    return timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)


class ReceivedFilter(admin.SimpleListFilter):
    """When the case was received (the dashboard's 今日受理); `case_created_idx` serves it."""

    title = gettext_lazy("received")
    parameter_name = "received"

    def lookups(self, request, model_admin):
        return [
            ("today", gettext_lazy("Today")),
            ("7d", gettext_lazy("Past 7 days")),
            ("month", gettext_lazy("This month")),
        ]

    def queryset(self, request, queryset):
        today = local_day_start(timezone.now())
        start = {
            "today": today,
            "7d": today - datetime.timedelta(days=6),
            "month": today.replace(day=1),
        }.get(self.value())
        if start is None:
            return queryset
        return queryset.filter(created_at__gte=start)


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
        counted, exact = capped_count(self.object_list, self.COUNT_CAP)
        self.capped = not exact
        return counted


class CaseChangeList(ChangeList):
    """Marks the column of the ordering actually used (time left for open work), not the
    admin's static `ordering`. Each row's link carries the list's filters and search back
    (the case page's "back to the list"), added here once per page: Django's per-row step
    resolves every row's URL again when a filter or search is on (~0.2 ms a row)."""

    def __init__(self, request, *args, **kwargs):
        self._request = request
        super().__init__(request, *args, **kwargs)
        self._row_query, self.preserved_filters = self.preserved_filters, ""

    def url_for_result(self, result):
        url = super().url_for_result(result)
        return f"{url}?{self._row_query}" if self._row_query else url

    def _get_default_ordering(self):
        return self.model_admin.get_ordering(self._request) or super()._get_default_ordering()


# --- cases -------------------------------------------------------------------------------

_LABELS = {}


def _label(field, value):
    """A choice field's label for `value`, as get_FOO_display() gives it, from a dict built
    once: get_FOO_display() builds the field's whole choice dict on every call (five calls a
    row, 250 a page)."""
    labels = _LABELS.get(field)
    if labels is None:
        labels = _LABELS[field] = dict(Case._meta.get_field(field).flatchoices)
    return str(labels.get(value, value))


class CaseListMixin:
    """The case list and its queues."""

    # Six columns that fit a 1,440 px screen with the navigation sidebar open: what a
    # supervisor scans first (state, time left) and what identifies the case and the customer.
    # Type, channel, priority and the exact deadline are in each cell's tooltip (title).
    list_display = [
        "case_column", "state_badge", "time_left", "customer", "handled_by", "received",
    ]  # fmt: skip
    list_display_links = ["case_column"]
    list_filter = [
        ScopeFilter,
        StateFilter,
        OverdueFilter,
        EscalatedFilter,
        ReceivedFilter,
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
        "Case number, subject, customer name, phone or its last 4 digits, member number or "
        "order number"
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

    def get_ordering(self, request):
        """Open work, most urgent first: the earliest unmet deadline, none last (served by
        `case_open_due_idx`). Finished cases and searches newest first."""
        choice = state_choice(request.GET)
        if choice in ("open", "active") or choice in OPEN_STATES:
            return [F("current_due").asc(nulls_last=True)]
        return ["-created_at"]

    def get_changelist(self, request, **kwargs):
        return CaseChangeList

    def get_search_results(self, request, queryset, search_term):
        # Ours, not Django's OR of substring matches over every field (complaints/lookup.py).
        term = (search_term or "").strip()
        if (
            lookup._PHONE_LIKE.match(term)
            and not lookup.phone_tail(term)
            and not lookup.sees_phone_numbers(request.user)
        ):
            # Found nothing by design (masked phones): say why, and what works instead.
            messages.info(
                request,
                _("Your role sees phone numbers masked: search by the last 4 digits instead."),
                fail_silently=True,
            )
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
            return format_html(
                '{}<br><span class="sd-muted sd-phone">{}</span>',
                obj.customer.name,
                display_phone(obj.customer.phone, masked=not full),
            )

        return customer

    def action_checkbox(self, obj):
        """Django's row checkbox, the same markup written directly: Django renders a form
        widget through the template engine for each row."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    # The columns below write their HTML with f-strings and _escape(), not format_html: the
    # same markup for a fraction of the time (format_html escapes through lazy-aware
    # wrappers, ~2,700 calls for a 50-row page). Every value from a case or a translation
    # is escaped.

    @admin.display(description=gettext_lazy("case"), ordering="number")
    def case_column(self, obj):
        """Number and urgency on the first line, the subject below (cut to two lines by the
        stylesheet); what no column shows is in the tooltip."""
        details = " · ".join(
            str(x)
            for x in [
                obj.subject,
                _label("type", obj.type),
                _label("channel", obj.channel),
                _("priority %(priority)s") % {"priority": obj.priority},
            ]
        )
        urgency = _label("urgency", obj.urgency)
        urgency_badge = badge(
            urgency,
            URGENCY_COLOURS.get(obj.urgency, "#6b7280"),
            title=_("urgency: %(urgency)s") % {"urgency": urgency},
        )
        return mark_safe(
            f'<span class="sd-case" title="{_escape(details)}"><strong>{_escape(obj.number)}'
            f'</strong> {urgency_badge}<span class="sd-subject">{_escape(obj.subject)}</span></span>'
        )

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_badge(self, obj):
        return badge(_label("state", obj.state), STATE_COLOURS.get(obj.state, "#6b7280"))

    @admin.display(description=gettext_lazy("time left"), ordering="current_due")
    def time_left(self, obj):
        """The current stage's deadline as words and a sign, not colour alone ("⚠ 已逾期 2 天",
        "剩余 3 小时"); the stage and the exact time in the tooltip; the escalation level and a
        mark when the deadlines are provisional below. No query: columns."""
        parts = []
        if obj.current_due is not None and obj.current_stage and obj.state in OPEN_STATES:
            now = timezone.now()
            state = due_state(obj.current_due, now)
            stage = STAGE_LABELS.get(obj.current_stage, obj.current_stage)
            title = f"{stage} · {timezone.localtime(obj.current_due):%Y-%m-%d %H:%M}"
            parts.append(
                f'<span class="sd-badge sd-due sd-due-{state}" style="background:'
                f'{DUE_COLOURS[state]}" title="{_escape(title)}"><span aria-hidden="true">'
                f"{DUE_SIGNS[state]}</span>{_escape(compact_time_left(obj.current_due, now))}"
                "</span>"
            )
        else:
            parts.append("—")
        level = obj.escalation_level
        if level:
            parts.append(
                '<span class="sd-badge sd-escalation" style="background:'
                f'{ESCALATION_COLOURS.get(level, ESCALATION_COLOURS[2])}" title="'
                f'{_escape(_("escalation level %(level)s") % {"level": level})}">'
                f"{_escape(_('level %(level)s escalated') % {'level': level})}</span>"
            )
        if obj.deadlines_provisional:
            parts.append(
                '<span class="sd-chip sd-provisional" title="'
                f'{_escape(Case._meta.get_field("deadlines_provisional").help_text)}">'
                f"{_escape(_('provisional'))}</span>"
            )
        return mark_safe(" ".join(parts))

    @admin.display(description=gettext_lazy("handled by"), ordering="assignee__username")
    def handled_by(self, obj):
        """The assignee (full name) over the department."""
        person = str(obj.assignee) if obj.assignee else _("unassigned")
        department = obj.department.name if obj.department else _("no department")
        return format_html('{}<br><span class="sd-muted">{}</span>', person, department)

    @admin.display(description=gettext_lazy("received at"), ordering="created_at")
    def received(self, obj):
        # Compact: the year only when it is not this year's.
        at = timezone.localtime(obj.created_at)
        now = timezone.localtime(timezone.now())
        return format_html(
            '<span title="{}">{}</span>',
            at.strftime("%Y-%m-%d %H:%M"),
            at.strftime("%m-%d %H:%M" if at.year == now.year else "%Y-%m-%d"),
        )

    def changelist_view(self, request, extra_context=None):
        if "escalation_level__gte" in request.GET:
            # The escalation digests sent before the level left the case row link here.
            params = request.GET.copy()
            level = params.pop("escalation_level__gte")[-1]
            params["escalated"] = "2" if level.isdigit() and int(level) >= 2 else "any"
            return HttpResponseRedirect("?" + params.urlencode())
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
        if request.user.has_perm("complaints.view_slabreach"):
            # Supervisors and managers: the escalations themselves, next to the 已升级 filter.
            context["breaches_url"] = reverse("admin:complaints_slabreach_changelist")
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
