"""On-demand exports in the admin: the "New export" page (a report for a period, or the case
list as filtered on the case change list), the export's page with its progress (refreshing
itself while the export runs), the download, and the list that is also the audit record.

Supervisors see their own exports; managers and administrators see everyone's. Exports are
never changed or deleted here: each row is the audit of who exported what, when.
"""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db.models import prefetch_related_objects
from django.http import Http404, HttpResponseRedirect
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from servicedesk.staff import roles

from . import exports, services
from .downloads import file_download
from .models import Export, ExportKind, ExportStatus

STATUS_COLOURS = {
    ExportStatus.QUEUED: "#6b7280",
    ExportStatus.RUNNING: "#2563eb",
    ExportStatus.DONE: "#16a34a",
    ExportStatus.FAILED: "#c62828",
}
REFRESH_SECONDS = 3


def sees_all_exports(user):
    """Managers and administrators audit everyone's exports; others see their own."""
    if "groups" not in getattr(user, "_prefetched_objects_cache", {}):
        prefetch_related_objects([user], "groups")  # asked several times per page
    return user.has_role(roles.MANAGER, roles.ADMINISTRATOR)


def progress_bar(export):
    """A native <progress> bar with the figures; indeterminate while the count is unknown."""
    value = export.progress
    if value is None:
        return format_html('<progress class="sd-progress" title="{}"></progress>', _("starting"))
    return format_html(
        '<progress class="sd-progress" value="{}" max="100">{}%</progress> {}%',
        value,
        value,
        value,
    )


class PeriodForm(forms.Form):
    """A period, and what to export for it: the cases received (as a case list) or the report
    workbook (for those who may download reports)."""

    CASES, REPORT = "cases", "report"

    what = forms.ChoiceField(
        label=gettext_lazy("what to export"),
        widget=forms.RadioSelect,
        choices=[
            (CASES, gettext_lazy("The cases received in the period (a case list)")),
            (REPORT, gettext_lazy("The report workbook for the period")),
        ],
        initial=CASES,
    )
    start = forms.DateField(label=pgettext_lazy("period", "From"), widget=widgets.AdminDateWidget)
    end = forms.DateField(label=pgettext_lazy("period", "To"), widget=widgets.AdminDateWidget)

    SERVICE_FIELDS = {"from": "start", "to": "end"}

    def __init__(self, *args, may_export_report, **kwargs):
        super().__init__(*args, **kwargs)
        if not may_export_report:
            self.fields["what"].choices = self.fields["what"].choices[:1]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end of the period is before its start."))
        return data

    def add_service_errors(self, exc):
        if not hasattr(exc, "error_dict"):
            self.add_error(None, exc.messages)
            return
        for key, errors in exc.message_dict.items():
            field = self.SERVICE_FIELDS.get(key, key)
            self.add_error(field if field in self.fields else NON_FIELD_ERRORS, errors)


def _last_month(today):
    end = today.replace(day=1) - datetime.timedelta(days=1)
    return end.replace(day=1), end


