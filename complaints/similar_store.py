"""Precomputing the similar resolved cases of the cases being worked (models_similar).

The every-minute sweep picks and ranks similar cases for the working cases (open, and
resolved while they wait for the satisfaction step) that have none yet, or whose pick is
older than SIMILAR_CASES_REFRESH_HOURS, newest cases first, at most SIMILAR_CASES_BATCH per
run; and it drops the rows of cases that left that set (closed, cancelled, merged), so the
table holds the working set only, whatever the history. Everything here is idempotent: a run
cut short leaves the rest for the next one. What is picked, and how pages read it:
complaints.search."""

import datetime

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .models import ACTIVE_STATES, Case, CaseSimilar, State, text_hash
from .search import case_query, pick_similar_cases

# The cases whose page is open while someone works them.
WORKING_STATES = [*ACTIVE_STATES, State.RESOLVED]
# What the text is made of (search.case_query) and what the queryset needs to pick with.
TEXT_FIELDS = ["subject", "customer_words", "description"]


def precompute(cases, *, now=None):
    """Pick, rank and keep the similar cases of each of `cases` (Case instances with
    TEXT_FIELDS). Returns how many were kept."""
    now = now or timezone.now()
    rows = [
        CaseSimilar(
            case_id=case.pk,
            text_hash=text_hash(case_query(case)),
            ranking=pick_similar_cases(case),
            computed_at=now,
        )
        for case in cases
    ]
    CaseSimilar.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["case"],
        update_fields=["text_hash", "ranking", "computed_at"],
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
