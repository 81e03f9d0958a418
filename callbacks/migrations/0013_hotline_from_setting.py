"""The shipped questionnaire's closing named a made-up hotline ("400-xxx-xxxx"): it now holds
the placeholder {热线}, which shows the SERVICE_HOTLINE setting (or drops the phrase when
none is set). Texts edited by hand are left alone."""

from django.db import migrations

OLD = "客服热线 400-xxx-xxxx"
NEW = "客服热线 {热线}"


def forwards(apps, schema_editor):
    Version = apps.get_model("callbacks", "QuestionnaireVersion")
    for version in Version.objects.filter(closing__contains=OLD):
        version.closing = version.closing.replace(OLD, NEW)
        version.save(update_fields=["closing"])


def backwards(apps, schema_editor):
    Version = apps.get_model("callbacks", "QuestionnaireVersion")
    for version in Version.objects.filter(closing__contains=NEW):
        version.closing = version.closing.replace(NEW, OLD)
        version.save(update_fields=["closing"])


class Migration(migrations.Migration):
    dependencies = [("callbacks", "0012_merge_0007_bounded_text_0011_recall_campaigns")]
    operations = [migrations.RunPython(forwards, backwards)]
