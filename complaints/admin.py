"""The staff workspace for cases: the case list with its queues and deadlines, the fast intake
form, the case page (deadlines and escalations, technical collaboration requests, customer,
other cases, contacts, timeline, attachments, one button per transition), bulk assignment;
customers, routing and urgency rules, returns, technical requests, deadline breaches.

Thin by design: every change to a case goes through complaints.services. Personal data is
masked for users without `complaints.view_personal_data`.
"""

import datetime
import mimetypes

from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Count, Exists, OuterRef, Prefetch, Q, prefetch_related_objects
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django_fsm import TransitionNotAllowed

from . import search, services
from .admin_forms import (
    AttachmentForm,
    BulkAssignForm,
    CaseChangeForm,
    IntakeForm,
    ProgressForm,
    ReturnStepForm,
    TechnicalAnswerForm,
    TechnicalRequestForm,
    TransitionForm,
    WaiveSatisfactionForm,
)
from .models import (
    FINAL_STATES,
    Case,
    Channel,
    Customer,
    ReturnRequest,
    RoutingRule,
    SlaBreach,
    SlaStage,
    State,
    TechnicalRequest,
    Urgency,
    UrgencyRule,
    normalize_phone,
)

PERSONAL_DATA = "complaints.view_personal_data"

URGENCY_COLOURS = {Urgency.HIGH: "#c62828", Urgency.MEDIUM: "#d97706", Urgency.LOW: "#6b7280"}
STATE_COLOURS = {
    State.RECEIVED: "#2563eb",
    State.ASSIGNED: "#7c3aed",
    State.INVESTIGATING: "#d97706",
    State.SOLUTION_PROPOSED: "#0891b2",
    State.RESOLVED: "#16a34a",
    State.CLOSED: "#4b5563",
    State.REOPENED: "#dc2626",
    State.MERGED: "#9ca3af",
    State.CANCELLED: "#9ca3af",
}
OTHER_CASES_SHOWN = 20
# "Due soon": amber in the list and the "due within 4 h" queue.
DUE_SOON_HOURS = 4
DUE_COLOURS = {"overdue": "#c62828", "soon": "#d97706", "ok": "#16a34a", "done": "#16a34a"}
ESCALATION_COLOURS = {1: "#d97706", 2: "#7f1d1d"}
STAGE_LABELS = dict(SlaStage.choices)
# Evidence a browser shows by itself; anything else is downloaded.
INLINE_TYPES = ("image/", "video/", "audio/", "application/pdf", "text/plain")


def _prime_user(request):
    # `sees_all_departments` reads the user's groups on every call (visibility, each button's
    # permission); load them once per request.
    user = request.user
    if user.is_authenticated and "groups" not in getattr(user, "_prefetched_objects_cache", {}):
        prefetch_related_objects([user], "groups")


def badge(label, colour):
    return format_html('<span class="sd-badge" style="background:{}">{}</span>', colour, label)


def shows_personal_data(request):
    return request.user.has_perm(PERSONAL_DATA)


