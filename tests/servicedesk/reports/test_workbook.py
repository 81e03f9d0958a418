"""The report workbook opened with openpyxl: sheets in order and in the user's language,
header rows, figures worked out by hand from the month in report_helpers, native charts on
the right cells, number formats, frozen headers, autofilters, masked contact details, and a
constant number of queries whatever the volume."""

import datetime
import re
import zipfile

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation
from openpyxl import load_workbook

from servicedesk.reports import data, workbook

from .report_helpers import EMAIL, PHONE, at, build_month

NOV_1, NOV_30 = datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)
GENERATED = at(2026, 12, 1, 2)

EN_SHEETS = [
    "Summary", "By channel", "By type & category", "By department", "By person",
    "Deadlines (SLA)", "Satisfaction & follow-ups", "Returns & exchanges", "Top problems",
    "Follow-up actions", "Recalls", "Agent performance", "Case list",
]  # fmt: skip
ZH_SHEETS = [
    "概览", "按渠道", "按类型和类别", "按部门", "按人员", "时限", "满意度与回访", "退换货",
    "重复问题", "回访整改项", "召回", "坐席绩效", "工单列表",
]  # fmt: skip


@pytest.fixture
def month(make_user, department, supervisor):
    return build_month(make_user, department, supervisor)


def build(path, language="en"):
    with time_machine.travel(GENERATED, tick=False):
        figures = data.period_figures(NOV_1, NOV_30)
        counts = workbook.build_workbook(figures, data.case_rows(NOV_1, NOV_30), path, language)
    return figures, counts


@pytest.fixture
def report(month, tmp_path):
    path = tmp_path / "report.xlsx"
    _figures, counts = build(path)
    return path, counts


def rows(ws):
    return [list(r) for r in ws.iter_rows(values_only=True)]


def by_label(ws, first_row=1):
    """{first cell: row} of a sheet's rows (first match wins)."""
    found = {}
    for row in ws.iter_rows(min_row=first_row, values_only=True):
        if row and row[0] is not None and row[0] not in found:
            found[row[0]] = list(row)
    return found


def test_sheets_in_order_with_their_headers(report):
    path, counts = report
    wb = load_workbook(path)
    assert wb.sheetnames == EN_SHEETS
    assert rows(wb["Summary"])[1] == [
        "Indicator", "This period", "Target", "Previous period", "Change", "Change (%)",
        "Target met",
    ]  # fmt: skip
    assert rows(wb["By channel"])[0][:4] == ["Channel", "Received", "Share of received", "Resolved"]
    assert rows(wb["Deadlines (SLA)"])[0] == [
        "Stage",
        "Deadlines due",
        "Met",
        "Missed",
        "Share met",
    ]
    assert rows(wb["Case list"])[0][:3] == ["Case number", "Received at", "Channel"]
    assert counts["Case list"] == 8
    assert list(counts) == EN_SHEETS


def test_sheet_and_column_titles_in_chinese(month, tmp_path):
    path = tmp_path / "zh.xlsx"
    _figures, counts = build(path, "zh-hans")
    wb = load_workbook(path)
    assert wb.sheetnames == ZH_SHEETS
    assert list(counts) == ZH_SHEETS
    with translation.override("zh-hans"):
        assert rows(wb["工单列表"])[0][:3] == [
            str(workbook.CASE_LIST_COLUMNS[0][0]), str(workbook.CASE_LIST_COLUMNS[1][0]), "渠道",
        ]  # fmt: skip
        assert rows(wb["按渠道"])[1][0] == "电话"


