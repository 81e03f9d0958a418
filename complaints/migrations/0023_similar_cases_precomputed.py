"""Similar resolved cases picked ahead for working cases, and the every-minute sweep that
picks them (a django-celery-beat row, visible and editable under Periodic tasks)."""

import django.db.models.deletion
from django.db import migrations, models

NAME = "complaints.similar_cases_sweep"


def create(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=NAME,
        defaults={
            "task": "complaints.tasks.similar_cases_sweep",
            "interval": every,
            "description": "每分钟为处理中的工单预先挑选相似的已解决案例，工单页面只需排序这些案例。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0022_case_escalation_table"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="CaseSimilar",
            fields=[
                (
                    "case",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="similar_precomputed",
                        serialize=False,
                        to="complaints.case",
                        verbose_name="case",
                    ),
                ),
                ("text_hash", models.CharField(max_length=32, verbose_name="text fingerprint")),
                ("ranking", models.JSONField(default=list, verbose_name="similar cases, best first")),
                ("computed_at", models.DateTimeField(verbose_name="picked at")),
            ],
            options={
                "verbose_name": "precomputed similar cases",
                "verbose_name_plural": "precomputed similar cases",
            },
        ),
        migrations.RunPython(create, remove),
    ]
