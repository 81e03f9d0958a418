"""Reports and early warning in the admin: stored reports (download for managers, a page to
generate one for any period), alert rules, alerts (figures as a table; acknowledge, close with
a note) and the risk register. On-demand exports are in admin_exports.

Thin by design: generating, acknowledging and closing go through reports.services.
"""

import calendar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import helpers, widgets
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import F
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from complaints.models import Case

from . import (
    admin_exports,  # noqa: F401  (registers the Export admin)
    alerts,
    backtest,
    risks,
    services,
    workbook,
)
from .downloads import file_download
from .models import Alert, AlertRule, AlertStatus, Report, ReportKind, Risk

DOWNLOAD = "reports.download_report"

ALERT_COLOURS = {
    AlertStatus.OPEN: "#c62828",
    AlertStatus.ACKNOWLEDGED: "#b45309",
    AlertStatus.CLOSED: "#4b5563",
}
NORMAL_COLOUR = "#15803d"


def badge(label, colour, title=""):
    return format_html(
        '<span class="sd-badge" style="background:{};color:#fff;padding:1px 6px;'
        'border-radius:3px;white-space:nowrap" title="{}">{}</span>',
        colour,
        title,
        label,
    )


def risk_level(score):
    """(label, colour) of a likelihood × impact score on the usual 5 × 5 matrix."""
    if score >= 20:
        return _("critical"), "#7f1d1d"
    if score >= 10:
        return _("high"), "#c62828"
    if score >= 5:
        return _("medium"), "#b45309"
    return _("low"), "#15803d"


def form_page(model_admin, request, *, title, form, submit, back_url, intro=""):
    """A small admin page with one form (generate a report, close an alert)."""
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "opts": model_admin.opts,
        "form": form,
        "adminform": helpers.AdminForm(
            form, [(None, {"fields": list(form.fields)})], {}, model_admin=model_admin
        ),
        "submit_label": submit,
        "intro": intro,
        "back_url": back_url,
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(request, "admin/reports/form_page.html", context)


