"""Follow-up metrics (callbacks.metrics): the handbook's formulas against hand-computed
examples. Pure functions — no database."""

from decimal import Decimal

import pytest

from callbacks import metrics as m

# Hand-computed example used throughout:
# 10 answers: 3×5, 4×4, 2×3, 1×2 (no 1s)
#   score = (3·5 + 4·4 + 2·3 + 1·2) / 10 = (15 + 16 + 6 + 2) / 10 = 39 / 10 = 3.90
#   rate  = (3 + 4) / 10 = 7/10 = 0.70  → below the 90 % target
TEN = [5] * 3 + [4] * 4 + [3] * 2 + [2] * 1


# --- satisfaction score -----------------------------------------------------------------


def test_score_hand_computed():
    assert m.satisfaction_score(TEN) == Decimal("3.90")


def test_score_all_five_levels_and_rounding():
    # 1 of each level: (5+4+3+2+1) / 5 = 15/5 = 3.00
    assert m.satisfaction_score([5, 4, 3, 2, 1]) == Decimal("3.00")
    # 5, 5, 4: 14/3 = 4.666… → 4.67 (half-up to 2 places)
    assert m.satisfaction_score([5, 5, 4]) == Decimal("4.67")
    # 5, 4, 4: 13/3 = 4.333… → 4.33
    assert m.satisfaction_score([5, 4, 4]) == Decimal("4.33")
    # 5, 4, 4, 4, 4, 4, 4, 4: 33/8 = 4.125 → 4.13 (half-up, not banker's 4.12)
    assert m.satisfaction_score([5] + [4] * 7) == Decimal("4.13")


def test_score_accepts_generator():
    assert m.satisfaction_score(s for s in TEN) == Decimal("3.90")


def test_score_no_answers_is_none():
    assert m.satisfaction_score([]) is None
    assert m.satisfaction_rate([]) is None


@pytest.mark.parametrize("bad", [0, 6, -1, 4.5, "5", None, True, Decimal(4)])
def test_invalid_score_rejected(bad):
    with pytest.raises(ValueError):
        m.satisfaction_score([5, bad])
    with pytest.raises(ValueError):
        m.satisfaction_rate([5, bad])


# --- satisfaction rate & target -------------------------------------------------------------


def test_rate_hand_computed_below_target():
    rate = m.satisfaction_rate(TEN)
    assert rate == Decimal("0.7000")
    assert m.meets_target(rate) is False
    assert m.as_percent(rate) == Decimal("70.00")


def test_rate_exactly_at_target_meets_it():
    # 9 × 5 + 1 × 3: satisfied = 9/10 = 0.90 → meets the ≥ 90 % target exactly
    scores = [5] * 9 + [3]
    rate = m.satisfaction_rate(scores)
    assert rate == Decimal("0.9000")
    assert m.meets_target(rate) is True
    # score = (45 + 3) / 10 = 4.80
    assert m.satisfaction_score(scores) == Decimal("4.80")


def test_rate_rounding_and_custom_target():
    # 2 of 3 satisfied = 0.6666… → 0.6667
    rate = m.satisfaction_rate([4, 5, 3])
    assert rate == Decimal("0.6667")
    assert m.meets_target(rate, target=Decimal("0.60")) is True
    assert m.meets_target(rate) is False


def test_meets_target_without_rate():
    assert m.meets_target(None) is None


# --- problem incidence, repeat purchase, referral -------------------------------------------


def test_problem_incidence_hand_computed():
    # 40 surveyed, 6 reported a problem: 6/40 = 0.15 → 15 %
    inc = m.problem_incidence(40, 6)
    assert inc == Decimal("0.1500")
    assert m.as_percent(inc) == Decimal("15.00")
    # 3 surveyed, 1 problem: 1/3 = 0.3333 → 33.33 %
    assert m.problem_incidence(3, 1) == Decimal("0.3333")
    assert m.as_percent(m.problem_incidence(3, 1)) == Decimal("33.33")


def test_problem_incidence_edges():
    assert m.problem_incidence(0, 0) is None
    assert m.problem_incidence(5, 0) == Decimal("0")
    assert m.problem_incidence(5, 5) == Decimal("1")
    with pytest.raises(ValueError):
        m.problem_incidence(5, 6)  # more problems than surveyed
    with pytest.raises(ValueError):
        m.problem_incidence(0, 1)
    with pytest.raises(ValueError):
        m.problem_incidence(-1, 0)


