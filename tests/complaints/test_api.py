"""The cases REST API end to end, as a channel system or a staff client uses it: intake with
de-duplication, lists with filters and search, the detail with its timeline, lifecycle steps
and their refusals (400/401/403/404/409), progress updates, masking of personal data, the
OpenAPI schema, a constant number of queries per list, and two people racing one step."""

import datetime
import threading

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from complaints import services
from complaints.models import Case, CaseEvent, Customer, RoutingRule
from servicedesk.staff import roles
from servicedesk.staff.models import Department

CASES = "/api/v1/cases/"

BODY = {
    "channel": "social",
    "customer": {"name": "张三", "phone": "+86 138-0013-8000", "email": "zhangsan@example.com"},
    "subject": "手机屏幕碎了要求换货",
    "description": "客户收到手机时屏幕已有裂痕。",
    "customer_words": "我刚收到手机屏幕就是碎的！",
    "expected_outcome": "换一台新的",
    "type": "complaint",
    "category": "product",
    "order_no": "SO-1001",
    "product": "X1 手机",
}


def body(**changes):
    data = {**BODY, "customer": dict(BODY["customer"]), **changes}
    return data


def client_for(user=None, language="en"):
    """An API client speaking `language`, authenticated with the user's token."""
    client = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    if user is not None:
        token, _ = Token.objects.get_or_create(user=user)
        client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def new_case(n=0, *, user=None, department=None, assignee=None, **changes):
    """A case through the intake service; `n` gives each case its own customer."""
    data = {
        "channel": "phone",
        "customer": {"name": f"客户{n}", "phone": f"1390000{n:04d}", "email": f"c{n}@example.com"},
        "subject": f"问题{n}：快递一直没有送到",
        "description": "物流信息三天没有更新。",
        "type": "complaint",
        "category": "logistics",
        **changes,
    }
    return services.case_intake(user=user, department=department, assignee=assignee, **data).case


def step(client, case, name, **data):
    return client.post(f"{CASES}{case.number}/transitions/{name}/", data, format="json")


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def handler(make_user, tech):
    return make_user("handler", role=roles.HANDLER, departments=[tech])


@pytest.fixture
def assigned_case(agent, tech, handler):
    """A case in the technical department, assigned to the handler."""
    return new_case(1, user=agent, department=tech, assignee=handler)


# --- intake ------------------------------------------------------------------------------


def test_intake_creates_a_case_routed_and_assigned(agent, tech, handler):
    RoutingRule.objects.create(name="产品问题", category="product", department=tech)

    response = client_for(agent).post(CASES, body(), format="json")

    assert response.status_code == 201, response.json()
    data = response.json()
    case = Case.objects.get(number=data["number"])
    assert data["absorbed"] is False
    assert data["state"] == "assigned"
    assert data["department"]["code"] == "tech"
    assert data["assignee"]["username"] == "handler"
    assert data["channel"] == "social"
    assert data["customer"]["name"] == "张三"
    assert data["customer"]["phone"] == "+86 138-0013-8000"  # agents see it in full
    assert data["version"] == case.version
    for field in ["number", "state", "channel", "type", "category", "urgency", "priority",
                  "department", "assignee", "customer", "subject", "created_at", "absorbed"]:  # fmt: skip
        assert field in data
    assert case.created_by == agent
    assert case.customer_words == "我刚收到手机屏幕就是碎的！"


def test_same_customer_through_another_channel_is_absorbed(agent):
    client = client_for(agent)
    first = client.post(CASES, body(), format="json")
    assert first.status_code == 201

    again = client.post(
        CASES,
        body(
            channel="phone",
            customer={"name": "张三", "phone": "13800138000"},
            subject="收到的手机屏幕碎了，要求换货",
        ),
        format="json",
    )

    assert again.status_code == 200, again.json()
    assert again.json()["absorbed"] is True
    assert again.json()["number"] == first.json()["number"]
    assert Case.objects.count() == 1
    detail = client.get(f"{CASES}{first.json()['number']}/").json()
    assert [c["channel"] for c in detail["contacts"]] == ["social", "phone"]
    assert detail["absorbed"] is False


