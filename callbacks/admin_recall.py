"""Recall campaigns (召回) in the staff workspace: the campaign with its progress and the
outreach button, the contacts with their outcome, compensation on cases."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from . import recall_services as services
from .recall import Compensation, RecallCampaign, RecallContact, RecallStatus


class RecallContactInline(admin.TabularInline):
    model = RecallContact
    fields = ["customer", "followup", "status", "note"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RecallCampaign)
class RecallCampaignAdmin(admin.ModelAdmin):
    list_display = ["name", "product", "batch", "purchased_from", "purchased_to", "created_at",
                    "closed_at"]  # fmt: skip
    search_fields = ["name", "product", "batch"]
    fields = ["name", "product", "batch", "purchased_from", "purchased_to", "description",
              "closed_at"]  # fmt: skip
    inlines = [RecallContactInline]
    change_form_template = "admin/callbacks/recallcampaign/change_form.html"

    def has_add_permission(self, request):
        return request.user.has_perm("callbacks.manage_recall")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("callbacks.manage_recall")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def get_urls(self):
        return [
            path(
                "<int:pk>/outreach/",
                self.admin_site.admin_view(self.outreach_view),
                name="callbacks_recallcampaign_outreach",
            ),
            *super().get_urls(),
        ]

    def outreach_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        campaign = get_object_or_404(RecallCampaign, pk=pk)
        try:
            created = services.recall_outreach_generate(campaign=campaign, user=request.user)
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(
                request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR
            )
        else:
            self.message_user(
                request, _("%(n)s outreach call(s) created in the callback queue.") % {"n": created}
            )
        return HttpResponseRedirect(reverse("admin:callbacks_recallcampaign_change", args=[pk]))

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["progress"] = services.recall_progress(obj)
            context["outreach_url"] = reverse(
                "admin:callbacks_recallcampaign_outreach", args=[obj.pk]
            )
        return super().render_change_form(request, context, add, change, form_url, obj)


@admin.register(RecallContact)
class RecallContactAdmin(admin.ModelAdmin):
    list_display = ["customer", "campaign", "status", "followup", "updated_at"]
    list_filter = ["campaign", "status"]
    list_select_related = ["customer", "campaign", "followup"]
    search_fields = ["customer__name", "note"]
    fields = ["campaign", "customer", "followup", "status", "note"]
    readonly_fields = ["campaign", "customer", "followup", "status"]
    actions = ["mark_contacted", "mark_unreachable", "mark_remedied"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _mark(self, request, queryset, status):
        for contact in queryset:
            services.recall_contact_set(contact=contact, status=status, user=request.user)

    @admin.action(description=gettext_lazy("Mark as contacted"))
    def mark_contacted(self, request, queryset):
        self._mark(request, queryset, RecallStatus.CONTACTED)

    @admin.action(description=gettext_lazy("Mark as unreachable"))
    def mark_unreachable(self, request, queryset):
        self._mark(request, queryset, RecallStatus.UNREACHABLE)

    @admin.action(description=gettext_lazy("Mark as remedied"))
    def mark_remedied(self, request, queryset):
        self._mark(request, queryset, RecallStatus.REMEDIED)


class CompensationForm(forms.ModelForm):
    class Meta:
        model = Compensation
        fields = ["case", "campaign", "kind", "amount", "note"]


@admin.register(Compensation)
class CompensationAdmin(admin.ModelAdmin):
    form = CompensationForm
    list_display = ["case", "kind", "amount", "campaign", "approved_by", "approved_at"]
    list_filter = ["kind", "campaign"]
    list_select_related = ["case", "campaign", "approved_by"]
    raw_id_fields = ["case"]
    search_fields = ["case__number", "note"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_add_permission(self, request):
        return request.user.has_perm("callbacks.approve_compensation")

    def save_model(self, request, obj, form, change):
        saved = services.compensation_record(
            case=form.cleaned_data["case"], user=request.user, kind=form.cleaned_data["kind"],
            amount=form.cleaned_data["amount"], campaign=form.cleaned_data.get("campaign"),
            note=form.cleaned_data.get("note", ""),
        )  # fmt: skip
        obj.pk, obj.approved_by, obj.approved_at = saved.pk, saved.approved_by, saved.approved_at
