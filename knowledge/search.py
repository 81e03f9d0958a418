"""Knowledge-base search that works for Chinese, on PostgreSQL and on SQLite.

Chinese has no spaces between words, so neither database can split it by itself. Each
article stores `search_text`: its title (three times, for weight), tags, summary and body cut
into words by jieba (`knowledge.text.tokenize`, with our domain dictionary) and joined by
spaces. A query is cut the same way, and an article matches when it contains any of the
query's words; articles with more of the words, rarer words and words in the title rank first.

- PostgreSQL: full-text search with the `simple` configuration (no stemming: the words are
  already jieba's) over `to_tsvector('simple', search_text)`, served by the GIN index
  `article_search_gin` (migration 0002), ranked by `ts_rank`.
- SQLite: an FTS5 table `knowledge_article_fts` over the same column, kept in step by
  triggers (migration 0002), ranked by `bm25`. Without FTS5 in the SQLite build, a LIKE
  match per word, ranked by the number of words found.

Both add the same title bonus: the share of the query's words found in the title, plus one
when the whole query appears in it.
"""

from django.db import connections, router
from django.db.models import Case, F, FloatField, Q, Value, When
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from . import text
from .models import Article, ArticleStatus

FTS_TABLE = "knowledge_article_fts"
MAX_QUERY_TOKENS = 20
_fts_available = {}


def query_tokens(query):
    """The distinct words of a query, in order (at most MAX_QUERY_TOKENS)."""
    seen = []
    for token in text.tokenize(query or ""):
        if token not in seen:
            seen.append(token)
    return seen[:MAX_QUERY_TOKENS]


def _sqlite_has_fts(connection, fts_table):
    key = (connection.alias, connection.settings_dict["NAME"], fts_table)
    if key not in _fts_available:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM sqlite_master WHERE name = %s", [fts_table])
            _fts_available[key] = cursor.fetchone() is not None
    return _fts_available[key]


def _title_bonus(query, tokens, title_field):
    def has(value):
        return Case(
            When(**{f"{title_field}__icontains": value}, then=Value(1.0)), default=Value(0.0)
        )

    share = sum((has(t) for t in tokens), Value(0.0)) / Value(float(len(tokens)))
    return share + has(query.strip())


def article_search(queryset, query):
    """`queryset` (of articles) narrowed to those matching `query`, each annotated with
    `relevance` (higher is better) and ordered best first. An empty query matches nothing."""
    return ranked_search(queryset, query, fts_table=FTS_TABLE, title_field="title").order_by(
        F("relevance").desc(), "-updated_at"
    )


def ranked_search(queryset, query, *, fts_table, title_field="title"):
    """The rows of `queryset` whose `search_text` (jieba tokens) matches `query`, annotated with
    `relevance` and ordered best first. Any model with a `search_text` column and the indexes
    of knowledge migration 0002's kind (GIN on PostgreSQL, an FTS5 table `fts_table` kept by
    triggers on SQLite) can use it; cases do for similar-case suggestions."""
    tokens = query_tokens(query)
    if not tokens:
        return queryset.none().annotate(relevance=Value(0.0, output_field=FloatField()))
    connection = connections[router.db_for_read(queryset.model)]
    bonus = _title_bonus(query, tokens, title_field)
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector

        # The very expression the GIN index is built on, so the planner can use the index.
        vector = SearchVector("search_text", config="simple")
        ts_query = SearchQuery(tokens[0], config="simple")
        for token in tokens[1:]:
            ts_query |= SearchQuery(token, config="simple")
        relevance = Cast(SearchRank(vector, ts_query), FloatField()) + bonus
        queryset = queryset.alias(search_vector=vector).filter(search_vector=ts_query)
    elif connection.vendor == "sqlite" and _sqlite_has_fts(connection, fts_table):
        match = " OR ".join('"{}"'.format(t.replace('"', '""')) for t in tokens)
        table = queryset.model._meta.db_table
        # bm25() is negative, lower is better; it only exists inside a MATCH query, hence
        # the correlated subquery per matching article.
        rank = RawSQL(
            f"SELECT -bm25({fts_table}) FROM {fts_table} "
            f'WHERE {fts_table} MATCH %s AND rowid = "{table}"."id"',
            [match],
            output_field=FloatField(),
        )
        relevance = rank + bonus
        queryset = queryset.filter(
            id__in=RawSQL(f"SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH %s", [match])
        )
    else:
        found = sum(
            (
                Case(When(search_text__contains=t, then=Value(1.0)), default=Value(0.0))
                for t in tokens
            ),
            Value(0.0),
        )
        match = Q()
        for t in tokens:
            match |= Q(search_text__contains=t)
        relevance = found + bonus
        queryset = queryset.filter(match)
    return queryset.annotate(relevance=relevance).order_by(F("relevance").desc(), "-pk")


def search_articles(query, *, status=ArticleStatus.PUBLISHED, limit=20):
    """The best `limit` articles for `query` (all statuses with status=None), best first,
    each with a `relevance` score."""
    queryset = Article.objects.select_related("author")
    if status is not None:
        queryset = queryset.filter(status=status)
    results = article_search(queryset, query)
    return results[:limit] if limit else results
