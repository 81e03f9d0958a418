"""Returns/exchanges, technical collaboration requests and deadline breaches."""

import threading

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicedesk.staff.models import User

from . import services
from .admin_common import (
    DUE_COLOURS,
    _case_link,
    _prime_user,
    _short,
    due_state,
    escalation_badge,
    time_left_text,
)
from .admin_forms import TechnicalAnswerForm
from .models import Case, ReturnRequest, SlaBreach, TechnicalRequest


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


BREACH_LEVELS = {
    1: gettext_lazy("Level 1 (supervisors)"),
    2: gettext_lazy("Level 2 (managers)"),
}


class BreachLevelFilter(admin.SimpleListFilter):
    title = gettext_lazy("escalation level")
    parameter_name = "level"

    def lookups(self, request, model_admin):
        return [(str(level), label) for level, label in BREACH_LEVELS.items()]

    def queryset(self, request, queryset):
        if self.value() in {"1", "2"}:
            return queryset.filter(level=int(self.value()))
        return queryset


# The names of the staff, per request thread (SlaBreachAdmin.notified_list).
_staff_names = threading.local()


@admin.register(SlaBreach)
class SlaBreachAdmin(admin.ModelAdmin):
    """Every escalation raised by the deadline sweep (升级记录): read-only, for supervisors'
    and managers' reviews, newest first."""

    list_display = [
        "case_column", "stage", "level_column", "due_at", "escalated_at", "department",
        "notified_list",
    ]  # fmt: skip
    list_filter = ["stage", BreachLevelFilter, "department"]
    list_select_related = ["case", "department"]
    search_fields = ["case__number"]
    date_hierarchy = "escalated_at"
    fields = [
        "case", "technical_request", "stage", "level", "due_at", "escalated_at", "department",
        "notified_list",
    ]  # fmt: skip
    readonly_fields = fields

    def get_queryset(self, request):
        _prime_user(request)
        _staff_names.by_username = None  # read again (once) for this request
        qs = super().get_queryset(request)
        if request.user.sees_all_departments:
            return qs
        return qs.filter(case__in=Case.objects.visible_to(request.user).values("pk"))

    @admin.display(description=gettext_lazy("case"), ordering="case__number")
    def case_column(self, obj):
        return _case_link(obj.case)

    @admin.display(description=gettext_lazy("escalation level"), ordering="level")
    def level_column(self, obj):
        return BREACH_LEVELS.get(obj.level, obj.level)

    @admin.display(description=gettext_lazy("notified"))
    def notified_list(self, obj):
        # Stored as usernames (what the sweep wrote); shown as the people's names, all
        # staff read in one query per page.
        names = getattr(_staff_names, "by_username", None)
        if names is None:
            names = _staff_names.by_username = {
                u.username: str(u) for u in User.objects.only("username", "first_name", "last_name")
            }
        return "、".join(names.get(u, u) for u in obj.notified or []) or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
