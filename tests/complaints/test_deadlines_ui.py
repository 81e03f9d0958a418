"""What staff and API clients see of deadlines, with a frozen clock: the case list's time-left
column and its overdue / due-within-4-h queues, the case page's deadline table, escalation
history and technical collaboration requests (asked and answered in the admin and the API),
the deadline fields of the case JSON, and constant query counts."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from complaints import services
from complaints.models import Case, SlaBreach, TechnicalRequest
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake, investigation_in_working_days, walk

SH = ZoneInfo("Asia/Shanghai")
CHANGELIST = reverse("admin:complaints_case_changelist")
CASES = "/api/v1/cases/"
MONDAY_10 = datetime.datetime(2026, 11, 2, 10, tzinfo=SH)  # high urgency: respond by Tue 10:00


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def frozen(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def front(make_user, department):
    """A handler of the front-line department (客服中心) that leads the cases."""
    return make_user("front", role=roles.HANDLER, departments=[department])


@pytest.fixture
def engineer(make_user, tech):
    """A handler of the technical department: not allowed to see the front line's cases."""
    return make_user("engineer", role=roles.HANDLER, departments=[tech])


@pytest.fixture
def tech_supervisor(make_user, tech):
    return make_user("tech_sup", role=roles.SUPERVISOR, departments=[tech])


def new_case(department, assignee, *, when=MONDAY_10, **kw):
    with frozen(when):
        return intake(department=department, assignee=assignee, urgency="high", **kw).case


def api(user):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="en")
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


def page(response):
    assert response.status_code == 200
    return response.content.decode()


def row_of(html, case):
    """The changelist row of `case` (its <tr>)."""
    match = re.search(
        r"<tr[^>]*>(?:(?!</tr>).)*" + re.escape(case.number) + r".*?</tr>", html, re.S
    )
    assert match, f"{case.number} not listed"
    return match.group(0)


def numbers(response):
    assert response.status_code == 200, response.json()
    return {row["number"] for row in response.json()["results"]}


# --- the case list ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "text", "state"),
    [
        (at(2026, 11, 2, 11), "23 hours left", "ok"),
        (at(2026, 11, 3, 7), "3 hours left", "soon"),
        (at(2026, 11, 3, 9, 30), "30 minutes left", "soon"),
        (at(2026, 11, 3, 12), "overdue by 2 hours", "overdue"),
        (at(2026, 11, 6, 13), "overdue by 3 days", "overdue"),  # the largest unit
    ],
)
def test_the_list_shows_time_left_for_the_current_stage_in_colour(
    client, agent, front, department, moment, text, state
):
    case = new_case(department, front)
    client.force_login(agent)
    with frozen(moment):
        row = row_of(page(client.get(CHANGELIST)), case)
    assert text in row
    assert f"sd-due-{state}" in row
    # The stage and the exact deadline in the badge's tooltip; a sign besides the colour.
    assert 'title="First response · 2026-11-03 10:00"' in row
    assert ("⚠" in row) == (state == "overdue")
    assert "sd-escalation" not in row and "provisional" not in row


def test_the_list_shows_the_next_stage_once_one_is_met_and_nothing_when_closed(
    client, agent, front, department
):
    case = new_case(department, front)
    with frozen(at(2026, 11, 2, 12)):
        services.case_add_event(case=case, user=front, message="已致电客户", customer_notified=True)
    client.force_login(agent)
    with frozen(at(2026, 11, 2, 13)):
        row = row_of(page(client.get(CHANGELIST)), case)
        assert "47 hours left" in row and 'title="Investigation · ' in row
        services.case_transition(case=case, name="cancel", user=agent, reason="客户撤回")
        row = row_of(page(client.get(CHANGELIST, {"state": "all"})), case)
    assert "sd-due" not in row and "—" in row


def test_the_list_marks_the_escalation_level_and_provisional_deadlines(
    client, agent, front, department, supervisor
):
    escalated = new_case(department, front)
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    investigation_in_working_days(3)
    with frozen(at(2026, 12, 30, 10)):  # three working days reach into 2027: not loaded yet
        provisional = intake(department=department, assignee=front, urgency="medium").case
    assert provisional.deadlines_provisional
    with frozen(at(2026, 12, 30, 11)):
        client.force_login(agent)
        html = page(client.get(CHANGELIST))
    assert ">level 1 escalated<" in row_of(html, escalated)
    assert "sd-provisional" in row_of(html, provisional)
    assert "sd-provisional" not in row_of(html, escalated)


