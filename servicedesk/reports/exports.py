"""On-demand case-list exports: which cases (the admin case list's own filtering, rebuilt for
the person who asked), which columns (masked or not), and the streaming writer.

The filter is stored as the case change list's query string and replayed through the Case
ModelAdmin's ChangeList with a request for the requester: every list filter, the search box
and the ordering mean exactly what they meant on the screen, visibility included
(`Case.objects.visible_to` in CaseAdmin.get_queryset), with no second copy of the filter rules
to drift. Filters relative to "now" (overdue, due within 4 h) are evaluated when the export
runs, seconds after it was asked for.

The writer uses openpyxl's write-only mode into a temporary file: memory stays flat however
many rows there are.
"""

import datetime

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import FieldDoesNotExist, SuspiciousOperation, ValidationError
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import urlencode
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from complaints.models import Case, CaseEscalation, Customer, mask_email, mask_phone
from servicedesk import spreadsheet

# Change-list parameters that do not select cases: page, "show all", popups, the error flag.
IGNORED_PARAMS = {"p", "all", "e", "_popup", "_to_field", "_changelist_filters", "_facets"}
PROGRESS_EVERY = 1000
DATE_FORMAT = "yyyy-mm-dd hh:mm"


def clean_query(query):
    """The change-list query string without the parameters that do not select cases."""
    params = QueryDict(query or "", mutable=True)
    for key in IGNORED_PARAMS:
        params.pop(key, None)
    return params.urlencode()


def case_changelist(*, user, query):
    """The Case admin's ChangeList for `user` and the stored query string, as the user would
    see it. Raises ValidationError({"query": …}) for a filter the change list refuses."""
    model_admin = admin.site.get_model_admin(Case)
    # A bare GET request for the user: all a ChangeList reads is request.GET and the user.
    request = HttpRequest()
    request.method = "GET"
    request.GET = QueryDict(clean_query(query))
    request.user = user
    try:
        return model_admin.get_changelist_instance(request)
    except (IncorrectLookupParameters, SuspiciousOperation) as exc:
        raise ValidationError(
            {"query": _("This case-list filter cannot be used: %(error)s") % {"error": exc}}
        ) from exc


def case_queryset(changelist):
    # The change list may reset select_related to "non-null keys only" (its default for
    # related columns); the export reads customer, department and assignee on every row.
    return changelist.queryset.select_related("customer", "department", "assignee", "escalation")


LOOKUP_SIGNS = {"exact": "=", "gte": "≥", "gt": ">", "lte": "≤", "lt": "<", "in": "∈"}


def describe(changelist):
    """The filter as a person reads it: "state: Received; channel: Phone; received at ≥
    2026-11-01 00:00; search: “…”"."""
    parts, consumed = [], set()
    for spec in changelist.filter_specs:
        consumed.update(spec.expected_parameters())
        if not spec.used_parameters:
            continue
        chosen = [str(c["display"]) for c in spec.choices(changelist) if c.get("selected")]
        if chosen:
            parts.append(f"{spec.title}: {', '.join(chosen)}")
    # Lookups typed into the address (the period of "cases received in a period").
    for key, value in sorted(changelist.get_filters_params().items()):
        if key not in consumed:
            parts.append(_describe_lookup(key, value))
    if changelist.query:
        parts.append(_("search: “%(term)s”") % {"term": changelist.query})
    return "; ".join(parts) or _("All cases visible to the requester")


def _describe_lookup(key, value):
    value = value[-1] if isinstance(value, list) else value
    name, _sep, lookup = key.partition("__")
    try:
        label = Case._meta.get_field(name).verbose_name
    except FieldDoesNotExist:
        label = name
    when = parse_datetime(str(value)) if name.endswith("_at") else None
    if when is not None:
        value = timezone.localtime(when).strftime("%Y-%m-%d %H:%M") if when.tzinfo else when
    return f"{label} {LOOKUP_SIGNS.get(lookup or 'exact', lookup)} {value}"


def period_query(start, end):
    """The case-list query string of the cases received from `start` to `end` (dates, both
    included, local time): a range on the indexed received-at column."""
    first = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
    after = timezone.make_aware(
        datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time.min)
    )
    return urlencode({"created_at__gte": first.isoformat(), "created_at__lt": after.isoformat()})


# --- columns -----------------------------------------------------------------------------


def _local(value):
    # Excel has no time zones: write the local wall-clock time the staff work in.
    if value is None:
        return None
    return timezone.localtime(value).replace(tzinfo=None)


def _case_field(name):
    return lambda: capfirst(Case._meta.get_field(name).verbose_name)


def _escalation_field(name):
    return lambda: capfirst(CaseEscalation._meta.get_field(name).verbose_name)


