""" "More like this" over a `search_text` column (jieba tokens): what similar-case and
similar-article suggestions read, in a bounded number of rows whatever the table size.

Ranking every row that shares any word with a case does not scale: common words (客户, 要求,
问题) match half the table, so the full-text index returns hundreds of thousands of rows to
sort. Instead:

1. The query's words are weighted by rarity (inverse document frequency). How many rows hold
   a word comes from PostgreSQL's own statistics of the full-text index (`pg_stats`
   most_common_elems of the indexed tsvector, kept by ANALYZE / autovacuum): no scan. Without
   statistics (a fresh table, SQLite) the rows are counted, at most COUNT_CAP per word, in one
   query.
2. Words held by more than MAX_TERM_SHARE of the rows are too common to pick candidates (unless
   fewer than two words are rarer: then the rarest up to FALLBACK_TERM_SHARE). Of the rest,
   the DISTINCTIVE_TERMS rarest pick them, as many as hold no more than POSTINGS_SHARE of the
   rows between them (at least two): a row must hold two of them (one when
   the query has only one), which the GIN index (FTS5 on SQLite) answers from short posting
   lists; the scan stops after CANDIDATES rows (no ORDER BY: sorting would read them all).
   When too few rows hold two, rows holding one of the three rarest are added; a word that
   many rows hold is then looked for among the newest COMMON_WINDOW rows only.
3. Those few rows are ranked in Python: the summed weight of the query words each holds, half
   as much again for words in its title; `relevance` is that as a share (0–1) of the most a
   row could score, so it reads the same for every query and no raw score is shown.
"""

import itertools
import math
import time

from django.db import connections, router
from django.db.models import Max, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat

from . import text

MAX_QUERY_TOKENS = 20
MAX_TERM_SHARE = 0.05
# When fewer than two words are rarer than that (a desk's most common problem: 闪退 in 6 % of
# its cases), the FALLBACK_TERMS rarest words held by at most FALLBACK_TERM_SHARE of the rows
# pick candidates too, so the most frequent complaint still gets the answers given before.
FALLBACK_TERM_SHARE = 0.15
FALLBACK_TERMS = 4
# Below this many rows holding it, any word may pick candidates: a small table is cheap.
MIN_COMMON = 200
DISTINCTIVE_TERMS = 8
# The rows the picking words hold between them, at most (a share of the table, or at least
# MIN_POSTINGS): the full-text index reads every one of them into its bitmap before the scan
# stops at CANDIDATES. Beyond the two rarest words, a word that would pass it is left out.
POSTINGS_SHARE = 0.1
MIN_POSTINGS = 20_000
CANDIDATES = 100
# A word alone (_holding_one) held by at least MIN_POSTINGS rows and COMMON_SHARE of them is
# looked for among the newest COMMON_WINDOW rows (by key) only, in their stored words, rather
# than through the full-text index: those rows may be expected to hold 200 of them.
COMMON_SHARE = 0.01
COMMON_WINDOW = 20_000
COUNT_CAP = 5000
TITLE_WEIGHT = 0.5
# A row sharing less than this share of the query's weight is not shown: it only shares words.
MIN_RELEVANCE = 0.15


def query_tokens(query):
    """The distinct words of a query, in order (at most MAX_QUERY_TOKENS)."""
    return list(dict.fromkeys(text.tokenize(query or "")))[:MAX_QUERY_TOKENS]


def _connection(model):
    return connections[router.db_for_read(model)]


def _sqlite_fts(connection, fts_table):
    from .search import _sqlite_has_fts

    return connection.vendor == "sqlite" and _sqlite_has_fts(connection, fts_table)


# The planner's statistics change when ANALYZE runs (autovacuum: after a tenth of the table
# has changed), so each process reads them at most once in this many seconds: a case page
# and the suggestions then skip that statement (~1 ms).
STATISTICS_SECONDS = 600
_statistics = {}


def _pg_statistics(connection, model, index_name):
    """(rows, {word: share of rows}, share below which words are not listed) from the planner
    statistics of the full-text index, or None when the index has none yet. Read at most
    once in STATISTICS_SECONDS per process and database."""
    key = (connection.alias, connection.settings_dict["NAME"], index_name)
    kept = _statistics.get(key)
    now = time.monotonic()
    if kept is not None and kept[0] > now:
        return kept[1]
    stats = _read_pg_statistics(connection, model, index_name)
    _statistics[key] = (now + STATISTICS_SECONDS, stats)
    return stats


def _read_pg_statistics(connection, model, index_name):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.reltuples, s.most_common_elems::text::text[], s.most_common_elem_freqs "
            "FROM pg_class c LEFT JOIN pg_stats s ON s.tablename = %s AND s.schemaname = "
            "current_schema() WHERE c.oid = %s::regclass",
            [index_name, model._meta.db_table],
        )
        row = cursor.fetchone()
    if not row or row[0] is None or row[0] < 1000 or not row[1]:
        return None  # small or never analysed: counting is cheap and exact
    rows, elems, freqs = row
    # The last three numbers are the minimum, maximum and null share, not per-word shares.
    shares = dict(zip(elems, freqs[: len(elems)], strict=False))
    return rows, shares, min(freqs[: len(elems)]) / 2