def test_overdue_and_due_within_4_hours_queues(client, agent, front, department):
    late = new_case(department, front, when=at(2026, 11, 2, 8))  # due Tue 08:00
    soon = new_case(department, front, when=at(2026, 11, 2, 12))  # due Tue 12:00
    later = new_case(department, front, when=at(2026, 11, 2, 18))  # due Tue 18:00
    done = new_case(department, front, when=at(2026, 11, 2, 7))
    with frozen(at(2026, 11, 2, 9)):
        services.case_add_event(case=done, user=front, message="已回复", customer_notified=True)
    client.force_login(agent)
    with frozen(at(2026, 11, 3, 9)):
        overdue = page(client.get(CHANGELIST, {"overdue": "yes"}))
        due_soon = page(client.get(CHANGELIST, {"overdue": "soon"}))
        everything = page(client.get(CHANGELIST))
    assert late.number in overdue
    assert not {soon.number, later.number, done.number} & set(re.findall(r"\d{6}-\d+", overdue))
    assert soon.number in due_soon
    assert not {late.number, later.number, done.number} & set(re.findall(r"\d{6}-\d+", due_soon))
    assert "Due within 4 h" in everything


# --- the case page ----------------------------------------------------------------------


def deadline_states(html):
    return dict(re.findall(r'data-stage="([a-z_]+)" data-state="([a-z]+)"', html))


def test_the_case_page_lists_every_deadline_with_its_state(
    client, agent, front, department, tech_supervisor, supervisor, manager
):
    case = new_case(department, front)
    with frozen(at(2026, 11, 2, 12)) as clock:
        services.case_add_event(case=case, user=front, message="已致电客户", customer_notified=True)
        case = walk(case, front, ("start_investigation", {}))
        services.case_add_event(
            case=case, user=front, message="答应客户今晚六点前回电", customer_notified=True,
            next_contact_at=at(2026, 11, 2, 18),
        )  # fmt: skip
        clock.move_to(at(2026, 11, 2, 19))
        client.force_login(agent)
        html = page(client.get(reverse("admin:complaints_case_change", args=[case.pk])))
    states = deadline_states(html)
    assert states == {
        "first_response": "met",
        "investigation": "ok",
        "solution_to_customer": "ok",
        "next_contact": "overdue",
        "satisfaction_followup": "none",
    }
    assert "2026-11-02 18:00" in html  # the promised contact
    assert "overdue by 1 hour" in html
    assert "Promised contact · overdue by 1 hour" in html  # the head shows the current stage
    revision = case.plan_revision
    assert reverse("admin:knowledge_planrevision_change", args=[revision.pk]) in html
    assert "No escalation." in html


def test_the_case_page_shows_the_escalation_history(
    client, agent, front, department, supervisor, manager
):
    case = new_case(department, front)
    services.sla_sweep(now=at(2026, 11, 3, 10, 1))
    services.sla_sweep(now=at(2026, 11, 3, 14, 1))
    client.force_login(agent)
    with frozen(at(2026, 11, 3, 15)):
        html = page(client.get(reverse("admin:complaints_case_change", args=[case.pk])))
    history = html[html.index('id="escalations"') :]
    history = history[: history.index("</ul>")]
    assert re.findall(r'data-level="(\d)"', history) == ["2", "1"]  # newest first
    assert "supervisor" in history and "manager" in history
    assert "due 2026-11-03 10:00, escalated 2026-11-03 14:01" in history
    assert deadline_states(html)["first_response"] == "overdue"


def test_a_deadline_met_late_shows_by_how_much(client, agent, front, department):
    case = new_case(department, front)
    with frozen(at(2026, 11, 3, 13)):
        services.case_add_event(
            case=case, user=front, message="终于回复客户", customer_notified=True
        )
        client.force_login(agent)
        html = page(client.get(reverse("admin:complaints_case_change", args=[case.pk])))
    assert deadline_states(html)["first_response"] == "late"
    assert "finished 3 hours late" in html


# --- technical collaboration in the admin -------------------------------------------------


