"""The case search's short subject terms (one or two characters: 闪退, 退): on PostgreSQL an
index of every character and every pair of characters of the subject, in upper case
(`case_subject_grams(subject)`, a GIN index over a text array). A two-character term is then
one element of the array, and the planner's element statistics (most_common_elems, kept by
ANALYZE) say how many cases hold it: a common word walks the newest cases and stops at the
page, a rare one reads its few rows from the index. The trigram index (0011) serves three
characters and more. SQLite reads the table (a small desk)."""

from django.db import migrations

# PL/pgSQL: a few microseconds a subject (a set-returning SQL function costs ten times as
# much, which a bitmap scan pays again on every row of a page it had to keep whole).
FUNCTION = """
CREATE OR REPLACE FUNCTION case_subject_grams(subject text) RETURNS text[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$
DECLARE
    u text := upper(subject);
    grams text[] := string_to_array(upper(subject), NULL);
BEGIN
    FOR i IN 1 .. char_length(u) - 1 LOOP
        grams := grams || substr(u, i, 2);
    END LOOP;
    RETURN grams;
END
$$
"""
INDEX = "CREATE INDEX IF NOT EXISTS case_subject_grams ON complaints_case USING gin (case_subject_grams(subject::text))"


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FUNCTION)
    schema_editor.execute(INDEX)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("DROP INDEX IF EXISTS case_subject_grams")
    schema_editor.execute("DROP FUNCTION IF EXISTS case_subject_grams(text)")


class Migration(migrations.Migration):
    dependencies = [("complaints", "0020_fewer_case_indexes")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