def test_a_different_problem_of_the_same_customer_is_a_new_case(agent):
    client = client_for(agent)
    assert client.post(CASES, body(), format="json").status_code == 201
    other = client.post(CASES, body(subject="发票抬头开错了", channel="email"), format="json")
    assert other.status_code == 201
    assert Case.objects.count() == 2


@pytest.mark.parametrize(
    ("change", "error_path"),
    [
        ({"subject": None}, ["subject"]),
        ({"channel": "pigeon"}, ["channel"]),
        ({"type": "praise"}, ["type"]),
        ({"customer": {"name": "张三", "phone": "12"}}, ["customer", "phone"]),
        ({"customer": {"name": "张三", "email": "not-an-email"}}, ["customer", "email"]),
        ({"customer": {"name": "张三"}}, ["customer", "non_field_errors"]),
        ({"priority": 9}, ["priority"]),
    ],
)
def test_bad_intake_answers_400_with_field_errors_and_saves_nothing(agent, change, error_path):
    data = body(**change)
    data = {k: v for k, v in data.items() if v is not None}

    response = client_for(agent).post(CASES, data, format="json")

    assert response.status_code == 400
    errors = response.json()
    for key in error_path:
        assert key in errors, errors
        errors = errors[key]
    assert isinstance(errors, list) and all(isinstance(m, str) and m for m in errors)
    assert Case.objects.count() == 0
    assert Customer.objects.count() == 0


def test_missing_subject_message_is_in_english_or_chinese_by_request(agent):
    english = client_for(agent, "en").post(CASES, body(subject=""), format="json")
    chinese = client_for(agent, "zh-hans").post(CASES, body(subject=""), format="json")

    assert english.status_code == chinese.status_code == 400
    assert english.json()["subject"] == ["This field may not be blank."]
    assert "subject" in chinese.json()
    assert chinese.json()["subject"][0] != english.json()["subject"][0]


def test_return_exchange_intake_stores_the_return_data_and_flags_late_requests(agent):
    purchase = timezone.localdate() - datetime.timedelta(days=20)
    response = client_for(agent).post(
        CASES,
        body(
            type="return_exchange",
            return_request={"purchase_date": purchase.isoformat(), "reason": "personal"},
        ),
        format="json",
    )

    assert response.status_code == 201, response.json()
    detail = client_for(agent).get(f"{CASES}{response.json()['number']}/").json()
    rr = detail["return_request"]
    assert rr["order_no"] == "SO-1001"
    assert rr["reason"] == "personal"
    assert rr["outside_window"] is True
    assert rr["customer_pays_shipping"] is True


def test_return_exchange_without_its_data_is_refused_field_by_field(agent):
    response = client_for(agent).post(
        CASES, body(type="return_exchange", order_no="", product=""), format="json"
    )

    assert response.status_code == 400
    assert {"return_request", "order_no", "product"} <= set(response.json())
    future = (timezone.localdate() + datetime.timedelta(days=10)).isoformat()
    response = client_for(agent).post(
        CASES,
        body(type="return_exchange", return_request={"purchase_date": future, "reason": "quality"}),
        format="json",
    )
    assert response.status_code == 400
    assert "purchase_date" in response.json()["return_request"]
    assert Case.objects.count() == 0


# --- authentication and permission -------------------------------------------------------


def test_anonymous_requests_are_refused(db):
    client = APIClient()
    assert client.get(CASES).status_code == 401
    assert client.post(CASES, body(), format="json").status_code == 401
    assert Case.objects.count() == 0


def test_session_login_works_too(client, agent):
    new_case(1, user=agent)
    client.force_login(agent)
    response = client.get(CASES)
    assert response.status_code == 200
    assert response.json()["count"] == 1


def test_a_handler_may_not_assign(handler, assigned_case, tech):
    response = step(
        client_for(handler), assigned_case, "assign", department="tech", assignee="handler"
    )

    assert response.status_code == 403
    assert "detail" in response.json()
    assigned_case.refresh_from_db()
    assert assigned_case.version == 2


def test_cases_of_other_departments_are_not_found(make_user, department, agent):
    case = new_case(1, user=agent, department=department, assignee=agent)
    other = make_user("other", role=roles.HANDLER, departments=[])

    client = client_for(other)
    assert client.get(f"{CASES}{case.number}/").status_code == 404
    assert step(client, case, "start_investigation").status_code == 404
    assert client.get(CASES).json()["count"] == 0