def test_summary_figures_worked_out_by_hand(report):
    """Received in November: A B C D E F G I = 8 (H is December 1st, local time). Resolved:
    A and B; F was cancelled, so the resolution rate is 2 / 7. First responses 2, 4, 10 and
    30 hours: median (4 + 10) / 2 = 7.0, mean 46 / 4 = 11.5. Answers 5 4 4 3 5: score 4.2,
    rate 4 / 5 = 80 %, under the 90 % target; one of five customers had a problem. Follow-ups
    due: 2 done of 4. October: one case, one answer (5)."""
    wb = load_workbook(report[0])
    kpi = by_label(wb["Summary"], first_row=3)
    assert kpi["Cases received"][1:5] == [8, None, 1, 7]
    assert kpi["Cases received"][5] == pytest.approx(7.0)  # +700 %
    assert kpi["Cases resolved"][1] == 2
    assert kpi["Merged or cancelled (of those received)"][1] == 1
    assert kpi["Open at the end of the period"][1] == 6  # C D E G I, and October's O
    assert kpi["Resolution rate (resolved by the end of the period)"][1] == pytest.approx(
        2 / 7, abs=1e-4
    )
    median = kpi["First response, median (hours)"]
    assert median[1] == pytest.approx(7.0) and median[2] == 24 and median[6] == "Yes"
    assert kpi["First response, mean (hours)"][1] == pytest.approx(11.5)
    assert kpi["Escalations"][1] == 2
    assert kpi["Satisfaction score (1–5)"][1] == pytest.approx(4.2)
    assert kpi["Satisfaction score (1–5)"][3] == pytest.approx(5.0)
    assert kpi["Satisfaction score (1–5)"][4] == pytest.approx(-0.8)
    rate = kpi["Satisfaction rate"]
    assert rate[1:4] == [pytest.approx(0.8), pytest.approx(0.9), pytest.approx(1.0)]
    assert rate[6] == "No"
    assert kpi["Problem incidence"][1] == pytest.approx(0.2)
    assert kpi["Follow-up calls completed"][1] == pytest.approx(0.5)


def test_volume_by_channel_and_satisfaction_per_channel(report):
    """Phone A B E G, e-mail C F, web D, store I; phone answers 5 and 4, web 3."""
    wb = load_workbook(report[0])
    channel = by_label(wb["By channel"], first_row=2)
    assert {k: v[1] for k, v in channel.items()} == {
        "Phone": 4, "E-mail": 2, "Web form": 1, "Store": 1, "Not about a case": 0,
    }  # fmt: skip
    assert channel["Phone"][2] == pytest.approx(0.5)  # share of received
    assert channel["Phone"][3] == 2  # resolved: A and B
    assert channel["Phone"][9:11] == [pytest.approx(4.5), pytest.approx(1.0)]
    assert channel["Web form"][9:11] == [pytest.approx(3.0), pytest.approx(0.0)]
    assert channel["Web form"][6] == 1  # D missed its first response
    person = by_label(wb["By person"], first_row=2)
    assert person["张小燕"][1:4] == [2, 2, 0]
    assert person["张小燕"][6] == pytest.approx((24 + 48) / 2)  # mean resolution hours


def test_deadlines_escalations_returns_and_top_problems(report):
    """First responses due in November: A B C D, and E and I still unanswered past their
    deadline (F was cancelled, G's falls in December): 3 of 6 met."""
    wb = load_workbook(report[0])
    sla = by_label(wb["Deadlines (SLA)"], first_row=2)
    assert sla["First response"][1:5] == [6, 3, 3, pytest.approx(0.5)]
    escalations = rows(wb["Deadlines (SLA)"])
    row = escalations.index(["Stage", "Level 1 (supervisors)", "Level 2 (managers)", "Total", None])
    assert escalations[row + 1][:4] == ["First response", 1, 1, 2]

    returns = by_label(wb["Returns & exchanges"], first_row=2)
    assert returns["Quality problem"][1:3] == [1, 1]  # one request, awaiting review

    top = rows(wb["Top problems"])
    assert top[1][:6] == [1, "Product", "云帆 X5", 3, pytest.approx(3 / 8), 2]
    assert top[2][1:4] == ["Other", "—", 2]


def test_daily_volume_and_twelve_month_trend(report):
    wb = load_workbook(report[0])
    summary = rows(wb["Summary"])
    start = summary.index(["Date", "Received", "Resolved", None, None, None, None]) + 1
    daily = {r[0].date(): (r[1], r[2]) for r in summary[start : start + 30]}
    assert len(daily) == 30
    assert daily[datetime.date(2026, 11, 3)] == (1, 1)  # B received, A resolved
    assert daily[datetime.date(2026, 11, 30)] == (1, 0)  # G, at 23:30 local time
    assert sum(r for r, _s in daily.values()) == 8

    satisfaction = rows(wb["Satisfaction & follow-ups"])
    header = ["Month", "Answers", "Satisfaction score", "Satisfaction rate", "Target"]
    start = [r[:5] for r in satisfaction].index(header) + 1
    months = satisfaction[start : start + 12]
    assert months[0][0] == datetime.datetime(2025, 12, 1)
    assert months[-2][:4] == [datetime.datetime(2026, 10, 1), 1, 5, 1]
    assert months[-1][:4] == [
        datetime.datetime(2026, 11, 1),
        5,
        pytest.approx(4.2),
        pytest.approx(0.8),
    ]
    assert all(m[4] == pytest.approx(0.9) for m in months)


