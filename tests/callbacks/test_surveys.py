"""Satisfaction surveys: scheduled on resolution inside the follow-up window, in the
customer's channel; dispatched once in bulk, reminded once, expired; answers recorded."""

import datetime
import threading

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from callbacks import scheduling, services, tokens
from callbacks.models import FollowUp, FollowUpPurpose, Survey, SurveyChannel, SurveyStatus
from complaints.models import CaseEvent, State

from .conftest import TZ, at

pytestmark = pytest.mark.django_db


# --- pure scheduling -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "resolved, expected",
    [
        (at(2026, 11, 2, 10), at(2026, 11, 2, 12)),  # 2 h later, inside sending hours
        (at(2026, 11, 2, 19), at(2026, 11, 3, 9)),  # 21:00 is too late: next morning
        (at(2026, 11, 2, 5), at(2026, 11, 2, 9)),  # 07:00 is too early: 09:00
    ],
)
def test_send_time_waits_then_keeps_to_sending_hours(resolved, expected):
    assert (
        scheduling.send_time(
            resolved_at=resolved,
            window_ends_at=resolved + datetime.timedelta(hours=72),
            delay=datetime.timedelta(hours=2),
            send_from=datetime.time(9),
            send_until=datetime.time(20),
            tz=TZ,
        )
        == expected
    )


def test_send_time_never_passes_the_window():
    resolved = at(2026, 11, 2, 19)
    window_end = at(2026, 11, 2, 23)  # a plan with a 4-hour follow-up window
    sent = scheduling.send_time(
        resolved_at=resolved,
        window_ends_at=window_end,
        delay=datetime.timedelta(hours=2),
        send_from=datetime.time(9),
        send_until=datetime.time(20),
        tz=TZ,
    )
    assert sent == at(2026, 11, 2, 21)  # not the next morning: that is after the window


@pytest.mark.parametrize(
    "preferred, email, phone, sms_ok, expected",
    [
        ("email", "a@example.com", "13900000000", True, "email"),
        ("sms", "a@example.com", "13900000000", True, "sms"),
        ("phone", "a@example.com", "+86 139 0000 0000", True, "sms"),
        ("phone", "a@example.com", "010-88886666", True, "email"),  # landline: no SMS
        ("sms", "a@example.com", "13900000000", False, "email"),  # the site has no SMS
        ("email", "", "13900000000", True, "sms"),
        ("email", "", "010-88886666", True, "phone"),
        ("phone", "", "", True, "phone"),
    ],
)
def test_channel_follows_preference_then_what_reaches_the_customer(
    preferred, email, phone, sms_ok, expected
):
    got = scheduling.choose_channel(
        preferred=preferred, email=email, phone=phone, sms_available=sms_ok
    )
    assert got == expected


def test_tokens_are_signed_and_tamper_evident():
    nonce = tokens.new_nonce()
    token = tokens.make_token(nonce)
    assert tokens.nonce_from_token(token) == nonce
    assert tokens.nonce_from_token(token[:-1] + ("A" if token[-1] != "A" else "B")) is None
    assert tokens.nonce_from_token(tokens.new_nonce() + "." + token.split(".")[1]) is None
    assert tokens.nonce_from_token("garbage") is None


# --- scheduling on resolution ----------------------------------------------------------------


def test_resolving_a_case_schedules_one_survey_inside_the_window(resolve_case):
    case = resolve_case(
        at(2026, 11, 2, 10),
        customer={"name": "王女士", "phone": "13900000001", "email": "wang@example.com"},
    )
    survey = Survey.objects.get(case=case)
    assert survey.status == SurveyStatus.SCHEDULED
    assert survey.send_at == at(2026, 11, 2, 12)
    assert case.resolved_at < survey.send_at <= survey.window_ends_at == case.satisfaction_due
    assert survey.channel == SurveyChannel.SMS  # preferred phone + mobile → SMS link
    assert survey.version.questionnaire.code == services.SATISFACTION_QUESTIONNAIRE
    assert services.survey_schedule(case=case) == survey  # idempotent
    assert Survey.objects.filter(case=case).count() == 1
    assert case.events.filter(message__contains="2026-11-02 12:00").exists()


def test_customer_without_email_or_mobile_gets_a_phone_callback(resolve_case, sms_outbox):
    case = resolve_case(customer={"name": "李先生", "phone": "010-88886666"})
    survey = Survey.objects.get(case=case)
    assert survey.channel == SurveyChannel.PHONE
    services.survey_dispatch_sweep(now=survey.send_at)
    followup = FollowUp.objects.get(survey=survey)
    assert followup.purpose == FollowUpPurpose.SATISFACTION and followup.case == case
    assert not mail.outbox and not sms_outbox


