"""Suggestions while working a case (相似案例推荐): the most relevant published knowledge
articles and the most similar resolved cases, so the same problem gets the same answer
across departments. Both use the jieba full-text search of knowledge.search."""

from knowledge.models import Article, ArticleStatus
from knowledge.search import FTS_TABLE as ARTICLE_FTS
from knowledge.search import ranked_search

from .models import Case, State

CASE_FTS = "complaints_case_fts"
SUGGESTIONS = 5


def case_query(case):
    """What the case is about, most telling words first (the search keeps the first 20)."""
    return " ".join(x for x in [case.subject, case.customer_words, case.description] if x)


def suggested_articles(case, *, limit=SUGGESTIONS):
    queryset = Article.objects.filter(status=ArticleStatus.PUBLISHED)
    return list(
        ranked_search(queryset, case_query(case), fts_table=ARTICLE_FTS, title_field="title")[
            :limit
        ]
    )


def similar_resolved_cases(case, *, limit=SUGGESTIONS, user=None):
    """Resolved or closed cases most like `case` (with their result), best first; only those
    `user` may see when given."""
    queryset = Case.objects.filter(state__in=[State.RESOLVED, State.CLOSED]).exclude(pk=case.pk)
    if user is not None:
        queryset = queryset.visible_to(user)
    queryset = queryset.select_related("department")
    return list(
        ranked_search(queryset, case_query(case), fts_table=CASE_FTS, title_field="subject")[:limit]
    )
