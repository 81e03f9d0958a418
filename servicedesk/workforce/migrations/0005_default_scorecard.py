"""A first QA scorecard (服务质检评分表, published v1) with the handbook's six items."""

from django.db import migrations
from django.utils import timezone

ITEMS = [
    ("规范问候语", "开场问候、自报工号、礼貌结束", 10),
    ("问题识别", "准确理解并复述客户诉求", 20),
    ("解决方案", "方案正确、可执行，符合政策", 30),
    ("时效", "在时限内响应并跟进", 15),
    ("记录完整", "工单记录完整、准确、可追溯", 15),
    ("情绪安抚", "共情、安抚客户情绪", 10),
]


def create(apps, schema_editor):
    Scorecard = apps.get_model("workforce", "Scorecard")
    Version = apps.get_model("workforce", "ScorecardVersion")
    Item = apps.get_model("workforce", "ScorecardItem")
    card, created = Scorecard.objects.get_or_create(code="service-qa", defaults={"name": "服务质检评分表"})
    if not created:
        return
    version = Version.objects.create(scorecard=card, number=1, status="published", published_at=timezone.now())
    for order, (label, description, weight) in enumerate(ITEMS):
        Item.objects.create(version=version, label=label, description=description, weight=weight, order=order)


class Migration(migrations.Migration):
    dependencies = [("workforce", "0004_scorecard_qareview_agentperformance_qasample_and_more")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
