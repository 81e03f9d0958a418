"""The report workbook: `build_workbook(figures, case_rows, path, language)`.

openpyxl in write-only mode: every row goes to the file as it is appended, so the case list
of a month of 200,000 cases never sits in memory as cells (bench/report_export.py measures
it). Write-only mode has rules the code below keeps: column widths and the frozen pane are
set before a sheet's first row, rows are written top to bottom (so each sheet counts its
rows to know where its tables are for the charts), and charts are added before saving.

Sheet and column titles are translatable (English msgids; Chinese in the zh-hans catalogue)
and written in `language`. Numbers stay numbers with Excel number formats: counts `#,##0`,
hours `0.0`, shares `0.0%` (values are 0..1), dates `yyyy-mm-dd hh:mm`. Charts are native
Excel charts referencing the sheet's cells, not pictures.
"""

from itertools import zip_longest

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.chart import BarChart, LineChart, PieChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter

from servicedesk import spreadsheet

COUNT = "#,##0"
HOURS = "0.0"
PERCENT = "0.0%"
SCORE = "0.00"
MONEY = "#,##0.00"
DATE = "yyyy-mm-dd"
MONTH = "yyyy-mm"
DATETIME = "yyyy-mm-dd hh:mm"
# Month-on-month change: always signed.
SIGNED = {
    COUNT: "+#,##0;-#,##0;0",
    HOURS: "+0.0;-0.0;0.0",
    PERCENT: "+0.0%;-0.0%;0.0%",
    SCORE: "+0.00;-0.00;0.00",
}

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
HEADER_ALIGNMENT = Alignment(vertical="center", wrap_text=True)
TITLE_FONT = Font(bold=True, size=14)
SECTION_FONT = Font(bold=True, size=12)

# The sheets in order: (key, title).
SHEETS = [
    ("summary", gettext_lazy("Summary")),
    ("by_channel", gettext_lazy("By channel")),
    ("by_type_category", gettext_lazy("By type & category")),
    ("by_department", gettext_lazy("By department")),
    ("by_person", gettext_lazy("By person")),
    ("sla", gettext_lazy("Deadlines (SLA)")),
    ("satisfaction", gettext_lazy("Satisfaction & follow-ups")),
    ("returns", gettext_lazy("Returns & exchanges")),
    ("problems", gettext_lazy("Top problems")),
    ("followup_actions", gettext_lazy("Follow-up actions")),
    ("recalls", gettext_lazy("Recalls")),
    ("agents", gettext_lazy("Agent performance")),
    ("cases", gettext_lazy("Case list")),
]

# The case list: (title, width, number format), in the order of data.case_rows' tuples.
CASE_LIST_COLUMNS = [
    (gettext_lazy("Case number"), 15, None),
    (gettext_lazy("Received at"), 17, DATETIME),
    (gettext_lazy("Channel"), 10, None),
    (gettext_lazy("Type"), 12, None),
    (gettext_lazy("Category"), 10, None),
    (gettext_lazy("Product"), 18, None),
    (gettext_lazy("Subject"), 40, None),
    (gettext_lazy("Customer"), 12, None),
    (gettext_lazy("Phone (masked)"), 14, None),
    (gettext_lazy("E-mail (masked)"), 22, None),
    (gettext_lazy("Urgency"), 8, None),
    (gettext_lazy("Priority"), 8, None),
    (gettext_lazy("Department"), 14, None),
    (gettext_lazy("Assignee"), 12, None),
    (gettext_lazy("State"), 10, None),
    (gettext_lazy("First response at"), 17, DATETIME),
    (gettext_lazy("First response (hours)"), 10, HOURS),
    (gettext_lazy("Resolved at"), 17, DATETIME),
    (gettext_lazy("Resolution (hours)"), 10, HOURS),
    (gettext_lazy("Closed at"), 17, DATETIME),
    (gettext_lazy("Escalation level"), 8, None),
    (gettext_lazy("Times reopened"), 8, None),
    (gettext_lazy("Feedback score"), 8, None),
    (gettext_lazy("Missed a deadline"), 8, None),
]


