"""The default urgency rules are named in Chinese only ("媒体曝光", not "媒体曝光 Media
exposure"): the name is data, shown as is on zh-hans screens. Rules renamed by hand are
left alone."""

from django.db import migrations

RENAMES = [
    ("媒体曝光 Media exposure", "媒体曝光"),
    ("法律与监管 Legal / regulator", "法律与监管"),
    ("人身安全 Personal safety", "人身安全"),
    ("情绪激动 Upset customer", "情绪激动"),
    ("退款诉求 Refund", "退款诉求"),
]


def rename(apps, schema_editor):
    UrgencyRule = apps.get_model("complaints", "UrgencyRule")
    for old, new in RENAMES:
        if not UrgencyRule.objects.filter(name=new).exists():
            UrgencyRule.objects.filter(name=old).update(name=new)


def rename_back(apps, schema_editor):
    UrgencyRule = apps.get_model("complaints", "UrgencyRule")
    for old, new in RENAMES:
        UrgencyRule.objects.filter(name=new).update(name=old)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0016_merge_20261203_0439")]
    operations = [migrations.RunPython(rename, rename_back)]
