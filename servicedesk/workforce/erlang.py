"""Erlang C: agents needed to answer a share of calls within a target time. Pure maths.

Why our own 30 lines rather than a package (checked on Python 3.11 here): `erlangccmath`
does not compute anything locally — it posts the inputs to a commercial web service
(erlangaddin.ccmath.com), which an intranet desk cannot reach and should not send its volumes
to; `pyworkforce`'s ErlangC is the same textbook formula but installs numpy, pandas, joblib and
OR-Tools (~150 MB) into the web process. The formula below is the one in pyworkforce and the
call-centre literature; tests check it against the published example (callcentrehelper.com,
"Erlang C formula – made simple", the example pyworkforce's tests use too: 100 calls per
30 minutes, 180 s handling time, 80 % answered in 20 s → 10 Erlangs, 14 agents, P(wait)
17.4 %, occupancy 71.4 %; with 30 % shrinkage, 20 agents to schedule).

    A     = λ × AHT                       traffic intensity in Erlangs (λ: calls per second)
    P(w)  = (Aᴺ/N! × N/(N−A)) / (Σₖ₌₀ᴺ⁻¹ Aᵏ/k! + Aᴺ/N! × N/(N−A))      chance a call waits
    SL    = 1 − P(w) × e^(−(N−A) × T / AHT)                            share answered within T
    N     = the smallest N > A with SL ≥ target; ÷ (1 − shrinkage), rounded up
"""

import math
import textwrap
from dataclasses import dataclass

FORMULA = textwrap.dedent(__doc__.split("\n\n")[2]).strip()


def waiting_probability(agents, traffic):
    """Erlang C's P(wait), computed through Erlang B's stable recurrence."""
    if agents <= traffic:
        return 1.0
    inverse_b = 1.0
    for k in range(1, agents + 1):
        inverse_b = 1.0 + inverse_b * k / traffic
    b = 1.0 / inverse_b
    return agents * b / (agents - traffic * (1 - b))


def service_level(agents, traffic, handling_seconds, target_seconds):
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    pw = waiting_probability(agents, traffic)
    return max(0.0, 1.0 - pw * math.exp(-(agents - traffic) * target_seconds / handling_seconds))


@dataclass(frozen=True)
class Requirement:
    traffic: float  # Erlangs
    agents: int  # answering the calls
    positions: int  # with shrinkage: people to schedule
    service_level: float
    occupancy: float
    waiting_probability: float


def agents_needed(*, calls, interval_seconds, handling_seconds, target_level, target_seconds,
                  shrinkage=0.0):  # fmt: skip
    """Agents to answer `target_level` (0..1) of `calls` arriving in `interval_seconds`
    within `target_seconds`, each taking `handling_seconds`."""
    if calls <= 0:
        return Requirement(0.0, 0, 0, 1.0, 0.0, 0.0)
    traffic = calls * handling_seconds / interval_seconds
    agents = max(1, math.floor(traffic) + 1)
    while service_level(agents, traffic, handling_seconds, target_seconds) < target_level:
        agents += 1
    return Requirement(
        traffic=traffic,
        agents=agents,
        positions=math.ceil(agents / (1 - shrinkage)),
        service_level=service_level(agents, traffic, handling_seconds, target_seconds),
        occupancy=traffic / agents,
        waiting_probability=waiting_probability(agents, traffic),
    )


def written_agents(*, backlog_work_seconds, window_seconds, shrinkage=0.0):
    """Written channels: agents to clear the work that arrived within the response window in
    that window — Σ arrivals × AHT ÷ window, rounded up, ÷ (1 − shrinkage)."""
    if backlog_work_seconds <= 0:
        return 0
    return math.ceil(backlog_work_seconds / window_seconds / (1 - shrinkage))