# --- dispatch -----------------------------------------------------------------------------


def _email_case(resolve_case, n=1, when=None):
    return [
        resolve_case(
            when or at(2026, 11, 2, 10),
            customer={"name": f"客户{i}", "email": f"c{i}@example.com", "phone": ""},
        )
        for i in range(n)
    ]


def test_dispatch_sends_once_reminds_once_and_expires(resolve_case):
    (case,) = _email_case(resolve_case)
    survey = Survey.objects.get(case=case)
    assert services.survey_dispatch_sweep(now=at(2026, 11, 2, 11))["sent"] == 0  # not yet
    assert services.survey_dispatch_sweep(now=at(2026, 11, 2, 12))["sent"] == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["c0@example.com"] and case.number in message.subject
    survey.refresh_from_db()
    assert tokens.survey_url(survey) in message.body
    assert survey.status == SurveyStatus.SENT and survey.expires_at > survey.sent_at
    # Sending is the follow-up made inside the window: the deadline stops escalating.
    case.refresh_from_db()
    assert case.satisfaction_done_at is not None and case.current_stage == ""
    assert case.state == State.RESOLVED  # closing still waits for the answer

    assert services.survey_dispatch_sweep(now=at(2026, 11, 2, 12, 1))["sent"] == 0
    assert len(mail.outbox) == 1  # the second run sends nothing
    assert services.survey_dispatch_sweep(now=at(2026, 11, 3, 12))["reminded"] == 1
    assert services.survey_dispatch_sweep(now=at(2026, 11, 4, 12))["reminded"] == 0
    assert len(mail.outbox) == 2 and "提醒" in mail.outbox[1].subject
    assert services.survey_dispatch_sweep(now=at(2026, 11, 10, 12))["expired"] == 1
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.EXPIRED
    assert CaseEvent.objects.filter(case=case, message__contains="过期").exists()


def test_sms_survey_carries_the_link(resolve_case, sms_outbox):
    case = resolve_case(customer={"name": "赵女士", "phone": "13900000077", "email": ""})
    survey = Survey.objects.get(case=case)
    services.survey_dispatch_sweep(now=survey.send_at)
    assert [m.to for m in sms_outbox] == ["13900000077"]
    assert tokens.survey_url(survey) in sms_outbox[0].body


def test_failed_sending_is_retried_then_handed_to_the_callback_queue(resolve_case, settings):
    settings.EMAIL_BACKEND = "tests.callbacks.failing_mail.Backend"
    settings.SURVEY_SEND_ATTEMPTS = 2
    (case,) = _email_case(resolve_case)
    survey = Survey.objects.get(case=case)
    assert services.survey_dispatch_sweep(now=at(2026, 11, 2, 12))["retry"] == 1
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SCHEDULED and survey.send_at > at(2026, 11, 2, 12)
    assert "SMTP down" in survey.last_error
    assert services.survey_dispatch_sweep(now=survey.send_at)["phone"] == 1
    survey.refresh_from_db()
    assert survey.channel == SurveyChannel.PHONE and survey.status == SurveyStatus.SENT
    assert FollowUp.objects.filter(survey=survey).count() == 1


def test_queries_per_dispatch_group_are_bounded(resolve_case, settings):
    # Each survey is marked sent alone as soon as it is out (a crash then resends at most
    # the one in flight): one UPDATE per survey, the rest a fixed number per group.
    settings.SURVEY_BATCH_SIZE = 50
    settings.OUTBOX_GROUP_SIZE = 20
    _email_case(resolve_case, 3)
    with CaptureQueriesContext(connection) as few:
        services.survey_dispatch_sweep(now=at(2026, 11, 2, 12))
    _email_case(resolve_case, 40, when=at(2026, 11, 2, 11))
    with CaptureQueriesContext(connection) as many:
        services.survey_dispatch_sweep(now=at(2026, 11, 2, 13))
    assert len(mail.outbox) == 43
    per_group = len(few) - 3
    assert len(many) <= 40 + 2 * per_group


@pytest.mark.django_db(transaction=True)
def test_concurrent_sweeps_send_each_survey_once(resolve_case):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: the race is exercised on PostgreSQL")
    _email_case(resolve_case, 20)
    barrier = threading.Barrier(2)
    results = []

    def run():
        from django.db import connection as conn

        try:
            barrier.wait()
            results.append(services.survey_dispatch_sweep(now=at(2026, 11, 2, 12))["sent"])
        finally:
            conn.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(results) == 20
    assert len(mail.outbox) == 20
    assert len({m.to[0] for m in mail.outbox}) == 20