def add_service_errors(form, exc):
    """A service's ValidationError on the form: on the named field, or above the form."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for key, errors in exc.message_dict.items():
        form.add_error(key if key in form.fields else NON_FIELD_ERRORS, errors)


# --- reports --------------------------------------------------------------------------------


class GenerateReportForm(forms.Form):
    start = forms.DateField(label=pgettext_lazy("period", "From"), widget=widgets.AdminDateWidget)
    end = forms.DateField(
        label=pgettext_lazy("period", "To"),
        widget=widgets.AdminDateWidget,
        help_text=gettext_lazy("Inclusive."),
    )
    force = forms.BooleanField(
        label=gettext_lazy("Generate again"),
        required=False,
        help_text=gettext_lazy(
            "Replace the current report of this month (the previous one stays listed)."
        ),
    )

    def clean(self):
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and end < start:
            self.add_error("end", _("The end date cannot be before the start date."))
        if end and end > timezone.localdate():
            self.add_error("end", _("The period cannot end in the future."))
        return data


def report_kind(start, end):
    """A whole calendar month is a monthly report (one current per month); anything else a
    report for a period."""
    whole_month = (
        start.day == 1
        and (start.year, start.month) == (end.year, end.month)
        and end.day == calendar.monthrange(end.year, end.month)[1]
    )
    return ReportKind.MONTHLY if whole_month else ReportKind.PERIOD


class ReportLanguageFilter(admin.SimpleListFilter):
    """By language, named ("简体中文"), not by its code."""

    title = gettext_lazy("language")
    parameter_name = "language"

    def lookups(self, request, model_admin):
        return [(code, name) for code, name in settings.LANGUAGES]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(language=self.value())
        return queryset


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = [
        "__str__", "kind", "language_column", "generated_at", "generated_by_column",
        "size_column", "is_current", "download_column",
    ]  # fmt: skip
    list_filter = ["kind", "is_current", ReportLanguageFilter]
    list_select_related = ["generated_by"]
    date_hierarchy = "period_start"
    actions = None
    fields = [
        "kind", "period_start", "period_end", "language", "generated_at", "generated_by_column",
        "size_column", "row_counts_table", "is_current", "download_column",
    ]  # fmt: skip
    readonly_fields = fields

    def get_list_display(self, request):
        shown = list(super().get_list_display(request))
        if not request.user.has_perm(DOWNLOAD):
            shown.remove("download_column")
        return shown

    @admin.display(description=gettext_lazy("language"), ordering="language")
    def language_column(self, obj):
        return dict(settings.LANGUAGES).get(obj.language, obj.language)

    @admin.display(description=gettext_lazy("generated by"), ordering="generated_by")
    def generated_by_column(self, obj):
        return obj.generated_by or _("scheduler")

    @admin.display(description=gettext_lazy("size"), ordering="size")
    def size_column(self, obj):
        return filesizeformat(obj.size) if obj.size else "—"

    @admin.display(description=gettext_lazy("rows per sheet"))
    def row_counts_table(self, obj):
        if not obj.row_counts:
            return "—"
        # PostgreSQL's jsonb does not keep key order: show the sheets in the workbook's order
        # (titles are stored in the report's language).
        with translation.override(obj.language):
            order = {str(title): i for i, (_key, title) in enumerate(workbook.SHEETS)}
        rows = sorted(obj.row_counts.items(), key=lambda kv: order.get(kv[0], len(order)))
        return format_html(
            "<table><tbody>{}</tbody></table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description=gettext_lazy("file"))
    def download_column(self, obj):
        if not obj.file:
            return "—"
        return format_html(
            '<a class="button" style="white-space:nowrap" href="{}">{}</a>',
            reverse("admin:reports_report_download", args=[obj.pk]),
            _("Download"),
        )

    # Reports are made by the scheduler or the "generate" page, never typed in or edited.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_generate": request.user.has_perm("reports.add_report"),
        }
        return super().changelist_view(request, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("generate/", view(self.generate_view), name="reports_report_generate"),
            path("<int:pk>/download/", view(self.download_view), name="reports_report_download"),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        """The workbook, to managers (the "download" right) only."""
        if not request.user.has_perm(DOWNLOAD):
            raise PermissionDenied
        return file_download(get_object_or_404(Report, pk=pk).file)

    def generate_view(self, request):
        """Generate a report for any period now; a whole calendar month makes the monthly
        report (kept once per month unless generated again on purpose)."""
        if not request.user.has_perm("reports.add_report"):
            raise PermissionDenied
        form = GenerateReportForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            start, end = form.cleaned_data["start"], form.cleaned_data["end"]
            asked_at = timezone.now()
            try:
                report = services.report_generate(
                    start=start,
                    end=end,
                    kind=report_kind(start, end),
                    user=request.user,
                    language=request.LANGUAGE_CODE,
                    force=form.cleaned_data["force"],
                )
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                if report.generated_at < asked_at:
                    message = _(
                        "This month's report exists already and was kept; tick “Generate "
                        "again” to replace it."
                    )
                    self.message_user(request, message, messages.WARNING)
                else:
                    self.message_user(
                        request,
                        _("Report ready: %(report)s") % {"report": report},
                        messages.SUCCESS,
                    )
                return HttpResponseRedirect(
                    reverse("admin:reports_report_change", args=[report.pk])
                )
        return form_page(
            self,
            request,
            title=_("Generate a report for a period"),
            form=form,
            submit=_("Generate"),
            back_url=reverse("admin:reports_report_changelist"),
            intro=_(
                "The workbook is made now and listed with the others. A whole calendar month "
                "makes that month's report: if it exists already, it is kept unless you tick "
                "“Generate again”."
            ),
        )


# --- alert rules and alerts -------------------------------------------------------------------


@admin.register(AlertRule)
class AlertRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name", "indicator", "threshold", "follows_plan", "window_days", "min_count",
        "department", "recipients_column", "is_active",
    ]  # fmt: skip
    list_filter = ["indicator", "is_active", "department"]
    list_select_related = ["department"]
    search_fields = ["name"]
    autocomplete_fields = ["department", "recipients"]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "name",
                    "indicator",
                    "threshold",
                    "follows_plan",
                    "window_days",
                    "min_count",
                ]
            },
        ),
        (
            gettext_lazy("Scope and recipients"),
            {"fields": ["department", "recipients", "is_active"]},
        ),
    ]
    change_form_template = "admin/reports/alertrule/change_form.html"

    def get_urls(self):
        return [
            path(
                "<int:pk>/backtest/",
                self.admin_site.admin_view(self.backtest_view),
                name="reports_alertrule_backtest",
            ),
            *super().get_urls(),
        ]

    def backtest_view(self, request, pk):
        rule = get_object_or_404(AlertRule.objects.select_related("department"), pk=pk)
        if not self.has_view_or_change_permission(request, rule):
            raise PermissionDenied
        first, last, days = backtest.alert_rule_backtest(rule=rule)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "rule": rule,
            "title": _("%(rule)s: tested against %(first)s – %(last)s")
            % {"rule": rule, "first": first.isoformat(), "last": last.isoformat()},
            "days": days,
            "raised": sum(len(d.raised) for d in days),
            "breach_days": sum(1 for d in days if d.breaches),
            "unmeasured": sum(1 for d in days if not d.measured),
        }
        return TemplateResponse(request, "admin/reports/alertrule/backtest.html", context)

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("recipients")

    @admin.display(description=gettext_lazy("notify"))
    def recipients_column(self, obj):
        people = [str(u) for u in obj.recipients.all()]
        return "、".join(people) if people else _("the managers")


class BackToNormalFilter(admin.SimpleListFilter):
    title = gettext_lazy("back to normal")
    parameter_name = "normal"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(cleared_at__isnull=False)
        if self.value() == "no":
            return queryset.filter(cleared_at__isnull=True)
        return queryset


class CloseAlertForm(forms.Form):
    note = forms.CharField(
        label=gettext_lazy("closing note"),
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,  # the service says why a blank note is refused
        help_text=gettext_lazy("What was found and done about it."),
    )


@admin.register(Alert)
class AlertAdmin(admin.ModelAdmin):
    # The message names the rule and carries the figures: it is the column people read.
    list_display = [
        "raised_at", "message_short", "subject_column", "status_column", "cleared_column",
    ]  # fmt: skip
    list_display_links = ["message_short"]
    list_filter = ["status", BackToNormalFilter, "rule__indicator", "rule"]
    list_select_related = ["rule"]
    search_fields = ["message", "subject", "note"]
    date_hierarchy = "raised_at"
    actions = ["acknowledge_selected"]
    fieldsets = [
        (None, {"fields": ["rule", "subject_column", "status_column", "message", "figures_table"]}),
        (
            gettext_lazy("When"),
            {"fields": ["raised_at", "last_checked_at", "cleared_column"]},
        ),
        (
            gettext_lazy("Handling"),
            {"fields": ["acknowledged_by", "acknowledged_at", "closed_by", "closed_at", "note"]},
        ),
    ]
    readonly_fields = [
        "rule", "subject_column", "status_column", "message", "figures_table", "raised_at",
        "last_checked_at", "cleared_column", "acknowledged_by", "acknowledged_at", "closed_by",
        "closed_at", "note",
    ]  # fmt: skip

    @admin.display(description=gettext_lazy("subject"), ordering="subject")
    def subject_column(self, obj):
        return alerts.subject_label(obj.rule.indicator, obj.subject)

    @admin.display(description=gettext_lazy("message"))
    def message_short(self, obj):
        text = obj.message if len(obj.message) <= 100 else obj.message[:99] + "…"
        return format_html('<span style="display:inline-block;min-width:24em">{}</span>', text)

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_column(self, obj):
        return badge(obj.get_status_display(), ALERT_COLOURS[obj.status])

    @admin.display(description=gettext_lazy("back to normal at"), ordering="cleared_at")
    def cleared_column(self, obj):
        if obj.cleared_at is None:
            return "—"
        at = timezone.localtime(obj.cleared_at).strftime("%Y-%m-%d %H:%M")
        return format_html("{} {}", badge(_("back to normal"), NORMAL_COLOUR), at)

    @admin.display(description=gettext_lazy("figures"))
    def figures_table(self, obj):
        rows = alerts.figure_rows(obj.figures)
        if not rows:
            return "—"
        return format_html(
            '<table class="sd-figures"><tbody>{}</tbody></table>',
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    # Alerts are raised by the evaluation and handled through the buttons, never edited.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_handle_permission(self, request, obj=None):
        return request.user.has_perm("reports.change_alert")

    @admin.action(description=gettext_lazy("Acknowledge selected alerts"), permissions=["handle"])
    def acknowledge_selected(self, request, queryset):
        done = 0
        for alert in queryset.exclude(status=AlertStatus.CLOSED):
            services.alert_acknowledge(alert=alert, user=request.user)
            done += 1
        self.message_user(
            request, _("%(count)d alerts acknowledged.") % {"count": done}, messages.SUCCESS
        )

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_handle": self.has_handle_permission(request),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/acknowledge/",
                view(self.acknowledge_view),
                name="reports_alert_acknowledge",
            ),
            path("<int:pk>/close/", view(self.close_view), name="reports_alert_close"),
            *super().get_urls(),
        ]

    def _alert_for(self, request, pk):
        if not self.has_handle_permission(request):
            raise PermissionDenied
        return get_object_or_404(Alert.objects.select_related("rule"), pk=pk)

    def acknowledge_view(self, request, pk):
        alert = self._alert_for(request, pk)
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            services.alert_acknowledge(alert=alert, user=request.user)
        except ValidationError as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
        else:
            self.message_user(request, _("Alert acknowledged."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:reports_alert_change", args=[alert.pk]))

    def close_view(self, request, pk):
        alert = self._alert_for(request, pk)
        change_url = reverse("admin:reports_alert_change", args=[alert.pk])
        form = CloseAlertForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                services.alert_close(alert=alert, user=request.user, note=form.cleaned_data["note"])
            except ValidationError as exc:
                add_service_errors(form, exc)
            else:
                self.message_user(request, _("Alert closed."), messages.SUCCESS)
                return HttpResponseRedirect(change_url)
        return form_page(
            self,
            request,
            title=_("Close the alert"),
            form=form,
            submit=_("Close the alert"),
            back_url=change_url,
            intro=alert.message,
        )


# --- the risk register ----------------------------------------------------------------------


class ReviewDueFilter(admin.SimpleListFilter):
    title = gettext_lazy("review")
    parameter_name = "review"

    def lookups(self, request, model_admin):
        return [("due", _("Due or overdue")), ("none", _("No review date"))]

    def queryset(self, request, queryset):
        if self.value() == "due":
            return queryset.filter(review_on__lte=timezone.localdate())
        if self.value() == "none":
            return queryset.filter(review_on__isnull=True)
        return queryset


@admin.register(Risk)
class RiskAdmin(admin.ModelAdmin):
    list_display = [
        "title", "score_column", "likelihood", "impact", "owner", "status", "review_column",
    ]  # fmt: skip
    list_filter = [
        "status", ReviewDueFilter, "likelihood", "impact", ("owner", admin.RelatedOnlyFieldListFilter),
    ]  # fmt: skip
    list_select_related = ["owner"]
    search_fields = ["title", "cause", "consequence", "mitigation"]
    autocomplete_fields = ["owner"]
    fieldsets = [
        (None, {"fields": ["title", "cause", "consequence", "case_link", "reported_by"]}),
        (gettext_lazy("Assessment"), {"fields": [("likelihood", "impact"), "mitigation"]}),
        (gettext_lazy("Follow-up"), {"fields": ["owner", "status", "review_on"]}),
    ]
    readonly_fields = ["case_link", "reported_by"]

    @admin.display(description=gettext_lazy("filed from case"))
    def case_link(self, obj):
        if obj.case_id is None:
            return "—"
        url = reverse("admin:complaints_case_change", args=[obj.case_id])
        return format_html('<a href="{}">{}</a>', url, obj.case.number)

    def get_urls(self):
        return [
            path(
                "file/<int:case_pk>/",
                self.admin_site.admin_view(self.file_from_case_view),
                name="reports_risk_file",
            ),
            *super().get_urls(),
        ]

    def file_from_case_view(self, request, case_pk):
        case = get_object_or_404(Case, pk=case_pk)
        if not case.is_visible_to(request.user):
            raise PermissionDenied
        back = reverse("admin:complaints_case_change", args=[case.pk])
        form = risks.RiskFromCaseForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            risks.risk_file_from_case(case=case, user=request.user, **form.cleaned_data)
            self.message_user(
                request,
                _("Risk filed in the register; a manager will assess it."),
                messages.SUCCESS,
            )
            return HttpResponseRedirect(back)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("File a risk from case %(number)s") % {"number": case.number},
            "form": form,
            "case": case,
            "back_url": back,
        }
        return TemplateResponse(request, "admin/reports/risk/file_from_case.html", context)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(score_value=F("likelihood") * F("impact"))

    def get_changeform_initial_data(self, request):
        return {"owner": request.user.pk, **super().get_changeform_initial_data(request)}

    @admin.display(description=gettext_lazy("score"), ordering="score_value")
    def score_column(self, obj):
        if obj.score is None:
            return badge(_("To assess"), "#6b7280", _("not yet assessed by a manager"))
        label, colour = risk_level(obj.score)
        return badge(f"{obj.score} {label}", colour, _("likelihood × impact"))

    @admin.display(description=gettext_lazy("next review"), ordering="review_on")
    def review_column(self, obj):
        if obj.review_on is None:
            return "—"
        if obj.status != Risk.Status.CLOSED and obj.review_on <= timezone.localdate():
            return badge(obj.review_on.isoformat(), "#c62828", _("Review due"))
        return obj.review_on.isoformat()
