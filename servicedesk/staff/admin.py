from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .models import Department, Membership, Notification, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    # Every staff member works in at least one department.
    min_num = 1
    validate_min = True
    autocomplete_fields = ["department"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = ["username", "__str__", "email", "role_names", "department_names", "is_active"]
    list_filter = ["groups", "memberships__department", "is_active", "is_staff"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ("last_name", "first_name", "email", "phone")}),
        *DjangoUserAdmin.fieldsets[2:],
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups", "departments")

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return "、".join(g.name for g in obj.groups.all())

    @admin.display(description=_("departments"))
    def department_names(self, obj):
        return "、".join(d.name for d in obj.departments.all())


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "email", "is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject", "recipient", "created_at", "read_at", "emailed_at"]
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    list_select_related = ["recipient"]
    search_fields = ["subject", "body"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["mark_read"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.has_perm("staff.view_user") and request.GET.get("all"):
            return qs
        return qs.filter(recipient=request.user)

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset):
        from django.utils import timezone

        queryset.filter(read_at__isnull=True).update(read_at=timezone.now())
