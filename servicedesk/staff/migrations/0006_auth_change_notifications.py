"""PostgreSQL notifies `servicedesk_auth` whenever what an API token stands for may have
changed: the token itself, its person, their groups and permissions, a group's permissions, or
the permissions' names. Web processes keep the tokens they checked until then
(servicedesk/staff/token_cache.py). Statement triggers: one notification per statement, and
PostgreSQL folds a transaction's identical notifications into one, sent when it commits.
PostgreSQL only; elsewhere nothing is kept."""

from django.db import migrations

TABLES = [
    "authtoken_token",
    "staff_user",
    "staff_user_groups",
    "staff_user_user_permissions",
    "auth_group_permissions",
    "auth_permission",
    "django_content_type",
]

FUNCTION = """
CREATE OR REPLACE FUNCTION servicedesk_auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('servicedesk_auth', TG_TABLE_NAME);
    RETURN NULL;
END $$
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    for table in TABLES:
        schema_editor.execute(
            f"CREATE TRIGGER servicedesk_auth_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION servicedesk_auth_changed()"
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS servicedesk_auth_changed ON {table}")
    schema_editor.execute("DROP FUNCTION IF EXISTS servicedesk_auth_changed()")


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0005_notification_email_outbox"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