@admin.register(Export)
class ExportAdmin(admin.ModelAdmin):
    list_display = [
        "requested_at", "requested_by", "kind", "filter_short", "rows", "masked",
        "status_column", "download_column",
    ]  # fmt: skip
    list_display_links = ["requested_at"]
    list_filter = ["status", "kind", "masked"]
    list_select_related = ["requested_by"]
    search_fields = ["filter_description", "requested_by__username", "requested_by__last_name"]
    date_hierarchy = "requested_at"
    actions = None
    fields = [
        # The filter in words (filter_description), not the JSON it is stored as.
        "kind", "requested_by", "requested_at", "filter_description", "masked",
        "status_column", "rows", "started_at", "finished_at", "size_column", "download_column",
        "download_count", "downloaded_at", "error",
    ]  # fmt: skip
    readonly_fields = fields

    # --- the list and the page -----------------------------------------------------------

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if sees_all_exports(request.user):
            return qs
        return qs.filter(requested_by=request.user)

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if sees_all_exports(request.user):
            filters.append(("requested_by", admin.RelatedOnlyFieldListFilter))
        return filters

    @admin.display(description=gettext_lazy("filter (as shown)"))
    def filter_short(self, obj):
        text = " ".join(obj.filter_description.split())
        return text if len(text) <= 80 else text[:79] + "…"

    @admin.display(description=gettext_lazy("rows"))
    def rows(self, obj):
        if obj.total_rows is None:
            return "—"
        return f"{obj.rows_done} / {obj.total_rows}"

    @admin.display(description=gettext_lazy("status"), ordering="status")
    def status_column(self, obj):
        badge = format_html(
            '<span class="sd-badge" style="background:{};color:#fff;padding:1px 6px;'
            'border-radius:3px" title="{}">{}</span>',
            STATUS_COLOURS.get(obj.status, "#6b7280"),
            obj.error,
            obj.get_status_display(),
        )
        if obj.status in (ExportStatus.QUEUED, ExportStatus.RUNNING):
            return format_html("{} {}", badge, progress_bar(obj))
        return badge

    @admin.display(description=gettext_lazy("file"))
    def download_column(self, obj):
        if obj.status != ExportStatus.DONE or not obj.file:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:reports_export_download", args=[obj.pk]),
            _("Download"),
        )

    @admin.display(description=gettext_lazy("size"))
    def size_column(self, obj):
        return filesizeformat(obj.size) if obj.size else "—"

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        # The page reloads itself while the export waits or runs, so the bar moves.
        running = obj is not None and obj.status in (ExportStatus.QUEUED, ExportStatus.RUNNING)
        context["auto_refresh"] = REFRESH_SECONDS if running else None
        return super().render_change_form(request, context, add, change, form_url, obj)

    # --- permissions: an audit record is never changed or deleted ------------------------

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- new export and download ---------------------------------------------------------

    def get_urls(self):
        return [
            path(
                "<int:pk>/download/",
                self.admin_site.admin_view(self.download_view),
                name="reports_export_download",
            ),
            *super().get_urls(),
        ]

    def download_view(self, request, pk):
        """The file, to the person who asked for it and to managers; each download counted."""
        export = self.get_queryset(request).filter(pk=pk).first()
        if export is None:
            if Export.objects.filter(pk=pk).exists():
                raise PermissionDenied
            raise Http404
        if not self.has_view_permission(request, export):
            raise PermissionDenied
        if export.status != ExportStatus.DONE:
            raise Http404
        response = file_download(export.file)
        services.export_record_download(export=export)
        return response

    def add_view(self, request, form_url="", extra_context=None):
        """The "New export" page: a period (its cases, or its report workbook), or — arriving
        from the case list with its query string — that case list; confirming queues it."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        data = request.POST if request.method == "POST" else request.GET
        if data.get("kind") == ExportKind.CASES:
            layout = data.get("layout", "")
            return self._new_case_export(request, data.get("query", ""), layout)
        return self._new_period_export(request)

    def _queued(self, request, export):
        self.message_user(
            request,
            _("Export queued: this page shows its progress and the download link when done."),
            messages.SUCCESS,
        )
        return HttpResponseRedirect(reverse("admin:reports_export_change", args=[export.pk]))

    def _new_case_export(self, request, query, layout=""):
        query = exports.clean_query(query)
        back = reverse("admin:complaints_case_changelist") + (f"?{query}" if query else "")
        error, description, count = None, "", 0
        if request.method == "POST":
            try:
                export = services.export_request(
                    kind=ExportKind.CASES,
                    user=request.user,
                    filters={"query": query, "layout": layout},
                )
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                return self._queued(request, export)
        else:
            try:
                changelist = exports.case_changelist(user=request.user, query=query)
            except ValidationError as exc:
                error = " ".join(exc.messages)
            else:
                description, count = exports.describe(changelist), changelist.result_count
        context = {
            "kind": ExportKind.CASES,
            "layout": layout,
            "query": query,
            "back": back,
            "error": error,
            "description": description,
            "count": count,
        }
        return self._render_new(request, context)

    def _new_period_export(self, request):
        may_export_report = request.user.has_perm(services.REPORT_DOWNLOAD)
        if request.method == "POST":
            form = PeriodForm(request.POST, may_export_report=may_export_report)
            if form.is_valid():
                start, end = form.cleaned_data["start"], form.cleaned_data["end"]
                if form.cleaned_data["what"] == PeriodForm.CASES:
                    # The case list of the period: confirmed on the same page as any list.
                    query = exports.period_query(start, end)
                    url = reverse("admin:reports_export_add")
                    return HttpResponseRedirect(
                        f"{url}?{urlencode({'kind': ExportKind.CASES, 'query': query})}"
                    )
                try:
                    export = services.export_request(
                        kind=ExportKind.REPORT,
                        user=request.user,
                        filters={"from": start.isoformat(), "to": end.isoformat()},
                    )
                except ValidationError as exc:
                    form.add_service_errors(exc)
                else:
                    return self._queued(request, export)
        else:
            start, end = _last_month(timezone.localdate())
            form = PeriodForm(
                initial={"start": start, "end": end}, may_export_report=may_export_report
            )
        context = {
            "kind": "period",
            "form": form,
            "adminform": admin.helpers.AdminForm(
                form, [(None, {"fields": ["what", ("start", "end")]})], {}, model_admin=self
            ),
            "may_export_report": may_export_report,
            "cases_url": reverse("admin:complaints_case_changelist"),
        }
        return self._render_new(request, context)

    def _render_new(self, request, context):
        masked = (
            not request.user.has_perm(services.PERSONAL_DATA)
            or context.get("layout") == "request_record"  # shows no phone or e-mail at all
        )
        media = self.media
        if "form" in context:
            media += context["form"].media
        context = {
            **self.admin_site.each_context(request),
            **context,
            "title": _("New export"),
            "opts": self.opts,
            "masked": masked,
            "media": media,
        }
        return TemplateResponse(request, "admin/reports/export/new.html", context)
