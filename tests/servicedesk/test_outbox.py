"""Notification e-mails through the outbox: claimed, sent and marked one by one, so a worker
that dies resends at most the message in flight, a refused recipient fails alone (dead
letter, visible in the admin), and a broker that is down never fails the request."""

import datetime

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from servicedesk import outbox
from servicedesk.staff import roles
from servicedesk.staff.models import Notification
from servicedesk.staff.services import notification_send_pending, notify
from tests.broker import broker_unreachable
from tests.smtp_sink import SmtpSink

pytestmark = pytest.mark.django_db


def staff(make_user, n, *, refused=()):
    users = [make_user(f"staff{i}", role=roles.AGENT) for i in range(n)]
    for i in refused:
        users[i].email = f"gone{i}@example.com"
        users[i].save()
    return users


def test_a_refused_recipient_fails_alone_and_is_a_dead_letter(make_user, admin_client):
    users = staff(make_user, 9, refused=[2])
    for u in users:
        notify(recipients=[u], event_key="alert:1", subject="预警", body="升级")
    with (
        SmtpSink(refuse=["gone2@example.com"]) as sink,
        override_settings(**sink.django_settings()),
    ):
        assert notification_send_pending(group=4) == 8
        assert notification_send_pending(group=4) == 0  # nothing is tried twice
    assert sorted(r for r, _mid, _s in sink.messages) == sorted(
        u.email for u in users if u.email != "gone2@example.com"
    )
    dead = Notification.objects.get(recipient=users[2])
    assert dead.emailed_at is None and dead.email_failed_at is not None
    assert dead.email_attempts == 1 and "550" in dead.email_error
    assert list(Notification.objects.email_dead()) == [dead]
    page = admin_client.get("/admin/staff/notification/?all=1&email=dead").content.decode()
    assert "550" in page and "gone2@example.com" in page


def test_a_mail_server_that_is_down_is_retried_with_backoff(make_user):
    (user,) = staff(make_user, 1)
    (n,) = notify(recipients=[user], event_key="k", subject="主题")
    with override_settings(EMAIL_BACKEND="tests.callbacks.failing_mail.Backend"):
        assert notification_send_pending() == 0
    n.refresh_from_db()
    assert n.email_attempts == 1 and n.email_failed_at is None and n.email_due_at > timezone.now()
    with SmtpSink() as sink, override_settings(**sink.django_settings()):
        assert notification_send_pending() == 0  # not due yet
        with time_machine.travel(n.email_due_at + datetime.timedelta(seconds=1)):
            assert notification_send_pending() == 1
    assert len(sink.messages) == 1


def test_a_worker_that_dies_after_claiming_leaves_the_messages_due_after_the_lease(
    make_user, settings
):
    users = staff(make_user, 5)
    for u in users:
        notify(recipients=[u], event_key="k", subject="主题")
    now = timezone.now()
    # A worker claims three, then is killed before sending any.
    claimed = outbox.claim(
        Notification.objects.email_pending(), due_field="email_due_at",
        attempts_field="email_attempts", now=now, lease=datetime.timedelta(minutes=5), limit=3,
    )  # fmt: skip
    assert len(claimed) == 3
    with SmtpSink() as sink, override_settings(**sink.django_settings()):
        assert notification_send_pending() == 2  # the other worker skips the claimed ones
        with time_machine.travel(now + datetime.timedelta(minutes=6)):
            assert notification_send_pending() == 3
    ids = [mid for _r, mid, _s in sink.messages]
    assert len(ids) == 5 == len(set(ids))
    assert not Notification.objects.email_pending().exists()


def test_a_broker_that_is_down_does_not_fail_the_step_and_the_sweep_sends_later(
    make_user, django_capture_on_commit_callbacks, caplog
):
    (user,) = staff(make_user, 1)
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True) as callbacks:
        (n,) = notify(recipients=[user], event_key="k", subject="主题")
    assert len(callbacks) == 1
    assert "the periodic sweep will pick the work up" in caplog.text
    # committed, nothing raised; the row waits for the sweep
    assert Notification.objects.email_pending().filter(pk=n.pk).exists()
    with SmtpSink() as sink, override_settings(**sink.django_settings()):
        assert notification_send_pending() == 1
    assert len(sink.messages) == 1


def test_given_up_e_mails_can_be_tried_again_from_the_admin(make_user, admin_client):
    users = staff(make_user, 1, refused=[0])
    notify(recipients=users, event_key="k", subject="主题")
    with (
        SmtpSink(refuse=["gone0@example.com"]) as sink,
        override_settings(**sink.django_settings()),
    ):
        notification_send_pending()
    n = Notification.objects.get()
    response = admin_client.post(
        "/admin/staff/notification/?all=1",
        {"action": "retry_email", "_selected_action": [n.pk]},
        follow=True,
    )
    assert response.status_code == 200
    assert list(Notification.objects.email_pending()) == [n]