# --- lifecycle through the API -----------------------------------------------------------


def test_assign_by_code_and_username(agent, tech, handler):
    case = new_case(1, user=agent)
    assert case.state == "received"

    response = step(client_for(agent), case, "assign", department="tech", assignee="handler")

    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["state"] == "assigned"
    assert data["department"]["code"] == "tech"
    assert data["assignee"]["username"] == "handler"
    assert data["events"][-1]["transition"] == "assign"


def test_assign_by_ids(agent, tech, handler):
    case = new_case(1, user=agent)
    response = step(client_for(agent), case, "assign", department=tech.pk, assignee=handler.pk)
    assert response.status_code == 200, response.json()
    assert response.json()["assignee"]["id"] == handler.pk


def test_assign_with_unknown_or_missing_people_answers_400(agent, tech, handler):
    case = new_case(1, user=agent)
    client = client_for(agent)

    unknown = step(client, case, "assign", department="nope", assignee="nobody")
    assert unknown.status_code == 400
    assert {"department", "assignee"} <= set(unknown.json())

    missing = step(client, case, "assign", department="tech")
    assert missing.status_code == 400
    assert "assignee" in missing.json()

    outsider = step(client, case, "assign", department="tech", assignee="agent")
    assert outsider.status_code == 400
    assert "assignee" in outsider.json()
    case.refresh_from_db()
    assert case.state == "received"


def test_the_whole_lifecycle(agent, handler, assigned_case):
    client = client_for(handler)

    r = step(client, assigned_case, "start_investigation", note="开始排查")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "investigating"

    r = step(client, assigned_case, "propose_solution", solution="寄送新机", customer_notified=True)
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "solution_proposed"
    assert r.json()["solution"] == "寄送新机"
    assert r.json()["events"][-1]["customer_notified"] is True

    r = step(client, assigned_case, "resolve", result="已换新机", cause="运输磕碰")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "resolved"
    assert r.json()["cause"] == "运输磕碰"
    assert r.json()["resolved_at"]

    r = step(client, assigned_case, "close")
    assert r.status_code == 400
    assert "feedback_score" in r.json()

    services.case_record_feedback(case=assigned_case, score=5, text="满意")
    r = step(client, assigned_case, "close")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "closed"

    r = step(client, assigned_case, "reopen", reason="客户反映新机也有问题")
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "reopened"
    assert r.json()["reopen_count"] == 1

    transitions = [e["transition"] for e in r.json()["events"] if e["kind"] == "transition"]
    assert transitions == [
        "assign", "start_investigation", "propose_solution", "resolve", "close", "reopen",
    ]  # fmt: skip


def test_steps_need_their_input(handler, assigned_case):
    client = client_for(handler)
    step(client, assigned_case, "start_investigation")

    assert step(client, assigned_case, "propose_solution").json() == {
        "solution": ["Describe the proposed solution."]
    }
    r = step(client, assigned_case, "resolve", result="  ")
    assert r.status_code == 400
    assert "result" in r.json()
    assigned_case.refresh_from_db()
    assert assigned_case.state == "investigating"


def test_cancel_needs_a_reason(agent):
    case = new_case(1, user=agent)
    client = client_for(agent)

    r = step(client, case, "cancel")
    assert r.status_code == 400
    assert "reason" in r.json()

    r = step(client, case, "cancel", reason="骚扰信息")
    assert r.status_code == 200
    assert r.json()["state"] == "cancelled"
    assert r.json()["events"][-1]["message"] == "骚扰信息"


def test_merge_into_another_case(agent):
    survivor = new_case(1, user=agent)
    duplicate = new_case(2, user=agent)
    client = client_for(agent)

    bad = step(client, duplicate, "merge", into="209901-99999")
    assert bad.status_code == 400
    assert "into" in bad.json()

    r = step(client, duplicate, "merge", into=survivor.number)
    assert r.status_code == 200, r.json()
    assert r.json()["state"] == "merged"
    assert r.json()["merged_into"] == survivor.number
    detail = client.get(f"{CASES}{survivor.number}/").json()
    assert len(detail["contacts"]) == 2
    assert detail["events"][-1]["kind"] == "merge"


