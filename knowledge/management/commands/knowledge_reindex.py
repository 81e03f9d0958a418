"""Recompute every article's search tokens, e.g. after words were added to
knowledge/data/jieba_domain.txt (stored tokens follow the dictionary of the day they were
saved). The database's own index (GIN on PostgreSQL, FTS5 on SQLite) follows the column."""

from django.core.management.base import BaseCommand
from django.db import transaction

from knowledge.models import Article


class Command(BaseCommand):
    help = "Recompute the search tokens of all knowledge-base articles."

    def handle(self, *args, **options):
        changed = 0
        with transaction.atomic():
            batch = []
            for article in Article.objects.order_by("pk").iterator(chunk_size=500):
                tokens = article.build_search_text()
                if tokens != article.search_text:
                    article.search_text = tokens
                    batch.append(article)
                if len(batch) >= 500:
                    changed += Article.objects.bulk_update(batch, ["search_text"])
                    batch = []
            if batch:
                changed += Article.objects.bulk_update(batch, ["search_text"])
        self.stdout.write(f"{changed} articles reindexed.")
