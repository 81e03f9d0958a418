"""Intake rules without side effects: urgency keywords, routing, duplicate detection."""

from dataclasses import dataclass

from knowledge.text import similarity

from .models import URGENCY_RANK, RoutingRule, UrgencyRule


@dataclass
class FiredRule:
    rule: UrgencyRule
    keyword: str
    urgency: str
    priority: int


def active_urgency_rules():
    return list(UrgencyRule.objects.filter(is_active=True))


def active_routing_rules():
    return list(RoutingRule.objects.filter(is_active=True).select_related("department"))


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
