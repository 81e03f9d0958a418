"""Public replies (公开回复) vs internal notes (内部备注) through the API, and the reply outbox."""

import email
from email.header import decode_header, make_header

import pytest
import time_machine

from complaints.models import Case, CaseEvent
from servicedesk.messaging.models import OutboundMessage
from servicedesk.messaging.outbound import outbound_send_due
from tests.complaints.helpers import intake
from tests.messaging.conftest import at


def _case(**customer):
    customer = customer or {"name": "张三", "email": "zhangsan@example.com"}
    return intake(customer=customer, channel="web").case


def _post(client, case, **data):
    return client.post(
        f"/api/v1/cases/{case.number}/replies/", data, content_type="application/json"
    )


def test_internal_note_is_never_sent(client, agent, smtp):
    case = _case()
    client.force_login(agent)

    response = _post(client, case, body="客户情绪激动，注意措辞", public=False)

    assert response.status_code == 201
    assert response.json()["status"] is None
    assert OutboundMessage.objects.count() == 0
    assert outbound_send_due() == 0
    assert smtp.messages == []
    event = CaseEvent.objects.get(pk=response.json()["event"])
    assert event.kind == "note"
    case.refresh_from_db()
    assert case.first_response_at is None


def test_public_reply_is_sent_once_and_counts_as_first_response(client, agent, smtp):
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        case = _case()
    client.force_login(agent)

    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        response = _post(client, case, body="您好，我们已收到您的反馈。", public=True)
        assert response.status_code == 201
        assert response.json()["channel"] == "email"
        assert response.json()["status"] == "queued"
        assert outbound_send_due() == 1
        assert outbound_send_due() == 0  # nothing sent twice

    assert len(smtp.messages) == 1
    sent = email.message_from_bytes(smtp.messages[0]["raw"])
    assert sent["Message-ID"] == OutboundMessage.objects.get().message_id
    subject = str(make_header(decode_header(sent["Subject"])))
    assert subject == f"Re: {case.subject} [{case.number}]"
    case.refresh_from_db()
    assert case.first_response_at == at(2026, 11, 2, 10)
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", "customer_notified"))
    assert ("reply", True) in kinds
    assert ("delivery", False) in kinds
    assert OutboundMessage.objects.get().status == "sent"


def test_reply_that_cannot_be_sent_is_retried_then_dead_lettered(client, agent, settings):
    from tests.messaging.servers import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nobody listens
    settings.MESSAGING_MAX_ATTEMPTS = 3
    case = _case()
    client.force_login(agent)
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        assert _post(client, case, body="您好", public=True).status_code == 201

    for minute in (0, 2, 10):  # after 1 and 2 minutes of backoff
        with time_machine.travel(at(2026, 11, 2, 10, minute), tick=False):
            assert outbound_send_due() == 0

    message = OutboundMessage.objects.get()
    assert message.status == "failed"
    assert message.attempts == 3
    failed = CaseEvent.objects.get(case=case, kind="delivery")
    assert failed.data["status"] == "failed"
    assert "Connection" in failed.message or "refused" in failed.message.lower()


def test_reply_errors_are_field_errors_in_chinese(client, agent):
    case = _case(name="无联系方式", member_no="M-0001")
    client.force_login(agent)

    empty = _post(client, case, body="   ", public=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    nowhere = client.post(
        f"/api/v1/cases/{case.number}/replies/",
        {"body": "您好", "public": True},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )

    assert empty.status_code == 400
    assert "body" in empty.json()
    assert nowhere.status_code == 400
    assert "public" in nowhere.json()
    assert OutboundMessage.objects.count() == 0
    assert CaseEvent.objects.filter(case=case, kind="reply").count() == 0
    assert Case.objects.get(pk=case.pk).first_response_at is None


def test_replies_need_permission_and_visibility(client, make_user):
    case = _case()
    client.force_login(make_user("nobody"))

    assert _post(client, case, body="您好", public=True).status_code == 403


def test_reply_to_a_phone_only_customer_goes_by_sms_with_the_signature(client, agent, settings):
    from callbacks import sms

    settings.SMS_BACKEND = "callbacks.sms.LocmemBackend"
    settings.SMS_SIGNATURE = "好家电"
    sms.LocmemBackend.outbox.clear()
    case = _case(name="李四", phone="13800138000")
    client.force_login(agent)

    response = _post(client, case, body="您的退款已办理。", public=True)
    sent = outbound_send_due()

    assert response.json()["channel"] == "sms"
    assert sent == 1
    assert len(sms.LocmemBackend.outbox) == 1
    message = sms.LocmemBackend.outbox[0]
    assert message.to == "13800138000"
    assert message.body.startswith("【好家电】您的退款已办理。")
    assert case.number in message.body
    sms.LocmemBackend.outbox.clear()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "坏\x00字符", "public": False}, "body"),
        ({"body": "长" * 10001, "public": False}, "body"),
        ({"body": "您好", "public": "maybe"}, "public"),
        ({"public": True}, "body"),
    ],
)
def test_bad_reply_input_is_a_field_error_and_saves_nothing(client, agent, data, field):
    case = _case()
    client.force_login(agent)

    response = _post(client, case, **data)

    assert response.status_code == 400
    assert field in response.json()
    assert CaseEvent.objects.filter(case=case, kind__in=["reply", "note"]).count() == 0
