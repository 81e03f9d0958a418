"""Stratified sampling of customers for follow-up calls (分层抽样). Pure: no ORM, no clock.

The handbook (客户服务回访工作细则 §二.2): draw the sample from the customer base in strata by
customer type (个人/企业), purchase amount and purchase frequency so that it represents each
stratum, and guarantee new customers a minimum coverage. Here:

* a stratum is (customer kind, amount band, frequency band); bands come from `band()` and
  ascending limits, each limit being where the next band starts (amount 1000 and 10000 yuan:
  below 1000 / 1000 to below 10000 / 10000 and more; orders 2 and 6: 0–1 / 2–5 / 6 or more);
* the sample size is split across strata in proportion to their population, by largest
  remainder, and every non-empty stratum gets at least one pick when the size allows — so
  each stratum's share is within one of its exact proportional quota, except where that
  minimum of one forces more;
* when fewer than `min_new_share` of the picks are new customers, more new customers are drawn,
  each replacing a non-new pick of its own stratum (which keeps the stratum sizes), spread over
  the strata in proportion to how many such swaps each can make; only when the swaps run out
  do new customers replace non-new picks of the largest strata;
* the draw is a function of the candidates and the seed alone: candidates are sorted by id,
  strata visited in a fixed order, and one `random.Random(seed)` makes every choice.
"""

import itertools
import math
import random
from bisect import bisect_right
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

DEFAULT_AMOUNT_LIMITS = (Decimal(1000), Decimal(10000))  # yuan in the last 12 months
DEFAULT_COUNT_LIMITS = (2, 6)  # orders in the last 12 months


@dataclass(frozen=True)
class Candidate:
    """A customer who may be picked."""

    id: int
    kind: str
    amount: Decimal
    count: int
    is_new: bool = False


@dataclass(frozen=True)
class SampleResult:
    ids: list  # the picked customer ids, ascending
    strata: list  # one dict per non-empty stratum (see `draw`)
    population: int
    new_population: int
    new_required: int
    new_picked: int


def check_limits(limits):
    """The limits as a tuple, or ValueError unless they are non-negative and ascending."""
    limits = tuple(limits)
    if any(v < 0 for v in limits):
        raise ValueError("Band limits cannot be negative.")
    if any(b <= a for a, b in itertools.pairwise(limits)):
        raise ValueError("Band limits must be in ascending order.")
    return limits


def band(value, limits):
    """The band index of `value`: how many limits it has reached (0 below the first)."""
    return bisect_right(limits, value)


def _number(value):
    return format(Decimal(str(value)).normalize(), "f")


def amount_labels(limits):
    """['<1000', '1000–<10000', '≥10000'] for limits (1000, 10000)."""
    if not limits:
        return ["*"]
    n = [_number(v) for v in limits]
    middle = [f"{a}–<{b}" for a, b in itertools.pairwise(n)]
    return [f"<{n[0]}", *middle, f"≥{n[-1]}"]


def count_labels(limits):
    """['0–1', '2–5', '6+'] for limits (2, 6): whole numbers of orders."""
    if not limits:
        return ["*"]
    edges = [0, *(int(v) for v in limits)]
    labels = []
    for low, high in itertools.pairwise(edges):
        labels.append(str(low) if high - 1 == low else f"{low}–{high - 1}")
    labels.append(f"{edges[-1]}+")
    return labels


def allocate(sizes, total, *, at_least_one=True):
    """Split `total` picks over strata of `sizes` ({key: population}) in proportion.

    Largest remainder (ties: the bigger stratum, then the key order). With `at_least_one`
    and enough picks, every non-empty stratum gets one, taken from the stratum that got the
    most above its quota. Never more picks than a stratum has.
    """
    keys = sorted(sizes)
    population = sum(sizes.values())
    total = max(0, min(total, population))
    alloc = dict.fromkeys(keys, 0)
    if total == 0:
        return alloc
    quotas = {k: Fraction(total * sizes[k], population) for k in keys}
    for k in keys:
        alloc[k] = math.floor(quotas[k])
    left = total - sum(alloc.values())
    by_remainder = sorted(keys, key=lambda k: (-(quotas[k] - alloc[k]), -sizes[k], k))
    for k in by_remainder[:left]:
        alloc[k] += 1
    nonempty = [k for k in keys if sizes[k] > 0]
    if at_least_one and total >= len(nonempty):
        starved = sorted((k for k in nonempty if alloc[k] == 0), key=lambda k: (-quotas[k], k))
        for k in starved:
            donors = [d for d in keys if alloc[d] > 1]
            # A donor always exists: total >= non-empty strata and one of them has none.
            donor = max(donors, key=lambda d: (alloc[d] - quotas[d], alloc[d]))
            alloc[donor] -= 1
            alloc[k] = 1
    return alloc