# Excel's limit (1,048,576 rows) less the header row.
CASE_LIST_MAX_ROWS = 1_048_575


class Sheet:
    """A write-only worksheet that knows which row it is on (charts need the cells)."""

    def __init__(self, workbook, title, widths, *, freeze="A2"):
        self.ws = workbook.create_sheet(str(title))
        # Write-only: widths and panes belong to the sheet's head, written with the first row.
        for index, width in enumerate(widths, 1):
            self.ws.column_dimensions[get_column_letter(index)].width = width
        if freeze:
            self.ws.freeze_panes = freeze
        self.row = 0

    def cell(self, value, number_format=None, *, font=None, fill=None, alignment=None):
        return spreadsheet.cell(
            self.ws, value, number_format, font=font, fill=fill, alignment=alignment
        )

    def append(self, values, formats=()):
        cells = []
        for value, number_format in zip_longest(values, formats):
            if value is None:
                cells.append(None)
            elif number_format:
                cells.append(self.cell(value, number_format))
            else:
                cells.append(value)
        self.ws.append(spreadsheet.row(self.ws, cells))
        self.row += 1
        return self.row

    def header(self, titles):
        self.ws.append(
            [
                self.cell(t, font=HEADER_FONT, fill=HEADER_FILL, alignment=HEADER_ALIGNMENT)
                for t in titles
            ]
        )
        self.row += 1
        return self.row

    def title(self, text, font=SECTION_FONT):
        self.ws.append([self.cell(text, font=font)])
        self.row += 1
        return self.row

    def blank(self):
        self.ws.append([])
        self.row += 1

    def table(self, titles, rows, formats, *, autofilter=False):
        """A header row and its rows; returns (header row, last row)."""
        first = self.header(titles)
        for values in rows:
            self.append(values, formats)
        if autofilter:
            self.ws.auto_filter.ref = f"A{first}:{get_column_letter(len(titles))}{self.row}"
        return first, self.row

    def add_chart(self, chart, anchor):
        self.ws.add_chart(chart, anchor)


# --- charts ------------------------------------------------------------------------------


def _chart(kind, title, *, y_title=None, x_title=None, width=18, height=9):
    chart = kind()
    chart.title = str(title)
    chart.width, chart.height = width, height
    if y_title:
        chart.y_axis.title = str(y_title)
    if x_title:
        chart.x_axis.title = str(x_title)
    if hasattr(chart, "x_axis"):
        # openpyxl ≥ 3.1 writes axes as deleted unless told otherwise: Excel would hide them.
        chart.x_axis.delete = False
        chart.y_axis.delete = False
    return chart


def _series(chart, ws, columns, first, last, categories_column):
    """Series from `columns` (header in row `first`, values below it to `last`)."""
    for column in columns:
        chart.add_data(
            Reference(ws, min_col=column, min_row=first, max_row=last), titles_from_data=True
        )
    chart.set_categories(Reference(ws, min_col=categories_column, min_row=first + 1, max_row=last))


# --- values ------------------------------------------------------------------------------


def _yes_no(value):
    if value is None:
        return None
    return _("Yes") if value else _("No")


def _change(now, before):
    if now is None or before is None:
        return None
    return now - before


def _relative(now, before):
    if now is None or not before:
        return None
    return (now - before) / before


def _period(start, end):
    return f"{start:%Y-%m-%d} – {end:%Y-%m-%d}"


GROUP_FORMATS = [None, COUNT, COUNT, COUNT, PERCENT, COUNT, HOURS, COUNT, SCORE, PERCENT]


def _group_titles(first):
    return [
        first,
        _("Received"),
        _("Resolved"),
        _("Unresolved"),
        _("Resolution rate"),
        _("Missed a deadline"),
        _("Mean resolution time (hours)"),
        _("Satisfaction answers"),
        _("Satisfaction score"),
        _("Satisfaction rate"),
    ]