def format_span(delta):
    """A rough length of time for the deadline columns: "40 minutes", "3 hours", "2 days 5
    hours" (whole units, rounded down; never "0 minutes")."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 3600:
        n = max(seconds // 60, 1)
        return ngettext("%(count)d minute", "%(count)d minutes", n) % {"count": n}
    hours = seconds // 3600
    if hours < 48:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days, hours = divmod(hours, 24)
    text = ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if hours:
        text += " " + ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return text


def due_state(due, now):
    """The colour class of a deadline still to meet: overdue, soon (within DUE_SOON_HOURS), ok."""
    if due < now:
        return "overdue"
    if due - now <= datetime.timedelta(hours=DUE_SOON_HOURS):
        return "soon"
    return "ok"


def time_left_text(due, now):
    """For example "3 hours left" or "overdue by 2 hours"."""
    if due < now:
        return _("overdue by %(time)s") % {"time": format_span(now - due)}
    return _("%(time)s left") % {"time": format_span(due - now)}


def escalation_badge(level):
    if not level:
        return ""
    return format_html(
        '<span class="sd-badge sd-escalation" style="background:{}" title="{}">L{}</span>',
        ESCALATION_COLOURS.get(level, ESCALATION_COLOURS[2]),
        _("escalation level %(level)s") % {"level": level},
        level,
    )


class NormalizedPhoneSearchMixin:
    """Also find a phone number typed with spaces, dashes or +86."""

    phone_search_path = "phone_normalized"

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        phone = normalize_phone(search_term)
        if len(phone) >= 5 and phone != search_term.strip():
            results = results | queryset.filter(**{self.phone_search_path: phone})
        return results, may_have_duplicates


# --- list filters ------------------------------------------------------------------------


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
            return queryset.filter(department__in=request.user.departments.all())
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


# --- cases -------------------------------------------------------------------------------


@admin.register(Case)
class CaseAdmin(NormalizedPhoneSearchMixin, admin.ModelAdmin):
    form = CaseChangeForm
    formfield_overrides = {
        models.TextField: {"widget": widgets.AdminTextareaWidget(attrs={"rows": 3})},
    }
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
        ("assignee", admin.RelatedOnlyFieldListFilter),
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
    phone_search_path = "customer__phone_normalized"
    list_per_page = 50
    ordering = ["-created_at"]
    actions = ["assign_selected"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "expected_version",
                    "subject",
                    ("type", "category"),
                    ("urgency", "priority"),
                    ("product", "order_no"),
                ]
            },
        ),
        (
            gettext_lazy("What the customer said"),
            {"fields": ["description", "customer_words", "expected_outcome", "prior_history"]},
        ),
        (
            gettext_lazy("Handling"),
            {"fields": ["cause", ("expected_resolution_at", "next_contact_at"), "remarks"]},
        ),
        (gettext_lazy("Customer feedback"), {"fields": ["feedback_text"], "classes": ["collapse"]}),
    ]

    # --- the list ------------------------------------------------------------------------

    def get_queryset(self, request):
        _prime_user(request)
        return super().get_queryset(request).visible_to(request.user).for_list()

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

    def add_view(self, request, form_url="", extra_context=None):
        """The fast intake form. Cases are only ever created by services.case_intake."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = IntakeForm(request.POST, request.FILES)
            if form.is_valid():
                try:
                    result = services.case_intake(user=request.user, **form.intake_kwargs())
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    return self._intake_done(request, result)
        else:
            channel = request.GET.get("channel")
            form = IntakeForm(initial={"channel": channel} if channel in Channel.values else None)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Register a case"),
            "opts": self.opts,
            "adminform": helpers.AdminForm(form, IntakeForm.FIELDSETS, {}, model_admin=self),
            "form": form,
            "errors": form.errors,
            "media": self.media + form.media,
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/complaints/case/intake.html", context)

    def _intake_done(self, request, result):
        case = result.case
        if result.absorbed:
            self.message_user(
                request,
                _(
                    "%(name)s already has an open case about this: the contact was added to "
                    "case %(number)s instead of opening a new one."
                )
                % {"name": case.customer.name, "number": case.number},
                messages.WARNING,
            )
        else:
            parts = [_("Case %(number)s registered.") % {"number": case.number}]
            if case.assignee_id:
                parts.append(
                    _("Assigned to %(dept)s / %(user)s.")
                    % {"dept": case.department, "user": case.assignee}
                )
            elif case.department_id:
                parts.append(_("Routed to %(dept)s.") % {"dept": case.department})
            else:
                parts.append(_("No routing rule matched: it waits in the unassigned queue."))
            if case.urgency_reason:
                parts.append(case.urgency_reason)
            self.message_user(request, " ".join(parts), messages.SUCCESS)
        if "_addanother" in request.POST:
            return HttpResponseRedirect(request.path)
        if case.is_visible_to(request.user):
            return HttpResponseRedirect(self._case_url(case))
        return HttpResponseRedirect(reverse("admin:complaints_case_changelist"))

    # --- the case page (the change view) -------------------------------------------------

    def get_object(self, request, object_id, from_field=None):
        if from_field is not None:
            return super().get_object(request, object_id, from_field)
        queryset = self.get_queryset(request).select_related(
            "return_request", "merged_into", "created_by", "satisfaction_waived_by",
            "plan_revision__plan",
        )  # fmt: skip
        try:
            return queryset.get(pk=int(object_id))
        except (Case.DoesNotExist, ValueError, TypeError):
            return None

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        # A case of another department exists but is not this user's business: say so (403)
        # rather than pretend it was deleted.
        try:
            exists = Case.objects.filter(pk=int(object_id)).exists()
        except (ValueError, TypeError):
            exists = False
        if exists:
            raise PermissionDenied
        return super()._get_obj_does_not_exist_redirect(request, opts, object_id)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        _prime_user(request)
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except services.CaseChanged as exc:
            # Raised inside the admin's transaction: nothing was saved.
            self.message_user(request, str(exc), messages.ERROR)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        return HttpResponseRedirect(request.path)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.has_change_permission(request, obj):
            return fieldsets
        # Read-only page: no version to send back.
        return [
            (name, {**opts, "fields": [f for f in opts["fields"] if f != "expected_version"]})
            for name, opts in fieldsets
        ]

    def save_model(self, request, obj, form, change):
        if not change:
            raise PermissionDenied  # cases are created by the intake service only
        changes = {
            f: form.cleaned_data[f] for f in form.changed_data if f in services.EDITABLE_FIELDS
        }
        if changes:
            services.case_update(
                case=obj,
                user=request.user,
                expected_version=form.cleaned_data["expected_version"],
                **changes,
            )

    def save_related(self, request, form, formsets, change):
        pass  # nothing related is edited on this form

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and change:
            context.update(self._case_page_context(request, obj))
        context["show_save_and_add_another"] = False
        context["show_delete"] = False
        return super().render_change_form(request, context, add, change, form_url, obj)

    def _case_page_context(self, request, case):
        user = request.user
        full = shows_personal_data(request)
        customer = case.customer
        others = Case.objects.filter(customer_id=case.customer_id).exclude(pk=case.pk)
        visible_others = others.visible_to(user)
        other_cases = list(
            visible_others.select_related("department").order_by("-created_at")[:OTHER_CASES_SHOWN]
        )
        visible_count = visible_others.count()
        events = list(case.events.select_related("author"))
        for event in events:
            event.changes = _changes(event)
        try:
            return_request = case.return_request
        except ReturnRequest.DoesNotExist:
            return_request = None
        buttons = [
            {
                "name": name,
                "label": label,
                "needs_input": bool(inputs),
                "url": reverse("admin:complaints_case_transition", args=[case.pk, name]),
            }
            for name, label, inputs in services.available_transitions(case, user)
        ]
        can_waive = (
            case.state == State.RESOLVED
            and not case.satisfaction_done
            and user.has_perm("complaints.waive_satisfaction")
        )
        now = timezone.now()
        prefetch_related_objects(
            [case],
            Prefetch(
                "breaches",
                queryset=SlaBreach.objects.select_related("department").order_by(
                    "-escalated_at", "-level", "-pk"
                ),
            ),
            Prefetch(
                "technical_requests",
                queryset=TechnicalRequest.objects.select_related(
                    "department", "requested_by", "answered_by"
                ),
            ),
        )
        can_ask = (
            user.has_perm("complaints.add_technicalrequest") and case.state not in FINAL_STATES
        )
        plan_revision_url = (
            reverse("admin:knowledge_planrevision_change", args=[case.plan_revision_id])
            if case.plan_revision_id and user.has_perm("knowledge.view_planrevision")
            else ""
        )
        return {
            "case": case,
            "customer_phone": customer.phone if full else customer.phone_masked,
            "customer_email": customer.email if full else customer.email_masked,
            "customer_url": reverse("admin:complaints_customer_change", args=[customer.pk]),
            "other_cases": other_cases,
            "other_more": visible_count - len(other_cases),
            "other_hidden": others.count() - visible_count,
            "contacts": list(case.contacts.select_related("created_by")),
            "events": events,
            "attachments": list(case.attachments.select_related("uploaded_by")),
            "return_request": return_request,
            "return_buttons": [
                {
                    "label": label,
                    "url": reverse("admin:complaints_case_return_step", args=[case.pk, name]),
                }
                for name, label, _inputs in services.available_return_steps(return_request, user)
            ]
            if return_request
            else [],
            "transition_buttons": buttons,
            "can_waive": can_waive,
            "waive_url": reverse("admin:complaints_case_waive", args=[case.pk]),
            "can_progress": user.has_perm("complaints.add_caseevent")
            and case.state
            not in (
                State.MERGED,
                State.CANCELLED,
            ),
            "progress_form": ProgressForm(initial={"expected_version": case.version}),
            "progress_url": reverse("admin:complaints_case_progress", args=[case.pk]),
            "can_attach": user.has_perm("complaints.add_attachment"),
            "attachment_form": AttachmentForm(),
            "attach_url": reverse("admin:complaints_case_attach", args=[case.pk]),
            "suggested_articles": search.suggested_articles(case),
            "similar_cases": search.similar_resolved_cases(case, user=user),
            "can_write_article": case.state in (State.RESOLVED, State.CLOSED)
            and user.has_perm("knowledge.add_article"),
            "article_url": reverse("admin:complaints_case_article", args=[case.pk]),
            "state_colour": STATE_COLOURS.get(case.state),
            "urgency_colour": URGENCY_COLOURS.get(case.urgency),
            "now": now,
            "deadline_rows": _deadline_rows(case, now),
            "current_deadline": _current_deadline(case, now),
            "escalation_badge": escalation_badge(case.escalation_level),
            "plan_revision_url": plan_revision_url,
            "breaches": [
                {"breach": b, "stage": STAGE_LABELS.get(b.stage, b.stage)}
                for b in case.breaches.all()
            ],
            "tech_requests": _tech_request_rows(case.technical_requests.all(), user, now),
            "can_ask": can_ask,
            "tech_form": TechnicalRequestForm(
                auto_id="id_tech_%s", exclude_department=case.department_id
            )
            if can_ask
            else None,
            "tech_url": reverse("admin:complaints_case_technical_request", args=[case.pk]),
        }

    # --- case actions (their own small pages) --------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/transition/<str:name>/",
                view(self.transition_view),
                name="complaints_case_transition",
            ),
            path(
                "<int:pk>/waive-satisfaction/", view(self.waive_view), name="complaints_case_waive"
            ),
            path("<int:pk>/progress/", view(self.progress_view), name="complaints_case_progress"),
            path("<int:pk>/article/", view(self.article_view), name="complaints_case_article"),
            path(
                "<int:pk>/return/<str:step>/",
                view(self.return_step_view),
                name="complaints_case_return_step",
            ),
            path("<int:pk>/attachments/", view(self.attach_view), name="complaints_case_attach"),
            path(
                "<int:pk>/technical-requests/",
                view(self.technical_request_view),
                name="complaints_case_technical_request",
            ),
            path(
                "<int:pk>/attachments/<int:attachment_pk>/",
                view(self.attachment_view),
                name="complaints_case_attachment",
            ),
            *super().get_urls(),
        ]

    def _case_url(self, case, anchor=""):
        return reverse("admin:complaints_case_change", args=[case.pk]) + anchor

    def _case_for(self, request, pk):
        """The case if this user may see it; 403 if it exists but is not theirs; else 404."""
        _prime_user(request)
        case = self.get_object(request, pk)
        if case is None:
            if Case.objects.filter(pk=pk).exists():
                raise PermissionDenied
            raise Http404
        if not self.has_view_or_change_permission(request, case):
            raise PermissionDenied
        return case

    def _action_page(self, request, case, *, title, form, submit, intro="", extra_links=()):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "opts": self.opts,
            "case": case,
            "case_url": self._case_url(case),
            "form": form,
            "adminform": helpers.AdminForm(
                form, [(None, {"fields": list(form.fields)})], {}, model_admin=self
            ),
            "submit_label": submit,
            "intro": intro,
            "extra_links": extra_links,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/complaints/case/action_form.html", context)

    def transition_view(self, request, pk, name):
        case = self._case_for(request, pk)
        available = {n: (label, inputs) for n, label, inputs in services.available_transitions(
            case, request.user
        )}  # fmt: skip
        if name not in available:
            self.message_user(
                request,
                _(
                    "This step is not available to you while the case is “%(state)s”. "
                    "The case may have changed: it has been reloaded."
                )
                % {"state": case.get_state_display()},
                messages.ERROR,
            )
            return HttpResponseRedirect(self._case_url(case))
        label, inputs = available[name]
        if request.method == "POST":
            form = TransitionForm(request.POST, inputs=inputs)
            if form.is_valid():
                try:
                    updated = services.case_transition(
                        case=case,
                        name=name,
                        user=request.user,
                        expected_version=form.cleaned_data["expected_version"],
                        **form.service_kwargs(),
                    )
                except (PermissionDenied, TransitionNotAllowed, services.CaseChanged) as exc:
                    message = str(exc) or _("You do not have permission for this step.")
                    if isinstance(exc, TransitionNotAllowed):
                        message += " " + _("The case has changed: reload and try again.")
                    self.message_user(request, message, messages.ERROR)
                    return HttpResponseRedirect(self._case_url(case))
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    self.message_user(
                        request,
                        _("%(step)s: done. Case %(number)s is now “%(state)s”.")
                        % {
                            "step": label,
                            "number": updated.number,
                            "state": updated.get_state_display(),
                        },
                        messages.SUCCESS,
                    )
                    return HttpResponseRedirect(self._case_url(updated))
        else:
            form = TransitionForm(
                inputs=inputs,
                initial={
                    "expected_version": case.version,
                    "department": case.department_id,
                    "assignee": case.assignee_id,
                    "solution": case.solution,
                    "result": case.result,
                    "cause": case.cause,
                },
            )
        extra = []
        if name == "close" and request.user.has_perm("complaints.waive_satisfaction"):
            extra.append(
                (reverse("admin:complaints_case_waive", args=[case.pk]), _("Waive satisfaction"))
            )
        return self._action_page(
            request,
            case,
            title=f"{label} · {case.number}",
            form=form,
            submit=label,
            extra_links=extra,
        )

    def return_step_view(self, request, pk, step):
        case = self._case_for(request, pk)
        rr = ReturnRequest.objects.filter(case=case).first()
        available = {
            n: (label, inputs)
            for n, label, inputs in (
                services.available_return_steps(rr, request.user) if rr else []
            )
        }
        if step not in available:
            self.message_user(
                request,
                _("This return / exchange step is not available now: the case has been reloaded."),
                messages.ERROR,
            )
            return HttpResponseRedirect(self._case_url(case, "#return"))
        label, inputs = available[step]
        if request.method == "POST":
            form = ReturnStepForm(request.POST, inputs=inputs)
            if form.is_valid():
                try:
                    services.return_request_step(
                        case=case,
                        step=step,
                        user=request.user,
                        expected_version=form.cleaned_data["expected_version"],
                        **form.service_kwargs(),
                    )
                except (PermissionDenied, TransitionNotAllowed, services.CaseChanged) as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                    return HttpResponseRedirect(self._case_url(case, "#return"))
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    self.message_user(
                        request, _("%(step)s: done.") % {"step": label}, messages.SUCCESS
                    )
                    return HttpResponseRedirect(self._case_url(case, "#return"))
        else:
            form = ReturnStepForm(inputs=inputs, initial={"expected_version": case.version})
        return self._action_page(
            request, case, title=f"{label} · {case.number}", form=form, submit=label
        )

    def article_view(self, request, pk):
        case = self._case_for(request, pk)
        if request.method != "POST":
            return HttpResponseRedirect(self._case_url(case, "#suggestions"))
        try:
            article = services.case_create_article(case=case, user=request.user)
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(
                request,
                " ".join(exc.messages) if hasattr(exc, "messages") else str(exc),
                messages.ERROR,
            )
            return HttpResponseRedirect(self._case_url(case, "#suggestions"))
        self.message_user(
            request,
            _("Draft article written from case %(number)s: check and complete it.")
            % {"number": case.number},
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:knowledge_article_change", args=[article.pk]))

    def waive_view(self, request, pk):
        case = self._case_for(request, pk)
        form = WaiveSatisfactionForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                services.case_waive_satisfaction(
                    case=case, user=request.user, reason=form.cleaned_data["reason"]
                )
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(self._case_url(case))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    _("Satisfaction follow-up waived: the case can be closed now."),
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._case_url(case))
        return self._action_page(
            request,
            case,
            title=_("Waive satisfaction · %(number)s") % {"number": case.number},
            form=form,
            submit=_("Waive satisfaction"),
            intro=_("The case may then close without the customer's satisfaction feedback."),
        )

    def progress_view(self, request, pk):
        case = self._case_for(request, pk)
        if not request.user.has_perm("complaints.add_caseevent"):
            raise PermissionDenied
        if request.method != "POST":
            form = ProgressForm(initial={"expected_version": case.version})
        else:
            form = ProgressForm(request.POST)
            if form.is_valid():
                d = form.cleaned_data
                sets_times = d["next_contact_at"] or d["expected_resolution_at"]
                try:
                    services.case_add_event(
                        case=case,
                        user=request.user,
                        message=d["message"],
                        kind=d["kind"],
                        customer_notified=d["customer_notified"],
                        next_contact_at=d["next_contact_at"],
                        expected_resolution_at=d["expected_resolution_at"],
                        # Appending never conflicts; changing promised times over
                        # somebody else's change does.
                        expected_version=d["expected_version"] if sets_times else None,
                    )
                except services.CaseChanged as exc:
                    # Keep what was typed; a second submit applies it over the new version.
                    data = request.POST.copy()
                    data["expected_version"] = exc.case.version
                    form = ProgressForm(data)
                    form.is_valid()
                    form.add_error(None, str(exc))
                except PermissionDenied as exc:
                    self.message_user(request, str(exc), messages.ERROR)
                    return HttpResponseRedirect(self._case_url(case))
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    self.message_user(request, _("Added to the timeline."), messages.SUCCESS)
                    return HttpResponseRedirect(self._case_url(case, "#timeline"))
        return self._action_page(
            request,
            case,
            title=_("Progress update · %(number)s") % {"number": case.number},
            form=form,
            submit=_("Add to the timeline"),
        )

    def attach_view(self, request, pk):
        case = self._case_for(request, pk)
        if not request.user.has_perm("complaints.add_attachment"):
            raise PermissionDenied
        form = AttachmentForm(request.POST, request.FILES) if request.method == "POST" else None
        if form is not None and form.is_valid():
            files = form.cleaned_data["files"]
            try:
                with transaction.atomic():
                    for f in files:
                        services.case_add_attachment(
                            case=case,
                            file=f,
                            user=request.user,
                            description=form.cleaned_data["description"],
                        )
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    ngettext("%(count)d file attached.", "%(count)d files attached.", len(files))
                    % {"count": len(files)},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._case_url(case, "#attachments"))
        return self._action_page(
            request,
            case,
            title=_("Attach evidence · %(number)s") % {"number": case.number},
            form=form or AttachmentForm(),
            submit=_("Upload"),
        )

    def technical_request_view(self, request, pk):
        """Ask another department for help: services.technical_request_create."""
        case = self._case_for(request, pk)
        if not request.user.has_perm("complaints.add_technicalrequest"):
            raise PermissionDenied
        form = TechnicalRequestForm(
            request.POST if request.method == "POST" else None,
            exclude_department=case.department_id,
        )
        if form.is_bound and form.is_valid():
            try:
                tr = services.technical_request_create(
                    case=case,
                    department=form.cleaned_data["department"],
                    question=form.cleaned_data["question"],
                    user=request.user,
                )
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(self._case_url(case, "#technical"))
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    _("%(dept)s has been asked; the answer is due by %(due)s.")
                    % {
                        "dept": tr.department,
                        "due": timezone.localtime(tr.due_at).strftime("%Y-%m-%d %H:%M"),
                    },
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._case_url(case, "#technical"))
        return self._action_page(
            request,
            case,
            title=_("Ask another department · %(number)s") % {"number": case.number},
            form=form,
            submit=_("Ask for help"),
        )

    def attachment_view(self, request, pk, attachment_pk):
        """Evidence is served only to staff who may see the case, never from a public URL."""
        case = self._case_for(request, pk)
        attachment = get_object_or_404(case.attachments, pk=attachment_pk)
        content_type = mimetypes.guess_type(attachment.original_name)[0] or ""
        try:
            handle = attachment.file.open("rb")
        except FileNotFoundError as exc:
            raise Http404 from exc
        return FileResponse(
            handle,
            as_attachment=not content_type.startswith(INLINE_TYPES),
            filename=attachment.original_name,
        )


