"""The follow-up report (回访报告) and its action items in the staff workspace."""

import datetime

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import action_reminders
from . import followup_report_services as services
from .followup_report import ActionItem, ActionStatus, FollowUpReport, ReportState


class ActionItemInline(admin.TabularInline):
    model = ActionItem
    fields = ["problem", "action", "department", "due_on", "status", "overdue", "outcome"]
    readonly_fields = ["status", "overdue", "outcome"]
    extra = 1
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return obj is None or obj.is_editable

    def has_change_permission(self, request, obj=None):
        return obj is None or obj.is_editable

    @admin.display(description=gettext_lazy("overdue"))
    def overdue(self, item):
        if item.pk and item.status == ActionStatus.OPEN and item.due_on < timezone.localdate():
            return _("Overdue by %(days)s days") % {
                "days": (timezone.localdate() - item.due_on).days
            }
        return ""


class RejectForm(forms.Form):
    review_comment = forms.CharField(
        label=gettext_lazy("Comment for the author"),
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=gettext_lazy("What must change before the report can be approved."),
        error_messages={"required": gettext_lazy("Tell the author what to change.")},
    )


class FollowUpReportForm(forms.ModelForm):
    class Meta:
        model = FollowUpReport
        fields = ["period_start", "period_end", "findings"]


