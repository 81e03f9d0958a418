"""The monthly workbook's follow-up actions sheet (回访报告整改项, 003): the action items of the
follow-up reports covering the period, and those of earlier reports still open — with owner
department, due date, status and outcome. One query."""

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from callbacks.followup_report import ActionItem, ActionStatus

from .workbook import DATE, Sheet

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(sheet, value):
    # Staff text is written as text, never as a formula.
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        cell = sheet.cell(value)
        cell.data_type = "s"
        return cell
    return value


def write(wb, title, figures):
    items = (
        ActionItem.objects.filter(
            Q(report__period_start__lte=figures.end, report__period_end__gte=figures.start)
            | Q(status=ActionStatus.OPEN, report__period_end__lt=figures.start)
        )
        .select_related("report", "department")
        .order_by("report__period_start", "due_on", "pk")
    )
    s = Sheet(wb, title, [22, 36, 36, 14, 12, 10, 12, 36, 12])
    s.header(
        [_("Report"), _("Problem or suggestion"), _("Action"), _("Owner department"), _("Due"),
         _("Status"), _("Closed"), _("Outcome"), _("Report state")]
    )  # fmt: skip
    today = timezone.localdate(figures.now)
    rows = 0
    for item in items:
        status = item.get_status_display()
        if item.status == ActionStatus.OPEN and item.due_on < today:
            status = _("Overdue")
        closed = timezone.localtime(item.closed_at).date() if item.closed_at else None
        s.ws.append(
            [
                f"{item.report.period_start:%Y-%m-%d} – {item.report.period_end:%Y-%m-%d}",
                _safe(s, item.problem),
                _safe(s, item.action),
                str(item.department),
                s.cell(item.due_on, DATE),
                status,
                s.cell(closed, DATE) if closed else None,
                _safe(s, item.outcome),
                item.report.get_state_display(),
            ]
        )
        s.row += 1
        rows += 1
    return rows