def test_a_step_not_possible_now_answers_409(handler, assigned_case):
    response = step(client_for(handler), assigned_case, "resolve", result="已解决")

    assert response.status_code == 409
    data = response.json()
    assert data["code"] == "not_allowed"
    assert data["state"] == "assigned"
    assert data["detail"]


def test_a_stale_version_answers_409_and_changes_nothing(handler, assigned_case):
    client = client_for(handler)
    seen = client.get(f"{CASES}{assigned_case.number}/").json()["version"]
    services.case_add_event(case=assigned_case, user=handler, message="已联系客户")

    response = step(client, assigned_case, "start_investigation", expected_version=seen)

    assert response.status_code == 409
    assert response.json()["code"] == "case_changed"
    assert response.json()["version"] == seen + 1
    assigned_case.refresh_from_db()
    assert assigned_case.state == "assigned"

    fresh = step(client, assigned_case, "start_investigation", expected_version=seen + 1)
    assert fresh.status_code == 200


def test_an_unknown_step_is_not_found(agent, assigned_case):
    assert step(client_for(agent), assigned_case, "teleport").status_code == 404


def test_the_detail_offers_the_steps_the_user_may_take(agent, handler, assigned_case):
    def names(user):
        detail = client_for(user).get(f"{CASES}{assigned_case.number}/").json()
        return {t["name"] for t in detail["transitions"]}

    assert names(agent) == {"assign", "start_investigation", "merge", "cancel"}
    assert names(handler) == {"start_investigation"}


# --- progress updates --------------------------------------------------------------------


