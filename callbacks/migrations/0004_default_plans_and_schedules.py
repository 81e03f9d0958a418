"""The handbook's follow-up plans (key and high-value customers monthly, ordinary quarterly,
low-value half-yearly, the first follow-up within 3 working days of delivery) — editable in
the admin — and the two schedules: survey dispatch every minute, follow-up generation hourly.
"""

from django.db import migrations

PLANS = [
    ("重点客户月度回访", "tier", "key", 1, None),
    ("高价值客户月度回访", "tier", "high_value", 1, None),
    ("普通客户季度回访", "tier", "ordinary", 3, None),
    ("低价值客户半年回访", "tier", "low_value", 6, None),
    ("交付后首次回访", "delivery", "", None, 3),
]

TASKS = [
    (
        "callbacks.survey_dispatch",
        "callbacks.tasks.survey_dispatch",
        1,
        "minutes",
        "每分钟发送到期的满意度调查（邮件/短信链接或电话回访任务），未答复者提醒一次，过期链接失效。",
    ),
    (
        "callbacks.followups_generate",
        "callbacks.tasks.followups_generate",
        1,
        "hours",
        "每小时按回访计划（客户等级周期回访、交付后回访）生成到期的回访任务。",
    ),
]


def create(apps, schema_editor):
    FollowUpPlan = apps.get_model("callbacks", "FollowUpPlan")
    for name, kind, tier, months, days in PLANS:
        FollowUpPlan.objects.get_or_create(
            name=name,
            defaults={
                "kind": kind,
                "tier": tier,
                "every_months": months,
                "working_days_after_delivery": days,
            },
        )
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, every, period, description in TASKS:
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        PeriodicTask.objects.get_or_create(
            name=name, defaults={"task": task, "interval": interval, "description": description}
        )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[t[0] for t in TASKS]
    ).delete()
    apps.get_model("callbacks", "FollowUpPlan").objects.filter(
        name__in=[p[0] for p in PLANS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("callbacks", "0003_surveys_and_followups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
