"""The admin of plan revisions: the page of one revision with its stages and resources
(editable while a draft or after a rejection, frozen once submitted), its workflow buttons
(submit, approve, reject — each a small form page calling knowledge.services), and its
history with readable values. Registered by knowledge.admin, whose helpers it shares."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import TransitionNotAllowed
from simple_history.admin import SimpleHistoryAdmin

from . import rollout, services
from .admin import ActionPageMixin, ReasonForm, RejectForm, state_badge
from .admin_rollout import rollout_context
from .history import TEXT_FIELD_OVERRIDES, ReadableHistoryMixin
from .models import PlanResource, PlanRevision, PlanStage, RevisionState


class EditableOnlyInDraftInline(admin.TabularInline):
    extra = 0
    formfield_overrides = TEXT_FIELD_OVERRIDES

    def _editable(self, request, obj):
        return obj is None or (obj.is_editable and request.user.has_perm(
            "knowledge.change_planrevision"))  # fmt: skip

    def has_add_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._editable(request, obj) and super().has_delete_permission(request, obj)

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("knowledge.view_planrevision")


class StageInline(EditableOnlyInDraftInline):
    model = PlanStage
    fields = ["order", "code", "name", "time_limit", "unit", "starts", "responsible_role",
              "description"]  # fmt: skip

    def get_fields(self, request, obj=None):
        # The stage's code (first_response …) ties it to the deadline rules; it is typed while
        # drafting, but a read-only revision shows the stage by its name alone.
        fields = super().get_fields(request, obj)
        if not self._editable(request, obj):
            fields = [f for f in fields if f != "code"]
        return fields

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("widgets", {})["description"] = forms.Textarea(
            attrs={"rows": 2, "cols": 30}
        )
        return super().get_formset(request, obj, **kwargs)


class ResourceInline(EditableOnlyInDraftInline):
    model = PlanResource
    fields = ["order", "kind", "name", "quantity", "location", "notes"]

    def get_formset(self, request, obj=None, **kwargs):
        kwargs.setdefault("widgets", {})["notes"] = forms.Textarea(attrs={"rows": 2, "cols": 30})
        return super().get_formset(request, obj, **kwargs)


class PlanRevisionForm(forms.ModelForm):
    class Meta:
        model = PlanRevision
        fields = services.REVISION_EDITABLE_FIELDS

    def clean(self):
        cleaned = super().clean()
        # Re-check under a row lock (held until the admin's transaction ends, covering the
        # stage and resource rows): the revision may have been submitted since the page loaded.
        try:
            services.plan_revision_lock_for_edit(revision=self.instance, user=self.request_user)
        except PermissionDenied as exc:
            raise ValidationError(str(exc)) from exc
        return cleaned


REVISION_READONLY = ["plan_link", "number", "state_display", "urgency_matrix", "author",
                     "created_at",
                     "submitted_by", "submitted_at", "reviewer", "reviewed_at", "review_comment",
                     "published_at", "superseded_at"]  # fmt: skip


@admin.register(PlanRevision)
class PlanRevisionAdmin(ReadableHistoryMixin, ActionPageMixin, SimpleHistoryAdmin):
    form = PlanRevisionForm
    list_display = ["revision_title", "number", "state_display", "author", "submitted_by",
                    "reviewer", "published_at"]  # fmt: skip
    list_filter = ["state", "plan"]
    list_select_related = ["plan", "author", "submitted_by", "reviewer"]
    search_fields = ["plan__name", "plan__code", "change_summary"]
    ordering = ["plan__name", "-number"]
    inlines = [StageInline, ResourceInline]
    change_form_template = "admin/knowledge/planrevision/change_form.html"
    object_history_template = "admin/knowledge/planrevision/object_history.html"
    fieldsets = [
        (None, {"fields": ["plan_link", "number", "state_display", "change_summary"]}),
        (
            gettext_lazy("Objectives and targets"),
            {
                "fields": [
                    "objectives",
                    "first_response_hours",
                    "satisfaction_target_pct",
                    "urgency_high_hours",
                    "urgency_medium_working_days",
                    "urgency_low_hours",
                    "urgency_matrix",
                ]
            },
        ),
        (gettext_lazy("Reporting and risks"), {"fields": ["reporting_path", "risk_triggers"]}),
        (
            gettext_lazy("Approval"),
            {
                "fields": [
                    "author",
                    "created_at",
                    "submitted_by",
                    "submitted_at",
                    "reviewer",
                    "reviewed_at",
                    "review_comment",
                    "published_at",
                    "superseded_at",
                ]
            },
        ),
    ]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_editable and self._may_edit(request):
            return REVISION_READONLY
        return REVISION_READONLY + services.REVISION_EDITABLE_FIELDS

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.request_user = request.user
        return form

    def _may_edit(self, request):
        return super().has_change_permission(request)

    def has_add_permission(self, request):
        # Drafts start from the plan ("New draft revision") or from a post-incident review.
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and not obj.is_editable:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.state != RevisionState.DRAFT:
            return False
        return super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        services.plan_revision_update(
            revision=obj,
            user=request.user,
            **{f: form.cleaned_data[f] for f in form.changed_data if f in form.cleaned_data},
        )

    @admin.display(description=gettext_lazy("plan"), ordering="plan__name")
    def revision_title(self, obj):
        return obj.plan.name

    @admin.display(description=gettext_lazy("plan"))
    def plan_link(self, obj):
        url = reverse("admin:knowledge_plan_change", args=[obj.plan_id])
        return format_html('<a href="{}">{}</a>', url, obj.plan)

    @admin.display(description=gettext_lazy("state"), ordering="state")
    def state_display(self, obj):
        return state_badge(obj)

    @admin.display(description=gettext_lazy("urgency matrix"))
    def urgency_matrix(self, obj):
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th></tr>",
            _("urgency"), _("first response"), _("resolve within"),
        )  # fmt: skip
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>", obj.urgency_matrix()
        )
        return format_html('<table class="sd-matrix">{}{}</table>', head, rows)

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(
                revision=obj,
                # Submitting from an editable page posts the page itself: its edits are saved
                # first (response_change), never lost.
                submit_in_form=obj.is_editable and self._may_edit(request),
                submit_reason=request.POST.get("_submit_reason", ""),
                workflow_buttons=[
                    (
                        name,
                        label,
                        reverse("admin:knowledge_planrevision_action", args=[obj.pk, name]),
                    )
                    for name, label in services.available_revision_actions(obj, request.user)
                ],
                diff_url=reverse("admin:knowledge_plan_diff", args=[obj.plan_id])
                + f"?new={obj.number}",
                **rollout_context(obj, request.user),
            )
        return super().render_change_form(request, context, add, change, form_url, obj)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/action/<str:name>/",
                view(self.action_view),
                name="knowledge_planrevision_action",
            ),
            path(
                "<int:pk>/acknowledge/",
                view(self.acknowledge_view),
                name="knowledge_planrevision_acknowledge",
            ),
            *super().get_urls(),
        ]

    def acknowledge_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        revision = get_object_or_404(PlanRevision.objects.select_related("plan"), pk=pk)
        try:
            rollout.plan_revision_acknowledge(revision=revision, user=request.user)
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(
                request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR
            )
        else:
            self.message_user(request, _("Recorded: you have read and understood this revision."))
        return HttpResponseRedirect(
            reverse("admin:knowledge_planrevision_change", args=[revision.pk])
        )

    ACTIONS = {
        "submit": (services.plan_revision_submit, ReasonForm, gettext_lazy("Submit for approval")),
        "approve": (
            services.plan_revision_approve,
            ReasonForm,
            gettext_lazy("Approve and publish"),
        ),
        "reject": (services.plan_revision_reject, RejectForm, gettext_lazy("Reject")),
    }

    def response_change(self, request, obj):
        if "_submit_for_approval" in request.POST:
            return self._submit_after_save(request, obj)
        return super().response_change(request, obj)

    def _submit_after_save(self, request, revision):
        """The page's edits are saved (in this request's transaction); now submit."""
        back = reverse("admin:knowledge_planrevision_change", args=[revision.pk])
        reason = request.POST.get("_submit_reason", "").strip()
        if not reason:
            self.message_user(
                request,
                _("Your changes are saved. Write a note for the reviewer to submit the revision "
                  "for approval."),
                messages.WARNING,
            )  # fmt: skip
            return HttpResponseRedirect(
                reverse("admin:knowledge_planrevision_action", args=[revision.pk, "submit"])
            )
        try:
            revision = services.plan_revision_submit(
                revision=revision, user=request.user, reason=reason
            )
        except (PermissionDenied, TransitionNotAllowed, ValidationError) as exc:
            self.message_user(
                request,
                _("Your changes are saved, but the revision was not submitted: %(why)s")
                % {"why": " ".join(getattr(exc, "messages", [str(exc)]))},
                messages.ERROR,
            )
            return HttpResponseRedirect(back)
        self._submitted_message(request, revision)
        return HttpResponseRedirect(back)

    def _submitted_message(self, request, revision):
        approvers = services.revision_approvers(revision)
        if approvers:
            self.message_user(
                request,
                _("Revision %(number)s submitted for approval; notified: %(names)s.")
                % {"number": revision.number, "names": "、".join(str(u) for u in approvers)},
                messages.SUCCESS,
            )
        else:
            self.message_user(
                request,
                _("Revision %(number)s submitted for approval, but nobody may approve it: "
                  "ask an administrator to give a manager who did not edit it the approval "
                  "permission.") % {"number": revision.number},
                messages.WARNING,
            )  # fmt: skip

    DONE = {
        "submit": gettext_lazy("Revision %(number)s submitted for approval."),
        "approve": gettext_lazy(
            "Revision %(number)s is published and in force; staff of the plan's departments "
            "have been notified."
        ),
        "reject": gettext_lazy("Revision %(number)s returned to its author."),
    }

    def action_view(self, request, pk, name):
        if name not in self.ACTIONS:
            raise Http404
        revision = get_object_or_404(PlanRevision.objects.select_related("plan"), pk=pk)
        if not self.has_view_or_change_permission(request, revision):
            raise PermissionDenied
        service, form_class, label = self.ACTIONS[name]
        back = reverse("admin:knowledge_planrevision_change", args=[revision.pk])
        form = form_class(request.POST if request.method == "POST" else None)
        if form.is_bound and form.is_valid():
            try:
                done = service(
                    revision=revision, user=request.user, reason=form.cleaned_data["reason"]
                )
            except (PermissionDenied, TransitionNotAllowed) as exc:
                self.message_user(request, str(exc) or _("You may not do this."), messages.ERROR)
                return HttpResponseRedirect(back)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                if name == "submit":
                    self._submitted_message(request, done)
                else:
                    self.message_user(
                        request, self.DONE[name] % {"number": revision.number}, messages.SUCCESS
                    )
                return HttpResponseRedirect(back)
        if request.method != "POST":
            allowed = {
                n for n, _label in services.available_revision_actions(revision, request.user)
            }
            if name not in allowed:
                self.message_user(
                    request,
                    _("This step is not available to you while the revision is “%(state)s”.")
                    % {"state": revision.get_state_display()},
                    messages.ERROR,
                )
                return HttpResponseRedirect(back)
        return self._action_page(
            request,
            revision,
            title=f"{label} · {revision}",
            form=form,
            submit=label,
            back_url=back,
        )

    def history_view(self, request, object_id, extra_context=None):
        rows = []
        for model in (PlanStage, PlanResource):
            rows += list(model.history.filter(revision_id=object_id).select_related("history_user"))
        rows.sort(key=lambda r: r.history_date, reverse=True)
        extra_context = {**(extra_context or {}), "row_history": rows}
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method == "POST":
            self._refuse_revert(request)
            return HttpResponseRedirect(
                reverse("admin:knowledge_planrevision_history", args=[object_id])
            )
        return super().history_form_view(request, object_id, version_id, extra_context)

    def revert_disabled(self, request, obj=None):
        return True
