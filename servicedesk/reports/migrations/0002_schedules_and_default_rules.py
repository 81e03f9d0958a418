"""The scheduler's rows for reports (the monthly workbook at 02:00 on the 1st, alert
evaluation every 15 minutes) and the default early-warning rules, all editable in the admin."""

from django.db import migrations

RULES = [
    # (name, indicator, threshold, window_days, min_count)
    ("首次响应中位数超过 24 小时", "first_response_median", 24, 7, 10),
    ("时限未达成率超过 10%", "sla_breach_rate", 10, 7, 20),
    ("某类投诉周环比上升超过 50%", "category_rise", 50, 7, 10),
    ("某产品投诉周环比上升超过 50%", "product_rise", 50, 7, 10),
    ("满意率低于 90% 目标", "satisfaction_below", 90, 30, 20),
]

MONTHLY = "reports.monthly_report"
ALERTS = "reports.alerts_evaluate"


def create(apps, schema_editor):
    AlertRule = apps.get_model("reports", "AlertRule")
    for name, indicator, threshold, days, min_count in RULES:
        AlertRule.objects.get_or_create(
            name=name,
            defaults={
                "indicator": indicator,
                "threshold": threshold,
                "window_days": days,
                "min_count": min_count,
            },
        )
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    first_of_month, _ = CrontabSchedule.objects.get_or_create(
        minute="0",
        hour="2",
        day_of_month="1",
        month_of_year="*",
        day_of_week="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.get_or_create(
        name=MONTHLY,
        defaults={
            "task": "servicedesk.reports.tasks.monthly_report",
            "crontab": first_of_month,
            "description": "每月 1 日 02:00 生成上月的月度报表（Excel），经理可在后台下载。",
        },
    )
    every_15, _ = IntervalSchedule.objects.get_or_create(every=15, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=ALERTS,
        defaults={
            "task": "servicedesk.reports.tasks.alerts_evaluate",
            "interval": every_15,
            "description": "每 15 分钟按预警规则检查关键指标，超出阈值时通知负责经理（同一预警只发一次）。",
        },
    )


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(
        name__in=[MONTHLY, ALERTS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_reports_alerts_risks"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