def test_asking_and_answering_another_department_in_the_admin(
    client, front, engineer, tech, department
):
    case = new_case(department, front)
    case_url = reverse("admin:complaints_case_change", args=[case.pk])
    client.force_login(front)
    with frozen(at(2026, 11, 2, 14)):
        response = client.post(
            reverse("admin:complaints_case_technical_request", args=[case.pk]),
            {"department": tech.pk, "question": "订单接口返回 500，请排查"},
        )
        assert response.status_code == 302 and response["Location"].endswith("#technical")
        html = page(client.get(case_url))
    tr = TechnicalRequest.objects.get()
    assert tr.due_at == at(2026, 11, 2, 16)  # 2 h
    assert "技术部" in html and "订单接口返回 500" in html
    assert "answer due 2026-11-02 16:00" in html and "2 hours left" in html
    assert 'name="answer"' not in html  # the front line cannot answer for 技术部

    # The asked department's engineer can open the case, and finds the request in the queue.
    client.force_login(engineer)
    with frozen(at(2026, 11, 2, 15)):
        assert client.get(case_url).status_code == 200
        queue = page(
            client.get(reverse("admin:complaints_technicalrequest_changelist"), {"asked": "mine"})
        )
        assert case.number in queue and "1 hour left" in queue
        answer_url = reverse("admin:complaints_technicalrequest_answer", args=[tr.pk])
        assert answer_url in queue
        form = page(client.get(answer_url))
        assert "订单接口返回 500" in form
        blank = client.post(answer_url, {"answer": " "})
        assert blank.status_code == 200 and "This field is required." in blank.content.decode()
        response = client.post(answer_url, {"answer": "接口已修复，请让客户重试"})
    assert response.status_code == 302
    assert response["Location"] == case_url + "#technical"  # back to the case it helped with

    client.force_login(front)
    with frozen(at(2026, 11, 2, 15, 5)):
        html = page(client.get(case_url))
    assert "接口已修复，请让客户重试" in html and "answered in time" in html
    assert "answered by engineer" in html


def test_only_the_asked_department_may_answer(client, front, engineer, tech, department, agent):
    case = new_case(department, front)
    with frozen(at(2026, 11, 2, 14)):
        tr = services.technical_request_create(
            case=case, department=tech, question="请排查", user=front
        )
    client.force_login(front)
    response = client.post(
        reverse("admin:complaints_technicalrequest_answer", args=[tr.pk]), {"answer": "我来答"}
    )
    assert response.status_code == 302
    tr.refresh_from_db()
    assert tr.answered_at is None
    assert "Only the asked department can answer." in page(client.get(response["Location"]))


def test_an_unanswered_request_escalates_and_shows_overdue(
    client, front, engineer, tech, department, tech_supervisor
):
    case = new_case(department, front)
    with frozen(at(2026, 11, 2, 14)):
        services.technical_request_create(case=case, department=tech, question="请排查", user=front)
    services.sla_sweep(now=at(2026, 11, 2, 16, 30))
    client.force_login(front)
    with frozen(at(2026, 11, 2, 16, 30)):
        html = page(client.get(reverse("admin:complaints_case_change", args=[case.pk])))
    tech_panel = html[html.index('id="technical"') :]
    assert 'data-state="overdue"' in tech_panel and "overdue by 30 minutes" in tech_panel
    assert ">L1<" in tech_panel
    assert "Technical collaboration" in html[html.index('id="escalations"') :]
    assert "tech_sup" in html


# --- the API ------------------------------------------------------------------------------


def test_case_json_has_deadlines_and_breach_flags(agent, front, department, supervisor):
    case = new_case(department, front)
    with frozen(at(2026, 11, 2, 12)):
        services.case_add_event(case=case, user=front, message="已回复", customer_notified=True)
    services.sla_sweep(now=at(2026, 11, 4, 13))  # the investigation (due Wed 12:00) is late
    with frozen(at(2026, 11, 4, 13)):
        listed = api(agent).get(CASES).json()["results"][0]
        detail = api(agent).get(f"{CASES}{case.number}/").json()
    for data in (listed, detail):
        assert data["current_stage"] == "investigation"
        assert data["current_due"] == "2026-11-04T12:00:00+08:00"
        assert data["overdue"] is True
        assert data["escalation_level"] == 1
        assert data["deadlines_provisional"] is False
        deadlines = data["deadlines"]
        assert list(deadlines) == [
            "first_response", "investigation", "solution_to_customer", "next_contact",
            "satisfaction_followup",
        ]  # fmt: skip
        assert deadlines["first_response"] == {
            "due": "2026-11-03T10:00:00+08:00",
            "done_at": "2026-11-02T12:00:00+08:00",
            "met": True,
            "overdue": False,
        }
        assert deadlines["investigation"]["met"] is False
        assert deadlines["investigation"]["overdue"] is True
        assert deadlines["solution_to_customer"]["met"] is None
        assert deadlines["next_contact"] == {
            "due": None, "done_at": None, "met": None, "overdue": False,
        }  # fmt: skip
    [breach] = detail["breaches"]
    assert breach["stage"] == "investigation" and breach["level"] == 1
    assert breach["notified"] == ["supervisor"]
    assert breach["due_at"] == "2026-11-04T12:00:00+08:00"
    assert detail["technical_requests"] == []


