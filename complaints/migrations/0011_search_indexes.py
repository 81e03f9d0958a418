"""Indexes for the case search (complaints/lookup.py): the phone's last four digits and the
order number in upper case (both databases), and on PostgreSQL trigram indexes (pg_trgm) for
substring search in subjects and customer names plus a prefix index for short names. SQLite
has no pg_trgm: there the search reads the table (a small desk)."""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


TRIGRAM_INDEXES = [
    ("case_subject_trgm", "complaints_case", "USING gin (upper(subject::text) gin_trgm_ops)"),
    ("customer_name_trgm", "complaints_customer", "USING gin (upper(name::text) gin_trgm_ops)"),
    # Names of one or two characters (张三) have no trigram: a prefix search serves them.
    ("customer_name_prefix", "complaints_customer", "(name varchar_pattern_ops)"),
]


def trigram_forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, how in TRIGRAM_INDEXES:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} {how}")


def trigram_backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _how in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('complaints', '0010_report_indexes'),
        ('knowledge', '0004_review_reminder_schedule'),
        ('staff', '0004_email_sweep_schedule'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(trigram_forwards, trigram_backwards, elidable=False),
        migrations.AddIndex(
            model_name='case',
            index=models.Index(django.db.models.functions.text.Upper('order_no'), name='case_order_no_upper_idx'),
        ),
        migrations.AddIndex(
            model_name='customer',
            index=models.Index(django.db.models.functions.text.Right('phone_normalized', 4), name='customer_phone_tail_idx'),
        ),
    ]