def _ceil_share(share, total):
    return math.ceil(Fraction(str(share)) * total)


def draw(
    candidates,
    size,
    *,
    seed,
    min_new_share=0,
    amount_limits=DEFAULT_AMOUNT_LIMITS,
    count_limits=DEFAULT_COUNT_LIMITS,
):
    """Pick `size` of `candidates` (Candidate rows), stratified; see the module docstring.

    Returns a SampleResult whose `strata` are dicts, in a fixed order: kind, amount_band,
    amount (label), frequency_band, frequency (label), population, new, quota (the exact
    proportional share, 2 places), picked, picked_new. Raises ValueError on bad arguments.
    """
    if int(size) < 1:
        raise ValueError("The sample size must be at least 1.")
    share = Fraction(str(min_new_share))
    if not 0 <= share <= 1:
        raise ValueError("The minimum share of new customers must be between 0 and 1.")
    amount_limits = check_limits(amount_limits)
    count_limits = check_limits(count_limits)
    a_labels, c_labels = amount_labels(amount_limits), count_labels(count_limits)

    rows = sorted(candidates, key=lambda c: c.id)
    if len({c.id for c in rows}) != len(rows):
        raise ValueError("Candidate ids must be unique.")
    strata = {}
    for c in rows:
        key = (str(c.kind or ""), band(c.amount, amount_limits), band(c.count, count_limits))
        strata.setdefault(key, []).append(c)
    keys = sorted(strata)
    population = len(rows)
    total = min(int(size), population)
    rng = random.Random(seed)

    sizes = {k: len(strata[k]) for k in keys}
    alloc = allocate(sizes, total)
    picked = {k: rng.sample(strata[k], alloc[k]) for k in keys}

    new_population = sum(1 for c in rows if c.is_new)
    new_required = min(_ceil_share(share, total), new_population)
    deficit = new_required - sum(c.is_new for k in keys for c in picked[k])
    if deficit > 0:
        chosen = {k: {c.id for c in picked[k]} for k in keys}
        spare_new = {k: [c for c in strata[k] if c.is_new and c.id not in chosen[k]] for k in keys}
        # First as swaps inside each stratum (spread in proportion to what each can swap),
        # then — only when those run out — against non-new picks of the largest strata.
        swaps = {k: min(len(spare_new[k]), sum(not c.is_new for c in picked[k])) for k in keys}
        inside = allocate(swaps, deficit, at_least_one=False)
        rest = deficit - sum(inside.values())
        outside = allocate(
            {k: len(spare_new[k]) - inside[k] for k in keys}, rest, at_least_one=False
        )
        for k in keys:
            newcomers = rng.sample(spare_new[k], inside[k] + outside[k])
            for i, newcomer in enumerate(newcomers):
                home = k if i < inside[k] else _largest(picked, keys)
                olds = [c for c in picked[home] if not c.is_new]
                picked[home].remove(olds[rng.randrange(len(olds))])
                picked[k].append(newcomer)

    summary = []
    for k in keys:
        kind, a_band, c_band = k
        summary.append(
            {
                "kind": kind,
                "amount_band": a_band,
                "amount": a_labels[a_band],
                "frequency_band": c_band,
                "frequency": c_labels[c_band],
                "population": sizes[k],
                "new": sum(c.is_new for c in strata[k]),
                "quota": round(total * sizes[k] / population, 2),
                "picked": len(picked[k]),
                "picked_new": sum(c.is_new for c in picked[k]),
            }
        )
    ids = sorted(c.id for k in keys for c in picked[k])
    return SampleResult(
        ids=ids,
        strata=summary,
        population=population,
        new_population=new_population,
        new_required=new_required,
        new_picked=sum(s["picked_new"] for s in summary),
    )


def _largest(picked, keys):
    """The stratum with the most picks that still has a non-new pick to give up (preferring
    those that keep at least one pick)."""
    with_old = [k for k in keys if any(not c.is_new for c in picked[k])]
    return max(with_old, key=lambda k: (len(picked[k]) > 1, len(picked[k])))