def _deadline_rows(case, now):
    """The case page's deadline table: one row per stage with its state and colour."""
    rows = []
    for stage, info in case.deadline_summary(now).items():
        due, done = info["due"], info["done_at"]
        if done is not None:
            late = info["met"] is False
            state = "late" if late else "met"
            text = _("met %(time)s late") % {"time": format_span(done - due)} if late else _("met")
        elif info["pending"]:
            state = due_state(due, now)
            text = time_left_text(due, now)
        else:
            state, text = "none", ""
        rows.append(
            {
                "stage": stage,
                "label": STAGE_LABELS[stage],
                "due": due,
                "done_at": done,
                "state": state,
                "text": text,
                "colour": {"met": DUE_COLOURS["done"], "late": DUE_COLOURS["overdue"]}.get(
                    state, DUE_COLOURS.get(state, "#6b7280")
                ),
            }
        )
    return rows


def _current_deadline(case, now):
    """The head of the case page: the current stage and its time left, like the list."""
    if case.current_due is None or not case.current_stage:
        return None
    state = due_state(case.current_due, now)
    return {
        "label": STAGE_LABELS.get(case.current_stage, case.current_stage),
        "text": time_left_text(case.current_due, now),
        "state": state,
        "colour": DUE_COLOURS[state],
    }


