"""The staff workspace for cases: the case list with its queues and deadlines, the fast intake
form, the case page (deadlines and escalations, technical collaboration requests, customer,
other cases, contacts, timeline, attachments, one button per transition), bulk assignment;
customers, routing and urgency rules, returns, technical requests, deadline breaches.

Thin by design: every change to a case goes through complaints.services. Personal data is
masked for users without `complaints.view_personal_data`.

This module registers the admins and composes CaseAdmin; the parts live in modules named for
what they show: admin_list (the case list and queues), admin_intake (quick intake), admin_case
(the case page), admin_case_actions (its action pages), admin_customers, admin_rules,
admin_requests (returns, technical requests, breaches); admin_common holds shared helpers.
"""

from django.contrib import admin
from django.contrib.admin import widgets
from django.db import models
from django.utils.translation import gettext_lazy

# The other admins register themselves on import.
from . import admin_customers, admin_requests, admin_rules  # noqa: F401
from .admin_case import CasePageMixin
from .admin_case_actions import CaseActionsMixin
from .admin_common import (  # noqa: F401 (re-exported: callbacks' admins import them from here)
    DUE_COLOURS,
    NormalizedPhoneSearchMixin,
    badge,
    shows_personal_data,
)
from .admin_forms import CaseChangeForm
from .admin_intake import CaseIntakeMixin
from .admin_list import CaseListMixin
from .models import Case


@admin.register(Case)
class CaseAdmin(
    CaseListMixin,
    CaseIntakeMixin,
    CasePageMixin,
    CaseActionsMixin,
    NormalizedPhoneSearchMixin,
    admin.ModelAdmin,
):
    form = CaseChangeForm
    formfield_overrides = {
        models.TextField: {"widget": widgets.AdminTextareaWidget(attrs={"rows": 3})},
    }
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "expected_version",
                    "subject",
                    ("type", "category"),
                    ("urgency", "priority"),
                    ("product", "order_no"),
                ]
            },
        ),
        (
            gettext_lazy("What the customer said"),
            {"fields": ["description", "customer_words", "expected_outcome", "prior_history"]},
        ),
        (
            gettext_lazy("Handling"),
            {"fields": ["cause", ("expected_resolution_at", "next_contact_at"), "remarks"]},
        ),
        (gettext_lazy("Customer feedback"), {"fields": ["feedback_text"], "classes": ["collapse"]}),
    ]