def test_repeat_purchase_rate():
    # 200 customers surveyed, 50 bought again: 50/200 = 0.25 → 25 %
    assert m.repeat_purchase_rate(200, 50) == Decimal("0.2500")
    assert m.repeat_purchase_rate(0, 0) is None
    with pytest.raises(ValueError):
        m.repeat_purchase_rate(10, 11)
    assert not hasattr(m, "referral_rate")  # no data feeds it: not computed


def test_as_percent_none():
    assert m.as_percent(None) is None


# --- opinion concentration ------------------------------------------------------------------


def test_opinion_concentration_ordering_and_shares():
    # 产品质量 ×3, 交付 ×2, 服务态度 ×2, 技术支持 ×1 → 8 mentions
    # shares: 3/8 = 0.375, 2/8 = 0.25, 2/8 = 0.25, 1/8 = 0.125
    # ties (交付 / 服务态度, both 2) ordered by category string
    mentions = [
        "服务态度",
        "产品质量",
        "交付",
        "产品质量",
        "技术支持",
        "服务态度",
        "产品质量",
        "交付",
    ]
    result = m.opinion_concentration(mentions)
    assert result == [
        ("产品质量", 3, Decimal("0.3750")),
        *sorted(
            [("交付", 2, Decimal("0.2500")), ("服务态度", 2, Decimal("0.2500"))],
            key=lambda t: t[0],
        ),
        ("技术支持", 1, Decimal("0.1250")),
    ]
    assert [c for c, _, _ in m.opinion_concentration(["b", "a", "c", "a", "b"])] == ["a", "b", "c"]


def test_opinion_concentration_empty_and_blank():
    assert m.opinion_concentration([]) == []
    assert m.opinion_concentration(["", "  ", None]) == []
    assert m.opinion_concentration([" 交付 ", "交付"]) == [("交付", 2, Decimal("1.0000"))]


# --- improvement --------------------------------------------------------------------------


def test_improvement_comes_from_the_unrounded_scores():
    # 13/3 = 4.333… (shown 4.33) against 101/24 = 4.208… (shown 4.21): by hand 0.125 → 0.13,
    # where the rounded scores would give 0.12.
    this_period = [4, 4, 5]
    last_period = [5] * 5 + [4] * 19
    assert m.satisfaction_score(this_period) - m.satisfaction_score(last_period) == Decimal("0.12")
    assert m.score_improvement(this_period, last_period) == Decimal("0.13")
    assert m.score_improvement([], last_period) is None
    assert m.score_improvement_of_counts({4: 2, 5: 1}, {5: 5, 4: 19}) == Decimal("0.13")


def test_improvement():
    # this period 4.20, last period 3.90 → +0.30
    assert m.improvement(Decimal("4.20"), Decimal("3.90")) == Decimal("0.30")
    # got worse: 3.90 − 4.25 = −0.35
    assert m.improvement(Decimal("3.90"), Decimal("4.25")) == Decimal("-0.35")
    assert m.improvement(None, Decimal("3.90")) is None
    assert m.improvement(Decimal("3.90"), None) is None


def test_incidence_reduction():
    # before 15 %, after 10 % → reduced by 0.05 (5 points)
    assert m.incidence_reduction(Decimal("0.15"), Decimal("0.10")) == Decimal("0.0500")
    assert m.incidence_reduction(None, Decimal("0.10")) is None


# --- summarise ----------------------------------------------------------------------------


def _rows():
    rows = []
    # Period 2026-10, agent A: the 10-answer example; 2 problems.
    for i, score in enumerate(TEN):
        rows.append(
            {
                "score": score,
                "problem": i < 2,
                "opinions": ["产品质量"] if i < 3 else [],
                "department": "客服一部",
                "agent": "A",
                "channel": "phone",
                "period": "2026-10",
            }
        )
    # Period 2026-11, agent B: 5, 5, 4, and one surveyed customer without a score.
    for score, problem, opinions in [
        (5, False, ["交付"]),
        (5, False, []),
        (4, True, ["交付", "服务态度"]),
        (None, True, ["交付"]),
    ]:
        rows.append(
            {
                "score": score,
                "problem": problem,
                "opinions": opinions,
                "department": "客服一部",
                "agent": "B",
                "channel": "email",
                "period": "2026-11",
            }
        )
    return rows


