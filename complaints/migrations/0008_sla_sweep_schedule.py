"""The escalation sweep every minute, as a django-celery-beat row (visible and editable in
the admin under Periodic tasks)."""

from django.db import migrations

NAME = "complaints.sla_sweep"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "complaints.tasks.sla_sweep",
            "interval": every,
            "description": "每分钟检查逾期工单与技术协作请求，按级升级并通知主管/经理。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0007_deadlines"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
