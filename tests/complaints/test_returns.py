"""Returns (004): evidence before approving a quality return, the instructions sent to the
customer from the template through their channel, refund method and amount, and the whole
flow in the API (/api/v1/cases/{number}/return/ and its steps)."""

import datetime

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from callbacks.sms import LocmemBackend
from complaints.models import CaseEvent, EventKind

from .helpers import intake


def a_return(agent, department, *, customer, reason="quality", evidence=True):
    return intake(
        user=agent,
        type="return_exchange",
        subject="电水壶漏水",
        order_no="SO-5566",
        product="电水壶",
        customer=customer,
        department=department,
        return_request={"purchase_date": datetime.date.today(), "reason": reason},
        attachments=[SimpleUploadedFile("漏水.jpg", b"\xff\xd8\xff jpeg")] if evidence else [],
    ).case


def api(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_the_return_flow_through_the_api(
    agent, department, settings, django_capture_on_commit_callbacks
):
    settings.RETURN_ADDRESS = "上海市浦东新区XX路1号 售后部"
    case = a_return(agent, department, customer={"name": "周九", "email": "zhou@example.com"})
    client = api(agent)
    url = f"/api/v1/cases/{case.number}/return/"
    state = client.get(url).json()
    assert [s["name"] for s in state["steps"]] == ["approve", "reject"]
    assert state["return_request"]["step"] == "applied"

    response = client.post(
        f"{url}approve/", {"expected_version": state["version"]}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        state = client.post(f"{url}notify_customer/", {}, content_type="application/json").json()
    assert state["return_request"]["step"] == "customer_notified"
    sent = mail.outbox[-1]
    assert sent.to == ["zhou@example.com"] and case.number in sent.subject
    assert "上海市浦东新区XX路1号 售后部" in sent.body and "SO-5566" in sent.body
    assert "到付" in sent.body  # a quality return: we pay the shipping (freight collect)
    event = CaseEvent.objects.filter(case=case, kind=EventKind.RETURN_STEP).last()
    assert event.data["instructions"]["channel"] == "email"

    client.post(f"{url}ship_back/", {"tracking_no": "SF123"}, content_type="application/json")
    client.post(
        f"{url}inspect/", {"inspection_result": "底座渗水属实"}, content_type="application/json"
    )
    refused = client.post(
        f"{url}refund/", {"refund_amount": "129.00"}, content_type="application/json"
    )
    assert refused.status_code == 400 and "refund_method" in refused.json()
    done = client.post(
        f"{url}refund/",
        {"refund_method": "original", "refund_amount": "129.00"},
        content_type="application/json",
    ).json()
    assert done["return_request"]["step"] == "refunded"
    assert (done["return_request"]["refund_method"], done["return_request"]["refund_amount"]) == (
        "original", "129.00",
    )  # fmt: skip
    assert client.post(f"{url}fly_away/", {}, content_type="application/json").status_code == 404
    assert client.post(f"{url}approve/", {}, content_type="application/json").status_code == 409


def test_a_quality_return_without_evidence_cannot_be_approved(agent, department):
    case = a_return(agent, department, customer={"name": "吴十", "phone": "13912345678"},
                    evidence=False)  # fmt: skip
    response = api(agent).post(
        f"/api/v1/cases/{case.number}/return/approve/", {}, content_type="application/json"
    )
    assert response.status_code == 400 and "evidence" in response.json()


def test_instructions_go_by_text_message_without_an_e_mail(
    agent, department, settings, django_capture_on_commit_callbacks
):
    settings.SMS_BACKEND = "callbacks.sms.LocmemBackend"
    LocmemBackend.outbox.clear()
    case = a_return(agent, department, customer={"name": "郑一", "phone": "13912345678"},
                    reason="personal")  # fmt: skip
    client = api(agent)
    url = f"/api/v1/cases/{case.number}/return/"
    client.post(f"{url}approve/", {}, content_type="application/json")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{url}notify_customer/", {}, content_type="application/json")
    [sms] = LocmemBackend.outbox
    # The customer's language (Chinese here), not the agent's.
    assert sms.to == "13912345678" and "退货运费由您承担" in sms.body
