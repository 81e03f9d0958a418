"""GET /api/v1/metrics/satisfaction/: the handbook's figures for a hand-computed month
(see metrics_helpers), every grouping, the previous period, validation, who may call it."""

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from callbacks.services import satisfaction_version
from servicedesk.staff import roles

from .metrics_helpers import NOV_FROM, NOV_TO, at, more_answers, november

URL = "/api/v1/metrics/satisfaction/"

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(make_user, department):
    return november(make_user, department)


def client_for(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.get_or_create(user=user)[0].key}")
    return client


def get(user, **params):
    return client_for(user).get(URL, params, HTTP_ACCEPT_LANGUAGE="en")


def test_the_hand_computed_month(supervisor, month):
    response = get(supervisor, **{"from": NOV_FROM, "to": NOV_TO})
    assert response.status_code == 200
    data = response.json()
    assert data["from"] == "2026-11-01" and data["to"] == "2026-11-30"
    assert data["group_by"] == "period"
    assert data["target"] == "0.90"
    assert data["totals"] == {
        "responses": 10,
        "answers": 10,
        "score": "4.10",
        "rate": "0.7000",
        "meets_target": False,
        # distinct customers: {c7, c8} of 8, not 3 of 10 questionnaires
        "problem_incidence": "0.2500",
        "customers_surveyed": 8,
        "customers_with_problem": 2,
    }
    assert data["previous"] == {
        "from": "2026-10-02",
        "to": "2026-10-31",
        "responses": 4,
        "answers": 4,
        "score": "4.00",
        "rate": "0.7500",
        "meets_target": False,
        "problem_incidence": "0.5000",
        "customers_surveyed": 4,
        "customers_with_problem": 2,
    }
    assert data["improvement"] == "0.10"
    assert data["incidence_reduction"] == "0.2500"
    assert data["opinions"] == [
        {"category": "delivery", "label": "Delivery", "count": 2, "share": "0.3333"},
        {"category": "likes:价格", "label": "价格", "count": 2, "share": "0.3333"},
        {"category": "product_quality", "label": "Product quality", "count": 2,
         "share": "0.3333"},
    ]  # fmt: skip
    assert data["distribution"] == [
        {"score": 5, "count": 5},
        {"score": 4, "count": 2},
        {"score": 3, "count": 2},
        {"score": 2, "count": 1},
        {"score": 1, "count": 0},
    ]
    assert [(g["key"], g["score"]) for g in data["groups"]] == [("2026-11", "4.10")]


def _groups(user, group_by, **params):
    params = {"from": NOV_FROM, "to": NOV_TO, "group_by": group_by, **params}
    response = get(user, **params)
    assert response.status_code == 200, response.content
    return {
        g["key"]: (g["label"], g["answers"], g["score"], g["rate"], g["meets_target"],
                   g["problem_incidence"], g["customers_surveyed"])
        for g in response.json()["groups"]
    }  # fmt: skip


def test_by_department_agent_channel_method(supervisor, month):
    # kefu: #1 2 3 6 8 9 → 25/6 = 4.17, 4 of 6 satisfied, customers c1 c2 c3 c6 c8, c8 problem
    # tech: #4 5 7 → 14/3 = 4.67, all satisfied, c7 of 3 customers had a problem
    # none: #10 → 2.00, c8 had a problem
    assert _groups(supervisor, "department") == {
        "kefu": ("客服中心", 6, "4.17", "0.6667", False, "0.2000", 5),
        "tech": ("技术部", 3, "4.67", "1.0000", True, "0.3333", 3),
        None: ("No department", 1, "2.00", "0.0000", False, "1.0000", 1),
    }
    # agent1: #1 2 3 6 8 → 22/5 = 4.40, 4/5; agent2: #4 5 7 9 10 → 19/5 = 3.80, 3/5, c7 c8
    assert _groups(supervisor, "agent") == {
        "agent1": ("张小燕", 5, "4.40", "0.8000", False, "0.0000", 4),
        "agent2": ("陈晓明", 5, "3.80", "0.6000", False, "0.5000", 4),
    }
    assert _groups(supervisor, "channel") == {
        "phone": ("Phone", 6, "4.17", "0.6667", False, "0.2000", 5),
        "web": ("Web form", 3, "4.67", "1.0000", True, "0.3333", 3),
        None: ("Not about a case", 1, "2.00", "0.0000", False, "1.0000", 1),
    }
    # online: #1 2 4 5 7 9 → 27/6 = 4.50, 5/6; phone: #3 6 8 10 → 14/4 = 3.50, 2/4
    assert _groups(supervisor, "method") == {
        "online": ("Online questionnaire", 6, "4.50", "0.8333", False, "0.3333", 6),
        "phone": ("Phone", 4, "3.50", "0.5000", False, "0.2500", 4),
    }


def test_groups_are_ordered_by_label(supervisor, month):
    response = get(supervisor, **{"from": NOV_FROM, "to": NOV_TO, "group_by": "department"})
    assert [g["key"] for g in response.json()["groups"]] == ["kefu", "tech", None]


