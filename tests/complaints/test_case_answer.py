"""The intake answer is built directly (complaints/case_answer.py), not by CaseSerializer: the
two must give the same case, field for field, whatever the case's state and whoever asks."""

import datetime

import pytest
import time_machine
from django.utils import translation
from rest_framework.test import APIRequestFactory

from complaints import services
from complaints.case_answer import case_data
from complaints.choices import Channel, State, label
from complaints.deadlines import sla_sweep
from complaints.models import Case
from complaints.serializers import CaseSerializer
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake, walk
from .test_api import BODY, client_for

pytestmark = pytest.mark.django_db

START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def contexts(user, *, absorbed=False, now=None):
    request = APIRequestFactory().get("/")
    request.user = user
    base = {"request": request, "absorbed": absorbed}
    if now is not None:
        base["now"] = now
    return base


def assert_same(case, user, **kw):
    case = Case.objects.for_list().get(pk=case.pk)
    expected = CaseSerializer(case, context=contexts(user, **kw)).data
    assert case_data(case, contexts(user, **kw)) == expected
    return expected


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def handler(make_user, tech):
    return make_user("answer_handler", role=roles.HANDLER, departments=[tech])


@time_machine.travel(START, tick=False)
def test_same_for_cases_in_every_state(agent, handler, tech):
    """Agents see the customer's phone and e-mail (view_personal_data); handlers see them
    masked."""
    new = intake(customer={"name": "王女士", "phone": "13812345678", "email": "wang@example.com"})
    assigned = walk(intake().case, agent, ("assign", {"department": tech, "assignee": handler}))
    resolved = walk(
        assigned, handler, ("start_investigation", {}), ("resolve", {"result": "已换新"})
    )
    for case in (new.case, assigned, resolved):
        for user in (agent, handler):
            for absorbed in (False, True):
                data = assert_same(case, user, absorbed=absorbed)
                assert data["absorbed"] is absorbed
    # The masked and the full customer differ, and each form is the serializer's.
    masked = assert_same(new.case, handler)["customer"]
    full = assert_same(new.case, agent)["customer"]
    assert (masked["phone"], full["phone"]) == ("138****5678", "13812345678")
    assert masked["email"] != full["email"] == "wang@example.com"
    assert assert_same(resolved, agent)["resolved_at"] is not None


def test_same_for_an_overdue_escalated_case(agent, handler, tech):
    with time_machine.travel(START, tick=False):
        case = walk(intake().case, agent, ("assign", {"department": tech, "assignee": handler}))
    later = START + datetime.timedelta(days=10)
    with time_machine.travel(later, tick=False):
        sla_sweep(now=later)
        case = Case.objects.get(pk=case.pk)
        assert case.escalation_level >= 1
        data = assert_same(case, agent, now=later)
        assert data["overdue"] is True and data["escalation_level"] == case.escalation_level


@time_machine.travel(START, tick=False)
def test_the_api_answers_intake_as_the_serializer_would(agent, handler):
    for user in (agent, handler):
        client = client_for(user, "zh-hans")
        customer = {"name": "赵先生", "phone": f"1370000{user.pk:04d}", "email": ""}
        body = {**BODY, "customer": customer}
        first = client.post("/api/v1/cases/", body, format="json")
        again = client.post("/api/v1/cases/", body, format="json")  # absorbed
        assert (first.status_code, again.status_code) == (201, 200)
        case = Case.objects.for_list().get(number=first.json()["number"])
        for answer, absorbed in ((first, False), (again, True)):
            context = contexts(user, absorbed=absorbed)
            expected = CaseSerializer(case, context=context).data
            got = answer.json()
            # The first answer was given before the second contact raised the version.
            if not absorbed:
                expected = {**expected, "version": got["version"], "updated_at": got["updated_at"]}
            assert got == expected


def test_an_absorbed_contact_later_answers_with_the_case_as_it_now_is(agent):
    """The absorbing case is answered as read with the contact (not read again): its version
    and last change are the second contact's, as a fresh read shows them."""
    client = client_for(agent, "zh-hans")
    body = {**BODY, "customer": {"name": "钱女士", "phone": "13700002222", "email": ""}}
    with time_machine.travel(START, tick=False):
        first = client.post("/api/v1/cases/", body, format="json")
    later = START + datetime.timedelta(hours=2, minutes=5)
    with time_machine.travel(later, tick=False):
        again = client.post("/api/v1/cases/", body, format="json")
        assert (first.status_code, again.status_code) == (201, 200)
        case = Case.objects.for_list().get(number=first.json()["number"])
        assert again.json() == CaseSerializer(case, context=contexts(agent, absorbed=True)).data
    assert again.json()["version"] == first.json()["version"] + 1
    assert again.json()["updated_at"] != first.json()["updated_at"]
    assert case.updated_at == later


def test_unassigned_case_has_no_department_or_assignee(agent):
    result = services.case_intake(
        channel="phone", customer={"name": "李先生", "phone": "13900001111"},
        subject="无法登录", description="APP打不开", type="complaint", category="process",
    )  # fmt: skip
    data = assert_same(result.case, agent)
    assert data["assignee"] is None


def test_a_choice_is_shown_as_the_model_shows_it_in_each_language():
    for language in ("zh-hans", "en"):
        with translation.override(language):
            for value in State.values:
                assert label(State, value) == Case(state=value).get_state_display()
            for value in Channel.values:
                assert label(Channel, value) == Case(channel=value).get_channel_display()
            assert label(State, "no-such-state") == "no-such-state"
    with translation.override("zh-hans"):
        assert label(State, State.RECEIVED) != "Received"  # translated, not the source text
