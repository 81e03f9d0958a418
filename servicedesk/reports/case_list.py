"""The case list of a reporting period: its cases as tuples for the workbook's case-list
sheet, streamed from the database, contact details always masked."""

from django.db.models import BooleanField, ExpressionWrapper
from django.utils import timezone

from complaints.models import (
    Case,
    CaseType,
    Category,
    Channel,
    State,
    Urgency,
    mask_email,
    mask_phone,
)

from .expressions import _missed
from .periods import moments

CASE_ROWS_CHUNK = 2000


def _person_label(username, first_name, last_name):
    # User.__str__ without the instance: family name first, as Chinese names are written.
    return f"{last_name or ''}{first_name or ''}".strip() or username


CASE_COLUMNS = [
    "number", "created_at", "channel", "type", "category", "product", "subject",
    "customer__name", "customer__phone", "customer__email", "urgency", "priority",
    "department__name", "assignee__username", "assignee__first_name", "assignee__last_name",
    "state", "first_response_at", "resolved_at", "closed_at", "escalation__level",
    "reopen_count", "feedback_score", "missed",
]  # fmt: skip


def _naive(value):
    """Excel has no time zones: local wall-clock time."""
    if value is None:
        return None
    local = timezone.localtime(value, timezone.get_default_timezone())
    return local.replace(tzinfo=None, microsecond=0)


def case_rows(start, end, *, now=None):
    """The cases received start..end, oldest first, as tuples for the case-list sheet (the
    column titles are workbook.CASE_LIST_COLUMNS). Phones and e-mails are always masked: the
    report is stored and passed around. Choice labels are resolved as the rows are read, so
    iterate inside the language the workbook is written in."""
    now = now or timezone.now()
    start_m, end_m = moments(start, end)
    labels = {}
    for name, choices in (
        ("channel", Channel), ("type", CaseType), ("category", Category),
        ("urgency", Urgency), ("state", State),
    ):  # fmt: skip
        labels[name] = {value: str(label) for value, label in choices.choices}
    rows = (
        Case.objects.filter(created_at__gte=start_m, created_at__lt=end_m)
        .annotate(missed=ExpressionWrapper(_missed(min(end_m, now)), output_field=BooleanField()))
        .order_by("created_at", "pk")
        .values_list(*CASE_COLUMNS)
        .iterator(chunk_size=CASE_ROWS_CHUNK)
    )
    for (
        number, created_at, channel, type_, category, product, subject, customer, phone, email,
        urgency, priority, department, username, first_name, last_name, state,
        first_response_at, resolved_at, closed_at, escalation_level, reopen_count,
        feedback_score, missed,
    ) in rows:  # fmt: skip
        yield (
            number,
            _naive(created_at),
            labels["channel"].get(channel, channel),
            labels["type"].get(type_, type_),
            labels["category"].get(category, category),
            product,
            subject,
            customer,
            mask_phone(phone),
            mask_email(email),
            labels["urgency"].get(urgency, urgency),
            priority,
            department or "",
            _person_label(username, first_name, last_name) if username else "",
            labels["state"].get(state, state),
            _naive(first_response_at),
            (first_response_at - created_at).total_seconds() / 3600 if first_response_at else None,
            _naive(resolved_at),
            (resolved_at - created_at).total_seconds() / 3600 if resolved_at else None,
            _naive(closed_at),
            escalation_level or 0,  # no escalation row: never escalated
            reopen_count,
            feedback_score,
            bool(missed),
        )
