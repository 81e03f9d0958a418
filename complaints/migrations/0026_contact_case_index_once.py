"""A contact's case is found through contact_case_idx (case, received_at), which leads with
it: the foreign key's own index was a second one to write on every contact. Only the index
is dropped (the state's AlterField would also drop and re-add the foreign key, validating it
over the whole table while writes wait)."""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "complaints_casecontact_case_id_fd2c8ae2"


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


def add_index(apps, schema_editor):
    table = schema_editor.quote_name("complaints_casecontact")
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {schema_editor.quote_name(INDEX)} ON {table} (case_id)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("complaints", "0025_open_list_index_columns"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[migrations.RunPython(drop_index, add_index)],
            state_operations=[
                migrations.AlterField(
                    model_name="casecontact",
                    name="case",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="contacts",
                        to="complaints.case",
                        verbose_name="case",
                    ),
                ),
            ],
        ),
    ]
