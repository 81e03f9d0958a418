"""The admin for follow-ups: questionnaires, the agents' callback queue, surveys and answers.

A questionnaire is written as versions. Only a draft version can be edited (its greeting,
closing, questions and choices); published and retired versions show read-only, because
answers point at them. "Publish" and "New version" are actions that call callbacks.services.

The callback queue (follow-up calls) is read-only except through its actions and the call
page, which call services.followup_take / followup_record_call / followup_cancel. Surveys and
answers come from the workflows and are read-only here (their admin is in admin_surveys,
imported and re-exported at the end of this module).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from complaints.admin import DUE_COLOURS, NormalizedPhoneSearchMixin, badge, shows_personal_data
from servicedesk.admin_readonly import ReadOnlyMixin

from . import services
from .admin_forms import CallForm, problem_formset, problems_entered
from .models import (
    Answer,
    CallAttempt,
    Choice,
    FollowUp,
    FollowUpStatus,
    ProblemReport,
    Response,
    local_day,
)

#: Working the queue: taking, calling and cancelling follow-ups.
WORK_QUEUE = "callbacks.change_followup"

FOLLOWUP_STATUS_COLOURS = {
    FollowUpStatus.PENDING: "#2563eb",
    FollowUpStatus.DONE: "#15803d",
    FollowUpStatus.UNREACHABLE: "#c62828",
    FollowUpStatus.CANCELLED: "#6b7280",
}


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if moment else "—"


def _case_link(case):
    if case is None:
        return "—"
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:complaints_case_change", args=[case.pk]), case.number
    )


class DetailRelatedMixin:
    """select_related for the object's page only: a get_queryset with select_related would
    switch the list's list_select_related off (Django applies it only to a bare queryset)."""

    detail_select_related = ()

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related(*self.detail_select_related)
        field = self.opts.pk if from_field is None else self.opts.get_field(from_field)
        try:
            return queryset.get(**{field.name: field.to_python(object_id)})
        except (self.model.DoesNotExist, ValidationError, ValueError):
            return None


class DueFilter(admin.SimpleListFilter):
    title = gettext_lazy("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [
            ("today", gettext_lazy("Due today")),
            ("overdue", gettext_lazy("Overdue")),
            ("later", gettext_lazy("Later")),
        ]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "today":
            return queryset.due_today(now)
        if self.value() == "overdue":
            return queryset.overdue(now)
        if self.value() == "later":
            return queryset.due_later(now)
        return queryset


class MineFilter(admin.SimpleListFilter):
    title = gettext_lazy("agent")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("me", gettext_lazy("Mine")), ("unassigned", gettext_lazy("Unassigned"))]

    def queryset(self, request, queryset):
        if self.value() == "me":
            return queryset.filter(assignee=request.user)
        if self.value() == "unassigned":
            return queryset.filter(assignee__isnull=True)
        return queryset


