"""Intake rules without side effects: urgency keywords, routing, duplicate detection; the
active rules and the plans in force, cached per process."""

import logging
import threading
import time
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction

from knowledge.services import governing_revision, published_revisions
from knowledge.text import similarity

from .models import URGENCY_RANK, RoutingRule, UrgencyRule

logger = logging.getLogger(__name__)


@dataclass
class FiredRule:
    rule: UrgencyRule
    keyword: str
    urgency: str
    priority: int


# The active rules and the published plan revisions, kept in process memory between intakes
# under a version token that lives in Django's cache (shared by every process): saving or
# deleting a rule, a department, a plan, a revision or a stage puts a new token there
# (rules_changed); the process that saved drops its copy at once, every other process
# reloads on its first intake after INTAKE_RULES_RECHECK_SECONDS have passed since it last
# read the token. Reading the token is one cache read (a twentieth of an API create's Python
# time, read on every intake before), where loading the rules and the plans is five queries.
RULES_VERSION_KEY = "complaints:intake-rules-version"
_rules_cache = None  # (version token, IntakeRules, time.monotonic() the token was read)
_rules_lock = threading.Lock()


@dataclass(frozen=True)
class IntakeRules:
    urgency: list  # active UrgencyRules, in rule order
    routing: list  # active RoutingRules with their departments, in rule order
    revisions: list  # published PlanRevisions with their plans and stages

    def plan_revision(self, *, case_type, category):
        """The revision in force that governs a new case of this type and category."""
        return governing_revision(self.revisions, case_type=case_type, category=category)


def active_rules():
    """IntakeRules: the active urgency and routing rules and the published plan revisions.
    The instances are shared between intakes: read them, do not change them."""
    global _rules_cache
    cached = _rules_cache
    now = time.monotonic()
    if cached is not None and now - cached[2] < settings.INTAKE_RULES_RECHECK_SECONDS:
        return cached[1]
    try:
        version = cache.get(RULES_VERSION_KEY)
        if version is None:
            cache.add(RULES_VERSION_KEY, uuid.uuid4().hex, timeout=None)
            version = cache.get(RULES_VERSION_KEY)
    except Exception:  # the cache (Redis) is down: read the rules, cache nothing
        logger.warning("intake rules: cache unavailable, rules read from the database")
        version = None
    if version is not None and cached is not None and cached[0] == version:
        with _rules_lock:
            if _rules_cache is cached:  # not dropped meanwhile by a change in this process
                _rules_cache = (version, cached[1], now)
        return cached[1]
    # The token is read before the rows: a change committed in between leaves a newer token.
    rules = IntakeRules(
        urgency=list(UrgencyRule.objects.filter(is_active=True)),
        routing=list(RoutingRule.objects.filter(is_active=True).select_related("department")),
        revisions=published_revisions(),
    )
    if version is not None:
        with _rules_lock:
            _rules_cache = (version, rules, now)
    return rules


def _new_rules_version():
    global _rules_cache
    with _rules_lock:
        _rules_cache = None
    try:
        cache.set(RULES_VERSION_KEY, uuid.uuid4().hex, timeout=None)
    except Exception:
        logger.warning("intake rules: cache unavailable, other processes keep their rules")


def rules_changed(**kwargs):
    """A rule, a department, a plan, a revision or a stage was saved or deleted: every
    process reloads the rules and plans. Again after the commit, since another process may
    have reloaded the old rows in between."""
    _new_rules_version()
    # Once per transaction, however many rows it changes (a plan published saves several).
    if not any(func is _new_rules_version for _, func, _ in connection.run_on_commit):
        transaction.on_commit(_new_rules_version)


def forget_rules():
    """Drop this process's copy (tests: a rolled-back rule sends no signal)."""
    global _rules_cache
    with _rules_lock:
        _rules_cache = None


def apply_urgency_rules(text, rules):
    """The strongest rule whose keyword occurs in `text` (highest urgency, then priority,
    then rule order), or None."""
    fired = []
    for rule in rules:
        keyword = rule.matched_keyword(text)
        if keyword:
            fired.append(FiredRule(rule, keyword, rule.urgency, rule.priority))
    if not fired:
        return None
    return max(fired, key=lambda f: (URGENCY_RANK[f.urgency], f.priority, -f.rule.order))


def raise_urgency(urgency, priority, to_urgency, to_priority):
    """Rules only ever raise: never lower what an agent or an earlier rule set."""
    if URGENCY_RANK[to_urgency] > URGENCY_RANK[urgency]:
        urgency = to_urgency
    return urgency, max(priority, to_priority)


def route(rules, *, case_type, category, text, product):
    """The first matching routing rule (rules come ordered), or None for manual assignment."""
    return next(
        (
            r
            for r in rules
            if r.matches(case_type=case_type, category=category, text=text, product=product)
        ),
        None,
    )


def best_duplicate(subject, candidates, threshold):
    """(case, score) of the open case whose subject is most similar to `subject`, if at least
    `threshold`; else None."""
    best = None
    for case in candidates:
        score = similarity(subject, case.subject)
        if score >= threshold and (best is None or score > best[1]):
            best = (case, score)
    return best
