"""Exports show a sign of life while they run; a sweep every minute restarts or fails those
whose worker died and re-enqueues those the broker lost (a django-celery-beat row)."""

from django.db import migrations, models

NAME = "reports.export_sweep"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "servicedesk.reports.tasks.export_sweep",
            "interval": every,
            "description": "每分钟检查导出任务：处理进程中断的导出自动重试（多次中断则标记失败并说明原因），"
            "消息丢失的排队导出重新入队。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0004_period_labels"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.AddField(
            model_name="export",
            name="attempts",
            field=models.PositiveSmallIntegerField(default=0, verbose_name="attempts"),
        ),
        migrations.AddField(
            model_name="export",
            name="heartbeat_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="last sign of life"),
        ),
        migrations.RunPython(create, remove),
    ]
