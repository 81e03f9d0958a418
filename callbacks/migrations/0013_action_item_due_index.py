"""Open action items by due date (the overdue filter and the daily reminder), and the daily
reminder of overdue action items, 08:45 Asia/Shanghai, as a django-celery-beat row."""

from django.db import migrations, models

TASK_NAME = "callbacks.action_items_remind_overdue"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="45", hour="8", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "callbacks.tasks.action_items_remind_overdue",
            "crontab": crontab,
            "description": "每天提醒责任部门的负责人和主管：回访报告中已过期限仍未关闭的行动项（每项每天一次）。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("callbacks", "0012_merge_0007_bounded_text_0011_recall_campaigns"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="actionitem",
            index=models.Index(fields=["status", "due_on"], name="actionitem_status_due_idx"),
        ),
        migrations.RunPython(create, remove),
    ]
