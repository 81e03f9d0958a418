"""The follow-up report's rejection (a comment for the author, required) and the daily reminder
of overdue action items to the owner department."""

import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from callbacks import action_reminders
from callbacks import followup_report_services as services
from callbacks.models import ActionItem, FollowUpReport
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Notification

SH = ZoneInfo("Asia/Shanghai")
NOV_1, NOV_30 = datetime.date(2026, 11, 1), datetime.date(2026, 11, 30)


def client_for(user, language="zh-hans"):
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(user)
    return client


def submitted_report(author, department, due_on=datetime.date(2026, 12, 15)):
    report = services.followup_report_create(user=author, period_start=NOV_1, period_end=NOV_30)
    ActionItem.objects.create(
        report=report, problem="发货前未确认地址", action="发货前短信确认地址",
        department=department, due_on=due_on,
    )  # fmt: skip
    return services.followup_report_submit(report=report, user=author)


def test_rejecting_asks_for_a_reason_and_tells_the_author(db, supervisor, manager, department):
    report = submitted_report(supervisor, department)
    page = client_for(manager).get(f"/admin/callbacks/followupreport/{report.pk}/change/")
    assert f"/admin/callbacks/followupreport/{report.pk}/reject/" in page.content.decode()

    # The list's reject action leads to the comment form instead of rejecting blindly.
    response = client_for(manager).post(
        "/admin/callbacks/followupreport/", {"action": "reject", "_selected_action": [report.pk]}
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/callbacks/followupreport/{report.pk}/reject/"

    url = f"/admin/callbacks/followupreport/{report.pk}/reject/"
    response = client_for(manager).post(url, {"review_comment": "  "})
    assert response.status_code == 200
    assert "请告诉编写人需要修改的内容。" in response.content.decode()  # field error, Chinese
    report.refresh_from_db()
    assert report.state == "submitted" and report.review_comment == ""  # nothing half-saved
    assert not Notification.objects.filter(recipient=supervisor).exists()

    response = client_for(manager).post(url, {"review_comment": "行动项缺少物流部门的负责人"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == "rejected" and report.reviewer == manager
    assert report.review_comment == "行动项缺少物流部门的负责人"
    notice = Notification.objects.get(recipient=supervisor)
    assert "行动项缺少物流部门的负责人" in notice.body
    assert notice.link == f"/admin/callbacks/followupreport/{report.pk}/change/"
    page = client_for(supervisor).get(notice.link).content.decode()
    assert "行动项缺少物流部门的负责人" in page  # the author sees why on the report


def test_only_a_manager_may_reject(db, supervisor, make_user, department):
    author = make_user("mgr_a", role=roles.MANAGER, departments=[department])
    report = submitted_report(author, department)
    response = client_for(supervisor).post(
        f"/admin/callbacks/followupreport/{report.pk}/reject/", {"review_comment": "不行"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == "submitted"


def test_overdue_items_remind_the_owner_department_once_a_day(
    db, supervisor, manager, make_user, department
):
    logistics = Department.objects.create(code="wuliu", name="物流部")
    lead = make_user("wuliu_lead", role=roles.HANDLER, departments=[logistics], lead=True)
    member = make_user("wuliu_handler", role=roles.HANDLER, departments=[logistics])
    report = submitted_report(supervisor, logistics, due_on=datetime.date(2026, 12, 10))
    ActionItem.objects.create(
        report=report, problem="包装破损", action="更换加厚包装", department=logistics,
        due_on=datetime.date(2026, 12, 31),
    )  # fmt: skip
    services.followup_report_review(report=report, user=manager, approve=True)

    with time_machine.travel(datetime.datetime(2026, 12, 10, 9, tzinfo=SH), tick=False):
        action_reminders.action_items_remind_overdue()  # due today: not overdue yet
    assert not Notification.objects.filter(event_key__startswith="callbacks.action_").exists()

    with time_machine.travel(datetime.datetime(2026, 12, 12, 8, 45, tzinfo=SH), tick=False):
        action_reminders.action_items_remind_overdue()
        action_reminders.action_items_remind_overdue()  # a rerun: nothing twice
        page = client_for(manager).get(f"/admin/callbacks/followupreport/{report.pk}/change/")

    def reminders():
        return Notification.objects.filter(event_key__startswith="callbacks.action_overdue:")

    assert {n.recipient for n in reminders()} == {lead}  # the lead, not the plain member
    assert member not in {n.recipient for n in reminders()}
    assert "发货前短信确认地址" in reminders().get().subject
    html = page.content.decode()
    assert 'id="overdue-actions"' in html and "发货前短信确认地址" in html
    overdue_block = html.split('id="overdue-actions"')[1].split("</table>")[0]
    assert "更换加厚包装" not in overdue_block  # not due yet
    assert "<td>2</td>" in overdue_block  # two days overdue

    with time_machine.travel(datetime.datetime(2026, 12, 13, 8, 45, tzinfo=SH), tick=False):
        action_reminders.action_items_remind_overdue()  # the next day: reminded again
    assert reminders().count() == 2

    item = ActionItem.objects.get(action="发货前短信确认地址")
    services.action_item_close(item=item, user=lead, outcome="已上线短信确认")
    with time_machine.travel(datetime.datetime(2026, 12, 14, 8, 45, tzinfo=SH), tick=False):
        action_reminders.action_items_remind_overdue()  # closed: no more reminders
    assert reminders().count() == 2


def test_a_department_without_lead_or_supervisor_falls_back_to_supervisors(
    db, supervisor, manager, make_user, department
):
    quality = Department.objects.create(code="zhijian", name="质检部")
    make_user("zj_handler", role=roles.HANDLER, departments=[quality])
    report = submitted_report(supervisor, quality, due_on=datetime.date(2026, 12, 1))
    services.followup_report_review(report=report, user=manager, approve=True)
    with time_machine.travel(datetime.datetime(2026, 12, 3, 9, tzinfo=SH), tick=False):
        action_reminders.action_items_remind_overdue()
    reminded = Notification.objects.filter(event_key__startswith="callbacks.action_overdue:")
    assert [n.recipient for n in reminded] == [supervisor]
    assert FollowUpReport.objects.get().state == "approved"
