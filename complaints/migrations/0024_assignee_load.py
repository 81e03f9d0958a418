"""Each person's active cases, kept by triggers on the case table (complaints/models_load.py):
the table, the triggers (PostgreSQL and SQLite) and the first count."""

from django.db import migrations, models

# The active states when this migration was written; a later change of them writes a migration
# that replaces the triggers.
ACTIVE = "'received', 'assigned', 'investigating', 'solution_proposed', 'reopened'"
ADD = (
    "INSERT INTO complaints_assigneeload (user_id, open_cases) {source} "
    "ON CONFLICT (user_id) DO UPDATE SET open_cases = complaints_assigneeload.open_cases + 1"
)
TAKE = "UPDATE complaints_assigneeload SET open_cases = open_cases - 1 WHERE user_id = {who}"
NEW_OPEN = f"NEW.assignee_id IS NOT NULL AND NEW.state IN ({ACTIVE})"
OLD_OPEN = f"OLD.assignee_id IS NOT NULL AND OLD.state IN ({ACTIVE})"

TRIGGERS = {
    "postgresql": [
        "CREATE FUNCTION complaints_assigneeload_track() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        f"IF TG_OP <> 'INSERT' THEN IF {OLD_OPEN} THEN {TAKE.format(who='OLD.assignee_id')}; "
        "END IF; END IF; "
        f"IF TG_OP <> 'DELETE' THEN IF {NEW_OPEN} THEN "
        f"{ADD.format(source='VALUES (NEW.assignee_id, 1)')}; END IF; END IF; "
        "RETURN NULL; END $$",
        "CREATE TRIGGER complaints_case_load_insert AFTER INSERT OR DELETE ON complaints_case "
        "FOR EACH ROW EXECUTE FUNCTION complaints_assigneeload_track()",
        "CREATE TRIGGER complaints_case_load_update AFTER UPDATE OF assignee_id, state "
        "ON complaints_case FOR EACH ROW WHEN (OLD.assignee_id IS DISTINCT FROM "
        "NEW.assignee_id OR OLD.state IS DISTINCT FROM NEW.state) "
        "EXECUTE FUNCTION complaints_assigneeload_track()",
    ],
    "sqlite": [
        "CREATE TRIGGER complaints_case_load_insert AFTER INSERT ON complaints_case BEGIN "
        f"{ADD.format(source=f'SELECT NEW.assignee_id, 1 WHERE {NEW_OPEN}')}; END",
        f"CREATE TRIGGER complaints_case_load_delete AFTER DELETE ON complaints_case "
        f"WHEN {OLD_OPEN} BEGIN {TAKE.format(who='OLD.assignee_id')}; END",
        "CREATE TRIGGER complaints_case_load_update AFTER UPDATE OF assignee_id, state "
        "ON complaints_case WHEN OLD.assignee_id IS NOT NEW.assignee_id "
        "OR OLD.state IS NOT NEW.state BEGIN "
        f"{TAKE.format(who='OLD.assignee_id')} AND {OLD_OPEN}; "
        f"{ADD.format(source=f'SELECT NEW.assignee_id, 1 WHERE {NEW_OPEN}')}; END",
    ],
}
DROP = {
    "postgresql": [
        "DROP TRIGGER IF EXISTS complaints_case_load_update ON complaints_case",
        "DROP TRIGGER IF EXISTS complaints_case_load_insert ON complaints_case",
        "DROP FUNCTION IF EXISTS complaints_assigneeload_track()",
    ],
    "sqlite": [
        f"DROP TRIGGER IF EXISTS complaints_case_load_{name}"
        for name in ("insert", "delete", "update")
    ],
}
COUNT = (
    "INSERT INTO complaints_assigneeload (user_id, open_cases) "
    "SELECT assignee_id, COUNT(*) FROM complaints_case "
    f"WHERE assignee_id IS NOT NULL AND state IN ({ACTIVE}) GROUP BY assignee_id"
)


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for statement in [*TRIGGERS[vendor], COUNT]:
        schema_editor.execute(statement)


def drop_triggers(apps, schema_editor):
    for statement in DROP[schema_editor.connection.vendor]:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0023_similar_cases_precomputed"),
    ]

    operations = [
        migrations.CreateModel(
            name="AssigneeLoad",
            fields=[
                (
                    "user_id",
                    models.BigIntegerField(
                        primary_key=True, serialize=False, verbose_name="person"
                    ),
                ),
                ("open_cases", models.IntegerField(default=0, verbose_name="active cases")),
            ],
            options={
                "verbose_name": "active cases of a person",
                "verbose_name_plural": "active cases of people",
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
