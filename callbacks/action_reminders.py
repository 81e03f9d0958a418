"""Overdue action items of the follow-up report (回访报告, 003): the daily reminder to the owner
department's leads and supervisors, once per item, person and day (notify's unique event key),
so a rerun or two racing workers send nothing twice."""

from collections import defaultdict

from django.contrib.auth import get_user_model
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.staff import roles
from servicedesk.staff.models import Membership
from servicedesk.staff.services import notify_bulk

from .followup_report import ActionItem, ReportState
from .followup_report_services import report_admin_link


def overdue_items(today):
    """Open items of approved reports past their due date, oldest due first."""
    return (
        ActionItem.objects.overdue(today)
        .filter(report__state=ReportState.APPROVED)
        .select_related("department", "report")
        .order_by("due_on", "pk")
    )


def department_owners(department_ids):
    """{department id: [users]}: each department's leads and the supervisors among its
    members; a department with neither falls back to every supervisor, so no item is
    reminded to nobody."""
    owners = defaultdict(dict)
    memberships = Membership.objects.filter(
        department_id__in=department_ids, user__is_active=True
    ).select_related("user")
    supervisor_ids = set(
        get_user_model()
        .objects.filter(is_active=True, groups__name=roles.SUPERVISOR)
        .values_list("pk", flat=True)
    )
    for m in memberships:
        if m.is_lead or m.user_id in supervisor_ids:
            owners[m.department_id][m.user_id] = m.user
    fallback = None
    for department_id in department_ids:
        if not owners[department_id]:
            if fallback is None:
                fallback = {u.pk: u for u in get_user_model().objects.filter(pk__in=supervisor_ids)}
            owners[department_id] = dict(fallback)
    return {d: list(users.values()) for d, users in owners.items()}


def action_items_remind_overdue(*, now=None):
    """The daily sweep: remind the owners of every overdue item. Returns the reminders made."""
    today = timezone.localdate(now or timezone.now())
    items = list(overdue_items(today))
    if not items:
        return 0
    owners = department_owners({item.department_id for item in items})
    notices = []
    for item in items:
        days = (today - item.due_on).days
        subject = _("Overdue follow-up action: %(action)s") % {"action": item.action[:80]}
        body = _(
            "Due %(due)s (%(days)s days ago), owner department %(department)s. Report: "
            "%(report)s. Close it with its outcome once done."
        ) % {
            "due": item.due_on.isoformat(),
            "days": days,
            "department": item.department,
            "report": item.report,
        }
        key = f"callbacks.action_overdue:{item.pk}:{today.isoformat()}"
        link = report_admin_link(item.report)
        notices += [(user, key, subject, body, link) for user in owners[item.department_id]]
    return notify_bulk(notices)
