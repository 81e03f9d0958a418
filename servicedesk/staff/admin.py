from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.timezone import localtime
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from .models import UNREAD_FIRST, Department, Membership, Notification, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    # Every staff member works in at least one department.
    min_num = 1
    validate_min = True
    autocomplete_fields = ["department"]


def role_label(name):
    """A role's name in the reader's language: the groups are named "客服 Agent" (both
    languages, so either reader recognises them); a zh-hans screen shows "客服"."""
    chinese, sep, english = name.partition(" ")
    if not sep:
        return name
    return chinese if (get_language() or "").startswith("zh") else english


class RoleFilter(admin.SimpleListFilter):
    title = _("roles")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        from django.contrib.auth.models import Group

        return [(g.pk, role_label(g.name)) for g in Group.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(groups__pk=self.value())
        return queryset


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [MembershipInline]
    list_display = [
        "username",
        "__str__",
        "email_address",
        "role_names",
        "department_names",
        "is_active",
    ]
    list_filter = [RoleFilter, "memberships__department", "is_active", "is_staff"]
    fieldsets = (
        *DjangoUserAdmin.fieldsets[:1],
        (_("Personal info"), {"fields": ("last_name", "first_name", "email", "phone")}),
        *DjangoUserAdmin.fieldsets[2:],
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups", "departments")

    @admin.display(description=_("e-mail"), ordering="email")
    def email_address(self, obj):
        return obj.email

    @admin.display(description=_("roles"))
    def role_names(self, obj):
        return "、".join(role_label(g.name) for g in obj.groups.all())

    @admin.display(description=_("departments"))
    def department_names(self, obj):
        return "、".join(d.name for d in obj.departments.all())


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "email", "is_active"]
    search_fields = ["name", "code"]
    prepopulated_fields = {"code": ["name"]}


class EmailStateFilter(admin.SimpleListFilter):
    title = _("e-mail")
    parameter_name = "email"

    def lookups(self, request, model_admin):
        return [("pending", _("Waiting to be sent")), ("dead", _("Given up (dead letter)"))]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.email_pending()
        if self.value() == "dead":
            return queryset.email_dead()
        return queryset


class ReadStateFilter(admin.SimpleListFilter):
    title = _("read")
    parameter_name = "read"

    def lookups(self, request, model_admin):
        return [("no", _("Unread")), ("yes", _("Read"))]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(read_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(read_at__isnull=False)
        return queryset


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ["subject_link", "recipient", "created_at", "read_state", "email_state"]
    list_filter = [ReadStateFilter, EmailStateFilter]
    list_select_related = ["recipient"]
    search_fields = ["subject", "body"]
    readonly_fields = [f.name for f in Notification._meta.fields]
    actions = ["mark_read", "retry_email"]

    @admin.display(description=_("subject"), ordering="subject")
    def subject_link(self, obj):
        if not obj.link:
            return obj.subject
        return format_html('<a href="{}">{}</a>', obj.link, obj.subject)

    @admin.display(description=_("read at"), ordering="read_at")
    def read_state(self, obj):
        if obj.read_at is None:
            return format_html('<strong class="sd-unread">{}</strong>', _("Unread"))
        return date_format(localtime(obj.read_at), "Y-m-d H:i")

    @admin.display(description=_("e-mail"))
    def email_state(self, obj):
        if not obj.email_wanted:
            return "—"
        if obj.emailed_at:
            return _("Sent %(at)s") % {"at": date_format(localtime(obj.emailed_at), "Y-m-d H:i")}
        if obj.email_failed_at:
            return _("Given up after %(n)s attempts: %(error)s") % {
                "n": obj.email_attempts,
                "error": obj.email_error,
            }
        if obj.email_attempts:
            return _("Waiting (attempt %(n)s failed: %(error)s)") % {
                "n": obj.email_attempts,
                "error": obj.email_error,
            }
        return _("Waiting to be sent")

    @admin.action(description=_("Try the e-mail again"), permissions=["view"])
    def retry_email(self, request, queryset):
        from .services import notification_email_retry

        n = notification_email_retry(notifications=queryset)
        self.message_user(request, _("%(n)s e-mails will be tried again.") % {"n": n})

    def get_queryset(self, request):
        # Unread first, newest first within each (a column the user clicks still wins).
        qs = super().get_queryset(request)
        if request.user.has_perm("staff.view_user") and request.GET.get("all"):
            return qs
        return qs.filter(recipient=request.user)

    def get_ordering(self, request):
        return UNREAD_FIRST

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Mark as read"))
    def mark_read(self, request, queryset):
        queryset.mark_read(now=timezone.now())

    # The bell's buttons (admin/_notification_bell.html): POST only, one's own notifications.

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("read-all/", view(self.read_all_view), name="staff_notification_read_all"),
            path("<int:pk>/read/", view(self.read_view), name="staff_notification_read"),
            *super().get_urls(),
        ]

    def _back(self, request, default=None):
        target = request.POST.get("next", "")
        if url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            return HttpResponseRedirect(target)
        return HttpResponseRedirect(default or reverse("admin:staff_notification_changelist"))

    def read_view(self, request, pk):
        """Mark one notification read, then go to `next` (the page it links to, or back)."""
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        notification = get_object_or_404(Notification, pk=pk, recipient=request.user)
        Notification.objects.filter(pk=notification.pk).mark_read(now=timezone.now())
        return self._back(request, notification.link)

    def read_all_view(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        n = Notification.objects.filter(recipient=request.user).mark_read(now=timezone.now())
        self.message_user(request, _("%(n)s notifications marked as read.") % {"n": n})
        return self._back(request)


from . import admin_beat  # noqa: E402,F401  the scheduler's jobs in words
