"""The handbook's urgency keywords as editable rules (SPEC §1.1)."""

from django.db import migrations

RULES = [
    ("媒体曝光 Media exposure", "曝光,媒体,记者,上热搜,舆论", "high", 5, 10),
    ("法律与监管 Legal / regulator", "律师,起诉,法院,12315,消协,工商,市场监管", "high", 5, 20),
    ("人身安全 Personal safety", "受伤,安全隐患,起火,爆炸,触电,烫伤", "high", 5, 30),
    ("情绪激动 Upset customer", "非常生气,气愤,骗子,欺诈,再也不", "high", 4, 40),
    ("退款诉求 Refund", "退款", "medium", 4, 50),
]


def create(apps, schema_editor):
    UrgencyRule = apps.get_model("complaints", "UrgencyRule")
    for name, keywords, urgency, priority, order in RULES:
        UrgencyRule.objects.get_or_create(
            name=name,
            defaults={"keywords": keywords, "urgency": urgency, "priority": priority, "order": order},
        )


class Migration(migrations.Migration):
    dependencies = [("complaints", "0001_initial")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
