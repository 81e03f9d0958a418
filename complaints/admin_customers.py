"""Customers, with their cases."""

from django.contrib import admin
from django.db.models import Count, Exists, OuterRef
from django.utils.translation import gettext_lazy

from servicedesk.admin_readonly import ReadOnlyMixin

from .admin_common import NormalizedPhoneSearchMixin, _prime_user, shows_personal_data
from .admin_privacy import CustomerPrivacyMixin
from .models import Case, Customer, display_phone

# --- customers ---------------------------------------------------------------------------


class CustomerCaseInline(ReadOnlyMixin, admin.TabularInline):
    model = Case
    fk_name = "customer"
    fields = [
        "number",
        "subject",
        "channel",
        "type",
        "state",
        "department",
        "assignee",
        "created_at",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = gettext_lazy("cases of this customer")

    def get_queryset(self, request):
        _prime_user(request)
        return (
            super()
            .get_queryset(request)
            .visible_to(request.user)
            .select_related("department", "assignee")
        )


@admin.register(Customer)
class CustomerAdmin(CustomerPrivacyMixin, NormalizedPhoneSearchMixin, admin.ModelAdmin):
    list_display = [
        "name", "phone_display", "email_display", "member_no", "kind", "tier", "case_count",
        "created_at",
    ]  # fmt: skip
    list_filter = ["kind", "tier"]
    search_fields = [
        "name", "company", "=phone_normalized", "=email_normalized", "=member_no_normalized",
    ]  # fmt: skip
    search_help_text = gettext_lazy("Name, company, phone, e-mail or member number")
    inlines = [CustomerCaseInline]
    list_per_page = 50

    def get_queryset(self, request):
        _prime_user(request)
        qs = super().get_queryset(request).annotate(case_count=Count("cases"))
        if not request.user.sees_all_departments:
            # Staff see the customers of the cases they see, like the cases themselves.
            qs = qs.filter(
                Exists(Case.objects.visible_to(request.user).filter(customer=OuterRef("pk")))
            )
        return qs

    def has_add_permission(self, request):
        return False  # customers are registered with their first case (intake matches them)

    def get_fieldsets(self, request, obj=None):
        contact = (
            ["phone", "email"]
            if shows_personal_data(request)
            else ["phone_display", "email_display"]
        )
        return [
            (None, {"fields": ["name", "member_no", *contact, "preferred_contact", "language"]}),
            (
                gettext_lazy("Customer type"),
                {"fields": [("kind", "tier"), "company", "industry"]},
            ),
            (None, {"fields": ["created_at", "anonymized_at"]}),
        ]

    def get_readonly_fields(self, request, obj=None):
        fields = ["created_at", "anonymized_at"]
        if not shows_personal_data(request):
            fields += ["phone_display", "email_display"]
        return fields

    @admin.display(description=gettext_lazy("phone"))
    def phone_display(self, obj):
        # Only reached through the list and the read-only fields; the mask depends on the
        # request, so both are built per request in get_list_display.
        return display_phone(obj.phone, masked=True)

    @admin.display(description=gettext_lazy("phone"), ordering="phone_normalized")
    def phone_full(self, obj):
        return display_phone(obj.phone)

    @admin.display(description=gettext_lazy("e-mail"))
    def email_display(self, obj):
        return obj.email_masked

    def get_list_display(self, request):
        display = list(super().get_list_display(request))
        if shows_personal_data(request):
            display[display.index("phone_display")] = "phone_full"
            display[display.index("email_display")] = "email"
        return display

    @admin.display(description=gettext_lazy("cases"), ordering="case_count")
    def case_count(self, obj):
        return obj.case_count

    def has_delete_permission(self, request, obj=None):
        return False  # customers are anonymised, never deleted


# --- rules -------------------------------------------------------------------------------
