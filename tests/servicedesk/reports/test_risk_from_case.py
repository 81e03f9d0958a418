"""Staff file a risk into the register from a case; a manager assesses it."""

from django.test import Client

from complaints.models import CaseEvent
from servicedesk.reports.models import Risk
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Notification

from ...complaints.helpers import intake


def client_for(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_an_agent_files_a_risk_from_a_case_for_a_manager_to_assess(agent, manager, department):
    case = intake(department=department, user=agent).case
    page = client_for(agent).get(f"/admin/complaints/case/{case.pk}/change/").content.decode()
    url = f"/admin/reports/risk/file/{case.pk}/"
    assert url in page
    response = client_for(agent).post(
        url,
        {
            "title": "同批次屏幕易碎",
            "cause": "供应商更换玻璃材料",
            "consequence": "批量退货与媒体曝光",
        },
    )
    assert response.status_code == 302
    risk = Risk.objects.get()
    assert (risk.status, risk.case, risk.reported_by, risk.owner) == (
        "to_assess",
        case,
        agent,
        None,
    )
    assert CaseEvent.objects.filter(case=case, message__contains="同批次屏幕易碎").exists()
    assert Notification.objects.filter(recipient=manager, event_key=f"reports.risk_filed:{risk.pk}")
    # The manager assesses it: likelihood, impact, mitigation and owner become required.
    change = f"/admin/reports/risk/{risk.pk}/change/"
    base = {"title": risk.title, "cause": risk.cause, "consequence": risk.consequence}
    refused = client_for(manager).post(change, {**base, "status": "open"})
    assert refused.status_code == 200
    assert set(refused.context["adminform"].form.errors) >= {"likelihood", "impact", "owner"}
    done = client_for(manager).post(
        change,
        {**base, "status": "open", "likelihood": 3, "impact": 4, "mitigation": "更换供应商",
         "owner": manager.pk},
    )  # fmt: skip
    assert done.status_code == 302
    risk.refresh_from_db()
    assert risk.score == 12 and risk.status == "open"


def test_a_risk_needs_its_fields_and_a_visible_case(agent, make_user, department):
    case = intake(department=department, user=agent).case
    outsider = make_user(
        "other_handler",
        role=roles.HANDLER,
        departments=[Department.objects.create(code="x", name="物流部")],
    )
    url = f"/admin/reports/risk/file/{case.pk}/"
    assert client_for(outsider).get(url).status_code == 403
    response = client_for(agent).post(url, {"title": "", "cause": "x", "consequence": ""})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"title", "consequence"}
    assert not Risk.objects.exists()
