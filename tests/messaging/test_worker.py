"""The channels on a real Celery worker: what the API queues is sent by the worker after
commit, and the beat tasks exist (created by a data migration)."""

import pytest

from tests.conftest import wait_until
from tests.messaging.conftest import chinese_mail


@pytest.mark.worker
def test_reply_and_webhook_go_out_through_the_worker_after_commit(
    live_worker, client, agent, smtp, settings, http_server
):
    from servicedesk.messaging.models import OutboundMessage, WebhookSubscription
    from tests.complaints.helpers import intake

    settings.WEBHOOK_ALLOW_PRIVATE_TARGETS = True
    receiver = http_server()
    WebhookSubscription.objects.create(
        owner=agent, name="CRM", target_url=receiver.url, events=["case.reply_sent"],
        secret="s3cret-for-the-receiver",
    )  # fmt: skip
    case = intake(customer={"name": "张三", "email": "zs@example.com"}).case
    client.force_login(agent)

    response = client.post(
        f"/api/v1/cases/{case.number}/replies/",
        {"body": "您好，已处理。", "public": True},
        content_type="application/json",
    )

    assert response.status_code == 201
    assert wait_until(lambda: OutboundMessage.objects.filter(status="sent").exists())
    assert wait_until(lambda: len(receiver.requests) == 1)
    assert len(smtp.messages) == 1


@pytest.mark.worker
def test_the_poll_task_takes_mail_in_on_the_worker(live_worker, mailbox, dovecot):
    # The data migration's schedule (restored here: a transactional test flushes tables).
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    from complaints.models import Case
    from servicedesk.messaging.tasks import poll_mailboxes

    importlib.import_module("servicedesk.messaging.migrations.0002_schedules").create(apps, None)
    task = PeriodicTask.objects.get(name="messaging.poll_mailboxes")
    assert task.task == "servicedesk.messaging.tasks.poll_mailboxes"
    assert task.interval.every == 1 and task.interval.period == "minutes"

    dovecot.append(chinese_mail())
    poll_mailboxes.delay()

    assert wait_until(lambda: Case.objects.filter(channel="email").count() == 1)
