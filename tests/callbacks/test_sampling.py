"""Stratified sampling (callbacks.sampling): pure, no database."""

import random
from collections import Counter
from decimal import Decimal

import pytest

from callbacks import sampling
from callbacks.sampling import Candidate


def population(n, *, new_share=0.1, seed=1):
    """n candidates spread over kinds, amounts and order counts (a fixed pseudo-random mix)."""
    rng = random.Random(seed)
    return [
        Candidate(
            id=i,
            kind=rng.choice(["individual", "individual", "enterprise"]),
            amount=Decimal(rng.choice([0, 300, 999, 1000, 5000, 9999, 10000, 80000])),
            count=rng.choice([0, 1, 2, 3, 5, 6, 20]),
            is_new=rng.random() < new_share,
        )
        for i in range(1, n + 1)
    ]


def strata_of(rows):
    return Counter(
        (
            c.kind,
            sampling.band(c.amount, sampling.DEFAULT_AMOUNT_LIMITS),
            sampling.band(c.count, sampling.DEFAULT_COUNT_LIMITS),
        )
        for c in rows
    )


# --- bands -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "amount, expected",
    [(0, 0), (999.99, 0), (1000, 1), (9999.99, 1), (10000, 2), (10**6, 2)],
)
def test_amount_bands_start_at_their_limit(amount, expected):
    assert sampling.band(Decimal(str(amount)), sampling.DEFAULT_AMOUNT_LIMITS) == expected


@pytest.mark.parametrize("count, expected", [(0, 0), (1, 0), (2, 1), (5, 1), (6, 2), (40, 2)])
def test_frequency_bands(count, expected):
    assert sampling.band(count, sampling.DEFAULT_COUNT_LIMITS) == expected


def test_band_labels_name_the_limits():
    assert sampling.amount_labels(sampling.DEFAULT_AMOUNT_LIMITS) == [
        "<1000",
        "1000–<10000",
        "≥10000",
    ]
    assert sampling.count_labels(sampling.DEFAULT_COUNT_LIMITS) == ["0–1", "2–5", "6+"]
    assert sampling.count_labels((1, 2)) == ["0", "1", "2+"]


@pytest.mark.parametrize("limits", [(10, 5), (5, 5), (-1, 3)])
def test_limits_must_ascend_and_not_be_negative(limits):
    with pytest.raises(ValueError):
        sampling.check_limits(limits)


def test_configurable_thresholds_change_the_strata():
    rows = [Candidate(id=i, kind="individual", amount=Decimal(i * 100), count=0) for i in range(10)]
    result = sampling.draw(rows, 10, seed=1, amount_limits=(500,), count_limits=())
    assert [(s["amount"], s["population"]) for s in result.strata] == [("<500", 5), ("≥500", 5)]
    assert {s["frequency"] for s in result.strata} == {"*"}


# --- allocation ------------------------------------------------------------------------------


def test_allocation_is_proportional_by_largest_remainder():
    alloc = sampling.allocate({"a": 50, "b": 30, "c": 20}, 10)
    assert alloc == {"a": 5, "b": 3, "c": 2}
    alloc = sampling.allocate({"a": 7, "b": 7, "c": 6}, 10)  # quotas 3.5, 3.5, 3.0
    assert sum(alloc.values()) == 10
    assert alloc["c"] == 3 and sorted([alloc["a"], alloc["b"]]) == [3, 4]


def test_every_non_empty_stratum_gets_one_when_the_size_allows():
    sizes = {"big": 970, "small1": 10, "small2": 10, "small3": 10}
    alloc = sampling.allocate(sizes, 20)  # quotas 19.4, 0.2, 0.2, 0.2
    assert alloc == {"big": 17, "small1": 1, "small2": 1, "small3": 1}
    # Too few picks for every stratum: the proportional split stands.
    assert sampling.allocate(sizes, 3) == {"big": 3, "small1": 0, "small2": 0, "small3": 0}


def test_allocation_never_exceeds_a_stratum():
    alloc = sampling.allocate({"a": 1, "b": 2, "c": 100}, 103)
    assert alloc == {"a": 1, "b": 2, "c": 100}


