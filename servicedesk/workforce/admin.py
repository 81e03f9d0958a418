"""Workforce in the admin: backup offers (take over), staffing targets; the staffing page,
QA and the agent performance page are registered from their own modules."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from . import admin_qa, admin_staffing  # noqa: F401  (registers their pages)
from .backup import backup_offer_take
from .models import BackupOffer, StaffingTarget


@admin.register(BackupOffer)
class BackupOfferAdmin(admin.ModelAdmin):
    list_display = ["case", "absent_user", "backup", "offered_at", "taken_at"]
    list_filter = [("taken_at", admin.EmptyFieldListFilter)]
    list_select_related = ["case", "absent_user", "backup"]
    readonly_fields = [f.name for f in BackupOffer._meta.fields]
    actions = ["take_over"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.sees_all_departments else qs.filter(backup=request.user)

    def has_add_permission(self, request):
        return False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_staff

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        # Taking over is the backup's own action; it needs no model permission beyond seeing it.
        actions = super().get_actions(request)
        actions["take_over"] = self.get_action("take_over")
        return actions

    @admin.action(description=_("Take over the selected cases"))
    def take_over(self, request, queryset):
        taken = 0
        for offer in queryset:
            try:
                backup_offer_take(offer=offer, user=request.user)
                taken += 1
            except (ValidationError, PermissionDenied) as exc:
                text = "; ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
                messages.error(request, f"{offer.case}: {text}")
        if taken:
            messages.success(request, _("%(n)s cases taken over.") % {"n": taken})


@admin.register(StaffingTarget)
class StaffingTargetAdmin(admin.ModelAdmin):
    list_display = [
        "channel", "queued", "service_level", "answer_seconds", "response_hours",
        "default_handling_seconds", "shrinkage",
    ]  # fmt: skip
