"""Precomputing the similar resolved cases of the cases being worked (models_similar).

The every-minute sweep picks and ranks similar cases for the working cases (open, and
resolved while they wait for the satisfaction step) that have none yet, or whose pick is
older than SIMILAR_CASES_REFRESH_HOURS, newest cases first, at most SIMILAR_CASES_BATCH per
run; and it drops the rows of cases that left that set (closed, cancelled, merged), so the
table holds the working set only, whatever the history. Everything here is idempotent: a run
cut short leaves the rest for the next one.

The pick ranks with the page's ranking, over the same candidates or more: asking for every
case that ranks, it also takes cases sharing one rare word whenever fewer than CANDIDATES
share two (a page asking for five does so only below five). The five shown are therefore at
least as relevant as picking on the page, and a reader who may see few departments still
finds five among them more often."""

import datetime
import hashlib

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from knowledge.similar import CANDIDATES, more_like_this

from .models import ACTIVE_STATES, Case, CaseSimilar, State

# The cases whose page is open while someone works them.
WORKING_STATES = [*ACTIVE_STATES, State.RESOLVED]
# What the text is made of (search.case_query) and what the queryset needs to pick with.
TEXT_FIELDS = ["subject", "customer_words", "description"]


def text_hash(query):
    return hashlib.md5(query.encode(), usedforsecurity=False).hexdigest()


def stored_ranking(case, query):
    """The similar cases picked for `case` when its text was `query`, best first, as
    [[primary key, relevance], …]; or None (never picked, or picked for other text). One
    query."""
    return (
        CaseSimilar.objects.filter(case_id=case.pk, text_hash=text_hash(query))
        .values_list("candidates", flat=True)
        .first()
    )


def ranked_cases(ranking, queryset, *, limit):
    """The first `limit` rows of `ranking` (stored_ranking) that `queryset` still holds — still
    resolved or closed, visible to the reader — each with its `relevance`. Two queries: the
    primary keys `queryset` holds of the (at most CANDIDATES) picked, then the rows shown."""
    held = set(queryset.filter(pk__in=[pk for pk, _r in ranking]).values_list("pk", flat=True))
    chosen = [(pk, relevance) for pk, relevance in ranking if pk in held][:limit]
    rows = queryset.in_bulk([pk for pk, _r in chosen])
    shown = []
    for pk, relevance in chosen:
        if pk in rows:  # changed between the two queries
            rows[pk].relevance = relevance
            shown.append(rows[pk])
    return shown


def precompute(cases, *, now=None):
    """Pick, rank and keep the similar cases of each of `cases` (Case instances with
    TEXT_FIELDS): all that rank (relevance at least MIN_RELEVANCE) of the CANDIDATES the
    full-text index picks, before any reader's visibility. Returns how many were kept."""
    from .search import CASE_FTS, CASE_INDEX, case_query, resolved_cases

    now = now or timezone.now()
    rows = []
    for case in cases:
        query = case_query(case)
        ranked = more_like_this(
            resolved_cases(case).only("subject", "search_text"), query, fts_table=CASE_FTS,
            index_name=CASE_INDEX, title_field="subject", limit=CANDIDATES, own=1,
        )  # fmt: skip
        found = [[row.pk, row.relevance] for row in ranked]
        rows.append(
            CaseSimilar(
                case_id=case.pk, text_hash=text_hash(query), candidates=found, computed_at=now
            )
        )
    CaseSimilar.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["case"],
        update_fields=["text_hash", "candidates", "computed_at"],
    )  # fmt: skip
    return len(rows)


def due(*, now, limit):
    """The working cases to pick for now, newest first among those never picked."""
    cutoff = now - datetime.timedelta(hours=settings.SIMILAR_CASES_REFRESH_HOURS)
    return (
        Case.objects.filter(state__in=WORKING_STATES)
        .filter(
            Q(similar_precomputed__isnull=True) | Q(similar_precomputed__computed_at__lt=cutoff)
        )
        .order_by(F("similar_precomputed__computed_at").asc(nulls_first=True), "-pk")
        .only(*TEXT_FIELDS)[:limit]
    )


def sweep(*, now=None, limit=None):
    """One run of the sweep. Returns (picked, dropped)."""
    now = now or timezone.now()
    dropped, _ = CaseSimilar.objects.exclude(case__state__in=WORKING_STATES).delete()
    cases = list(due(now=now, limit=limit or settings.SIMILAR_CASES_BATCH))
    picked = 0
    for start in range(0, len(cases), 50):  # kept 50 at a time: a cut-short run keeps most
        picked += precompute(cases[start : start + 50], now=now)
    return picked, dropped


def forget(case):
    """The case's text changed: its pick no longer applies (the next sweep picks again)."""
    CaseSimilar.objects.filter(case_id=case.pk).delete()
