"""Mailbox polling and the outbox sweep (replies, webhooks) every minute, as django-celery-beat
rows (visible and editable in the admin under Periodic tasks)."""

from django.db import migrations

TASKS = {
    "messaging.poll_mailboxes": (
        "servicedesk.messaging.tasks.poll_mailboxes",
        "每分钟收取各邮箱的新邮件：建单或追加到原工单。",
    ),
    "messaging.sweep": (
        "servicedesk.messaging.tasks.messaging_sweep",
        "每分钟发送待发的客户回复与事件推送（含重试）。",
    ),
}


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    for name, (task, description) in TASKS.items():
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": every, "description": description}
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=TASKS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("messaging", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
