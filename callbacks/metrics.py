"""Follow-up (回访) metrics: pure functions, no ORM and no clock.

The formulas come from the follow-up handbook (客戶服務回訪工作細則, seed
``003_708e99518dfd8c7e``) and SPEC §2 "Metrics":

* §5.2 滿意度得分 — satisfaction score::

      (非常滿意票數×5 + 滿意票數×4 + 一般票數×3 + 不滿意票數×2 + 非常不滿意票數×1) ÷ 總票數

* SPEC §2 — satisfaction rate = share of answers scoring 4 or 5, target ≥ 90 %.
* §5.2 問題發生率 — problem incidence::

      出現問題的客戶數量 ÷ 回訪客戶總數 × 100%

* §5.2 客戶意見集中度 — opinion concentration: mentions per opinion category,
  the most mentioned first.
* §7.1 客戶滿意度提升 — improvement = this period's score − last period's score;
  問題發生率降低 = incidence before − incidence after.
* §7.1 客戶重復購買率 = 重復購買客戶數量 ÷ 回訪客戶總數 × 100% (fed by the deliveries:
  callbacks.loyalty). The handbook's 客戶推薦率 has no data to feed it and is not computed.

Conventions: every ratio is returned as a ``Decimal`` share in 0..1 rounded
(ROUND_HALF_UP) to 4 places; multiply by 100 for display (:func:`as_percent`).
Scores are ``Decimal`` rounded to 2 places. "Nothing to measure" (no answers,
nobody surveyed) is ``None``, never zero. Inconsistent input raises
``ValueError`` (developer-facing, not shown to users, so not translated).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

__all__ = [
    "SATISFACTION_TARGET",
    "SATISFIED_MIN",
    "SCORE_MAX",
    "SCORE_MIN",
    "as_percent",
    "improvement",
    "incidence_reduction",
    "meets_target",
    "opinion_concentration",
    "opinion_concentration_of_counts",
    "problem_incidence",
    "repeat_purchase_rate",
    "satisfaction_rate",
    "satisfaction_rate_of_counts",
    "satisfaction_score",
    "satisfaction_score_of_counts",
    "score_improvement",
    "score_improvement_of_counts",
    "summarise",
]

#: 5-point scale: 5 非常满意, 4 满意, 3 一般, 2 不满意, 1 非常不满意.
SCORE_MIN = 1
SCORE_MAX = 5
#: Answers at or above this score count as "satisfied" for the satisfaction rate.
SATISFIED_MIN = 4
#: SPEC §2: satisfaction rate target ≥ 90 %.
SATISFACTION_TARGET = Decimal("0.90")

SCORE_PLACES = Decimal("0.01")
RATE_PLACES = Decimal("0.0001")


def _q(value: Decimal, places: Decimal) -> Decimal:
    return value.quantize(places, rounding=ROUND_HALF_UP)


def _validated_scores(scores: Iterable[int]) -> list[int]:
    result = []
    for score in scores:
        # bool is an int subclass; True/False are not answers on a 5-point scale.
        if isinstance(score, bool) or not isinstance(score, int):
            raise ValueError(f"score must be an int {SCORE_MIN}..{SCORE_MAX}, got {score!r}")
        if not SCORE_MIN <= score <= SCORE_MAX:
            raise ValueError(f"score must be {SCORE_MIN}..{SCORE_MAX}, got {score!r}")
        result.append(score)
    return result


def _ratio(part: int, whole: int, *, part_name: str, whole_name: str) -> Decimal | None:
    for name, value in ((part_name, part), (whole_name, whole)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative int, got {value!r}")
    if part > whole:
        raise ValueError(f"{part_name} ({part}) cannot exceed {whole_name} ({whole})")
    if whole == 0:
        return None
    return _q(Decimal(part) / Decimal(whole), RATE_PLACES)


def as_percent(share: Decimal | None, places: int = 2) -> Decimal | None:
    """A 0..1 share as a percentage (×100 %), e.g. ``Decimal("0.7")`` → ``Decimal("70.00")``."""
    if share is None:
        return None
    return _q(share * 100, Decimal(1).scaleb(-places))


def satisfaction_score(scores: Iterable[int]) -> Decimal | None:
    """滿意度得分 = Σ(score × votes) ÷ answers, 2 places; ``None`` for no answers."""
    valid = _validated_scores(scores)
    if not valid:
        return None
    return _q(Decimal(sum(valid)) / Decimal(len(valid)), SCORE_PLACES)


def satisfaction_rate(scores: Iterable[int]) -> Decimal | None:
    """Share of answers scoring 4 (满意) or 5 (非常满意), 4 places; ``None`` for no answers."""
    valid = _validated_scores(scores)
    if not valid:
        return None
    satisfied = sum(1 for s in valid if s >= SATISFIED_MIN)
    return _q(Decimal(satisfied) / Decimal(len(valid)), RATE_PLACES)


def _validated_counts(counts: Mapping[int, int]) -> dict[int, int]:
    _validated_scores(counts)
    for score, n in counts.items():
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"count of score {score} must be a non-negative int, got {n!r}")
    return {s: n for s, n in counts.items() if n}


def satisfaction_score_of_counts(counts: Mapping[int, int]) -> Decimal | None:
    """:func:`satisfaction_score` from answers counted per score (``{5: 12, 4: 3}``), as a
    database GROUP BY gives them; the same result as from the list of scores."""
    valid = _validated_counts(counts)
    answers = sum(valid.values())
    if not answers:
        return None
    return _q(Decimal(sum(s * n for s, n in valid.items())) / Decimal(answers), SCORE_PLACES)


def satisfaction_rate_of_counts(counts: Mapping[int, int]) -> Decimal | None:
    """:func:`satisfaction_rate` from answers counted per score."""
    valid = _validated_counts(counts)
    answers = sum(valid.values())
    if not answers:
        return None
    satisfied = sum(n for s, n in valid.items() if s >= SATISFIED_MIN)
    return _q(Decimal(satisfied) / Decimal(answers), RATE_PLACES)


def meets_target(rate: Decimal | None, target: Decimal = SATISFACTION_TARGET) -> bool | None:
    """Whether a satisfaction rate reaches the target (≥, default 90 %); ``None`` if no rate."""
    if rate is None:
        return None
    return rate >= target


def problem_incidence(customers_surveyed: int, customers_with_problem: int) -> Decimal | None:
    """問題發生率 = customers with a problem ÷ customers surveyed (share; ×100 for %)."""
    return _ratio(
        customers_with_problem,
        customers_surveyed,
        part_name="customers_with_problem",
        whole_name="customers_surveyed",
    )


def repeat_purchase_rate(customers: int, repeat_customers: int) -> Decimal | None:
    """客戶重復購買率 = repeat-purchase customers ÷ customers surveyed (share)."""
    return _ratio(repeat_customers, customers, part_name="repeat_customers", whole_name="customers")


def opinion_concentration(mentions: Iterable[str]) -> list[tuple[str, int, Decimal]]:
    """客戶意見集中度: ``(category, count, share of all mentions)``.

    Sorted by count descending, then category ascending (stable, deterministic).
    Empty/blank categories are ignored; an empty input gives ``[]``.
    """
    counts = Counter(m.strip() for m in mentions if m is not None and m.strip())
    total = sum(counts.values())
    if not total:
        return []
    ordered = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [(cat, n, _q(Decimal(n) / Decimal(total), RATE_PLACES)) for cat, n in ordered]


def opinion_concentration_of_counts(counts: Mapping[str, int]) -> list[tuple[str, int, Decimal]]:
    """:func:`opinion_concentration` from mentions counted per category, as a database GROUP
    BY gives them; the same result as from the list of mentions."""
    merged = Counter()
    for category, n in counts.items():
        if category is not None and category.strip() and n:
            merged[category.strip()] += n
    total = sum(merged.values())
    if not total:
        return []
    ordered = sorted(merged.items(), key=lambda item: (-item[1], item[0]))
    return [(cat, n, _q(Decimal(n) / Decimal(total), RATE_PLACES)) for cat, n in ordered]


def improvement(
    this_period_score: Decimal | None, last_period_score: Decimal | None
) -> Decimal | None:
    """客戶滿意度提升 = this period's score − last period's; ``None`` if either is missing."""
    if this_period_score is None or last_period_score is None:
        return None
    return _q(Decimal(this_period_score) - Decimal(last_period_score), SCORE_PLACES)


def score_improvement(
    this_period_scores: Iterable[int], last_period_scores: Iterable[int]
) -> Decimal | None:
    """客戶滿意度提升 from the answers themselves: the exact means' difference, rounded once
    (2 places). Rounding each score first can be a hundredth off (4.33 − 4.21 = 0.12 where
    13/3 − 101/24 = 0.125 → 0.13)."""
    now, before = _validated_scores(this_period_scores), _validated_scores(last_period_scores)
    if not now or not before:
        return None
    exact = Decimal(sum(now)) / Decimal(len(now)) - Decimal(sum(before)) / Decimal(len(before))
    return _q(exact, SCORE_PLACES)


def score_improvement_of_counts(
    this_period: Mapping[int, int], last_period: Mapping[int, int]
) -> Decimal | None:
    """score_improvement from answers per score ({5: 12, 4: 30, …}): the exact means' difference,
    rounded once."""
    now_n, before_n = sum(this_period.values()), sum(last_period.values())
    if not now_n or not before_n:
        return None
    now = Decimal(sum(s * n for s, n in this_period.items())) / Decimal(now_n)
    before = Decimal(sum(s * n for s, n in last_period.items())) / Decimal(before_n)
    return _q(now - before, SCORE_PLACES)


def incidence_reduction(before: Decimal | None, after: Decimal | None) -> Decimal | None:
    """問題發生率降低 = incidence before − incidence after (positive = fewer problems)."""
    if before is None or after is None:
        return None
    return _q(Decimal(before) - Decimal(after), RATE_PLACES)


GroupBy = str | Sequence[str] | Callable[[Mapping[str, Any]], Hashable]


def _group_key(row: Mapping[str, Any], group_by: GroupBy) -> Hashable:
    if callable(group_by):
        return group_by(row)
    if isinstance(group_by, str):
        return row.get(group_by)
    return tuple(row.get(field) for field in group_by)


def _sort_key(key: Hashable) -> tuple:
    # None (rows without the field) last; otherwise by string form so mixed types don't crash.
    return (key is None, str(key))


def summarise(
    rows: Iterable[Mapping[str, Any]],
    *,
    group_by: GroupBy,
    target: Decimal = SATISFACTION_TARGET,
) -> dict[Hashable, dict[str, Any]]:
    """Group follow-up rows and compute the metrics per group.

    ``rows`` are mappings such as ``{"score": 4, "problem": True, "opinions": ["产品质量"],
    "department": ..., "agent": ..., "channel": ..., "period": "2026-11"}``. ``score``
    may be ``None``/absent (surveyed, but no satisfaction answer). ``group_by`` is a field
    name (``"period"``, ``"department"``, ``"agent"``, ``"channel"``), a sequence of
    field names (tuple keys) or a callable ``row -> key``.

    Each group gets::

        {"surveyed": rows in the group, "answers": rows with a score,
         "score": satisfaction_score, "rate": satisfaction_rate,
         "meets_target": meets_target(rate, target),
         "problem_incidence": rows with a problem ÷ rows in the group,
         "opinions": opinion_concentration(all mentions in the group)}

    Groups are ordered by key (``None`` last).
    """
    groups: dict[Hashable, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(_group_key(row, group_by), []).append(row)

    result: dict[Hashable, dict[str, Any]] = {}
    for key in sorted(groups, key=_sort_key):
        members = groups[key]
        scores = _validated_scores(r["score"] for r in members if r.get("score") is not None)
        rate = satisfaction_rate(scores)
        result[key] = {
            "surveyed": len(members),
            "answers": len(scores),
            "score": satisfaction_score(scores),
            "rate": rate,
            "meets_target": meets_target(rate, target),
            "problem_incidence": problem_incidence(
                len(members), sum(1 for r in members if r.get("problem"))
            ),
            "opinions": opinion_concentration(
                opinion for r in members for opinion in (r.get("opinions") or ())
            ),
        }
    return result
