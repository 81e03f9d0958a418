"""The least-loaded choice as a PostgreSQL function (complaints/intake_assign.py), so that
intake draws its case number and chooses the assignee in one statement: called from the
statement that draws the number, after the draw, the function's own query sees what the
previous intake committed (a VOLATILE function takes a fresh snapshot for each query it
runs) — the choice still sees the previous intake's assignment. PostgreSQL only; elsewhere
intake runs the two as before.

It restates the rota rule of servicedesk.rota.models.on_duty_q as it stands when this migration
was written (a change there writes a migration that replaces the function):
tests/complaints/test_intake_load.py holds it to the ORM's rule through least_loaded_handler()
and tests/servicedesk/workforce/test_rota_routing.py to the rota through intake."""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION complaints_least_loaded(
    p_department bigint, p_handler text, p_agent text, p_at timestamptz,
    p_from date, p_to date, p_drawn bigint
) RETURNS SETOF staff_user LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    -- p_drawn: the number the calling statement drew, taken so that the call waits for it.
    RETURN QUERY
    SELECT u.* FROM staff_user u
    WHERE u.is_active
      AND EXISTS (SELECT 1 FROM staff_membership m
                  WHERE m.user_id = u.id AND m.department_id = p_department)
      AND EXISTS (SELECT 1 FROM staff_user_groups ug JOIN auth_group g ON g.id = ug.group_id
                  WHERE ug.user_id = u.id AND g.name IN (p_handler, p_agent))
      AND NOT EXISTS (SELECT 1 FROM rota_absence a
                      WHERE a.user_id = u.id AND a.starts_at <= p_at AND a.ends_at > p_at)
      AND (EXISTS (SELECT 1 FROM rota_rotaentry r
                   WHERE r.user_id = u.id AND r.department_id = p_department
                     AND r.starts_at <= p_at AND r.ends_at > p_at)
           OR NOT EXISTS (SELECT 1 FROM rota_rotaentry r
                          WHERE r.department_id = p_department
                            AND r.date BETWEEN p_from AND p_to))
    ORDER BY COALESCE((SELECT l.open_cases FROM complaints_assigneeload l
                       WHERE l.user_id = u.id), 0), u.id
    LIMIT 1;
END $$
"""
DROP = "DROP FUNCTION IF EXISTS complaints_least_loaded(bigint, text, text, timestamptz, date, date, bigint)"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FUNCTION)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0026_contact_case_index_once"),
        ("rota", "0001_initial"),
        ("staff", "0005_notification_email_outbox"),
    ]

    operations = [migrations.RunPython(create_function, drop_function)]