@admin.register(FollowUpReport)
class FollowUpReportAdmin(admin.ModelAdmin):
    form = FollowUpReportForm
    list_display = ["__str__", "state", "author", "reviewer", "open_items"]
    list_filter = ["state"]
    list_select_related = ["author", "reviewer"]
    inlines = [ActionItemInline]
    readonly_fields = ["state", "author", "submitted_at", "reviewer", "reviewed_at",
                       "review_comment"]  # fmt: skip
    actions = ["submit", "approve", "reject"]
    change_form_template = "admin/callbacks/followupreport/change_form.html"

    def get_urls(self):
        return [
            path(
                "<int:pk>/reject/",
                self.admin_site.admin_view(self.reject_view),
                name="callbacks_followupreport_reject",
            ),
            *super().get_urls(),
        ]

    def reject_view(self, request, pk):
        """The manager's rejection: a comment for the author is required; nothing changes
        until it is given."""
        report = get_object_or_404(FollowUpReport, pk=pk)
        if not self.has_view_permission(request, report):
            raise PermissionDenied
        back = reverse("admin:callbacks_followupreport_change", args=[report.pk])
        form = RejectForm(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                services.followup_report_review(
                    report=report, user=request.user, approve=False,
                    comment=form.cleaned_data["review_comment"],
                )  # fmt: skip
            except PermissionDenied as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(back)
            except ValidationError as exc:
                if hasattr(exc, "error_dict"):
                    for field, errors in exc.message_dict.items():
                        form.add_error(field if field in form.fields else None, errors)
                else:
                    self.message_user(request, " ".join(exc.messages), messages.ERROR)
                    return HttpResponseRedirect(back)
            else:
                self.message_user(
                    request, _("%(report)s returned to its author.") % {"report": report}
                )
                return HttpResponseRedirect(back)
        label = _("Reject")
        context = {
            **self.admin_site.each_context(request),
            "title": f"{label} · {report}",
            "opts": self.opts,
            "original": report,
            "back_url": back,
            "form": form,
            "adminform": helpers.AdminForm(
                form, [(None, {"fields": list(form.fields)})], {}, model_admin=self
            ),
            "submit_label": label,
            "intro": _("The report goes back to its author with your comment."),
            "media": self.media + form.media,
        }
        return TemplateResponse(request, "knowledge/admin/action_form.html", context)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        report = self.get_object(request, object_id)
        extra = {}
        if report is not None:
            today = timezone.localdate()
            overdue = list(action_reminders.overdue_items(today).filter(report=report))
            for item in overdue:
                item.days_overdue = (today - item.due_on).days
            extra["overdue_items"] = overdue
            if report.state == ReportState.SUBMITTED and request.user.has_perm(
                "callbacks.approve_followupreport"
            ):
                extra["reject_url"] = reverse(
                    "admin:callbacks_followupreport_reject", args=[report.pk]
                )
        return super().change_view(
            request, object_id, form_url, extra_context={**extra, **(extra_context or {})}
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return [*self.readonly_fields, "period_start", "period_end", "findings"]
        return self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        created = services.followup_report_create(
            user=request.user,
            period_start=form.cleaned_data["period_start"],
            period_end=form.cleaned_data["period_end"],
        )
        if form.cleaned_data.get("findings"):
            created.findings = form.cleaned_data["findings"]
            created.save(update_fields=["findings"])
        obj.pk = created.pk
        obj.findings, obj.author = created.findings, created.author

    def get_changeform_initial_data(self, request):
        today = timezone.localdate()
        end = today.replace(day=1) - datetime.timedelta(days=1)
        return {"period_start": end.replace(day=1), "period_end": end}

    @admin.display(description=gettext_lazy("open action items"))
    def open_items(self, obj):
        return obj.actions.filter(status=ActionStatus.OPEN).count()

    def _each(self, request, queryset, step, done):
        for report in queryset:
            try:
                step(report)
            except (ValidationError, PermissionDenied) as exc:
                text = " ".join(getattr(exc, "messages", [str(exc)]))
                self.message_user(request, f"{report}: {text}", messages.ERROR)
            else:
                self.message_user(request, f"{report}: {done}")

    @admin.action(description=gettext_lazy("Submit for a manager's approval"))
    def submit(self, request, queryset):
        self._each(
            request, queryset,
            lambda r: services.followup_report_submit(report=r, user=request.user),
            _("submitted"),
        )  # fmt: skip

    @admin.action(description=gettext_lazy("Approve"))
    def approve(self, request, queryset):
        self._each(
            request, queryset,
            lambda r: services.followup_report_review(report=r, user=request.user, approve=True),
            _("approved"),
        )  # fmt: skip

    @admin.action(description=gettext_lazy("Reject (the author revises it)"))
    def reject(self, request, queryset):
        """A rejection needs a comment for the author: one report at a time, on its own page."""
        reports = list(queryset[:2])
        if len(reports) != 1:
            self.message_user(
                request, _("Select one report to reject: each needs its own comment."),
                messages.ERROR,
            )  # fmt: skip
            return None
        return HttpResponseRedirect(
            reverse("admin:callbacks_followupreport_reject", args=[reports[0].pk])
        )

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.state not in (ReportState.DRAFT, ReportState.REJECTED):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return False


class OverdueFilter(admin.SimpleListFilter):
    title = gettext_lazy("due")
    parameter_name = "due"

    def lookups(self, request, model_admin):
        return [("overdue", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() == "overdue":
            return queryset.overdue(timezone.localdate())
        return queryset


@admin.register(ActionItem)
class ActionItemAdmin(admin.ModelAdmin):
    """Every action item, tracked to closure: write the outcome, then *Close*."""

    list_display = ["action", "department", "due_on", "status", "report", "closed_at"]
    list_filter = ["status", OverdueFilter, "department"]
    list_select_related = ["department", "report"]
    search_fields = ["problem", "action", "outcome"]
    fields = ["report", "problem", "action", "department", "due_on", "status", "outcome",
              "closed_at", "closed_by"]  # fmt: skip
    readonly_fields = ["report", "problem", "action", "department", "due_on", "status",
                       "closed_at", "closed_by"]  # fmt: skip
    actions = ["close_items"]

    def has_add_permission(self, request):
        return False  # items belong to a report

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if obj.status == ActionStatus.OPEN and "outcome" in form.changed_data:
            super().save_model(request, obj, form, change)  # the outcome, written before closing

    @admin.action(description=gettext_lazy("Close the selected items (their outcome written)"))
    def close_items(self, request, queryset):
        for item in queryset:
            try:
                services.action_item_close(item=item, user=request.user, outcome=item.outcome)
            except ValidationError as exc:
                self.message_user(request, f"{item}: {' '.join(exc.messages)}", messages.ERROR)