def test_by_period_week_and_day_list_empty_periods_too(supervisor, month):
    # October: 10-01 23:50 (1), 10-02 (5), 10-15 (3), 10-20 (4), 10-31 (4) → 17/5 = 3.40
    by_month = _groups(supervisor, "period", **{"from": "2026-10-01"})
    assert list(by_month) == ["2026-10", "2026-11"]
    assert by_month["2026-10"][1:4] == (5, "3.40", "0.6000")
    assert by_month["2026-11"][1:4] == (10, "4.10", "0.7000")

    # 2026-11-01 is a Sunday of ISO week 44; 11-30 the Monday of week 49
    by_week = _groups(supervisor, "week")
    assert list(by_week) == [f"2026-W{w}" for w in range(44, 50)]
    assert sum(g[1] for g in by_week.values()) == 10
    assert by_week["2026-W44"][1:3] == (0, None)  # nothing that Sunday: listed, no figures
    assert by_week["2026-W49"][1:3] == (1, "2.00")

    by_day = _groups(supervisor, "day")
    assert len(by_day) == 30
    assert by_day["2026-11-30"][1:3] == (1, "2.00")  # 23:30 Beijing time is still the 30th
    assert by_day["2026-11-01"][1:7] == (0, None, None, None, None, 0)


def test_defaults_this_month_until_today(supervisor, month):
    with time_machine.travel(at(2026, 11, 20, 9), tick=False):
        data = get(supervisor).json()
    assert (data["from"], data["to"], data["group_by"]) == ("2026-11-01", "2026-11-20", "period")
    # `to` is included whole: #1 … #8 (11-02 … 11-20) → 5 5 5 5 5 4 4 3 = 36/8 = 4.50, 7/8
    assert data["totals"]["answers"] == 8
    assert data["totals"]["score"] == "4.50"
    assert data["totals"]["rate"] == "0.8750"
    assert data["totals"]["meets_target"] is False
    # the previous 20 days, 10-12 … 10-31: 3, 4, 4 → 11/3 = 3.67
    assert (data["previous"]["from"], data["previous"]["to"]) == ("2026-10-12", "2026-10-31")
    assert data["previous"]["score"] == "3.67"
    assert data["improvement"] == "0.83"


def test_no_answers_gives_nulls_not_zeros(supervisor):
    data = get(supervisor, **{"from": "2025-01-01", "to": "2025-01-31"}).json()
    assert data["totals"]["answers"] == 0
    assert data["totals"]["score"] is None
    assert data["totals"]["rate"] is None
    assert data["totals"]["meets_target"] is None
    assert data["totals"]["problem_incidence"] is None
    assert data["improvement"] is None
    assert data["opinions"] == []


@pytest.mark.parametrize(
    "params, field",
    [
        ({"from": "2026-13-01"}, "from"),
        ({"from": "01/11/2026"}, "from"),
        ({"to": "tomorrow"}, "to"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "to"),
        ({"from": "2023-11-30", "to": "2026-11-30"}, "from"),  # 1097 days: over three years
        ({"group_by": "customer"}, "group_by"),
        ({"from": "1999-12-31", "to": "2000-01-31"}, "from"),
    ],
)
def test_bad_parameters_answer_400_with_field_errors(supervisor, params, field):
    response = get(supervisor, **params)
    assert response.status_code == 400
    errors = response.json()
    assert list(errors) == [field]
    assert errors[field] and all(isinstance(m, str) for m in errors[field])


def test_three_years_is_allowed(supervisor):
    # 2023-12-01 … 2026-11-30 = 1096 days (2024 is a leap year)
    assert get(supervisor, **{"from": "2023-12-01", "to": "2026-11-30"}).status_code == 200


def test_errors_in_the_users_language(supervisor):
    response = client_for(supervisor).get(
        URL, {"from": "2026-11-30", "to": "2026-11-01"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 400
    assert response.json()["to"]


def test_who_may_call(make_user, month):
    assert APIClient().get(URL).status_code == 401
    nobody = make_user("nobody")  # staff, but no role: no permission
    assert get(nobody).status_code == 403
    # Per-agent scores are for supervisors and managers, not for the agents themselves.
    for role in (roles.AGENT, roles.HANDLER):
        assert get(make_user(f"u-{role[:2]}", role=role)).status_code == 403, role
    for role in (roles.SUPERVISOR, roles.MANAGER):
        assert get(make_user(f"u-{role[:2]}", role=role)).status_code == 200, role
    # the admin session works too
    manager = make_user("boss", role=roles.MANAGER)
    client = APIClient()
    client.force_login(manager)
    assert client.get(URL).status_code == 200


def test_not_for_users_who_are_not_staff(django_user_model):
    from django.contrib.auth.models import Permission

    outsider = django_user_model.objects.create_user("outsider", password="pw", is_staff=False)
    outsider.user_permissions.add(Permission.objects.get(codename="view_satisfactionsummary"))
    assert get(outsider).status_code == 403


def test_queries_do_not_grow_with_the_data(supervisor, month):
    client = client_for(supervisor)

    def count(group_by):
        params = {"from": NOV_FROM, "to": NOV_TO, "group_by": group_by}
        with CaptureQueriesContext(connection) as ctx:
            r = client.get(URL, params)
        assert r.status_code == 200
        return len(ctx)

    before = {g: count(g) for g in ("period", "department", "agent", "channel")}
    more_answers(satisfaction_version(), 30)
    after = {g: count(g) for g in ("period", "department", "agent", "channel")}
    assert after == before
    # token + 2 permission reads; responses, problems, multiple-choice answers; names; the
    # plan in force (its satisfaction target); opinion categories and written suggestions
    assert max(after.values()) <= 10
    if connection.vendor == "postgresql":  # the two periods and the months: one statement
        assert after["period"] <= 8


def test_schema_builds_and_documents_the_endpoint(supervisor):
    client = client_for(supervisor)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    operation = schema.json()["paths"][URL]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"from", "to", "group_by"}
    components = schema.json()["components"]["schemas"]
    body = components["SatisfactionMetrics"]["properties"]
    assert {"from", "to", "target", "totals", "previous", "improvement", "groups",
            "opinions"} <= set(body)  # fmt: skip
    assert components["SatisfactionFigures"]["properties"]["score"]["type"] == "string"