def test_progress_update_is_added_to_the_timeline(handler, assigned_case):
    client = client_for(handler)
    promised = timezone.now() + datetime.timedelta(days=1)

    response = client.post(
        f"{CASES}{assigned_case.number}/events/",
        {
            "message": "已排查问题原因，开发中",
            "customer_notified": True,
            "next_contact_at": promised.isoformat(),
        },
        format="json",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["kind"] == "progress"
    assert response.json()["customer_notified"] is True
    detail = client.get(f"{CASES}{assigned_case.number}/").json()
    assert detail["events"][-1]["message"] == "已排查问题原因，开发中"
    assert detail["events"][-1]["author"]["username"] == "handler"
    assert detail["next_contact_at"] is not None
    assigned_case.refresh_from_db()
    assert abs(assigned_case.next_contact_at - promised) < datetime.timedelta(seconds=1)


def test_internal_note_and_bad_updates(handler, assigned_case):
    url = f"{CASES}{assigned_case.number}/events/"
    client = client_for(handler)
    before = CaseEvent.objects.filter(case=assigned_case).count()

    assert (
        client.post(url, {"message": "内部备注", "kind": "note"}, format="json").json()["kind"]
        == "note"
    )
    assert "message" in client.post(url, {"message": ""}, format="json").json()
    assert "kind" in client.post(url, {"message": "x", "kind": "escalation"}, format="json").json()
    past = (timezone.now() - datetime.timedelta(days=2)).isoformat()
    r = client.post(url, {"message": "x", "expected_resolution_at": past}, format="json")
    assert r.status_code == 400
    assert "expected_resolution_at" in r.json()
    stale = client.post(url, {"message": "x", "expected_version": 1}, format="json")
    assert stale.status_code == 409
    assert CaseEvent.objects.filter(case=assigned_case).count() == before + 1


# --- lists, filters, search, masking ----------------------------------------------------


@pytest.fixture
def mixed_cases(agent, department, tech, handler):
    a = new_case(1, user=agent, department=tech, assignee=handler, urgency="high", priority=5)
    b = new_case(2, user=agent, department=department, assignee=agent, channel="email",
                 type="consultation", subject="会员积分怎么兑换")  # fmt: skip
    c = new_case(3, user=agent, customer={"name": "李四", "phone": "13700137000"})
    return a, b, c


def numbers(response):
    assert response.status_code == 200, response.json()
    return {row["number"] for row in response.json()["results"]}


def test_filters(supervisor, mixed_cases, tech, department, handler, agent):
    a, b, c = mixed_cases
    client = client_for(supervisor)

    assert numbers(client.get(CASES)) == {a.number, b.number, c.number}
    assert numbers(client.get(CASES, {"state": "received"})) == {c.number}
    assert numbers(client.get(CASES, {"state": ["received", "assigned"]})) == {
        a.number, b.number, c.number,
    }  # fmt: skip
    assert numbers(client.get(CASES, {"urgency": "high"})) == {a.number}
    assert numbers(client.get(CASES, {"priority": 5})) == {a.number}
    assert numbers(client.get(CASES, {"channel": "email"})) == {b.number}
    assert numbers(client.get(CASES, {"type": "consultation"})) == {b.number}
    assert numbers(client.get(CASES, {"department": "tech"})) == {a.number}
    assert numbers(client.get(CASES, {"department": department.pk})) == {b.number}
    assert numbers(client.get(CASES, {"assignee": "handler"})) == {a.number}
    assert numbers(client.get(CASES, {"assignee": agent.pk})) == {b.number}
    assert client.get(CASES, {"channel": "pigeon"}).status_code == 400


def test_search_by_number_subject_and_customer_name(supervisor, mixed_cases):
    a, b, c = mixed_cases
    client = client_for(supervisor)

    assert numbers(client.get(CASES, {"search": a.number})) == {a.number}
    assert numbers(client.get(CASES, {"search": "积分"})) == {b.number}
    assert numbers(client.get(CASES, {"search": "李四"})) == {c.number}


def test_list_is_paginated_and_newest_first(supervisor, agent):
    for n in range(5):
        new_case(n, user=agent)
    response = client_for(supervisor).get(CASES, {"page_size": 2})
    data = response.json()
    assert data["count"] == 5
    assert len(data["results"]) == 2
    assert data["next"]
    created = [row["created_at"] for row in data["results"]]
    assert created == sorted(created, reverse=True)


def test_a_long_list_stops_counting_at_the_cap_and_next_still_reads_everything(
    supervisor, agent, monkeypatch, django_assert_max_num_queries
):
    from servicedesk.pagination import CappedCountPagination

    monkeypatch.setattr(CappedCountPagination, "COUNT_CAP", 3)
    made = {new_case(n, user=agent).number for n in range(7)}
    client = client_for(supervisor)

    first = client.get(CASES, {"page_size": 2}).json()
    assert (first["count"], first["count_is_exact"], first["previous"]) == (3, False, None)
    assert list(first) == ["count", "count_is_exact", "next", "previous", "results"]
    # Past the cap: still a next page while cases follow, and every case once.
    seen, page, url = [], first, None
    while True:
        seen += [row["number"] for row in page["results"]]
        if not page["next"]:
            break
        url = page["next"]
        with django_assert_max_num_queries(LIST_QUERIES):
            page = client.get(url).json()
    assert sorted(seen) == sorted(made) and len(seen) == 7
    # The last page knows the exact count from its own rows.
    assert (page["count"], page["count_is_exact"]) == (7, True)
    assert page["previous"] and "page=3" in page["previous"]
    assert client.get(CASES, {"page_size": 2, "page": 5}).status_code == 404
    assert client.get(CASES, {"page": "zero"}).status_code == 404


def test_a_short_list_counts_exactly(supervisor, agent):
    for n in range(2):
        new_case(n, user=agent)
    data = client_for(supervisor).get(CASES).json()
    assert (data["count"], data["count_is_exact"], data["next"]) == (2, True, None)


def test_handlers_see_only_their_departments_cases(handler, mixed_cases):
    a, _, _ = mixed_cases
    assert numbers(client_for(handler).get(CASES)) == {a.number}


def test_personal_data_is_masked_without_the_permission(make_user, tech, agent, assigned_case):
    # A handler-like account with the case permissions but not complaints.view_personal_data.
    reader = make_user("reader", departments=[tech])
    reader.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="complaints", codename__in=["view_case", "transition_case"]
        )
    )
    assert not reader.has_perm("complaints.view_personal_data")
    url = f"{CASES}{assigned_case.number}/"

    detail = client_for(reader).get(url).json()["customer"]
    listed = client_for(reader).get(CASES).json()["results"][0]["customer"]
    for customer in (detail, listed):
        assert customer["phone"] == "139****0001"
        assert customer["email"] == "c1***@example.com"
        assert customer["name"] == "客户1"

    customer = client_for(agent).get(url).json()["customer"]
    assert customer["phone"] == "13900000001"
    assert customer["email"] == "c1@example.com"


