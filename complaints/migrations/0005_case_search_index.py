"""Full-text search over Case.search_text for similar-case suggestions (knowledge/fts.py);
fills the column for cases received before it existed."""

from django.db import migrations

from knowledge.fts import search_index_operations
from knowledge.text import search_text

index_forwards, index_backwards = search_index_operations(
    app_label="complaints",
    model_name="Case",
    table="complaints_case",
    fts_table="complaints_case_fts",
    index_name="case_search_gin",
)


def fill(apps, schema_editor):
    Case = apps.get_model("complaints", "Case")
    batch = []
    fields = ["subject", "description", "customer_words", "cause", "result"]
    for case in Case.objects.only("pk", *fields).iterator(chunk_size=2000):
        case.search_text = search_text(
            case.subject, case.subject, case.subject, case.description, case.customer_words,
            case.cause, case.result,
        )  # fmt: skip
        batch.append(case)
        if len(batch) == 2000:
            Case.objects.bulk_update(batch, ["search_text"])
            batch = []
    Case.objects.bulk_update(batch, ["search_text"])


def forwards(apps, schema_editor):
    fill(apps, schema_editor)
    index_forwards(apps, schema_editor)


class Migration(migrations.Migration):
    dependencies = [("complaints", "0004_plan_revision_articles_search"), ("knowledge", "0002_search_index")]
    operations = [migrations.RunPython(forwards, index_backwards)]
