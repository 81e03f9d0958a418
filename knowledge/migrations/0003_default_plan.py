"""The handbook's complaint-handling plan as the default plan, revision 1 published."""

from django.db import migrations


def create(apps, schema_editor):
    from knowledge.handbook import install_default_plan

    install_default_plan(apps)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0002_search_index")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
