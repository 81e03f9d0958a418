"""Idempotency-Key on the API's POSTs: a client retrying after a network error or a 500
gets the first answer again and never records the step twice (Stripe's contract)."""

import threading

import pytest
from django.db import connection

from complaints.models import Case, CaseEvent, TechnicalRequest
from servicedesk.idempotency.models import IdempotencyKey

from .test_api import (  # noqa: F401
    BODY,
    CASES,
    assigned_case,
    body,
    client_for,
    handler,
    new_case,
    step,
    tech,
)

pytestmark = pytest.mark.django_db


def test_a_retried_intake_creates_one_case_and_gets_the_same_answer(agent):
    api = client_for(agent)
    first = api.post(CASES, body(), format="json", HTTP_IDEMPOTENCY_KEY="intake-1")
    retry = api.post(CASES, body(), format="json", HTTP_IDEMPOTENCY_KEY="intake-1")
    assert first.status_code == 201 and retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Case.objects.count() == 1
    # without a key, the same body is a second contact (absorbed by de-duplication)
    again = api.post(CASES, body(), format="json")
    assert again.status_code == 200 and again.json()["absorbed"] is True


def test_a_retried_step_event_and_technical_request_are_recorded_once(
    agent,
    handler,  # noqa: F811
    tech,  # noqa: F811
):
    case = new_case(1, user=agent)
    api = client_for(agent)
    for _ in range(3):
        r = api.post(
            f"{CASES}{case.number}/transitions/assign/",
            {"department": "tech", "assignee": "handler"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="assign-1",
        )
        assert r.status_code == 200
        e = api.post(
            f"{CASES}{case.number}/events/",
            {"message": "已致电客户说明进度", "customer_notified": True},
            format="json",
            HTTP_IDEMPOTENCY_KEY="event-1",
        )
        assert e.status_code == 201
        t = api.post(
            f"{CASES}{case.number}/technical-requests/",
            {"department": "tech", "question": "请确认质检记录"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="tech-1",
        )
        assert t.status_code == 201
    assert CaseEvent.objects.filter(case=case, transition="assign").count() == 1
    assert CaseEvent.objects.filter(case=case, message="已致电客户说明进度").count() == 1
    assert TechnicalRequest.objects.filter(case=case).count() == 1


def test_the_same_key_with_another_request_is_refused(agent):
    api = client_for(agent)
    assert api.post(CASES, body(), format="json", HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    other = api.post(
        CASES, body(subject="另一个问题：发票开错了"), format="json", HTTP_IDEMPOTENCY_KEY="k"
    )
    assert other.status_code == 400
    assert "Idempotency-Key" in other.json()
    assert Case.objects.count() == 1


def test_keys_are_per_user(agent, make_user):
    from servicedesk.staff import roles

    other = make_user("agent2", role=roles.AGENT, departments=list(agent.departments.all()))
    a = client_for(agent).post(CASES, body(), format="json", HTTP_IDEMPOTENCY_KEY="same")
    b = client_for(other).post(
        CASES,
        body(customer={"name": "李四", "phone": "13912345678"}, subject="APP 无法登录"),
        format="json",
        HTTP_IDEMPOTENCY_KEY="same",
    )
    assert a.status_code == 201 and b.status_code == 201
    assert a.json()["number"] != b.json()["number"]


def test_a_refused_request_stores_nothing_and_can_be_retried(agent):
    api = client_for(agent)
    bad = api.post(CASES, body(subject=""), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert bad.status_code == 400
    assert not IdempotencyKey.objects.exists()
    fixed = api.post(CASES, body(subject=""), format="json", HTTP_IDEMPOTENCY_KEY="k2")
    assert fixed.status_code == 400  # the same refusal, nothing saved either time
    assert Case.objects.count() == 0


def test_a_key_longer_than_255_characters_is_refused(agent):
    r = client_for(agent).post(CASES, body(), format="json", HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert r.status_code == 400 and Case.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_retries_racing_record_the_step_once(agent, handler, tech):  # noqa: F811
    case = new_case(1, user=agent)
    answers, start = [], threading.Barrier(4)

    def retry():
        try:
            start.wait()
            r = client_for(agent).post(
                f"{CASES}{case.number}/transitions/assign/",
                {"department": "tech", "assignee": "handler"},
                format="json",
                HTTP_IDEMPOTENCY_KEY="race",
            )
            answers.append(r.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert answers == [200, 200, 200, 200]
    assert CaseEvent.objects.filter(case=case, transition="assign").count() == 1
