"""The nightly PIPL retention task, 03:00 Asia/Shanghai, as a django-celery-beat row."""

from django.db import migrations

NAME = "complaints.privacy_retention"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="3", day_of_week="*", day_of_month="*", month_of_year="*",
        timezone="Asia/Shanghai",
    )  # fmt: skip
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "complaints.tasks.privacy_retention",
            "crontab": crontab,
            "description": "每晚将超过保存期限（PIPL_RETENTION_DAYS）且工单均已结束的客户个人信息匿名化。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0011_personal_data_log"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
