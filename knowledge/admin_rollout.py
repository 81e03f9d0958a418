"""The admin side of rolling out a revision: who has acknowledged it (on the revision page)
and the drills recorded against revisions."""

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.urls import reverse

from . import rollout
from .models import PlanDrill, PlanRevision, RevisionState


def rollout_context(revision, user):
    """What the revision page shows below its workflow buttons."""
    if revision.published_at is None:
        return {}
    acknowledged, missing = rollout.acknowledgement_status(revision)
    return {
        "acknowledged": acknowledged,
        "not_acknowledged": missing,
        "may_acknowledge": revision.state == RevisionState.PUBLISHED
        and any(u.pk == user.pk for u in missing),
        "acknowledge_url": reverse("admin:knowledge_planrevision_acknowledge", args=[revision.pk]),
        "drills": list(revision.drills.prefetch_related("participants")),
        "add_drill_url": reverse("admin:knowledge_plandrill_add") + f"?revision={revision.pk}",
    }


class PlanDrillForm(forms.ModelForm):
    class Meta:
        model = PlanDrill
        fields = ["revision", "held_on", "participants", "findings"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["revision"].queryset = PlanRevision.objects.filter(
            published_at__isnull=False
        ).select_related("plan")

    def clean(self):
        cleaned = super().clean()
        if "revision" in cleaned:
            errors = rollout.drill_errors(
                revision=cleaned["revision"],
                held_on=cleaned.get("held_on"),
                participants=cleaned.get("participants"),
                findings=cleaned.get("findings"),
            )
            for field, message in errors.items():
                if field not in self.errors:
                    self.add_error(field, message)
        return cleaned


@admin.register(PlanDrill)
class PlanDrillAdmin(admin.ModelAdmin):
    form = PlanDrillForm
    list_display = ["revision", "held_on", "recorded_by", "created_at"]
    list_select_related = ["revision__plan", "recorded_by"]
    list_filter = ["revision__plan"]
    autocomplete_fields = ["participants"]
    search_fields = ["findings", "revision__plan__name"]

    def has_change_permission(self, request, obj=None):
        return False  # a record of what happened: written once

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        try:
            drill = rollout.plan_drill_record(
                revision=form.cleaned_data["revision"],
                user=request.user,
                held_on=form.cleaned_data["held_on"],
                participants=form.cleaned_data["participants"],
                findings=form.cleaned_data["findings"],
            )
        except PermissionDenied as exc:
            raise PermissionDenied(str(exc)) from exc
        obj.pk, obj.recorded_by, obj.created_at = drill.pk, drill.recorded_by, drill.created_at

    def save_related(self, request, form, formsets, change):
        pass  # the service set the participants
