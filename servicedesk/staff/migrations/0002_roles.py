"""Create the five role groups. Their permissions are added by `roles.sync_role_permissions`
after each migrate, once every app's permissions exist."""

from django.db import migrations

ROLES = ["客服 Agent", "处理人 Handler", "主管 Supervisor", "经理 Manager", "管理员 Administrator"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("staff", "0001_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(create_groups, migrations.RunPython.noop)]
