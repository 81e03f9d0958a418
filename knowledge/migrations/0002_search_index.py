"""Full-text search over Article.search_text (jieba tokens): see knowledge/fts.py."""

from django.db import migrations

from knowledge.fts import search_index_operations

forwards, backwards = search_index_operations(
    app_label="knowledge",
    model_name="Article",
    table="knowledge_article",
    fts_table="knowledge_article_fts",
    index_name="article_search_gin",
)


class Migration(migrations.Migration):
    dependencies = [("knowledge", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