def _tech_request_rows(requests, user, now):
    """Technical requests with their deadline state; `can_answer` for members of the asked
    department (the service checks it again)."""
    rows, my_departments = [], None
    may_answer = user.has_perm("complaints.change_technicalrequest")
    for tr in requests:
        if tr.answered_at is not None:
            late = tr.answered_at > tr.due_at
            state = "late" if late else "met"
            text = (
                _("answered %(time)s late") % {"time": format_span(tr.answered_at - tr.due_at)}
                if late
                else _("answered in time")
            )
            colour = DUE_COLOURS["overdue" if late else "done"]
            can_answer = False
        else:
            state = due_state(tr.due_at, now)
            text, colour = time_left_text(tr.due_at, now), DUE_COLOURS[state]
            if may_answer and my_departments is None and not user.sees_all_departments:
                my_departments = set(user.memberships.values_list("department_id", flat=True))
            can_answer = may_answer and (
                user.sees_all_departments or tr.department_id in my_departments
            )
        rows.append(
            {
                "tr": tr,
                "state": state,
                "text": text,
                "colour": colour,
                "can_answer": can_answer,
                "answer_url": reverse("admin:complaints_technicalrequest_answer", args=[tr.pk]),
            }
        )
    return rows


def _changes(event):
    """[(field label, old, new)] for a "details changed" event."""
    if event.kind != "change" or not isinstance(event.data, dict):
        return []
    rows = []
    for field, values in event.data.items():
        try:
            label = Case._meta.get_field(field).verbose_name
        except FieldDoesNotExist:  # a field renamed since still shows by its name
            label = field
        if isinstance(values, list) and len(values) == 2:
            rows.append((label, values[0], values[1]))
    return rows


