"""The 002 request-record export (需求记录表): the template's columns in its order, one row per
case, values as the template writes them."""

import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client
from openpyxl import load_workbook

from complaints import services as case_services
from servicedesk.reports import request_record, services
from servicedesk.reports.models import Export, ExportKind

from ...complaints.helpers import intake

SH = ZoneInfo("Asia/Shanghai")


def test_the_002_export_has_the_template_layout_one_row_per_case(
    agent, supervisor, department, tmp_path, django_capture_on_commit_callbacks
):
    with time_machine.travel(datetime.datetime(2026, 10, 1, 9, tzinfo=SH), tick=False):
        case = intake(
            channel="web",
            customer={"name": "王小明", "phone": "13700001111", "company": "电商企业"},
            subject="账号无法导出月度数据",
            description="=账号无法导出月度数据,影响运营报表制作",
            urgency="high",
            priority=4,
            department=department,
            assignee=agent,
            remarks="客户为VIP用户,后续需定期跟进使用体验",
        ).case
        case_services.case_update(
            case=case, user=agent,
            expected_resolution_at=datetime.datetime(2026, 10, 3, 18, tzinfo=SH),
        )  # fmt: skip
        case = case_services.case_transition(case=case, name="start_investigation", user=agent)
        case = case_services.case_transition(
            case=case, name="resolve", user=agent, result="已修复导出功能,客户测试正常"
        )
        case_services.case_satisfaction_result(case=case, score=5, text="问题解决及时,未耽误工作")
    intake(customer={"name": "李四", "phone": "13700002222"}, department=department)

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    page = client.get("/admin/complaints/case/").content.decode()
    assert "layout=request_record" in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/admin/reports/export/add/",
            {"kind": ExportKind.CASES, "query": "", "layout": request_record.LAYOUT},
        )
    assert response.status_code == 302
    export = Export.objects.get()
    assert export.masked and export.filters["layout"] == "request_record"
    services.export_run(export_id=export.pk)
    export.refresh_from_db()
    path = tmp_path / "002.xlsx"
    path.write_bytes(export.file.read())
    ws = load_workbook(path).active
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    assert rows[0] == request_record.HEADERS
    assert len(rows) == 3  # one row per case
    row = next(r for r in rows if r[0] == case.number)
    assert row[2:4] == ["王*-电商企业", "=账号无法导出月度数据,影响运营报表制作"]
    assert row[6:8] == ["4级", f"{department}-{agent}"]
    assert row[1] and row[4] and row[5]  # channel, type and urgency in the export's language
    assert ws.cell(row=rows.index(row) + 1, column=4).data_type == "s"  # text, not a formula
    assert row[8:] == [
        "2026-10-03", "2026-10-01", "已修复导出功能,客户测试正常",
        "非常满意（5分）：“问题解决及时,未耽误工作”", "客户为VIP用户,后续需定期跟进使用体验",
    ]  # fmt: skip
    assert "13700001111" not in str(rows)