def test_api_overdue_and_due_within_filters(agent, front, department):
    late = new_case(department, front, when=at(2026, 11, 2, 8))
    soon = new_case(department, front, when=at(2026, 11, 2, 12))
    later = new_case(department, front, when=at(2026, 11, 2, 18))
    client = api(agent)
    with frozen(at(2026, 11, 3, 9)):
        assert numbers(client.get(CASES, {"overdue": "true"})) == {late.number}
        assert numbers(client.get(CASES, {"overdue": "false"})) == {soon.number, later.number}
        assert numbers(client.get(CASES, {"due_within_hours": 4})) == {soon.number}
        assert numbers(client.get(CASES, {"due_within_hours": 10})) == {soon.number, later.number}
        assert numbers(client.get(CASES, {"ordering": "current_due"})) == {
            late.number, soon.number, later.number,
        }  # fmt: skip
        assert client.get(CASES, {"due_within_hours": "soon"}).status_code == 400
        assert client.get(CASES, {"due_within_hours": -1}).status_code == 400


def test_technical_requests_through_the_api(agent, front, engineer, tech, department, supervisor):
    case = new_case(department, front)
    with frozen(at(2026, 11, 2, 14)):
        created = api(front).post(
            f"{CASES}{case.number}/technical-requests/",
            {"department": "tech", "question": "支付回调失败，请查日志"},
            format="json",
        )
    assert created.status_code == 201, created.json()
    body = created.json()
    assert body["case"] == case.number and body["department"]["code"] == "tech"
    assert body["due_at"] == "2026-11-02T16:00:00+08:00" and body["overdue"] is False
    url = f"/api/v1/technical-requests/{body['id']}/"

    bad = api(front).post(
        f"{CASES}{case.number}/technical-requests/",
        {"department": "nope", "question": ""},
        format="json",
    )
    assert bad.status_code == 400 and set(bad.json()) == {"department", "question"}

    # The engineer sees the request and the case it is about, and answers.
    with frozen(at(2026, 11, 2, 17)):
        assert api(engineer).get(f"{CASES}{case.number}/").status_code == 200
        queue = api(engineer).get("/api/v1/technical-requests/", {"answered": "false"}).json()
        assert [r["id"] for r in queue["results"]] == [body["id"]]
        assert queue["results"][0]["overdue"] is True
        assert api(front).post(f"{url}answer/", {"answer": "x"}, format="json").status_code == 403
        answered = api(engineer).post(
            f"{url}answer/", {"answer": "回调地址配置错误，已改"}, format="json"
        )
        assert answered.status_code == 200, answered.json()
        assert answered.json()["answered_by"]["username"] == "engineer"
        again = api(engineer).post(f"{url}answer/", {"answer": "再答一次"}, format="json")
        assert again.status_code == 400 and "answer" in again.json()
        detail = api(supervisor).get(f"{CASES}{case.number}/").json()
    [tr] = detail["technical_requests"]
    assert tr["answer"] == "回调地址配置错误，已改" and tr["overdue"] is False
    assert (
        api(engineer).get("/api/v1/technical-requests/", {"answered": "false"}).json()["count"] == 0
    )


def test_the_schema_documents_the_new_endpoints(agent):
    schema = api(agent).get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    paths = schema.json()["paths"]
    assert "/api/v1/cases/{number}/technical-requests/" in paths
    assert "/api/v1/technical-requests/{id}/answer/" in paths
    params = {p["name"] for p in paths["/api/v1/cases/"]["get"]["parameters"]}
    assert {"overdue", "due_within_hours"} <= params


# --- query counts -------------------------------------------------------------------------


def escalated_cases(count, department, assignee):
    for i in range(count):
        new_case(department, assignee, when=MONDAY_10 + datetime.timedelta(minutes=i))
    services.sla_sweep(now=at(2026, 11, 3, 18))


@pytest.mark.parametrize("count", [2, 12])
def test_the_overdue_list_takes_a_constant_number_of_queries(
    client, agent, front, department, supervisor, manager, django_assert_max_num_queries, count
):
    escalated_cases(count, department, front)
    client.force_login(agent)
    with frozen(at(2026, 11, 3, 19)), django_assert_max_num_queries(12):
        html = page(client.get(CHANGELIST, {"overdue": "yes"}))
    assert html.count("sd-due-overdue") == count
    reader = api(agent)
    # 7: the API list's queries (tests/complaints/test_api.py LIST_QUERIES).
    with frozen(at(2026, 11, 3, 19)), django_assert_max_num_queries(7):
        assert len(numbers(reader.get(CASES, {"overdue": "true"}))) == count