def _customer_field(name):
    return lambda: capfirst(Customer._meta.get_field(name).verbose_name)


# (title, width, is a date, value(case, masked)). Titles are the model's translated labels.
CASE_COLUMNS = [
    (_case_field("number"), 15, False, lambda c, m: c.number),
    (_case_field("created_at"), 17, True, lambda c, m: _local(c.created_at)),
    (_case_field("channel"), 10, False, lambda c, m: c.get_channel_display()),
    (_case_field("type"), 12, False, lambda c, m: c.get_type_display()),
    (_case_field("category"), 10, False, lambda c, m: c.get_category_display()),
    (_case_field("subject"), 40, False, lambda c, m: c.subject),
    (_case_field("product"), 20, False, lambda c, m: c.product),
    (_case_field("order_no"), 18, False, lambda c, m: c.order_no),
    (_case_field("state"), 10, False, lambda c, m: c.get_state_display()),
    (_case_field("urgency"), 8, False, lambda c, m: c.get_urgency_display()),
    (_case_field("priority"), 8, False, lambda c, m: c.priority),
    (_case_field("customer"), 14, False, lambda c, m: c.customer.name),
    (
        _customer_field("phone"),
        15,
        False,
        lambda c, m: mask_phone(c.customer.phone) if m else c.customer.phone,
    ),
    (
        _customer_field("email"),
        24,
        False,
        lambda c, m: mask_email(c.customer.email) if m else c.customer.email,
    ),
    (_case_field("department"), 14, False, lambda c, m: str(c.department or "")),
    (_case_field("assignee"), 12, False, lambda c, m: str(c.assignee or "")),
    (_case_field("first_response_at"), 17, True, lambda c, m: _local(c.first_response_at)),
    (_case_field("resolved_at"), 17, True, lambda c, m: _local(c.resolved_at)),
    (_case_field("closed_at"), 17, True, lambda c, m: _local(c.closed_at)),
    (_case_field("current_due"), 17, True, lambda c, m: _local(c.current_due)),
    (_escalation_field("level"), 8, False, lambda c, m: c.escalation_level),
    (_case_field("reopen_count"), 8, False, lambda c, m: c.reopen_count),
    (_case_field("feedback_score"), 8, False, lambda c, m: c.feedback_score),
]


def case_headers():
    """Column titles in the active language."""
    return [str(title()) for title, *_rest in CASE_COLUMNS]


def case_row(case, *, masked):
    """One case as a list of cell values; phone and e-mail masked when `masked`."""
    return [value(case, masked) for _title, _width, _is_date, value in CASE_COLUMNS]


def case_rows(queryset, *, masked, chunk_size=2000):
    for case in queryset.iterator(chunk_size=chunk_size):
        yield case_row(case, masked=masked)


# --- the writer --------------------------------------------------------------------------


def write_sheet(
    path, *, title, headers, rows, widths=(), date_columns=(), on_progress=None, every=None
):
    """Stream `rows` into a one-sheet workbook at `path` (openpyxl write-only): bold frozen
    header, autofilter, column widths, dates formatted. Calls on_progress(rows_written) every
    `every` rows and once at the end. Returns the number of rows written."""
    every = every or PROGRESS_EVERY
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    ws.freeze_panes = "A2"
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="DDE7F0")
    header_cells = [
        spreadsheet.cell(ws, text, font=bold, fill=fill, alignment=Alignment(vertical="center"))
        for text in headers
    ]
    ws.append(header_cells)
    dates = set(date_columns)
    written = 0
    for row in rows:
        if dates:
            row = list(row)
            for i in dates:
                if isinstance(row[i], datetime.datetime):
                    cell = WriteOnlyCell(ws, value=row[i])
                    cell.number_format = DATE_FORMAT
                    row[i] = cell
        ws.append(spreadsheet.row(ws, row))
        written += 1
        if on_progress and written % every == 0:
            on_progress(written)
    ws.auto_filter.ref = f"A1:{get_column_letter(max(len(headers), 1))}{written + 1}"
    wb.save(path)
    if on_progress:
        on_progress(written)
    return written


def write_cases(path, queryset, *, masked, on_progress=None, every=None):
    """The case-list export of `queryset` into `path`; returns the number of rows."""
    return write_sheet(
        path,
        title=str(capfirst(Case._meta.verbose_name_plural)),
        headers=case_headers(),
        rows=case_rows(queryset, masked=masked),
        widths=[width for _t, width, _d, _v in CASE_COLUMNS],
        date_columns=[i for i, (_t, _w, is_date, _v) in enumerate(CASE_COLUMNS) if is_date],
        on_progress=on_progress,
        every=every,
    )
