"""The daily plan-review reminder, 08:00 Asia/Shanghai, as a django-celery-beat row (the
DatabaseScheduler is the one schedule; administrators can see and change it in the admin)."""

from django.db import migrations

TASK_NAME = "knowledge.plan_reviews_remind"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="8", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "knowledge.tasks.plan_reviews_remind",
            "crontab": crontab,
            "description": "每天提醒预案负责人 30 天内到期的年度评审，并标记已逾期的预案。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("knowledge", "0003_default_plan"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