@pytest.mark.parametrize("count", [1, 8])
def test_the_case_page_with_escalations_and_requests_takes_constant_queries(
    client, front, engineer, tech, department, supervisor, manager, make_user,
    django_assert_max_num_queries, count,
):  # fmt: skip
    case = new_case(department, front)
    for i in range(count):
        other = Department.objects.create(code=f"d{i}", name=f"部门{i}")
        with frozen(MONDAY_10 + datetime.timedelta(minutes=i)):
            services.technical_request_create(
                case=case, department=other, question=f"问题{i}", user=front
            )
    services.sla_sweep(now=at(2026, 11, 3, 18))
    assert SlaBreach.objects.filter(case=case).count() == 2 + 2 * count
    client.force_login(front)
    url = reverse("admin:complaints_case_change", args=[case.pk])
    page(client.get(url))  # per-process caches (content types, full-text tables) warm
    with frozen(at(2026, 11, 3, 19)), django_assert_max_num_queries(CASE_PAGE_QUERIES):
        html = page(client.get(url))
    assert html.count('class="sd-techreq"') == count
    reader = api(front)
    with frozen(at(2026, 11, 3, 19)), django_assert_max_num_queries(DETAIL_QUERIES):
        detail = reader.get(f"{CASES}{case.number}/").json()
    assert len(detail["breaches"]) == 2 + 2 * count


# The case page of test_admin (15) plus escalations, technical requests, the departments to
# ask and the user's own departments (to offer the answer form); +4 for the suggestions
# (tests/complaints/test_admin.py CASE_PAGE_QUERIES).
CASE_PAGE_QUERIES = 23
# +5 with the channels' reply box: the conversation (last e-mail, last WeChat message, the
# follower), the standard replies to insert, and the replies sent.
CASE_PAGE_QUERIES += 5
# +2: who registered the case and its return request read by key instead of joined to the
# case (each join cost the case's query ~1 ms at 1M cases); who waived the satisfaction step
# too, on the rare case where someone did.
CASE_PAGE_QUERIES += 2
DETAIL_QUERIES = 14


def test_met_deadlines_are_not_overdue_in_any_view(client, agent, front, department):
    case = new_case(department, front)
    with frozen(at(2026, 11, 2, 11)):
        case = walk(case, front, ("start_investigation", {}))
        case = services.case_transition(
            case=case, name="resolve", user=front, result="已补发", customer_notified=True
        )
    with frozen(at(2026, 11, 9)):
        data = api(agent).get(f"{CASES}{case.number}/").json()
        assert Case.objects.overdue(at(2026, 11, 9)).filter(pk=case.pk).exists()  # survey late
    assert data["current_stage"] == "satisfaction_followup" and data["overdue"] is True
    assert all(data["deadlines"][s]["met"] for s in ("first_response", "investigation"))
    with frozen(at(2026, 11, 9)):
        services.case_record_feedback(case=case, score=5, text="满意")
        data = api(agent).get(f"{CASES}{case.number}/").json()
    assert data["overdue"] is False and data["current_stage"] == ""
    assert data["deadlines"]["satisfaction_followup"]["met"] is False  # done, but late


def test_the_deadlines_answer_is_what_its_schema_serializer_gives():
    """The API builds `deadlines` directly (complaints.serializers.deadlines_data); the schema
    documents DeadlinesSerializer. Both give the same answer, with and without the daily
    update, for met, missed, pending and never-due stages."""
    import json

    from complaints.serializers import DeadlinesSerializer, deadlines_data

    due, done = at(2026, 11, 3, 10), at(2026, 11, 2, 12)
    summary = {
        "first_response": {"due": due, "done_at": done, "met": True, "overdue": False},
        "investigation": {"due": due, "done_at": None, "met": False, "overdue": True},
        "solution_to_customer": {"due": due, "done_at": None, "met": None, "overdue": False},
        "next_contact": {"due": None, "done_at": None, "met": None, "overdue": False},
        "satisfaction_followup": {"due": None, "done_at": None, "met": None, "overdue": False},
    }
    for stages in (summary, {**summary, "daily_update": summary["investigation"]}):
        assert json.dumps(deadlines_data(stages)) == json.dumps(DeadlinesSerializer(stages).data)
    assert "daily_update" not in deadlines_data(summary)
    assert deadlines_data(summary)["first_response"]["due"] == "2026-11-03T10:00:00+08:00"
