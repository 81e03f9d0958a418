"""Shared pieces of the staff workspace: colours, badges, deadline wording, personal-data masking,
phone search. Used by the case list, the case page and the other admins.
"""

import datetime

from django.db.models import prefetch_related_objects
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import State, Urgency, normalize_phone

PERSONAL_DATA = "complaints.view_personal_data"

URGENCY_COLOURS = {Urgency.HIGH: "#c62828", Urgency.MEDIUM: "#b45309", Urgency.LOW: "#6b7280"}
STATE_COLOURS = {
    State.RECEIVED: "#2563eb",
    State.ASSIGNED: "#7c3aed",
    State.INVESTIGATING: "#b45309",
    State.SOLUTION_PROPOSED: "#0e7490",
    State.RESOLVED: "#15803d",
    State.CLOSED: "#4b5563",
    State.REOPENED: "#dc2626",
    State.MERGED: "#6b7280",
    State.CANCELLED: "#6b7280",
}
OTHER_CASES_SHOWN = 20
# "Due soon": amber in the list and the "due within 4 h" queue.
DUE_SOON_HOURS = 4
DUE_COLOURS = {"overdue": "#c62828", "soon": "#b45309", "ok": "#15803d", "done": "#15803d"}
ESCALATION_COLOURS = {1: "#b45309", 2: "#7f1d1d"}
# Evidence a browser shows by itself; anything else is downloaded.
INLINE_TYPES = ("image/", "video/", "audio/", "application/pdf", "text/plain")


def _prime_user(request):
    # `sees_all_departments` reads the user's groups on every call (visibility, each button's
    # permission); load them once per request.
    user = request.user
    if user.is_authenticated and "groups" not in getattr(user, "_prefetched_objects_cache", {}):
        prefetch_related_objects([user], "groups")


def badge(label, colour, title=None):
    if title:
        return format_html(
            '<span class="sd-badge" style="background:{}" title="{}">{}</span>',
            colour,
            title,
            label,
        )
    return format_html('<span class="sd-badge" style="background:{}">{}</span>', colour, label)


def shows_personal_data(request):
    return request.user.has_perm(PERSONAL_DATA)


def format_span(delta):
    """A rough length of time for the deadline columns: "40 minutes", "3 hours", "2 days 5
    hours" (whole units, rounded down; never "0 minutes")."""
    seconds = int(abs(delta.total_seconds()))
    if seconds < 3600:
        n = max(seconds // 60, 1)
        return ngettext("%(count)d minute", "%(count)d minutes", n) % {"count": n}
    hours = seconds // 3600
    if hours < 48:
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    days, hours = divmod(hours, 24)
    text = ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if hours:
        text += " " + ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return text


def due_state(due, now):
    """The colour class of a deadline still to meet: overdue, soon (within DUE_SOON_HOURS), ok."""
    if due < now:
        return "overdue"
    if due - now <= datetime.timedelta(hours=DUE_SOON_HOURS):
        return "soon"
    return "ok"


def time_left_text(due, now):
    """For example "3 hours left" or "overdue by 2 hours"."""
    if due < now:
        return _("overdue by %(time)s") % {"time": format_span(now - due)}
    return _("%(time)s left") % {"time": format_span(due - now)}


def escalation_badge(level):
    if not level:
        return ""
    return format_html(
        '<span class="sd-badge sd-escalation" style="background:{}" title="{}">L{}</span>',
        ESCALATION_COLOURS.get(level, ESCALATION_COLOURS[2]),
        _("escalation level %(level)s") % {"level": level},
        level,
    )


class NormalizedPhoneSearchMixin:
    """Also find a phone number typed with spaces, dashes or +86 — for staff who see phone
    numbers only: whoever sees them masked cannot confirm one by searching it (nor an
    e-mail address)."""

    phone_search_path = "phone_normalized"

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if shows_personal_data(request):
            return fields
        return [f for f in fields if "phone" not in f and "email" not in f]

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if not shows_personal_data(request):
            return results, may_have_duplicates
        phone = normalize_phone(search_term)
        if len(phone) >= 5 and phone != search_term.strip():
            results = results | queryset.filter(**{self.phone_search_path: phone})
        return results, may_have_duplicates


# --- list filters ------------------------------------------------------------------------


def _short(text, length=60):
    text = " ".join((text or "").split())
    return text if len(text) <= length else text[: length - 1] + "…"


# --- returns -----------------------------------------------------------------------------


def _case_link(case):
    return format_html(
        '<a href="{}">{}</a><br><span class="sd-muted">{}</span>',
        reverse("admin:complaints_case_change", args=[case.pk]),
        case.number,
        _short(case.subject, 40),
    )
