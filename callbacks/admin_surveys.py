"""The admin for surveys and answers: read-only, they come from the workflows.

Moved out of callbacks.admin, which imports this module (so the models are registered)
and re-exports its names.
"""

from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from servicedesk.admin_readonly import ReadOnlyMixin

from . import services
from .admin import DetailRelatedMixin, _case_link, _local
from .models import Answer, ProblemReport, Response, Survey


class ReadOnlyAdmin(ReadOnlyMixin, DetailRelatedMixin, admin.ModelAdmin):
    """Surveys and responses: records of what was sent and answered."""


@admin.register(Survey)
class SurveyAdmin(ReadOnlyAdmin):
    list_display = [
        "case_column", "customer", "channel", "status", "send_at", "sent_at", "answered_at",
    ]  # fmt: skip
    list_filter = ["status", "channel"]
    list_select_related = ["case", "customer"]
    search_fields = ["=case__number"]
    search_help_text = gettext_lazy("Case number")
    fields = [
        "case_column", "customer", "version", "channel", "status", "send_at", "window_ends_at",
        "sent_at", "expires_at", "remind_at", "reminded_at", "answered_at", "attempts",
        "last_error", "created_at", "response_column",
    ]  # fmt: skip
    readonly_fields = fields
    detail_select_related = ["case", "customer", "version__questionnaire"]
    # Nobody edits a survey; these two hand it back to the dispatch or to the callback queue.
    actions = ["resend", "to_phone"]

    def has_dispatch_permission(self, request):
        return request.user.has_perm("callbacks.change_survey")

    @admin.action(description=gettext_lazy("Send again"), permissions=["dispatch"])
    def resend(self, request, queryset):
        resent, skipped = services.survey_resend(surveys=list(queryset), user=request.user)
        self.message_user(
            request,
            _("%(n)s surveys will be sent again at the next dispatch (inside the sending hours).")
            % {"n": resent},
        )
        if skipped:
            self.message_user(
                request,
                _(
                    "%(n)s surveys were not resent: answered, phone surveys, or past their "
                    "follow-up window (turn those into phone follow-ups)."
                )
                % {"n": skipped},
                level=messages.WARNING,
            )

    @admin.action(description=gettext_lazy("Turn into a phone follow-up"), permissions=["dispatch"])
    def to_phone(self, request, queryset):
        n = services.survey_to_phone(surveys=list(queryset), user=request.user)
        self.message_user(
            request, _("%(n)s surveys are now phone follow-ups in the callback queue.") % {"n": n}
        )

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    @admin.display(description=gettext_lazy("case"), ordering="case__number")
    def case_column(self, obj):
        return _case_link(obj.case)

    @admin.display(description=gettext_lazy("answers"))
    def response_column(self, obj):
        response = Response.objects.filter(survey=obj).only("pk", "answered_at").first()
        if response is None:
            return "—"
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:callbacks_response_change", args=[response.pk]),
            _("Answered %(at)s") % {"at": _local(response.answered_at)},
        )


class AnswerInline(ReadOnlyMixin, admin.TabularInline):
    model = Answer
    fields = ["question", "answer_text"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("question", "choice")

    @admin.display(description=gettext_lazy("answer"))
    def answer_text(self, obj):
        if obj.choice_id:
            score = obj.choice.score
            return f"{obj.choice.label} ({score})" if score is not None else obj.choice.label
        return obj.text


class ProblemReportInline(ReadOnlyMixin, admin.TabularInline):
    model = ProblemReport
    fields = ["category", "grade", "description", "case_column"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("case")

    @admin.display(description=gettext_lazy("case opened"))
    def case_column(self, obj):
        return _case_link(obj.case)


@admin.register(Response)
class ResponseAdmin(ReadOnlyAdmin):
    list_display = [
        "answered_at", "customer", "case_column", "method", "overall_score", "has_problem",
        "agent", "department",
    ]  # fmt: skip
    list_filter = ["method", "overall_score", "has_problem"]
    list_select_related = ["customer", "case", "agent", "department"]
    search_fields = ["=case__number"]
    search_help_text = gettext_lazy("Case number")
    date_hierarchy = "answered_at"
    fields = [
        "version", "customer", "case_column", "survey", "followup", "method", "answered_at",
        "overall_score", "has_problem", "suggestions", "department", "agent",
        "case_channel_column", "recorded_by",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=gettext_lazy("case channel"))
    def case_channel_column(self, obj):
        # Stored as the channel's code; shown by its name ("在线客服", not "chat").
        from complaints.models import Channel

        return dict(Channel.choices).get(obj.case_channel, obj.case_channel) or "—"

    inlines = [AnswerInline, ProblemReportInline]

    detail_select_related = [
        "version__questionnaire", "customer", "case", "survey__case", "followup__customer",
        "department", "agent", "recorded_by",
    ]  # fmt: skip

    def get_queryset(self, request):
        return super().get_queryset(request).visible_to(request.user)

    @admin.display(description=gettext_lazy("case"), ordering="case__number")
    def case_column(self, obj):
        return _case_link(obj.case)