class QueueStatusFilter(admin.SimpleListFilter):
    """The status, "to call" unless asked otherwise: the queue opens on the work to do."""

    title = gettext_lazy("status")
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [*FollowUpStatus.choices, (self.ALL, gettext_lazy("All"))]

    def _current(self):
        value = self.value()
        return value if value in (*FollowUpStatus.values, self.ALL) else FollowUpStatus.PENDING

    def choices(self, changelist):
        current = self._current()
        for lookup, title in self.lookup_choices:
            yield {
                "selected": current == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        current = self._current()
        return queryset if current == self.ALL else queryset.filter(status=current)


class CallAttemptInline(ReadOnlyMixin, admin.TabularInline):
    model = CallAttempt
    fields = ["at", "method", "reached", "agent", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = gettext_lazy("calls made")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("agent")


def _answer_rows(response):
    """(question, answer text) per question answered, multiple choices joined."""
    rows = {}
    for answer in response.answers.all():
        text = answer.choice.label if answer.choice_id else answer.text
        rows.setdefault(answer.question_id, [answer.question.text, []])[1].append(text)
    return [(question, "、".join(texts)) for question, texts in rows.values()]


def _response_summary(response):
    """The answers of a response as an HTML table, with its problems and suggestions."""
    link = format_html(
        '<p><a href="{}">{}</a> · {}</p>',
        reverse("admin:callbacks_response_change", args=[response.pk]),
        _("Answered %(at)s") % {"at": _local(response.answered_at)},
        _("overall score: %(score)s") % {"score": response.overall_score or "—"},
    )
    answers = format_html(
        '<table class="sd-answers"><tbody>{}</tbody></table>',
        format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", _answer_rows(response)),
    )
    problems = format_html_join(
        "",
        "<li>{} · {}: {} {}</li>",
        (
            (p.get_category_display(), p.get_grade_display(), p.description, _case_link(p.case))
            for p in response.problems.all()
        ),
    )
    parts = [link, answers]
    if problems:
        parts.append(format_html("<p>{}</p><ul>{}</ul>", _("Problems found:"), problems))
    if response.suggestions:
        parts.append(
            format_html(
                '<p>{}</p><p class="sd-text">{}</p>', _("Suggestions:"), response.suggestions
            )
        )
    return format_html_join("", "{}", ((p,) for p in parts))


@admin.register(FollowUp)
class FollowUpAdmin(DetailRelatedMixin, NormalizedPhoneSearchMixin, admin.ModelAdmin):
    """The agents' callback queue (回访任务): due today / overdue / mine, take, call."""

    list_display = [
        "due_column", "customer_column", "purpose", "case_column", "assignee",
        "attempts_column", "status_badge",
    ]  # fmt: skip
    list_display_links = ["customer_column"]
    list_filter = [
        DueFilter,
        MineFilter,
        QueueStatusFilter,
        "purpose",
        "sample",
        "plan",
    ]
    list_select_related = ["customer", "case", "assignee"]
    search_fields = ["customer__name", "=customer__phone_normalized", "=case__number"]
    search_help_text = gettext_lazy("Customer name, phone or case number")
    phone_search_path = "customer__phone_normalized"
    list_per_page = 50
    actions = ["take", "cancel"]
    fields = [
        "customer_details", "purpose", "case_column", "survey", "delivery", "plan", "period",
        "sample", "version", "due_at", "assignee", "status", "attempts", "max_attempts",
        "completed_at", "created_at", "response_column",
    ]  # fmt: skip
    readonly_fields = fields
    inlines = [CallAttemptInline]
    change_list_template = "admin/callbacks/followup/change_list.html"
    change_form_template = "admin/callbacks/followup/change_form.html"

    # --- the list ------------------------------------------------------------------------

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if request.user.has_perm(WORK_QUEUE):
            display.append(self._call_column(request.GET.urlencode()))
        return display

    @staticmethod
    def _call_column(filters):
        # A closure over this request's filters (the admin instance is shared): the call
        # page returns to the queue as the agent left it.
        suffix = "?" + urlencode({"_changelist_filters": filters}) if filters else ""

        @admin.display(description=gettext_lazy("call"))
        def call(obj):
            if obj.status != FollowUpStatus.PENDING:
                return "—"
            return format_html(
                '<a class="button" href="{}{}">{}</a>',
                reverse("admin:callbacks_followup_call", args=[obj.pk]),
                suffix,
                _("Call…"),
            )

        return call

    @admin.display(description=gettext_lazy("due"), ordering="due_at")
    def due_column(self, obj):
        due = _local(obj.due_at)
        if obj.status != FollowUpStatus.PENDING:
            return due
        start, end = local_day(timezone.now())
        if obj.due_at < start:
            return format_html("{}<br>{}", due, badge(_("overdue"), DUE_COLOURS["overdue"]))
        if obj.due_at < end:
            return format_html("{}<br>{}", due, badge(_("today"), DUE_COLOURS["soon"]))
        return due

    @admin.display(description=gettext_lazy("customer"), ordering="customer__name")
    def customer_column(self, obj):
        # Masked in the list, whoever looks: the full number is on the call page.
        return format_html(
            '{}<br><span class="sd-muted">{}</span>',
            obj.customer.name,
            obj.customer.phone_masked or obj.customer.email_masked,
        )

    @admin.display(description=gettext_lazy("case"), ordering="case__number")
    def case_column(self, obj):
        return _case_link(obj.case)

    @admin.display(description=gettext_lazy("attempts"), ordering="attempts")
    def attempts_column(self, obj):
        return f"{obj.attempts}/{obj.max_attempts}"

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_badge(self, obj):
        return badge(obj.get_status_display(), FOLLOWUP_STATUS_COLOURS.get(obj.status, "#6b7280"))

    def changelist_view(self, request, extra_context=None):
        current = (request.GET.get("due", ""), request.GET.get("mine", ""))
        tabs = []
        for due, mine, label in [
            ("", "", _("All to call")),
            ("today", "", _("Due today")),
            ("overdue", "", _("Overdue")),
            ("", "me", _("Mine")),
            ("", "unassigned", _("Unassigned")),
        ]:
            params = request.GET.copy()
            for key in ("p", "due", "mine", "status"):
                params.pop(key, None)
            if due:
                params["due"] = due
            if mine:
                params["mine"] = mine
            active = (due, mine) == current and request.GET.get("status") in (None, "pending")
            tabs.append({"label": label, "url": "?" + params.urlencode(), "active": active})
        return super().changelist_view(request, {"queue_tabs": tabs, **(extra_context or {})})

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    # --- the follow-up page --------------------------------------------------------------

    detail_select_related = [
        "customer", "case", "survey__case", "delivery", "plan", "sample", "assignee",
        "version__questionnaire",
    ]  # fmt: skip

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            obj._full_contact = shows_personal_data(request)
        return obj

    @admin.display(description=gettext_lazy("customer"))
    def customer_details(self, obj):
        customer = obj.customer
        full = getattr(obj, "_full_contact", False)
        return format_html(
            '<a href="{}">{}</a> · {} · {} · {}',
            reverse("admin:complaints_customer_change", args=[customer.pk]),
            customer.name,
            (customer.phone if full else customer.phone_masked) or "—",
            (customer.email if full else customer.email_masked) or "—",
            customer.get_tier_display(),
        )

    @admin.display(description=gettext_lazy("answers"))
    def response_column(self, obj):
        response = (
            Response.objects.filter(followup=obj)
            .prefetch_related(
                Prefetch("answers", queryset=Answer.objects.select_related("question", "choice")),
                Prefetch("problems", queryset=ProblemReport.objects.select_related("case")),
            )
            .first()
        )
        return _response_summary(response) if response else "—"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["can_call"] = obj.status == FollowUpStatus.PENDING and request.user.has_perm(
                WORK_QUEUE
            )
            context["call_url"] = reverse("admin:callbacks_followup_call", args=[obj.pk])
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- permissions: follow-ups change through the actions and the call page only -------

    def has_add_permission(self, request):
        return False  # made by the survey sweep, the plans and samples

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False  # cancelled, never deleted

    def has_work_permission(self, request):
        return request.user.has_perm(WORK_QUEUE)

    # --- actions -------------------------------------------------------------------------

    def _apply(self, request, queryset, service, done_message, **kwargs):
        done = 0
        for followup in queryset.select_related("customer"):
            try:
                service(followup=followup, user=request.user, **kwargs)
            except ValidationError as exc:
                self.message_user(
                    request, f"{followup.customer}: {' '.join(exc.messages)}", messages.WARNING
                )
            else:
                done += 1
        if done:
            self.message_user(request, done_message(done), messages.SUCCESS)

    @admin.action(description=gettext_lazy("Take (assign to me)"), permissions=["work"])
    def take(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.followup_take,
            lambda n: (
                ngettext(
                    "%(count)d follow-up assigned to you.",
                    "%(count)d follow-ups assigned to you.",
                    n,
                )
                % {"count": n}
            ),
        )

    @admin.action(description=gettext_lazy("Cancel (take off the queue)"), permissions=["work"])
    def cancel(self, request, queryset):
        self._apply(
            request,
            queryset,
            services.followup_cancel,
            lambda n: (
                ngettext("%(count)d follow-up cancelled.", "%(count)d follow-ups cancelled.", n)
                % {"count": n}
            ),
        )

    # --- the call page -------------------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:pk>/call/",
                self.admin_site.admin_view(self.call_view),
                name="callbacks_followup_call",
            ),
            *super().get_urls(),
        ]

    def call_view(self, request, pk):
        if not request.user.has_perm(WORK_QUEUE):
            raise PermissionDenied
        followup = get_object_or_404(
            FollowUp.objects.visible_to(request.user).select_related(
                "customer", "case", "survey", "assignee", "plan", "sample",
                "version__questionnaire",
            ),
            pk=pk,
        )  # fmt: skip
        change_url = reverse("admin:callbacks_followup_change", args=[followup.pk])
        queue_url = reverse("admin:callbacks_followup_changelist")
        filters = request.GET.get("_changelist_filters")
        if filters:
            queue_url += "?" + filters
        if followup.status != FollowUpStatus.PENDING:
            self.message_user(
                request,
                _("This follow-up is no longer waiting for a call: it is “%(status)s”.")
                % {"status": followup.get_status_display()},
                messages.INFO,
            )
            return HttpResponseRedirect(change_url)
        questions = list(
            followup.version.questions.prefetch_related(
                Prefetch("choices", queryset=Choice.objects.order_by("order", "pk"))
            )
        )
        problem_errors = []
        if request.method == "POST":
            form = CallForm(request.POST, questions=questions)
            problems = problem_formset(request.POST)
            form_ok = form.is_valid()
            reached = form.cleaned_data.get("reached")
            problems_ok = problems.is_valid() if reached else True
            if reached and not (form_ok and problems_ok):
                # Show every mistake at once: the answers are checked even though the rest
                # of the form stops the call from being recorded.
                try:
                    services.validate_answers(version=followup.version, answers=form.answers())
                except ValidationError as exc:
                    form.add_service_errors(exc)
            if form_ok and problems_ok:
                try:
                    updated = services.followup_record_call(
                        followup=followup,
                        agent=request.user,
                        problems=problems_entered(problems) if reached else (),
                        **form.service_kwargs(),
                    )
                except ValidationError as exc:
                    if getattr(exc, "code", None) == "not_pending":
                        self.message_user(request, " ".join(exc.messages), messages.ERROR)
                        return HttpResponseRedirect(change_url)
                    if hasattr(exc, "error_dict"):
                        problem_errors = [
                            m for e in exc.error_dict.pop("problems", []) for m in e.messages
                        ]
                    if not hasattr(exc, "error_dict") or exc.error_dict:
                        form.add_service_errors(exc)
                else:
                    self.message_user(request, self._call_done_message(updated), messages.SUCCESS)
                    return HttpResponseRedirect(queue_url)
        else:
            form = CallForm(questions=questions)
            problems = problem_formset()
        customer = followup.customer
        context = {
            **self.admin_site.each_context(request),
            "title": _("Record a call · %(customer)s") % {"customer": customer.name},
            "opts": self.opts,
            "followup": followup,
            "customer": customer,
            # The agent making the call has to dial: the full number, not the mask.
            "customer_phone": customer.phone,
            "customer_email": customer.email,
            "case_link": _case_link(followup.case),
            "version": followup.version,
            "form": form,
            "question_rows": form.question_rows(),
            "problems": problems,
            "problem_errors": problem_errors,
            "attempts": list(followup.attempt_log.select_related("agent")),
            "change_url": change_url,
            "queue_url": queue_url,
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "admin/callbacks/followup/call.html", context)

    @staticmethod
    def _call_done_message(followup):
        name = followup.customer.name
        if followup.status == FollowUpStatus.DONE:
            text = _("Call with %(customer)s recorded: the follow-up is done.") % {"customer": name}
            cases = [
                p.case.number
                for p in ProblemReport.objects.filter(
                    response__followup=followup, case__isnull=False
                ).select_related("case")
            ]
            if cases:
                text += " " + _("Cases opened for the problems found: %(numbers)s.") % {
                    "numbers": ", ".join(cases)
                }
            return text
        if followup.status == FollowUpStatus.UNREACHABLE:
            return _(
                "%(customer)s could not be reached after %(count)s attempts: "
                "the follow-up is marked unreachable."
            ) % {"customer": name, "count": followup.attempts}
        return _(
            "%(customer)s was not reached (attempt %(count)s of %(max)s): "
            "the call is due again at %(due)s."
        ) % {
            "customer": name,
            "count": followup.attempts,
            "max": followup.max_attempts,
            "due": _local(followup.due_at),
        }


# Surveys and answers (read-only), then the planning side (follow-up plans, deliveries,
# samples) and the metrics page, in the order they were registered in.
# isort: off
from .admin_surveys import (  # noqa: E402, F401
    AnswerInline,
    ProblemReportInline,
    ReadOnlyAdmin,
    ResponseAdmin,
    SurveyAdmin,
)
from . import (  # noqa: E402, F401
    admin_followup_report,
    admin_metrics,
    admin_planning,
    admin_questionnaires,
    admin_recall,
)
# isort: on