def _group_row(g):
    return [
        g.label,
        g.received,
        g.resolved,
        g.open,
        g.resolution_rate,
        g.missed,
        g.resolution_hours,
        g.answers,
        g.satisfaction_score,
        g.satisfaction_rate,
    ]


GROUP_WIDTHS = [22, 10, 10, 10, 11, 11, 13, 11, 11, 11]


# --- sheets ------------------------------------------------------------------------------


def _summary(wb, title, f):
    s = Sheet(wb, title, [40, 14, 12, 14, 12, 12, 11], freeze="A3")
    s.title(
        _("Service desk report %(period)s") % {"period": _period(f.start, f.end)}, font=TITLE_FONT
    )
    s.header(
        [
            _("Indicator"),
            _("This period"),
            _("Target"),
            _("Previous period"),
            pgettext("difference", "Change"),
            _("Change (%)"),
            _("Target met"),
        ]
    )
    k, p = f.kpis, f.previous
    median_met = k.first_response_target_met
    # (title, this period, previous, format, target, relative change?, target met)
    kpis = [
        (_("Cases received"), k.received, p.received, COUNT, None, True, None),
        (_("Cases resolved"), k.resolved, p.resolved, COUNT, None, True, None),
        (_("Cases closed"), k.closed, p.closed, COUNT, None, True, None),
        (_("Open at the end of the period"), k.open_at_end, p.open_at_end, COUNT, None, True, None),
        (_("Merged or cancelled (of those received)"), k.ended, p.ended, COUNT, None, True, None),
        (
            _("Resolution rate (resolved by the end of the period)"),
            k.resolution_rate, p.resolution_rate, PERCENT, None, False, None,
        ),
        (
            _("First response, median (hours)"), k.first_response_median,
            p.first_response_median, HOURS, k.first_response_target_hours, True, median_met,
        ),
        (
            _("First response, mean (hours)"), k.first_response_mean, p.first_response_mean,
            HOURS, None, True, None,
        ),
        (_("Deadlines met"), k.sla_met_share, p.sla_met_share, PERCENT, None, False, None),
        (_("Escalations"), k.escalations, p.escalations, COUNT, None, True, None),
        (
            _("Satisfaction score (1–5)"), k.satisfaction_score, p.satisfaction_score, SCORE,
            None, False, None,
        ),
        (
            _("Satisfaction rate"), k.satisfaction_rate, p.satisfaction_rate, PERCENT,
            k.satisfaction_target, False, k.meets_target,
        ),
        (_("Problem incidence"), k.problem_incidence, p.problem_incidence, PERCENT, None, False, None),
        (
            _("Follow-up calls completed"), k.followup_completion, p.followup_completion,
            PERCENT, None, False, None,
        ),
    ]  # fmt: skip
    for name, now, before, fmt, target, relative, met in kpis:
        s.append(
            [
                name,
                now,
                target,
                before,
                _change(now, before),
                _relative(now, before) if relative else None,
                _yes_no(met),
            ],
            [None, fmt, fmt, fmt, SIGNED[fmt], SIGNED[PERCENT], None],
        )
    s.append(
        [_("Previous period: %(period)s") % {"period": _period(f.previous_start, f.previous_end)}]
    )

    s.blank()
    s.title(_("Daily volume"))
    first, last = s.table([_("Date"), _("Received"), _("Resolved")], f.daily, [DATE, COUNT, COUNT])
    chart = _chart(LineChart, _("Daily volume"), y_title=_("Cases"), width=24)
    _series(chart, s.ws, [2, 3], first, last, 1)
    chart.x_axis.number_format = "mm-dd"
    s.add_chart(chart, "I2")

    s.blank()
    s.title(_("Last 12 months"))
    first, last = s.table(
        [
            _("Month"),
            _("Received"),
            _("Deadlines met"),
            _("Satisfaction score"),
            _("Satisfaction rate"),
        ],
        [
            [m.month, m.received, m.sla_met_share, m.satisfaction_score, m.satisfaction_rate]
            for m in f.months
        ],
        [MONTH, COUNT, PERCENT, SCORE, PERCENT],
    )
    chart = _chart(BarChart, _("Cases received per month"), y_title=_("Cases"), width=24)
    _series(chart, s.ws, [2], first, last, 1)
    chart.x_axis.number_format = MONTH
    s.add_chart(chart, "I22")
    return len(kpis)