def _counted(connection, model, tokens, fts_table):
    """(rows, {word: rows holding it, at most COUNT_CAP}) counted in one query."""
    table = connection.ops.quote_name(model._meta.db_table)
    parts, params = [f"(SELECT COUNT(*) FROM {table})"], []
    for token in tokens:
        if connection.vendor == "postgresql":
            # The GIN index's own expression (Django's SearchVector), so the index serves it.
            match = (
                "to_tsvector('simple'::regconfig, COALESCE(search_text, '')) @@ "
                "plainto_tsquery('simple', %s)"
            )
            parts.append(f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE {match} LIMIT %s) s)")
            params += [token, COUNT_CAP]
        elif _sqlite_fts(connection, fts_table):
            parts.append(
                f"(SELECT COUNT(*) FROM (SELECT 1 FROM {fts_table} WHERE {fts_table} MATCH %s "
                "LIMIT %s))"
            )
            params += ['"{}"'.format(token.replace('"', '""')), COUNT_CAP]
        else:
            parts.append(
                f"(SELECT COUNT(*) FROM (SELECT 1 FROM {table} WHERE ' ' || search_text || ' ' "
                "LIKE %s LIMIT %s) s)"
            )
            params += [f"% {token} %", COUNT_CAP]
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        total, *counts = cursor.fetchone()
    return total, dict(zip(tokens, counts, strict=True))


def word_weights(model, tokens, *, fts_table, index_name):
    """(rows in the table, {word: rows holding it}, {words the statistics do not list}). On
    PostgreSQL with statistics the counts are estimates, and a word rarer than the rarest
    listed one is only known to be rare. One query."""
    connection = _connection(model)
    if connection.vendor == "postgresql":
        stats = _pg_statistics(connection, model, index_name)
        if stats is not None:
            rows, shares, unlisted = stats
            found = {t: shares.get(t, unlisted) * rows for t in tokens}
            return rows, found, {t for t in tokens if t not in shares}
    rows, found = _counted(connection, model, tokens, fts_table)
    return rows, found, set()


def _idf(rows, found):
    # A word every row holds still counts a little (a small table of near-duplicates).
    return math.log((rows + 1) / (found + 0.5))


def _match(queryset, connection, groups, fts_table):
    """`queryset` narrowed to rows holding every word of at least one group, through the
    full-text index."""
    if connection.vendor == "postgresql":
        from django.contrib.postgres.search import SearchQuery, SearchVector

        ts_query = None
        for group in groups:
            part = None
            for word in group:
                term = SearchQuery(word, config="simple")
                part = term if part is None else part & term
            ts_query = part if ts_query is None else ts_query | part
        # The very expression the GIN index is built on, so the planner uses the index.
        vector = SearchVector("search_text", config="simple")
        return queryset.alias(search_vector=vector).filter(search_vector=ts_query)
    if _sqlite_fts(connection, fts_table):
        match = " OR ".join(
            "(" + " AND ".join('"{}"'.format(w.replace('"', '""')) for w in group) + ")"
            for group in groups
        )
        return queryset.filter(
            id__in=RawSQL(f"SELECT rowid FROM {fts_table} WHERE {fts_table} MATCH %s", [match])
        )
    condition = Q()
    for group in groups:
        part = Q()
        for word in group:
            part &= Q(search_text__contains=word)
        condition |= part
    return queryset.filter(condition)


def distinctive_words(tokens, rows, found, unlisted, *, own=0):
    """The query words that pick candidates: held by other rows (`own`: rows of the table
    the query itself comes from), but by no more than MAX_TERM_SHARE of them; the rarest
    first. Words the statistics do not list are rare but may be the query's own only: they
    share the places with the rarest listed ones, in query order (the subject first). Fewer
    than two such words: the rarest of the more common ones make up FALLBACK_TERMS."""
    picked = _rare_words(tokens, rows, found, unlisted, own=own)
    if len(picked) >= 2:
        return picked
    low, high = max(MAX_TERM_SHARE * rows, MIN_COMMON), FALLBACK_TERM_SHARE * rows
    common = sorted((t for t in tokens if low < found[t] <= high), key=lambda t: found[t])
    return picked + common[: FALLBACK_TERMS - len(picked)]


def within_postings(words, rows, found):
    """The rarest of `words` whose rows add up to no more than POSTINGS_SHARE of the table (or
    MIN_POSTINGS), and always the two rarest; rarest first. Words that are each in a few
    percent of a million cases — a desk's most common problem, or text that follows a
    template — would otherwise have the index gather hundreds of thousands of rows to pick
    100 candidates; rare words pass it all, as every word does in a small table."""
    budget = max(POSTINGS_SHARE * rows, MIN_POSTINGS)
    kept, held = [], 0
    for word in sorted(words, key=lambda t: found[t]):
        if len(kept) >= 2 and held + found[word] > budget:
            break
        kept.append(word)
        held += found[word]
    return kept


