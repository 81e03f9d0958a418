"""Suggestions while working a case (相似案例推荐): the most relevant published knowledge
articles and the most similar resolved cases, so the same problem gets the same answer
across departments. Both read a bounded set of rows picked by the case's distinctive words
(knowledge.similar), so the case page costs the same at a thousand cases and at a million."""

from knowledge.models import Article, ArticleStatus
from knowledge.search import FTS_TABLE as ARTICLE_FTS
from knowledge.similar import more_like_this

from .models import Case, State

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


def resolved_cases(case):
    """The cases `case`'s similar cases come from."""
    return Case.objects.filter(state__in=[State.RESOLVED, State.CLOSED]).exclude(pk=case.pk)


def similar_resolved_cases(case, *, limit=SUGGESTIONS, user=None):
    """Resolved or closed cases most like `case` (with their result), best first; only those
    `user` may see when given. When the sweep has picked and ranked them for the case's
    current text (complaints.similar_store), those are shown; otherwise they are picked now."""
    from . import similar_store

    query = case_query(case)
    queryset = resolved_cases(case).select_related("department").only(
        "number", "subject", "state", "result", "cause", "resolved_at", "search_text",
        "department__name", "department__code",
    )  # fmt: skip
    ranking = similar_store.stored_ranking(case, query)
    if ranking is not None:
        # At most CANDIDATES rows read by primary key: the rule can go into that query.
        visible_rows = queryset.visible_to(user) if user is not None else queryset
        return similar_store.ranked_cases(ranking, visible_rows, limit=limit)
    visible = None
    if user is not None:

        def visible(pks):
            # What `user` may see of the candidates: by primary key, whatever the table size.
            return set(
                Case.objects.filter(pk__in=pks).visible_to(user).values_list("pk", flat=True)
            )

    return more_like_this(
        queryset, query, fts_table=CASE_FTS, index_name=CASE_INDEX, title_field="subject",
        limit=limit, own=1, visible=visible,
    )  # fmt: skip