def _by_channel(wb, title, f):
    s = Sheet(wb, title, [*GROUP_WIDTHS[:2], 11, *GROUP_WIDTHS[2:]])
    total = f.kpis.received
    titles = _group_titles(_("Channel"))
    titles.insert(2, _("Share of received"))
    formats = [*GROUP_FORMATS[:2], PERCENT, *GROUP_FORMATS[2:]]
    rows = []
    for g in f.by_channel:
        row = _group_row(g)
        row.insert(2, (g.received / total) if total else None)
        rows.append(row)
    first, last = s.table(titles, rows, formats, autofilter=True)
    if last > first:
        chart = _chart(BarChart, _("Cases received by channel"), y_title=_("Cases"))
        _series(chart, s.ws, [2], first, last, 1)
        chart.legend = None
        s.add_chart(chart, "M2")
        pie = _chart(PieChart, _("Share of cases by channel"))
        _series(pie, s.ws, [2], first, last, 1)
        s.add_chart(pie, "M21")
    return len(rows)


def _by_type_category(wb, title, f):
    s = Sheet(wb, title, [16, 12, *GROUP_WIDTHS[1:7]])
    formats = GROUP_FORMATS[:7]
    titles = _group_titles(_("Type"))[:7]
    titles.insert(1, _("Category"))
    s.table(
        titles,
        [[g.label, g.category_label, *_group_row(g)[1:7]] for g in f.by_type_category],
        [None, *formats],
        autofilter=True,
    )
    for heading, groups, first_title in (
        (_("By type"), f.by_type, _("Type")),
        (_("By category"), f.by_category, _("Category")),
    ):
        s.blank()
        s.title(heading)
        s.table(_group_titles(first_title)[:7], [_group_row(g)[:7] for g in groups], formats)
    return len(f.by_type_category)


def _by_group(wb, title, first_title, groups):
    s = Sheet(wb, title, GROUP_WIDTHS)
    s.table(
        _group_titles(first_title),
        [_group_row(g) for g in groups],
        GROUP_FORMATS,
        autofilter=True,
    )
    return len(groups)


def _sla(wb, title, f):
    s = Sheet(wb, title, [28, 14, 12, 12, 12])
    first, last = s.table(
        [_("Stage"), _("Deadlines due"), _("Met"), _("Missed"), _("Share met")],
        [[st.label, st.due, st.met, st.missed, st.share] for st in f.stages],
        [None, COUNT, COUNT, COUNT, PERCENT],
        autofilter=True,
    )
    k = f.kpis
    s.append(
        [_("All stages"), k.deadlines_due, k.deadlines_met, k.deadlines_due - k.deadlines_met,
         k.sla_met_share],
        [None, COUNT, COUNT, COUNT, PERCENT],
    )  # fmt: skip
    chart = _chart(BarChart, _("Deadlines met per stage"), y_title=_("Share met"))
    _series(chart, s.ws, [5], first, last, 1)
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    chart.legend = None
    s.add_chart(chart, "H2")

    s.blank()
    s.title(_("First response"))
    s.table(
        [_("Indicator"), _("Value"), _("Target")],
        [
            [_("Cases answered"), k.first_responses, None],
            [_("Median (hours)"), k.first_response_median, k.first_response_target_hours],
            [_("Mean (hours)"), k.first_response_mean, None],
        ],
        [None, COUNT, COUNT],
    )
    s.blank()
    s.title(_("Escalations"))
    s.table(
        [_("Stage"), _("Level 1 (supervisors)"), _("Level 2 (managers)"), _("Total")],
        [[e.label, e.level1, e.level2, e.total] for e in f.escalations],
        [None, COUNT, COUNT, COUNT],
    )
    return len(f.stages)


