"""The case timeline is append-only in the database too (PostgreSQL): a trigger refuses any
UPDATE or DELETE of a timeline row, whoever issues it (a raw query, a bulk update, a cascade
from a deleted case). CaseEvent.save()/delete() refuse it in Python already. TRUNCATE (test
flushes, the benches' reset) is not a row change and stays possible. SQLite: nothing to do."""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION complaints_caseevent_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the case timeline is append-only: % of a timeline event refused', TG_OP
        USING ERRCODE = 'restrict_violation';
END
$$;
CREATE TRIGGER caseevent_append_only
    BEFORE UPDATE OR DELETE ON complaints_caseevent
    FOR EACH ROW EXECUTE FUNCTION complaints_caseevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS caseevent_append_only ON complaints_caseevent;
DROP FUNCTION IF EXISTS complaints_caseevent_append_only();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE, params=None)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP, params=None)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0010_report_indexes")]

    operations = [migrations.RunPython(create, drop)]
