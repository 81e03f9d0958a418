"""The notification bell in the admin header (admin/_notification_bell.html)."""

from django import template

from ..models import Notification

register = template.Library()

BELL_LATEST = 8


@register.simple_tag
def notification_bell(user, limit=BELL_LATEST):
    """{"count": unread notifications of `user`, "latest": the newest `limit` of them}.

    One query per page, served by the partial index on unread notifications (recipient,
    newest first): a window count over the unread rows rides along with the newest few."""
    if not getattr(user, "is_authenticated", False):
        return {"count": 0, "latest": []}
    latest = list(Notification.objects.bell_for(user)[:limit])
    return {"count": latest[0].unread_total if latest else 0, "latest": latest}