def _satisfaction(wb, title, f):
    s = Sheet(wb, title, [30, 12, 12, 12, 12, 12, 12, 12])
    k = f.kpis
    s.header([_("Indicator"), _("Value"), _("Target")])
    # One format per row: the value column holds counts, a score and shares.
    for values, number_format in [
        ([_("Answers"), k.answers], COUNT),
        ([_("Satisfaction score (1–5)"), k.satisfaction_score], SCORE),
        ([_("Satisfaction rate"), k.satisfaction_rate, k.satisfaction_target], PERCENT),
        ([_("Target met"), _yes_no(k.meets_target)], None),
        ([_("Customers surveyed"), k.customers_surveyed], COUNT),
        ([_("Customers reporting a problem"), k.customers_with_problem], COUNT),
        ([_("Problem incidence"), k.problem_incidence], PERCENT),
        ([_("Customers buying again after answering"), k.repeat_customers], COUNT),
        ([_("Repeat purchase rate"), k.repeat_purchase_rate], PERCENT),
    ]:
        s.append(values, [None, number_format, number_format])
    s.blank()
    s.title(_("Answers by score"))
    s.table(
        [_("Score"), _("Meaning"), _("Answers"), _("Share")],
        [
            [score, label, n, (n / k.answers) if k.answers else None]
            for score, label, n in f.score_distribution
        ],
        [None, None, COUNT, PERCENT],
    )
    s.blank()
    s.title(_("Opinion concentration (problems found in follow-ups)"))
    s.table(
        [_("Problem category"), _("Mentions"), _("Share")],
        [[label, n, part] for label, n, part in f.opinions],
        [None, COUNT, PERCENT],
    )
    s.blank()
    s.title(_("Follow-up calls due in the period"))
    formats = [None, COUNT, COUNT, COUNT, COUNT, COUNT, PERCENT, PERCENT]
    s.table(
        [
            _("Purpose"),
            _("Calls due"),
            _("Calls done"),
            _("Unreachable"),
            _("To call"),
            _("Calls cancelled"),
            _("Completion rate"),
            _("Unreachable share"),
        ],
        [
            [
                x.label,
                x.due,
                x.done,
                x.unreachable,
                x.pending,
                x.cancelled,
                x.completion,
                x.unreachable_share,
            ]
            for x in [*f.followups, f.followup_total]
        ],
        formats,
    )
    s.blank()
    s.title(_("Satisfaction, last 12 months"))
    first, last = s.table(
        [_("Month"), _("Answers"), _("Satisfaction score"), _("Satisfaction rate"), _("Target")],
        [
            [m.month, m.answers, m.satisfaction_score, m.satisfaction_rate, m.satisfaction_target]
            for m in f.months
        ],
        [MONTH, COUNT, SCORE, PERCENT, PERCENT],
    )
    chart = _chart(
        LineChart, _("Satisfaction rate, last 12 months"), y_title=_("Satisfaction rate")
    )
    _series(chart, s.ws, [4, 5], first, last, 1)
    chart.y_axis.number_format = "0%"
    chart.y_axis.scaling.min = 0
    chart.y_axis.scaling.max = 1
    chart.x_axis.number_format = MONTH
    s.add_chart(chart, "J2")
    return k.answers


def _returns(wb, title, f):
    s = Sheet(wb, title, [26, 10, 12, 10, 10, 10, 10, 16, 12])
    formats = [None, COUNT, COUNT, COUNT, COUNT, COUNT, COUNT, MONEY, PERCENT]

    def row(r):
        return [r.label, r.requests, r.awaiting, r.approved, r.rejected, r.refunded,
                r.exchanged, r.refunds, r.approved_share]  # fmt: skip

    s.table(
        [
            _("Reason"),
            _("Requests"),
            _("Awaiting review"),
            _("Approved"),
            _("Rejected"),
            _("Refunded"),
            _("Exchanged"),
            _("Refund amount (yuan)"),
            _("Share approved"),
        ],
        [row(r) for r in f.returns],
        formats,
        autofilter=True,
    )
    s.append(row(f.returns_total), formats)
    return len(f.returns)


