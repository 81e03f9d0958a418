"""Webhooks out against a local receiver: signed, retried with backoff, each event once,
paused after a day of failures, SSRF guard."""

import datetime
import hashlib
import hmac
import json

import pytest
import time_machine

from servicedesk.messaging.models import WebhookDelivery, WebhookEvent, WebhookSubscription
from servicedesk.messaging.webhooks import deliveries_send_due
from servicedesk.staff.models import Notification
from tests.complaints.helpers import intake
from tests.messaging.conftest import at

SECRET = "s3cret-for-the-receiver"


@pytest.fixture
def admin_user(make_user):
    return make_user("webhook-admin", is_superuser=True)


def _subscribe(client, admin_user, url, events=("case.created", "case.state_changed")):
    client.force_login(admin_user)
    return client.post(
        "/api/v1/webhooks/",
        {"name": "CRM", "target_url": url, "events": list(events), "secret": SECRET},
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )


def _valid(request):
    expected = hmac.new(
        SECRET.encode(),
        request["headers"]["X-Timestamp"].encode() + b"." + request["body"],
        hashlib.sha256,
    ).hexdigest()
    return hmac.compare_digest(expected, request["headers"]["X-Signature"])


def test_private_targets_are_refused_unless_allowed(client, admin_user, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = False
    for url in ("http://127.0.0.1:8080/hook", "http://10.1.2.3/hook", "ftp://example.com/x"):
        response = _subscribe(client, admin_user, url)
        assert response.status_code == 400, url
        assert "target_url" in response.json()
    assert WebhookSubscription.objects.count() == 0


def test_receiver_down_for_a_while_gets_each_event_once_with_a_valid_signature(
    client, admin_user, settings, http_server
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = http_server()
    receiver.down = True
    assert _subscribe(client, admin_user, receiver.url + "/hook").status_code == 201

    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = intake(customer={"name": "张三", "email": "zs@example.com"}).case
        assert deliveries_send_due() == 0
    with time_machine.travel(at(2026, 11, 2, 10, 1), tick=False):
        assert deliveries_send_due() == 0  # still down, second attempt
    events = WebhookEvent.objects.count()
    assert events >= 1
    assert WebhookDelivery.objects.filter(status="queued", attempts=2).count() == events

    receiver.down = False
    with time_machine.travel(at(2026, 11, 2, 10, 30), tick=False):
        assert deliveries_send_due() == events
        assert deliveries_send_due() == 0

    assert len(receiver.requests) == events
    ids = [r["headers"]["X-Event-Id"] for r in receiver.requests]
    assert len(set(ids)) == events
    assert all(_valid(r) for r in receiver.requests)
    created = next(r for r in receiver.requests if r["headers"]["X-Event-Type"] == "case.created")
    body = json.loads(created["body"])
    assert body["id"] == created["headers"]["X-Event-Id"]
    assert body["data"]["case"]["number"] == case.number
    log = WebhookDelivery.objects.filter(status="sent")
    assert log.count() == events
    assert all(d.response_code == 200 and d.duration_ms is not None for d in log)


def test_intake_pushes_created_and_assigned_for_an_automatically_assigned_case(
    client, admin_user, settings, http_server, department, agent
):
    # Intake writes its timeline entries in bulk: they are pushed all the same.
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = http_server()
    _subscribe(client, admin_user, receiver.url, events=["case.created", "case.assigned"])
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = intake(department=department).case
        assert deliveries_send_due() == 2

    assert case.assignee == agent
    bodies = {r["headers"]["X-Event-Type"]: json.loads(r["body"]) for r in receiver.requests}
    assert set(bodies) == {"case.created", "case.assigned"}
    assert bodies["case.assigned"]["data"]["case"]["assignee"] == "agent"
    assert bodies["case.assigned"]["data"]["case"]["department"] == "kefu"
    assert bodies["case.created"]["data"]["case"]["number"] == case.number


def test_subscription_failing_for_a_day_is_paused_and_its_owner_told(
    client, admin_user, settings, http_server
):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = http_server()
    receiver.down = True
    _subscribe(client, admin_user, receiver.url, events=["case.created"])
    start = at(2026, 11, 2, 10)
    with time_machine.travel(start, tick=False):
        intake()
        deliveries_send_due()
    for hours in (1, 6, 12, 23):
        with time_machine.travel(start + datetime.timedelta(hours=hours), tick=False):
            deliveries_send_due()
    assert WebhookSubscription.objects.get().is_active

    with time_machine.travel(start + datetime.timedelta(hours=24, minutes=1), tick=False):
        deliveries_send_due()

    sub = WebhookSubscription.objects.get()
    assert not sub.is_active
    assert "503" in sub.paused_reason
    assert WebhookDelivery.objects.get().status == "failed"
    assert Notification.objects.filter(recipient=admin_user).count() == 1
    # While paused, new events wait instead of being tried.
    with time_machine.travel(start + datetime.timedelta(hours=25), tick=False):
        intake()
        assert deliveries_send_due() == 0
    receiver.down = False
    with time_machine.travel(start + datetime.timedelta(hours=26), tick=False):
        client.force_login(admin_user)
        assert client.post(f"/api/v1/webhooks/{sub.pk}/resume/").status_code == 200
        assert deliveries_send_due() == 1
    assert len(receiver.requests) == 1


def test_delivery_log_through_the_api(client, admin_user, settings, http_server):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = http_server()
    sub_id = _subscribe(client, admin_user, receiver.url, events=["case.created"]).json()["id"]
    intake()
    deliveries_send_due()

    response = client.get(f"/api/v1/webhooks/{sub_id}/deliveries/")

    assert response.status_code == 200
    [row] = response.json()
    assert row["status"] == "sent"
    assert row["response_code"] == 200
    assert row["event_type"] == "case.created"
    detail = client.get(f"/api/v1/webhooks/{sub_id}/").json()
    assert "secret" not in detail


def test_escalations_raised_by_the_sweep_are_pushed(
    client, admin_user, settings, http_server, department, supervisor
):
    from complaints import services
    from complaints.models import CaseEvent

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = http_server()
    _subscribe(client, admin_user, receiver.url, events=["case.escalated"])
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = intake(urgency="high", department=department).case

    with time_machine.travel(at(2026, 11, 5, 10), tick=False):
        assert services.sla_sweep() >= 1
        deliveries_send_due()

    escalations = CaseEvent.objects.filter(case=case, kind="escalation").count()
    assert escalations >= 1
    assert WebhookEvent.objects.filter(type="case.escalated").count() == escalations
    assert len(receiver.requests) == escalations
    body = json.loads(receiver.requests[0]["body"])
    assert body["data"]["case"]["number"] == case.number
    assert body["data"]["level"] >= 1


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"events": ["case.deleted"]}, "events"),
        ({"events": []}, "events"),
        ({"secret": "short"}, "secret"),
        ({"target_url": "not a url"}, "target_url"),
    ],
)
def test_bad_subscription_input_is_a_field_error(client, admin_user, settings, data, field):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    client.force_login(admin_user)
    payload = {"name": "CRM", "target_url": "http://127.0.0.1/h", "events": ["case.created"],
               "secret": SECRET, **data}  # fmt: skip

    response = client.post("/api/v1/webhooks/", payload, content_type="application/json")

    assert response.status_code == 400
    assert field in response.json()
    assert WebhookSubscription.objects.count() == 0


def test_redeliver_through_the_api_sends_the_event_again(client, admin_user, settings, http_server):
    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = http_server()
    sub_id = _subscribe(client, admin_user, receiver.url, events=["case.created"]).json()["id"]
    intake()
    deliveries_send_due()
    first = WebhookDelivery.objects.get()

    response = client.post(f"/api/v1/webhooks/{sub_id}/deliveries/{first.pk}/redeliver/")
    deliveries_send_due()

    assert response.status_code == 201
    assert response.json()["status"] == "queued"
    assert len(receiver.requests) == 2
    ids = {r["headers"]["X-Event-Id"] for r in receiver.requests}
    assert ids == {str(first.event_id)}
    assert client.post(f"/api/v1/webhooks/{sub_id}/deliveries/999999/redeliver/").status_code == 404