def _rare_words(tokens, rows, found, unlisted, *, own=0):
    limit = max(MAX_TERM_SHARE * rows, MIN_COMMON)
    usable = [t for t in tokens if own < found[t] <= limit]
    listed = sorted((t for t in usable if t not in unlisted), key=lambda t: found[t])
    others = [t for t in usable if t in unlisted]
    if not others:
        return listed[:DISTINCTIVE_TERMS]
    half = DISTINCTIVE_TERMS // 2
    picked = listed[: max(half, DISTINCTIVE_TERMS - len(others))]
    return picked + others[: DISTINCTIVE_TERMS - len(picked)]


def _holding_one(queryset, connection, words, rows, found, fts_table, wanted):
    """Up to `wanted` rows of `queryset` holding one of `words`, through the full-text index;
    on PostgreSQL, a word held by many rows (see COMMON_WINDOW) among the newest rows, newest
    first, in their stored words. For 咨询 in 5 % of a million cases the index reads its whole
    posting list (50,000 rows, 11 ms), and PostgreSQL's own plan, a scan recomputing each
    row's words until a hundred match, costs 20 ms; ~2,000 of the newest rows hold a hundred
    (2 ms), and when none of them does the scan ends at the window (~15 ms). One query; with
    a common word, one more for the newest key and one for the window."""
    common = []
    if connection.vendor == "postgresql":
        many = max(MIN_POSTINGS, COMMON_SHARE * rows)
        common = [w for w in words if found[w] >= many]
    rare = [[w] for w in words if w not in common]
    out = []
    if rare:
        out = list(_match(queryset, connection, rare, fts_table).order_by()[:wanted])
    if common and len(out) < wanted:
        newest = queryset.model._base_manager.using(connection.alias).aggregate(n=Max("pk"))["n"]
        if newest is None:  # emptied since the statistics were taken
            return out
        # search_text is the space-joined words: a word is held when " word " is in it.
        held = Q()
        for word in common:
            held |= Q(padded_words__contains=f" {word} ")
        more = (
            queryset.exclude(pk__in=[row.pk for row in out])
            .filter(pk__gte=newest - COMMON_WINDOW)
            .alias(padded_words=Concat(Value(" "), "search_text", Value(" "),
                                       output_field=TextField()))
            .filter(held)
            .order_by("-pk")
        )  # fmt: skip
        out += list(more[: wanted - len(out)])
    return out


def more_like_this(
    queryset, query, *, fts_table, index_name, title_field, limit=5, own=0, visible=None
):
    """The `limit` rows of `queryset` most like `query` (text), best first, each with
    `relevance` in 0..1; `own` is 1 when the query is a row of the same table. Two to five
    queries: word statistics (none when read lately), then at most CANDIDATES rows (in more
    steps when few rows share two words: _holding_one). `visible`, when given, takes the
    candidates' primary keys and returns those the reader may see (one more query): applied
    to the candidates rather than to the scan, whose LIMIT would otherwise read the whole
    table for a reader who sees few of the rows that match."""
    tokens = query_tokens(query)
    if not tokens:
        return []
    model = queryset.model
    connection = _connection(model)
    rows, found, unlisted = word_weights(model, tokens, fts_table=fts_table, index_name=index_name)
    rows = max(rows, 1)
    weight = {t: _idf(rows, found[t]) for t in tokens}
    distinctive = within_postings(
        distinctive_words(tokens, rows, found, unlisted, own=own), rows, found
    )
    if not distinctive:
        return []
    groups = list(itertools.combinations(distinctive, 2)) if len(distinctive) > 1 else [distinctive]
    # No ORDER BY: sorting would read every matching row; the index scan stops at the limit.
    candidates = list(_match(queryset, connection, groups, fts_table).order_by()[:CANDIDATES])
    if len(candidates) < limit and len(distinctive) > 1:
        # Too few rows share two rare words: one of the three rarest will do.
        seen = {c.pk for c in candidates}
        candidates += _holding_one(
            queryset.exclude(pk__in=seen), connection, distinctive[:3], rows, found,
            fts_table, CANDIDATES - len(candidates),
        )  # fmt: skip
    if visible is not None and candidates:
        kept = visible([c.pk for c in candidates])
        candidates = [c for c in candidates if c.pk in kept]
    best = TITLE_WEIGHT * sum(weight.values()) + sum(weight.values()) or 1.0
    ranked = []
    for row in candidates:
        words = set(row.search_text.split())
        title = set(text.tokenize(getattr(row, title_field) or ""))
        score = sum(weight[t] for t in tokens if t in words)
        score += TITLE_WEIGHT * sum(weight[t] for t in tokens if t in title)
        row.relevance = round(min(score / best, 1.0), 2)
        if row.relevance >= MIN_RELEVANCE:
            ranked.append((score, row.pk, row))
    ranked.sort(key=lambda item: (-item[0], -item[1]))
    return [row for _score, _pk, row in ranked[:limit]]