def _problems(wb, title, f):
    s = Sheet(wb, title, [6, 12, 26, 10, 12, 11, 10, 11])
    s.table(
        [
            _("Rank"),
            _("Category"),
            _("Product"),
            _("Cases"),
            _("Share of received"),
            _("Complaints"),
            _("Reopened"),
            _("Unresolved"),
        ],
        [
            [
                i,
                p.category_label,
                p.product or "—",
                p.cases,
                p.share,
                p.complaints,
                p.reopened,
                p.unresolved,
            ]
            for i, p in enumerate(f.problems, 1)
        ],
        [None, None, None, COUNT, PERCENT, COUNT, COUNT, COUNT],
        autofilter=True,
    )
    return len(f.problems)


def _cases(wb, title, rows):
    s = Sheet(wb, title, [width for _t, width, _f in CASE_LIST_COLUMNS])
    s.header([t for t, _w, _f in CASE_LIST_COLUMNS])
    # One styled cell per formatted column, reused row after row: write-only mode serialises
    # each row as it is appended, and a new styled cell per value would double the time.
    styled = {i: WriteOnlyCell(s.ws) for i, (_t, _w, fmt) in enumerate(CASE_LIST_COLUMNS) if fmt}
    for i, cell in styled.items():
        cell.number_format = CASE_LIST_COLUMNS[i][2]
    yes, no = _("Yes"), _("No")
    missed = len(CASE_LIST_COLUMNS) - 1
    count = 0
    append = s.ws.append
    for values in rows:
        if count == CASE_LIST_MAX_ROWS:
            break  # Excel's sheet ends there; the Summary still counts every case
        out = list(values)
        out[missed] = yes if out[missed] else no
        for i, cell in styled.items():
            if out[i] is not None:
                cell.value = out[i]
                out[i] = cell
        append(spreadsheet.row(s.ws, out))
        count += 1
    s.row += count
    s.ws.auto_filter.ref = f"A1:{get_column_letter(len(CASE_LIST_COLUMNS))}{count + 1}"
    return count


def _agents(wb, title, f):
    # Its own module (servicedesk.workforce's figures); imported here, once this one is loaded.
    from .workbook_agents import agents_sheet

    return agents_sheet(wb, title, f)


def build_workbook(figures, case_rows, path, language="zh-hans"):
    """Write the report of `figures` (data.PeriodFigures) and the case list `case_rows`
    (data.case_rows) to the file `path`, in `language`. Returns {sheet title: rows}: data
    rows of the sheet's main table (the Summary's indicators, the case list's cases)."""
    with translation.override(language):
        wb = Workbook(write_only=True)
        wb.properties.title = _("Service desk report %(period)s") % {
            "period": _period(figures.start, figures.end)
        }
        wb.properties.creator = "servicedesk"
        titles = {key: str(title) for key, title in SHEETS}
        writers = {
            "summary": lambda t: _summary(wb, t, figures),
            "by_channel": lambda t: _by_channel(wb, t, figures),
            "by_type_category": lambda t: _by_type_category(wb, t, figures),
            "by_department": lambda t: _by_group(wb, t, _("Department"), figures.by_department),
            "by_person": lambda t: _by_group(wb, t, _("Person"), figures.by_person),
            "sla": lambda t: _sla(wb, t, figures),
            "satisfaction": lambda t: _satisfaction(wb, t, figures),
            "returns": lambda t: _returns(wb, t, figures),
            "problems": lambda t: _problems(wb, t, figures),
            "followup_actions": lambda t: workbook_actions.write(wb, t, figures),
            "recalls": lambda t: workbook_recalls.write(wb, t, figures),
            "agents": lambda t: _agents(wb, t, figures),
            "cases": lambda t: _cases(wb, t, case_rows),
        }
        # Keyed by the sheet's title as written: what the admin shows next to the report.
        from . import workbook_actions, workbook_recalls  # these sheets' modules import this one

        counts = {titles[key]: writers[key](titles[key]) for key, _title in SHEETS}
        wb.save(path)
    return counts
