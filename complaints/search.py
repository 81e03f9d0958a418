"""Suggestions while working a case (相似案例推荐): the most relevant published knowledge
articles and the most similar resolved cases, so the same problem gets the same answer
across departments. Both read a bounded set of rows picked by the case's distinctive words
(knowledge.similar), so the case page costs the same at a thousand cases and at a million."""

from knowledge.models import Article, ArticleStatus
from knowledge.search import FTS_TABLE as ARTICLE_FTS
from knowledge.similar import CANDIDATES, more_like_this

from .models import Case, CaseSimilar, State, text_hash

CASE_FTS = "complaints_case_fts"
CASE_INDEX = "case_search_gin"
ARTICLE_INDEX = "article_search_gin"
SUGGESTIONS = 5


def case_query(case):
    """What the case is about, most telling words first (the search keeps the first 20)."""
    return " ".join(x for x in [case.subject, case.customer_words, case.description] if x)


def suggested_articles(case, *, limit=SUGGESTIONS):
    queryset = Article.objects.filter(status=ArticleStatus.PUBLISHED).only(
        "title", "summary", "category", "search_text"
    )
    return more_like_this(
        queryset, case_query(case), fts_table=ARTICLE_FTS, index_name=ARTICLE_INDEX,
        title_field="title", limit=limit,
    )  # fmt: skip


def similar_resolved_cases(case, *, limit=SUGGESTIONS, user=None):
    """Resolved or closed cases most like `case` (with their result), best first; only those
    `user` may see when given. When the sweep has picked and ranked them for the case's
    current text (complaints.similar_store), those are shown; otherwise they are picked now."""
    query = case_query(case)
    queryset = _resolved_cases(case).select_related("department").only(
        "number", "subject", "state", "result", "cause", "resolved_at", "search_text",
        "department__name", "department__code",
    )  # fmt: skip
    ranking = (
        CaseSimilar.objects.filter(case_id=case.pk, text_hash=text_hash(query))
        .values_list("ranking", flat=True)
        .first()
    )
    if ranking is not None:
        # At most CANDIDATES rows read by primary key: the rule can go into that query.
        return _picked(ranking, queryset.visible_to(user) if user else queryset, limit)
    visible = None
    if user is not None:

        def visible(pks):
            # What `user` may see of the candidates: by primary key, whatever the table size.
            return set(
                Case.objects.filter(pk__in=pks).visible_to(user).values_list("pk", flat=True)
            )

    return _more_like(queryset, query, limit=limit, visible=visible)


def pick_similar_cases(case):
    """What the sweep keeps for `case` (similar_store): [[case id, relevance], …] best first —
    every resolved or closed case that ranks, of up to CANDIDATES, before any reader's
    visibility. Asking for them all, the pick takes the page's candidates or more (those
    sharing one rare word when fewer than CANDIDATES share two; the page, asking for five,
    only below five), so the five shown are at least as relevant as picking on the page."""
    queryset = _resolved_cases(case).only("subject", "search_text")
    ranked = _more_like(queryset, case_query(case), limit=CANDIDATES)
    return [[row.pk, row.relevance] for row in ranked]


def _resolved_cases(case):
    return Case.objects.filter(state__in=[State.RESOLVED, State.CLOSED]).exclude(pk=case.pk)


def _more_like(queryset, query, *, limit, visible=None):
    return more_like_this(
        queryset, query, fts_table=CASE_FTS, index_name=CASE_INDEX, title_field="subject",
        limit=limit, own=1, visible=visible,
    )  # fmt: skip


def _picked(ranking, queryset, limit):
    """The first `limit` cases of a kept `ranking` that `queryset` still holds — still
    resolved or closed, visible to the reader — each with its `relevance`. Two queries: which
    of the (at most CANDIDATES) picked `queryset` holds, then the rows shown."""
    held = set(queryset.filter(pk__in=[pk for pk, _r in ranking]).values_list("pk", flat=True))
    chosen = [(pk, relevance) for pk, relevance in ranking if pk in held][:limit]
    rows = queryset.in_bulk([pk for pk, _r in chosen])
    shown = []
    for pk, relevance in chosen:
        if pk in rows:  # changed between the two queries
            rows[pk].relevance = relevance
            shown.append(rows[pk])
    return shown
