"""The daily acknowledgement reminder, 08:30 Asia/Shanghai, as a django-celery-beat row."""

from django.db import migrations

TASK_NAME = "knowledge.plan_acknowledgements_remind"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="30", hour="8", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "knowledge.tasks.plan_acknowledgements_remind",
            "crontab": crontab,
            "description": "每天提醒相关部门中尚未确认“已阅读并理解”现行预案修订版的员工（发布满 N 个工作日后，每人一次）。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0006_acknowledgements_and_drills"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
