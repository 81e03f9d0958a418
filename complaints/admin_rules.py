"""Urgency and routing rules."""

from django.contrib import admin
from django.utils.translation import gettext_lazy

from .admin_common import _short
from .models import RoutingRule, UrgencyRule


@admin.register(UrgencyRule)
class UrgencyRuleAdmin(admin.ModelAdmin):
    list_display = ["name", "keywords_short", "urgency", "priority", "order", "is_active"]
    list_display_links = ["name"]
    list_editable = ["order", "is_active"]
    list_filter = ["urgency", "is_active"]
    search_fields = ["name", "keywords"]

    @admin.display(description=gettext_lazy("keywords"))
    def keywords_short(self, obj):
        return _short(obj.keywords)


@admin.register(RoutingRule)
class RoutingRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name", "case_type", "category", "keywords_short", "product", "department",
        "assign_automatically", "order", "is_active",
    ]  # fmt: skip
    list_display_links = ["name"]
    list_editable = ["order", "is_active"]
    list_filter = ["department", "case_type", "category", "is_active"]
    list_select_related = ["department"]
    search_fields = ["name", "keywords", "product"]
    autocomplete_fields = ["department"]

    @admin.display(description=gettext_lazy("keywords"))
    def keywords_short(self, obj):
        return _short(obj.keywords)
