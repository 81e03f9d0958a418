"""Surveys, answers and follow-ups follow their case's visibility (Case.objects.visible_to):
a handler of another department neither lists them nor opens them; whoever sees the case
does; follow-ups about no case (deliveries, samples) stay the callback team's shared queue."""

import pytest
from django.urls import reverse, reverse_lazy

from callbacks import services
from callbacks.models import FollowUp, FollowUpPurpose, Method, Response, Survey
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .conftest import at
from .survey_helpers import answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def outsider(make_user):
    """A 技术部 handler: the case belongs to 客服中心, so it is not theirs."""
    tech = Department.objects.create(code="jishu", name="技术部")
    return make_user("tech-handler", role=roles.HANDLER, departments=[tech])


@pytest.fixture
def insider(make_user, department):
    return make_user("kefu-handler", role=roles.HANDLER, departments=[department])


@pytest.fixture
def survey_and_answer(resolve_case):
    case = resolve_case(customer={"name": "赵女士", "phone": "010-66668888"})
    survey = Survey.objects.get(case=case)
    version = services.satisfaction_version()
    response = services.response_record(
        version=version,
        customer=case.customer,
        case=case,
        method=Method.PHONE,
        answers=answers(version),
    )
    followup = FollowUp.objects.create(
        customer=case.customer,
        purpose=FollowUpPurpose.SATISFACTION,
        case=case,
        version=version,
        due_at=at(2026, 11, 3, 10),
    )
    return survey, response, followup


def urls(survey, response, followup):
    return {
        "survey": reverse("admin:callbacks_survey_change", args=[survey.pk]),
        "response": reverse("admin:callbacks_response_change", args=[response.pk]),
        "followup": reverse("admin:callbacks_followup_change", args=[followup.pk]),
    }


LISTS = {
    "survey": reverse_lazy("admin:callbacks_survey_changelist"),
    "response": reverse_lazy("admin:callbacks_response_changelist"),
    # The queue shows every status, not only the pending calls.
    "followup": reverse_lazy("admin:callbacks_followup_changelist"),
}
QUERY = {"followup": "?status=all"}


def test_a_handler_of_another_department_neither_lists_nor_opens_them(
    client, outsider, survey_and_answer
):
    client.force_login(outsider)
    for name, url in LISTS.items():
        page = client.get(f"{url}{QUERY.get(name, '')}")
        assert page.status_code == 200, name
        assert page.context["cl"].result_count == 0, name
    for name, url in urls(*survey_and_answer).items():
        page = client.get(url, follow=True)
        # The admin redirects a missing object to its index with a message.
        assert page.redirect_chain, name
        assert page.request["PATH_INFO"] == reverse("admin:index"), name


def test_the_call_page_of_an_invisible_follow_up_is_404(client, make_user, survey_and_answer):
    tech = Department.objects.create(code="jishu", name="技术部")
    caller = make_user("tech-agent", role=roles.AGENT, departments=[tech])
    followup = survey_and_answer[2]
    client.force_login(caller)
    page = client.get(reverse("admin:callbacks_followup_call", args=[followup.pk]))
    assert page.status_code == 404


def test_whoever_sees_the_case_sees_its_survey_answers_and_follow_ups(
    client, insider, supervisor, survey_and_answer
):
    for user in (insider, supervisor):
        client.force_login(user)
        for name, url in LISTS.items():
            page = client.get(f"{url}{QUERY.get(name, '')}")
            assert page.context["cl"].result_count == 1, (user, name)
        for name, url in urls(*survey_and_answer).items():
            assert client.get(url).status_code == 200, (user, name)


def test_follow_ups_about_no_case_stay_in_everyones_queue(client, outsider, survey_and_answer):
    followup = survey_and_answer[2]
    periodic = FollowUp.objects.create(
        customer=followup.customer,
        purpose=FollowUpPurpose.PERIODIC,
        version=followup.version,
        due_at=at(2026, 11, 3, 10),
    )
    assert set(FollowUp.objects.visible_to(outsider)) == {periodic}
    assert not Response.objects.visible_to(outsider).exists()
    assert not Survey.objects.visible_to(outsider).exists()