def test_summarise_by_period():
    result = m.summarise(_rows(), group_by="period")
    assert list(result) == ["2026-10", "2026-11"]

    oct_ = result["2026-10"]
    # the hand-computed example: 3.90 / 0.70 / below target; 2 of 10 had a problem = 0.20
    assert oct_["answers"] == 10
    assert oct_["surveyed"] == 10
    assert oct_["score"] == Decimal("3.90")
    assert oct_["rate"] == Decimal("0.7000")
    assert oct_["meets_target"] is False
    assert oct_["problem_incidence"] == Decimal("0.2000")
    assert oct_["opinions"] == [("产品质量", 3, Decimal("1.0000"))]

    nov = result["2026-11"]
    # answers 5, 5, 4 → score 14/3 = 4.67, rate 3/3 = 1 → meets target;
    # 4 surveyed (one gave no score), 2 with a problem → 2/4 = 0.50;
    # opinions: 交付 ×3, 服务态度 ×1 of 4 mentions → 0.75 / 0.25
    assert nov["answers"] == 3
    assert nov["surveyed"] == 4
    assert nov["score"] == Decimal("4.67")
    assert nov["rate"] == Decimal("1.0000")
    assert nov["meets_target"] is True
    assert nov["problem_incidence"] == Decimal("0.5000")
    assert nov["opinions"] == [("交付", 3, Decimal("0.7500")), ("服务态度", 1, Decimal("0.2500"))]

    # improvement between the two periods: 4.67 − 3.90 = 0.77
    assert m.improvement(nov["score"], oct_["score"]) == Decimal("0.77")


def test_summarise_by_department_merges_everything():
    result = m.summarise(_rows(), group_by="department")
    assert list(result) == ["客服一部"]
    dept = result["客服一部"]
    # 13 answers: 10-example (sum 39) + 5 + 5 + 4 = 53 → 53/13 = 4.0769… → 4.08
    # satisfied: 7 + 3 = 10 of 13 = 0.7692…; problems 4 of 14 surveyed = 0.2857…
    assert dept["answers"] == 13
    assert dept["score"] == Decimal("4.08")
    assert dept["rate"] == Decimal("0.7692")
    assert dept["problem_incidence"] == Decimal("0.2857")
    # 产品质量 ×3, 交付 ×3, 服务态度 ×1 of 7 mentions; the tie is ordered by category
    # string (交 U+4EA4 sorts before 产 U+4EA7)
    assert dept["opinions"] == [
        ("交付", 3, Decimal("0.4286")),
        ("产品质量", 3, Decimal("0.4286")),
        ("服务态度", 1, Decimal("0.1429")),
    ]


def test_summarise_other_groupings():
    by_agent = m.summarise(_rows(), group_by="agent")
    by_channel = m.summarise(_rows(), group_by="channel")
    assert list(by_agent) == ["A", "B"]
    assert list(by_channel) == ["email", "phone"]
    assert by_channel["phone"]["score"] == Decimal("3.90")

    by_pair = m.summarise(_rows(), group_by=("period", "agent"))
    assert list(by_pair) == [("2026-10", "A"), ("2026-11", "B")]

    by_callable = m.summarise(_rows(), group_by=lambda r: r["period"][:4])
    assert list(by_callable) == ["2026"]


def test_summarise_group_without_answers_and_missing_key():
    rows = [
        {"score": None, "problem": True, "period": "2026-12"},
        {"score": 5, "problem": False},  # no period → grouped under None, sorted last
    ]
    result = m.summarise(rows, group_by="period")
    assert list(result) == ["2026-12", None]
    dec = result["2026-12"]
    assert dec["answers"] == 0
    assert dec["score"] is None
    assert dec["rate"] is None
    assert dec["meets_target"] is None
    assert dec["problem_incidence"] == Decimal("1")
    assert dec["opinions"] == []
    assert result[None]["score"] == Decimal("5.00")


def test_summarise_empty_and_invalid():
    assert m.summarise([], group_by="period") == {}
    with pytest.raises(ValueError):
        m.summarise([{"score": 7, "period": "2026-11"}], group_by="period")
