"""Every 5 minutes, send notification e-mails still unsent (the mail server was down, or a
task was lost): the outbox is the database, so nothing is lost. A django-celery-beat row."""

from django.db import migrations

NAME = "staff.send_pending_notification_emails"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=5, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "servicedesk.staff.tasks.send_pending_notification_emails",
            "interval": every,
            "description": "每 5 分钟补发未发出的通知邮件（邮件服务器故障恢复后自动补发）。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0003_email_queue_index"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