def test_native_charts_reference_their_sheets(report):
    with zipfile.ZipFile(report[0]) as xlsx:
        names = xlsx.namelist()
        charts = {
            n: xlsx.read(n).decode() for n in names if re.match(r"xl/charts/chart\d+\.xml", n)
        }
    formulas = "\n".join(charts.values())
    assert len(charts) >= 5
    kinds = [re.search(r"<(barChart|lineChart|pieChart)>", xml).group(1) for xml in charts.values()]
    assert kinds.count("barChart") >= 2 and kinds.count("lineChart") >= 2 and "pieChart" in kinds
    # Volume by channel: received (column B) per channel (column A), 5 rows under the header.
    assert "<f>'By channel'!$B$2:$B$6</f>" in formulas
    assert "<f>'By channel'!$A$2:$A$6</f>" in formulas
    # Share met per stage (column E, the five stages).
    assert "<f>'Deadlines (SLA)'!$E$2:$E$6</f>" in formulas
    # Daily volume: received and resolved over the 30 days of November.
    assert re.search(r"<f>'Summary'!\$B\$\d+:\$B\$\d+</f>", formulas)
    # Satisfaction over 12 months with the 90 % target as a second series.
    satisfaction = [x for x in charts.values() if "Satisfaction &amp; follow-ups" in x]
    assert len(satisfaction) == 1
    series = re.findall(r"<val><numRef><f>([^<]+)</f>", satisfaction[0])
    assert [re.sub(r".*!\$(\w)\$.*", r"\1", s) for s in series] == ["D", "E"]


def test_formats_frozen_headers_autofilters_and_widths(report):
    wb = load_workbook(report[0])
    summary = wb["Summary"]
    assert summary.freeze_panes == "A3"
    assert summary["B3"].value == 8 and summary["B3"].number_format == "#,##0"
    kpi_rows = {summary.cell(r, 1).value: r for r in range(3, 18)}
    assert summary.cell(kpi_rows["Satisfaction rate"], 2).number_format == "0.0%"
    assert summary.cell(kpi_rows["First response, median (hours)"], 2).number_format == "0.0"
    assert summary.cell(kpi_rows["Satisfaction rate"], 5).number_format == "+0.0%;-0.0%;0.0%"
    assert summary["A2"].font.b and summary["A2"].fill.fgColor.rgb.endswith("DDEBF7")

    channel = wb["By channel"]
    assert channel.freeze_panes == "A2"
    assert channel.auto_filter.ref == "A1:K6"
    assert channel["C2"].number_format == "0.0%"
    assert channel.column_dimensions["A"].width == 22

    cases = wb["Case list"]
    assert cases.freeze_panes == "A2"
    assert cases.auto_filter.ref == "A1:X9"
    assert cases["B2"].number_format == "yyyy-mm-dd hh:mm"
    assert cases["B2"].value == datetime.datetime(2026, 11, 2, 10, 0)  # local wall-clock time
    assert cases["Q2"].number_format == "0.0" and cases["Q2"].value == pytest.approx(2.0)
    assert cases.column_dimensions["G"].width == 40
    assert cases["A1"].font.b


def test_case_list_masks_contact_details_and_keeps_to_the_period(report, month):
    wb = load_workbook(report[0])
    listed = rows(wb["Case list"])[1:]
    assert [r[0] for r in listed] == [month[k].number for k in "ABCIDEFG"]
    first = listed[0]
    assert first[7:10] == ["张三", "139****5678", "zh***@example.com"]
    everything = "\n".join(
        str(value) for ws in wb.worksheets for r in ws.iter_rows(values_only=True) for value in r
    )
    assert PHONE not in everything and EMAIL not in everything
    assert month["H"].number not in everything and month["O"].number not in everything


def test_figures_take_a_constant_number_of_queries(month, make_user, department, supervisor):
    with time_machine.travel(GENERATED, tick=False), CaptureQueriesContext(connection) as few:
        data.period_figures(NOV_1, NOV_30)
    build_month(make_user, department, supervisor, prefix="more_")  # the month twice over
    with time_machine.travel(GENERATED, tick=False), CaptureQueriesContext(connection) as more:
        figures = data.period_figures(NOV_1, NOV_30)
    assert figures.kpis.received == 16
    assert len(more) == len(few) <= 37  # + the plans in force (3) and repeat purchase (2)