# --- customers ---------------------------------------------------------------------------


class CustomerCaseInline(admin.TabularInline):
    model = Case
    fk_name = "customer"
    fields = [
        "number",
        "subject",
        "channel",
        "type",
        "state",
        "department",
        "assignee",
        "created_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = gettext_lazy("cases of this customer")

    def get_queryset(self, request):
        _prime_user(request)
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .select_related("department", "assignee")
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Customer)
class CustomerAdmin(NormalizedPhoneSearchMixin, admin.ModelAdmin):
    list_display = [
        "name", "phone_display", "email_display", "member_no", "kind", "tier", "case_count",
        "created_at",
    ]  # fmt: skip
    list_filter = ["kind", "tier"]
    search_fields = [
        "name", "company", "=phone_normalized", "=email_normalized", "=member_no_normalized",
    ]  # fmt: skip
    search_help_text = gettext_lazy("Name, company, phone, e-mail or member number")
    inlines = [CustomerCaseInline]
    list_per_page = 50

    def get_queryset(self, request):
        _prime_user(request)
        qs = super().get_queryset(request).annotate(case_count=Count("cases"))
        if not request.user.sees_all_departments:
            # Staff see the customers of the cases they see, like the cases themselves.
            qs = qs.filter(
                Exists(Case.objects.visible_to(request.user).filter(customer=OuterRef("pk")))
            )
        return qs

    def has_add_permission(self, request):
        return False  # customers are registered with their first case (intake matches them)

    def get_fieldsets(self, request, obj=None):
        contact = (
            ["phone", "email"]
            if shows_personal_data(request)
            else ["phone_display", "email_display"]
        )
        return [
            (None, {"fields": ["name", "member_no", *contact, "preferred_contact"]}),
            (
                gettext_lazy("Customer type"),
                {"fields": [("kind", "tier"), "company", "industry"]},
            ),
            (None, {"fields": ["created_at", "anonymized_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = ["created_at", "anonymized_at"]
        if not shows_personal_data(request):
            fields += ["phone_display", "email_display"]
        return fields

    @admin.display(description=gettext_lazy("phone"))
    def phone_display(self, obj):
        # Only reached through the list and the read-only fields; the mask depends on the
        # request, so both are built per request in get_list_display.
        return obj.phone_masked

    @admin.display(description=gettext_lazy("e-mail"))
    def email_display(self, obj):
        return obj.email_masked

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if shows_personal_data(request):
            display[display.index("phone_display")] = "phone"
            display[display.index("email_display")] = "email"
        return display

    @admin.display(description=gettext_lazy("cases"), ordering="case_count")
    def case_count(self, obj):
        return obj.case_count

    def has_delete_permission(self, request, obj=None):
        return False  # customers are anonymised, never deleted


# --- rules -------------------------------------------------------------------------------


@admin.register(UrgencyRule)
class UrgencyRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "keywords_short", "urgency", "priority", "order", "is_active"]
    list_display_links = ["name"]
    list_editable = ["order", "is_active"]
    list_filter = ["urgency", "is_active"]
    search_fields = ["name", "keywords"]

    @admin.display(description=gettext_lazy("keywords"))
    def keywords_short(self, obj):
        return _short(obj.keywords)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name", "case_type", "category", "keywords_short", "product", "department",
        "assign_automatically", "order", "is_active",
    ]  # fmt: skip
    list_display_links = ["name"]
    list_editable = ["order", "is_active"]
    list_filter = ["department", "case_type", "category", "is_active"]
    list_select_related = ["department"]
    search_fields = ["name", "keywords", "product"]
    autocomplete_fields = ["department"]

    @admin.display(description=gettext_lazy("keywords"))
    def keywords_short(self, obj):
        return _short(obj.keywords)


def _short(text, length=60):
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


# --- returns -----------------------------------------------------------------------------


@admin.register(ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin):
    """Read-only list of return/exchange requests; they are registered with their case."""

    list_display = [
        "case_link", "order_no", "product", "purchase_date", "reason", "unopened",
        "outside_window", "step", "updated_at",
    ]  # fmt: skip
    list_filter = ["step", "reason", "outside_window"]
    search_fields = ["case__number", "order_no", "product"]
    list_select_related = ["case"]

    def get_queryset(self, request):
        _prime_user(request)
        return (
            super()
            .get_queryset(request)
            .filter(case__in=Case.objects.visible_to(request.user).values("pk"))
        )

    @admin.display(description=gettext_lazy("case"), ordering="case__number")
    def case_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:complaints_case_change", args=[obj.case_id]),
            obj.case.number,
        )

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- technical collaboration requests and deadline breaches ------------------------------


def _case_link(case):
    return format_html(
        '<a href="{}">{}</a><br><span class="sd-muted">{}</span>',
        reverse("admin:complaints_case_change", args=[case.pk]),
        case.number,
        _short(case.subject, 40),
    )


def _visible_requests(queryset, user):
    """Requests asked of the user's departments, or on cases the user sees."""
    if user.sees_all_departments:
        return queryset
    return queryset.filter(
        Q(department__in=user.departments.all())
        | Q(case__in=Case.objects.visible_to(user).values("pk"))
    )


class TechnicalRequestStatusFilter(admin.SimpleListFilter):
    title = gettext_lazy("answer")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [
            ("open", gettext_lazy("Waiting for an answer")),
            ("overdue", gettext_lazy("Overdue")),
            ("answered", gettext_lazy("Answered")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "open":
            return queryset.filter(answered_at__isnull=True)
        if self.value() == "overdue":
            return queryset.filter(answered_at__isnull=True, due_at__lt=timezone.now())
        if self.value() == "answered":
            return queryset.filter(answered_at__isnull=False)
        return queryset


class AskedOfFilter(admin.SimpleListFilter):
    title = gettext_lazy("asked of")
    parameter_name = "asked"

    def lookups(self, request, model_admin):
        return [("mine", gettext_lazy("My departments"))]

    def queryset(self, request, queryset):
        if self.value() == "mine":
            return queryset.filter(department__in=request.user.departments.all())
        return queryset


@admin.register(TechnicalRequest)
class TechnicalRequestAdmin(admin.ModelAdmin):
    """Technical collaboration requests: the asked department's queue. Created from the case
    page, answered on their own small page (members of the asked department need not see the
    whole case)."""

    list_display = [
        "case_column", "department", "question_short", "requested_by", "requested_at",
        "due_column", "escalation",
    ]  # fmt: skip
    list_filter = [TechnicalRequestStatusFilter, AskedOfFilter, "department"]
    list_select_related = ["case", "department", "requested_by"]
    search_fields = ["case__number", "question", "answer"]
    ordering = ["-requested_at"]
    fields = [
        "case", "department", "question", "requested_by", "requested_at", "due_at", "answer",
        "answered_by", "answered_at", "escalation_level",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        _prime_user(request)
        return _visible_requests(super().get_queryset(request), request.user)

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if request.user.has_perm("complaints.change_technicalrequest"):
            departments = (
                None
                if request.user.sees_all_departments
                else set(request.user.memberships.values_list("department_id", flat=True))
            )
            display.append(self._answer_column(departments))
        return display

    @staticmethod
    def _answer_column(departments):
        # A closure over this request's departments: the admin instance is shared.
        @admin.display(description=gettext_lazy("answer"))
        def answer(obj):
            if obj.answered_at is not None:
                return _short(obj.answer, 60)
            if departments is None or obj.department_id in departments:
                return format_html(
                    '<a class="button" href="{}">{}</a>',
                    reverse("admin:complaints_technicalrequest_answer", args=[obj.pk]),
                    _("Answer…"),
                )
            return "—"

        return answer

    @admin.display(description=gettext_lazy("case"), ordering="case__number")
    def case_column(self, obj):
        return _case_link(obj.case)

    @admin.display(description=gettext_lazy("question"))
    def question_short(self, obj):
        return _short(obj.question, 80)

    @admin.display(description=gettext_lazy("answer due"), ordering="due_at")
    def due_column(self, obj):
        now = timezone.now()
        due = timezone.localtime(obj.due_at).strftime("%Y-%m-%d %H:%M")
        if obj.answered_at is not None:
            late = obj.answered_at > obj.due_at
            return format_html(
                '{}<br><span class="sd-badge" style="background:{}">{}</span>',
                due,
                DUE_COLOURS["overdue" if late else "done"],
                _("answered late") if late else _("answered in time"),
            )
        state = due_state(obj.due_at, now)
        return format_html(
            '{}<br><span class="sd-badge sd-due sd-due-{}" style="background:{}">{}</span>',
            due,
            state,
            DUE_COLOURS[state],
            time_left_text(obj.due_at, now),
        )

    @admin.display(description=gettext_lazy("escalation level"), ordering="escalation_level")
    def escalation(self, obj):
        return escalation_badge(obj.escalation_level) or "—"

    def has_add_permission(self, request):
        return False  # asked from the case page

    def has_change_permission(self, request, obj=None):
        return False  # answered on the answer page, through the service

    def has_delete_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        _prime_user(request)
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        return [
            path(
                "<int:pk>/answer/",
                self.admin_site.admin_view(self.answer_view),
                name="complaints_technicalrequest_answer",
            ),
            *super().get_urls(),
        ]

    def answer_view(self, request, pk):
        _prime_user(request)
        user = request.user
        tr = self.get_queryset(request).select_related("case", "department").filter(pk=pk).first()
        if tr is None:
            if TechnicalRequest.objects.filter(pk=pk).exists():
                raise PermissionDenied
            raise Http404
        if not user.has_perm("complaints.change_technicalrequest"):
            raise PermissionDenied
        back = (
            reverse("admin:complaints_case_change", args=[tr.case_id]) + "#technical"
            if tr.case.is_visible_to(user)
            else reverse("admin:complaints_technicalrequest_changelist")
        )
        if tr.answered_at is not None:
            self.message_user(request, _("This request has already been answered."), messages.INFO)
            return HttpResponseRedirect(back)
        form = TechnicalAnswerForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                services.technical_request_answer(
                    request=tr, answer=form.cleaned_data["answer"], user=user
                )
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(back)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                self.message_user(
                    request,
                    _("Answer sent to case %(number)s.") % {"number": tr.case.number},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "title": _("Answer %(dept)s's request · %(number)s")
            % {"dept": tr.department, "number": tr.case.number},
            "opts": self.opts,
            "case": tr.case,
            "case_url": back,
            "form": form,
            "adminform": helpers.AdminForm(
                form, [(None, {"fields": list(form.fields)})], {}, model_admin=self
            ),
            "submit_label": _("Send the answer"),
            "intro": _("%(question)s — asked by %(user)s, answer due %(due)s (%(left)s)")
            % {
                "question": tr.question,
                "user": tr.requested_by or "-",
                "due": timezone.localtime(tr.due_at).strftime("%Y-%m-%d %H:%M"),
                "left": time_left_text(tr.due_at, timezone.now()),
            },
            "extra_links": (),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/complaints/case/action_form.html", context)


@admin.register(SlaBreach)
class SlaBreachAdmin(admin.ModelAdmin):
    """Every escalation raised by the deadline sweep: read-only, for supervisors' reviews."""

    list_display = [
        "case_column", "stage", "level", "due_at", "escalated_at", "department",
        "notified_list",
    ]  # fmt: skip
    list_filter = ["stage", "level", "department"]
    list_select_related = ["case", "department"]
    search_fields = ["case__number"]
    date_hierarchy = "escalated_at"
    fields = [
        "case", "technical_request", "stage", "level", "due_at", "escalated_at", "department",
        "notified",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        _prime_user(request)
        qs = super().get_queryset(request)
        if request.user.sees_all_departments:
            return qs
        return qs.filter(case__in=Case.objects.visible_to(request.user).values("pk"))

    @admin.display(description=gettext_lazy("case"), ordering="case__number")
    def case_column(self, obj):
        return _case_link(obj.case)

    @admin.display(description=gettext_lazy("notified"))
    def notified_list(self, obj):
        return "、".join(obj.notified or []) or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
