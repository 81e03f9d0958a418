"""The follow-up report (回访报告): findings from the period's follow-ups, action items with an
owner department and a due date, a manager's approval (not the author), closure tracked, and
its sheet in the monthly workbook."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.test import Client
from openpyxl import load_workbook

from callbacks import followup_report_services as services
from callbacks.models import ActionItem, FollowUpReport, Response
from callbacks.services import satisfaction_version
from complaints.models import Customer
from servicedesk.reports import data, workbook

SH = ZoneInfo("Asia/Shanghai")
NOV_1, NOV_30 = datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)


def client_for(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_report_goes_from_findings_to_closed_action_items(
    db, supervisor, manager, make_user, department, tmp_path
):
    customer = Customer.objects.create(name="孙八", phone="13300000001")
    Response.objects.create(
        customer=customer, version=satisfaction_version(), method="phone", overall_score=3,
        suggestions="希望发货前电话确认地址", answered_at=datetime.datetime(2026, 11, 9, 10, tzinfo=SH),
    )  # fmt: skip
    response = client_for(supervisor).post(
        "/admin/callbacks/followupreport/add/",
        {
            "period_start": "2026-11-01", "period_end": "2026-11-30", "findings": "",
            "actions-TOTAL_FORMS": "1", "actions-INITIAL_FORMS": "0",
            "actions-0-problem": "发货前未确认地址", "actions-0-action": "发货前短信确认地址",
            "actions-0-department": department.pk, "actions-0-due_on": "2026-12-15",
        },
    )  # fmt: skip
    assert response.status_code == 302
    report = FollowUpReport.objects.get()
    assert "希望发货前电话确认地址" in report.findings  # filled in from the follow-ups
    item = ActionItem.objects.get()
    assert (item.department, item.due_on) == (department, datetime.date(2026, 12, 15))

    changelist = "/admin/callbacks/followupreport/"
    client_for(supervisor).post(changelist, {"action": "submit", "_selected_action": [report.pk]})
    report.refresh_from_db()
    assert report.state == "submitted"
    with pytest.raises(ValidationError):  # its author may not approve it
        other = make_user("mgr_author", role="经理 Manager", departments=[department])
        own = services.followup_report_create(user=other, period_start=NOV_1, period_end=NOV_30)
        ActionItem.objects.create(
            report=own, problem="x", action="y", department=department, due_on=NOV_30
        )
        services.followup_report_submit(report=own, user=other)
        services.followup_report_review(report=own, user=other, approve=True)
    client_for(supervisor).post(changelist, {"action": "approve", "_selected_action": [report.pk]})
    report.refresh_from_db()
    assert report.state == "submitted"  # a supervisor cannot approve
    client_for(manager).post(changelist, {"action": "approve", "_selected_action": [report.pk]})
    report.refresh_from_db()
    assert report.state == "approved" and report.reviewer == manager

    with pytest.raises(ValidationError):
        services.action_item_close(item=item, user=supervisor, outcome=" ")
    with time_machine.travel(datetime.datetime(2026, 12, 1, 2, tzinfo=SH), tick=False):
        figures = data.period_figures(NOV_1, NOV_30)
        path = tmp_path / "r.xlsx"
        workbook.build_workbook(figures, data.case_rows(NOV_1, NOV_30), path, "en")
    ws = load_workbook(path)["Follow-up actions"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    mine = next(r for r in rows if r[2] == "发货前短信确认地址")
    assert mine[3] == str(department) and mine[5] == "Open" and mine[8] == "Approved"
    services.action_item_close(item=item, user=supervisor, outcome="已上线短信确认")
    item.refresh_from_db()
    assert item.status == "done" and item.closed_by == supervisor
