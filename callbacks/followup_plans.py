"""A follow-up plan needs a manager's approval before it generates calls (003); changing its
rules takes the approval away until a manager approves again."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import FollowUpPlan

# Changing any of these changes who is called when: the plan is approved again.
RULE_FIELDS = {"kind", "tier", "every_months", "working_days_after_delivery", "questionnaire",
               "is_active"}  # fmt: skip


def followup_plan_approve(*, plan, user, now=None):
    if user is None or not user.has_perm("callbacks.approve_followupplan"):
        raise PermissionDenied(_("Only a manager may approve follow-up plans."))
    with transaction.atomic():
        locked = FollowUpPlan.objects.select_for_update().get(pk=plan.pk)
        locked.approved_by, locked.approved_at = user, now or timezone.now()
        locked.save(update_fields=["approved_by", "approved_at"])
    return locked


def followup_plan_rules_changed(plan, changed_fields):
    """Called before saving an edited plan: new rules wait for a manager's approval."""
    if plan.pk is None or set(changed_fields) & RULE_FIELDS:
        plan.approved_by, plan.approved_at = None, None