# --- drawing ---------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [10, 57, 200])
def test_each_stratum_gets_its_proportional_share_within_one(size):
    rows = population(2000)
    result = sampling.draw(rows, size, seed=7)
    assert len(result.ids) == size
    assert len(set(result.ids)) == size
    counts = strata_of(rows)
    picked = strata_of([c for c in rows if c.id in set(result.ids)])
    for key, n in counts.items():
        assert abs(picked[key] - size * n / len(rows)) < 1 + 1e-9, key
    # The summary tells the same story.
    assert sum(s["population"] for s in result.strata) == 2000
    assert sum(s["picked"] for s in result.strata) == size
    for s in result.strata:
        assert abs(s["picked"] - s["quota"]) < 1.01


def test_minimum_share_of_new_customers_is_met():
    rows = population(1000, new_share=0.05)  # about 5 % new
    result = sampling.draw(rows, 100, seed=3, min_new_share=Decimal("0.30"))
    picked = [c for c in rows if c.id in set(result.ids)]
    assert len(picked) == 100
    assert sum(c.is_new for c in picked) >= 30
    assert result.new_required == 30 and result.new_picked >= 30


def test_new_customers_replace_picks_within_their_own_stratum():
    # Plenty of new customers in every stratum: topping up keeps every stratum's size.
    rows = population(1000, new_share=0.4)
    plain = sampling.draw(rows, 100, seed=5)
    topped = sampling.draw(rows, 100, seed=5, min_new_share=Decimal("0.9"))
    assert [s["picked"] for s in plain.strata] == [s["picked"] for s in topped.strata]
    assert topped.new_picked >= 90


def test_the_new_share_is_capped_by_the_new_customers_there_are():
    rows = population(200, new_share=0)
    rows[0] = Candidate(id=rows[0].id, kind="individual", amount=Decimal(0), count=0, is_new=True)
    result = sampling.draw(rows, 50, seed=1, min_new_share=Decimal("0.5"))
    assert result.new_required == 1
    assert rows[0].id in result.ids
    assert len(result.ids) == 50


def test_the_same_seed_gives_the_same_sample_whatever_the_input_order():
    rows = population(1500)
    first = sampling.draw(rows, 80, seed=2026, min_new_share=Decimal("0.2"))
    shuffled = rows[:]
    random.Random(9).shuffle(shuffled)
    again = sampling.draw(shuffled, 80, seed=2026, min_new_share=Decimal("0.2"))
    assert first == again


def test_a_different_seed_gives_a_different_sample():
    rows = population(1500)
    assert sampling.draw(rows, 80, seed=1).ids != sampling.draw(rows, 80, seed=2).ids


def test_a_size_above_the_population_takes_everybody():
    rows = population(30)
    result = sampling.draw(rows, 500, seed=1, min_new_share=1)
    assert result.ids == sorted(c.id for c in rows)
    assert result.population == 30


def test_empty_population_and_empty_strata():
    empty = sampling.draw([], 10, seed=1)
    assert empty.ids == [] and empty.strata == [] and empty.population == 0
    # Only individuals with small orders: the other strata do not exist, nothing breaks.
    rows = [Candidate(id=i, kind="individual", amount=Decimal(10), count=1) for i in range(1, 21)]
    result = sampling.draw(rows, 5, seed=1)
    assert len(result.ids) == 5
    assert [(s["kind"], s["amount"], s["frequency"]) for s in result.strata] == [
        ("individual", "<1000", "0–1")
    ]


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": 0},
        {"size": 5, "min_new_share": Decimal("1.5")},
        {"size": 5, "min_new_share": -1},
        {"size": 5, "amount_limits": (10000, 1000)},
    ],
)
def test_bad_arguments_are_refused(kwargs):
    with pytest.raises(ValueError):
        sampling.draw(population(10), seed=1, **kwargs)


def test_duplicate_ids_are_refused():
    rows = population(3)
    with pytest.raises(ValueError):
        sampling.draw([*rows, rows[0]], 2, seed=1)