def test_detail_has_timeline_and_contacts(agent, handler, assigned_case):
    services.case_add_event(case=assigned_case, user=handler, message="已联系客户")

    data = client_for(agent).get(f"{CASES}{assigned_case.number}/").json()

    assert [e["kind"] for e in data["events"]] == ["created", "transition", "progress"]
    assert data["events"][0]["to_state"] == "received"
    assert data["events"][-1]["message"] == "已联系客户"
    assert len(data["contacts"]) == 1
    assert data["contacts"][0]["channel"] == "phone"
    assert data["description"] == "物流信息三天没有更新。"


# --- performance -------------------------------------------------------------------------


# Token and user, permissions (user's, groups'), the user's groups, the user's department
# ids (visibility), count, page.
LIST_QUERIES = 7
# Plus the prefetched timeline, contacts and departments and a membership check per step on offer.
DETAIL_QUERIES = 12


@pytest.mark.parametrize("role", [roles.HANDLER, roles.AGENT, roles.SUPERVISOR])
def test_list_takes_the_same_number_of_queries_for_3_or_25_cases(
    make_user, tech, django_assert_max_num_queries, role
):
    user = make_user("reader", role=role, departments=[tech])
    creator = make_user("creator", role=roles.AGENT, departments=[tech])
    client = client_for(user)

    for count in (3, 25):
        for n in range(Case.objects.count(), count):
            new_case(n, user=creator, department=tech, assignee=creator)
        with django_assert_max_num_queries(LIST_QUERIES):
            response = client.get(CASES)
        assert response.json()["count"] == count


def test_detail_queries_do_not_grow_with_the_timeline(
    agent, assigned_case, django_assert_max_num_queries
):
    client = client_for(agent)
    url = f"{CASES}{assigned_case.number}/"
    for n in range(20):
        services.case_add_event(case=assigned_case, user=agent, message=f"进度{n}")
    with django_assert_max_num_queries(DETAIL_QUERIES):
        response = client.get(url)
    assert len(response.json()["events"]) == 22


# --- schema ------------------------------------------------------------------------------


def test_schema_and_docs_answer(agent):
    client = client_for(agent)
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/cases/{number}/transitions/{name}/" in paths
    assert "/api/v1/cases/{number}/events/" in paths
    assert client.get("/api/v1/docs/").status_code == 200


# --- concurrency (PostgreSQL) --------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_people_racing_the_same_step_one_wins_one_gets_409(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (SELECT … FOR UPDATE)")
    dept = Department.objects.create(code="race", name="售后部")
    first = make_user("first", role=roles.HANDLER, departments=[dept])
    second = make_user("second", role=roles.HANDLER, departments=[dept])
    case = new_case(1, user=first, department=dept, assignee=first)
    version = case.version
    barrier = threading.Barrier(2)
    outcomes = []

    def race(user):
        from django.db import connection as thread_connection

        try:
            barrier.wait(timeout=30)
            services.case_transition(
                case=case, name="start_investigation", user=user, expected_version=version
            )
            outcomes.append("ok")
        except (services.CaseChanged, TransitionNotAllowed, ConcurrentTransition) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=race, args=(u,)) for u in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(outcomes) == ["CaseChanged", "ok"]
    case.refresh_from_db()
    assert case.state == "investigating"
    assert case.version == version + 1
    assert case.events.filter(transition="start_investigation").count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_api_clients_racing_resolve_get_200_and_409(make_user):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL row locks (SELECT … FOR UPDATE)")
    dept = Department.objects.create(code="race", name="售后部")
    users = [
        make_user(name, role=roles.HANDLER, departments=[dept]) for name in ("first", "second")
    ]
    case = new_case(1, user=users[0], department=dept, assignee=users[0])
    services.case_transition(case=case, name="start_investigation", user=users[0])
    barrier = threading.Barrier(2)
    statuses = []

    def race(user):
        from django.db import connection as thread_connection

        try:
            client = client_for(user)
            barrier.wait(timeout=30)
            statuses.append(
                step(client, case, "resolve", result=f"{user.username} 已处理").status_code
            )
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=race, args=(u,)) for u in users]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert sorted(statuses) == [200, 409]
    case.refresh_from_db()
    assert case.state == "resolved"
    assert case.events.filter(transition="resolve").count() == 1
