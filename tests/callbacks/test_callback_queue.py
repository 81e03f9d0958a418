"""The agents' callback queue in the admin: due today / overdue / mine, "take", the call page
(method, time, reached, questionnaire answers, problems, suggestions) and what a call does:
retries then "unreachable"; answers recorded, low scores reopened, problems opened as cases.
Surveys and answers are read-only lists."""

import datetime

import pytest
import time_machine
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from callbacks import services
from callbacks.models import (
    Answer,
    CallAttempt,
    FollowUp,
    FollowUpPurpose,
    FollowUpStatus,
    Grade,
    ProblemReport,
    Response,
    Sample,
    Survey,
    SurveyStatus,
)
from complaints.models import Case, CaseEvent, Channel, Customer, State, Urgency
from servicedesk.staff import roles

from .conftest import at

pytestmark = pytest.mark.django_db

QUEUE = reverse("admin:callbacks_followup_changelist")
NOW = at(2026, 11, 10, 10)


def call_url(followup):
    return reverse("admin:callbacks_followup_call", args=[followup.pk])


def change_url(followup):
    return reverse("admin:callbacks_followup_change", args=[followup.pk])


@pytest.fixture
def version(db):
    return services.satisfaction_version()


@pytest.fixture
def handler(make_user, department):
    """Sees the queue (callbacks.view_*) but may not work it."""
    return make_user("handler", role=roles.HANDLER, departments=[department])


@pytest.fixture
def make_followup(version):
    counter = iter(range(1, 10_000))

    def make(due_at=NOW, **fields):
        n = next(counter)
        customer = fields.pop("customer", None) or Customer.objects.create(
            name=f"回访客户{n}", phone=f"1370000{n:04d}"
        )
        return FollowUp.objects.create(
            customer=customer,
            purpose=fields.pop("purpose", FollowUpPurpose.PERIODIC),
            version=version,
            due_at=due_at,
            **fields,
        )

    return make


@pytest.fixture
def phone_survey_followup(resolve_case):
    """A resolved case whose customer has only a landline: its survey goes to the callback
    queue (the real scheduling and dispatch)."""
    case = resolve_case(customer={"name": "李先生", "phone": "010-88886666"})
    survey = Survey.objects.get(case=case)
    assert services.survey_dispatch_sweep(now=survey.send_at)["phone"] == 1
    return FollowUp.objects.select_related("case", "survey").get(survey=survey)


def choice_id(version, code, score):
    return str(version.questions.get(code=code).choices.get(score=score).pk)


def answers_post(version, *, overall=5, **extra):
    data = {
        "q_overall": choice_id(version, "overall", overall),
        "q_quality": choice_id(version, "quality", 4),
        "q_attitude": choice_id(version, "attitude", 5),
        "q_promptness": choice_id(version, "promptness", 4),
        "q_needs": choice_id(version, "needs", 5),
    }
    data.update(extra)
    return data


def problems_post(rows=()):
    data = {
        "problems-TOTAL_FORMS": "3",
        "problems-INITIAL_FORMS": "0",
        "problems-MIN_NUM_FORMS": "0",
        "problems-MAX_NUM_FORMS": "20",
    }
    for i, row in enumerate(rows):
        data.update({f"problems-{i}-{key}": value for key, value in row.items()})
    return data


def call_post(when, *, reached, method="phone", note="", **extra):
    data = {
        "method": method,
        "at": timezone.localtime(when).strftime("%Y-%m-%dT%H:%M"),
        "reached": "yes" if reached else "no",
        "note": note,
        **problems_post(),
    }
    data.update(extra)
    return data


def listed(client, query=""):
    with time_machine.travel(NOW, tick=False):
        response = client.get(QUEUE + query)
    assert response.status_code == 200
    return {f.pk for f in response.context["cl"].result_list}


# --- the queue -------------------------------------------------------------------------------


def test_the_queue_filters_due_today_overdue_later_and_mine(client, agent, make_followup):
    overdue = make_followup(due_at=at(2026, 11, 9, 16))
    early_today = make_followup(due_at=at(2026, 11, 10, 0, 30))
    later_today = make_followup(due_at=at(2026, 11, 10, 18), assignee=agent)
    tomorrow = make_followup(due_at=at(2026, 11, 11, 9))
    done = make_followup(due_at=at(2026, 11, 10, 9), status=FollowUpStatus.DONE)
    sample = Sample.objects.create(name="2026年11月抽样", size=1, seed=42)
    sampled = make_followup(due_at=at(2026, 11, 12, 9), sample=sample)
    client.force_login(agent)

    # The queue opens on what is still to call.
    pending = {overdue.pk, early_today.pk, later_today.pk, tomorrow.pk, sampled.pk}
    assert listed(client) == pending
    assert listed(client, "?due=today") == {early_today.pk, later_today.pk}
    assert listed(client, "?due=overdue") == {overdue.pk}
    assert listed(client, "?due=later") == {tomorrow.pk, sampled.pk}
    assert listed(client, "?mine=me") == {later_today.pk}
    assert listed(client, "?mine=unassigned") == pending - {later_today.pk}
    assert listed(client, "?mine=me&due=today") == {later_today.pk}
    assert listed(client, "?status=done") == {done.pk}
    assert listed(client, "?status=all") == pending | {done.pk}
    assert listed(client, f"?sample__id__exact={sample.pk}") == {sampled.pk}


def test_the_queue_is_searched_by_name_phone_and_case_number(
    client, agent, make_followup, phone_survey_followup
):
    other = make_followup()
    client.force_login(agent)
    followup = phone_survey_followup
    assert listed(client, "?q=李先生") == {followup.pk}
    assert listed(client, "?q=010-8888-6666") == {followup.pk}
    assert listed(client, f"?q={followup.case.number}") == {followup.pk}
    assert listed(client, f"?q={other.customer.phone}") == {other.pk}


def test_the_list_masks_phone_numbers_and_links_the_case(client, agent, phone_survey_followup):
    client.force_login(agent)
    with time_machine.travel(NOW, tick=False):
        page = client.get(QUEUE).content.decode()
    assert "010****6666" in page and "010-88886666" not in page
    assert reverse("admin:complaints_case_change", args=[phone_survey_followup.case_id]) in page
    assert call_url(phone_survey_followup) in page


@pytest.mark.parametrize("count", [3, 30])
def test_the_queue_takes_a_constant_number_of_queries(
    client, agent, make_followup, phone_survey_followup, django_assert_max_num_queries, count
):
    for i in range(count):
        make_followup(
            due_at=NOW + datetime.timedelta(hours=i - count // 2),
            assignee=agent if i % 2 else None,
        )
    client.force_login(agent)
    with time_machine.travel(NOW, tick=False), django_assert_max_num_queries(QUEUE_QUERIES):
        response = client.get(QUEUE)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == count + 1


QUEUE_QUERIES = 12  # +1: the user's roles, for which cases they may see; +1: the notification bell


def test_an_agent_takes_follow_ups_but_not_one_taken_by_someone_else(
    client, agent, make_user, department, make_followup
):
    colleague = make_user("agent2", role=roles.AGENT, departments=[department])
    free = make_followup()
    theirs = make_followup(assignee=colleague)
    client.force_login(agent)
    response = client.post(
        QUEUE, {"action": "take", ACTION_CHECKBOX_NAME: [free.pk, theirs.pk]}, follow=True
    )
    assert response.status_code == 200
    free.refresh_from_db()
    theirs.refresh_from_db()
    assert free.assignee == agent
    assert theirs.assignee == colleague
    levels = [m.level_tag for m in response.context["messages"]]
    assert "success" in levels and "warning" in levels


def test_cancel_takes_a_follow_up_off_the_queue(client, agent, phone_survey_followup):
    followup = phone_survey_followup
    client.force_login(agent)
    client.post(QUEUE, {"action": "cancel", ACTION_CHECKBOX_NAME: [followup.pk]})
    followup.refresh_from_db()
    followup.survey.refresh_from_db()
    assert followup.status == FollowUpStatus.CANCELLED and followup.completed_at is not None
    assert followup.survey.status == SurveyStatus.CANCELLED
    assert CaseEvent.objects.filter(case=followup.case, data__followup=followup.pk).exists()


# --- the call page ---------------------------------------------------------------------------


def test_the_call_page_shows_the_full_number_and_the_questionnaire(
    client, agent, phone_survey_followup, version
):
    client.force_login(agent)
    page = client.get(call_url(phone_survey_followup)).content.decode()
    assert "tel:010-88886666" in page  # the agent has to dial
    assert version.greeting[:20] in page
    for label in ["非常满意", "很好", "总是能", "完全满足"]:
        assert label in page
    assert 'name="q_overall" value="' in page and 'name="q_quality_problem"' in page
    assert 'name="problems-2-grade"' in page  # a few empty problem rows
    # Linked from the follow-up's page while it waits for a call.
    assert (
        call_url(phone_survey_followup)
        in client.get(change_url(phone_survey_followup)).content.decode()
    )


def test_three_unanswered_calls_make_a_follow_up_unreachable(
    client, agent, phone_survey_followup, settings
):
    settings.FOLLOWUP_RETRY_HOURS = 4
    followup = phone_survey_followup
    case = followup.case
    assert followup.max_attempts == 3
    client.force_login(agent)
    when = at(2026, 11, 2, 14)
    for attempt in (1, 2):
        with time_machine.travel(when, tick=False):
            response = client.post(
                call_url(followup), call_post(when, reached=False, note="无人接听")
            )
        assert response.status_code == 302
        followup.refresh_from_db()
        assert followup.status == FollowUpStatus.PENDING
        assert followup.attempts == attempt
        assert followup.assignee == agent
        assert followup.due_at == when + datetime.timedelta(hours=4)  # retried later
        when = followup.due_at
    with time_machine.travel(when, tick=False):
        client.post(call_url(followup), call_post(when, reached=False))
    followup.refresh_from_db()
    followup.survey.refresh_from_db()
    assert followup.status == FollowUpStatus.UNREACHABLE
    assert followup.completed_at == when
    assert followup.survey.status == SurveyStatus.EXPIRED
    assert (
        list(CallAttempt.objects.filter(followup=followup).values_list("reached", flat=True))
        == [False] * 3
    )
    events = CaseEvent.objects.filter(case=case, data__followup=followup.pk).order_by("created_at")
    assert [e.data["attempt"] for e in events] == [1, 2, 3]
    assert not Response.objects.exists()
    # Done with: the call page sends the agent back to the follow-up.
    response = client.get(call_url(followup))
    assert response.status_code == 302 and response["Location"] == change_url(followup)


def test_a_reached_call_records_the_answers_and_the_case_feedback(
    client, agent, phone_survey_followup, version
):
    followup = phone_survey_followup
    case = followup.case
    client.force_login(agent)
    when = at(2026, 11, 2, 15)
    data = call_post(
        when,
        reached=True,
        **answers_post(version, overall=5, q_suggestions="希望多些售后网点"),
        suggestions="回访时客户提出延长保修",
    )
    with time_machine.travel(when + datetime.timedelta(minutes=5), tick=False):
        response = client.post(call_url(followup), data)
    assert response.status_code == 302 and response["Location"] == QUEUE
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.DONE and followup.completed_at == when
    attempt = CallAttempt.objects.get(followup=followup)
    assert attempt.reached and attempt.agent == agent and attempt.method == "phone"
    answer = Response.objects.get(followup=followup)
    assert answer.survey_id == followup.survey_id and answer.case_id == case.pk
    assert answer.method == "phone" and answer.answered_at == when
    assert answer.overall_score == 5 and not answer.has_problem
    assert answer.suggestions == "回访时客户提出延长保修"
    assert answer.recorded_by == agent
    assert answer.agent == case.assignee  # the answer rates whoever handled the case
    assert Answer.objects.filter(response=answer).count() == 6
    survey = Survey.objects.get(pk=followup.survey_id)
    assert survey.status == SurveyStatus.ANSWERED and survey.answered_at == when
    case.refresh_from_db()
    assert case.feedback_score == 5 and case.state == State.RESOLVED
    # The follow-up's page shows the call and the answers.
    page = client.get(change_url(followup)).content.decode()
    assert "希望多些售后网点" in page and "非常满意" in page
    assert call_url(followup) not in page


def test_a_low_score_on_the_phone_reopens_the_case_for_a_manager(
    client, agent, manager, phone_survey_followup, version
):
    followup = phone_survey_followup
    client.force_login(agent)
    when = at(2026, 11, 2, 15)
    with time_machine.travel(when, tick=False):
        response = client.post(
            call_url(followup), call_post(when, reached=True, **answers_post(version, overall=2))
        )
    assert response.status_code == 302
    case = Case.objects.get(pk=followup.case_id)
    assert Response.objects.get(followup=followup).overall_score == 2
    assert case.reopen_count == 1  # reopening clears the score for the next round
    assert case.state in (State.REOPENED, State.ASSIGNED)
    assert case.assignee == manager and case.escalation_level == 2


def test_a_graded_problem_on_the_call_becomes_a_case(
    client, agent, make_followup, version, department
):
    followup = make_followup(purpose=FollowUpPurpose.PERIODIC)
    client.force_login(agent)
    when = at(2026, 11, 10, 9, 30)
    data = call_post(
        when,
        reached=True,
        method="face",
        **answers_post(version),
        **{
            "problems-0-category": "delivery",
            "problems-0-grade": "major",
            "problems-0-description": "上周订单配送延误五天，客户很不满",
        },
    )
    with time_machine.travel(NOW, tick=False):
        response = client.post(call_url(followup), data)
    assert response.status_code == 302
    problem = ProblemReport.objects.get()
    assert problem.grade == Grade.MAJOR and problem.category == "delivery"
    new_case = problem.case
    assert new_case.channel == Channel.CALLBACK
    assert new_case.urgency == Urgency.HIGH
    assert new_case.customer_id == followup.customer_id
    answer = Response.objects.get(followup=followup)
    assert answer.has_problem and answer.method == "face" and answer.agent == agent


@pytest.mark.parametrize(
    "change, field",
    [
        ({"q_overall": ""}, "q_overall"),  # a required answer missing
        ({"q_overall": "999999"}, "q_overall"),  # not one of the options
        ({"at": "2026-11-10T12:00"}, "at"),  # in the future
        ({"method": ""}, "method"),
        ({"reached": ""}, "reached"),
    ],
)
def test_bad_input_shows_field_errors_and_saves_nothing(
    client, agent, phone_survey_followup, version, change, field
):
    followup = phone_survey_followup
    client.force_login(agent)
    data = call_post(NOW, reached=True, **answers_post(version))
    data.update(change)
    with time_machine.travel(NOW, tick=False):
        response = client.post(call_url(followup), data)
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert 'class="errornote"' in response.content.decode()
    followup.refresh_from_db()
    assert followup.status == FollowUpStatus.PENDING and followup.attempts == 0
    assert not CallAttempt.objects.exists() and not Response.objects.exists()
    assert not Answer.objects.exists()


def test_a_half_filled_problem_row_is_an_error_and_saves_nothing(
    client, agent, phone_survey_followup, version
):
    followup = phone_survey_followup
    cases_before = Case.objects.count()
    client.force_login(agent)
    data = call_post(
        NOW,
        reached=True,
        **answers_post(version, q_overall=""),
        **{"problems-1-description": "售后响应慢"},  # no category, no grade
    )
    with time_machine.travel(NOW, tick=False):
        response = client.post(call_url(followup), data)
    assert response.status_code == 200
    row = response.context["problems"].forms[1]
    assert {"category", "grade"} <= set(row.errors)
    assert "q_overall" in response.context["form"].errors  # every mistake shown at once
    assert not CallAttempt.objects.exists() and Case.objects.count() == cases_before


def test_answers_are_ignored_when_the_customer_was_not_reached(
    client, agent, phone_survey_followup
):
    followup = phone_survey_followup
    client.force_login(agent)
    data = call_post(NOW, reached=False, q_overall="999999")
    with time_machine.travel(NOW, tick=False):
        response = client.post(call_url(followup), data)
    assert response.status_code == 302
    assert CallAttempt.objects.filter(followup=followup, reached=False).count() == 1
    assert not Response.objects.exists()


def test_the_service_refuses_a_follow_up_that_is_no_longer_pending(agent, phone_survey_followup):
    followup = phone_survey_followup
    services.followup_cancel(followup=followup, user=agent)
    with pytest.raises(ValidationError) as exc:
        services.followup_record_call(
            followup=followup, agent=agent, method="phone", at=NOW, reached=False, now=NOW
        )
    assert exc.value.code == "not_pending"
    assert not CallAttempt.objects.exists()


# --- permissions -----------------------------------------------------------------------------


def test_who_may_work_the_queue(client, handler, make_user, make_followup):
    followup = make_followup()
    client.force_login(handler)
    assert client.get(QUEUE).status_code == 200  # may look
    assert client.get(call_url(followup)).status_code == 403
    assert client.post(call_url(followup), call_post(NOW, reached=False)).status_code == 403
    client.post(QUEUE, {"action": "take", ACTION_CHECKBOX_NAME: [followup.pk]})
    followup.refresh_from_db()
    assert followup.assignee is None
    assert not CallAttempt.objects.exists()

    nobody = make_user("nobody")  # staff, no role
    client.force_login(nobody)
    assert client.get(QUEUE).status_code == 403
    assert client.get(call_url(followup)).status_code == 403


def test_nobody_adds_or_deletes_follow_ups_in_the_admin(client, supervisor, make_followup):
    followup = make_followup()
    client.force_login(supervisor)
    assert client.get(reverse("admin:callbacks_followup_add")).status_code == 403
    assert (
        client.get(reverse("admin:callbacks_followup_delete", args=[followup.pk])).status_code
        == 403
    )


# --- surveys and answers ---------------------------------------------------------------------


def test_a_supervisor_reads_surveys_and_answers(
    client, agent, supervisor, phone_survey_followup, version
):
    followup = phone_survey_followup
    client.force_login(agent)
    when = at(2026, 11, 2, 15)
    with time_machine.travel(when, tick=False):
        client.post(
            call_url(followup),
            call_post(
                when,
                reached=True,
                **answers_post(version, overall=4),
                **{
                    "problems-0-category": "product_quality",
                    "problems-0-grade": "general",
                    "problems-0-description": "包装有破损",
                },
            ),
        )
    answer = Response.objects.get()
    client.force_login(supervisor)
    surveys = client.get(reverse("admin:callbacks_survey_changelist"))
    assert surveys.status_code == 200
    assert [s.pk for s in surveys.context["cl"].result_list] == [followup.survey_id]
    number = followup.case.number
    assert (
        client.get(reverse("admin:callbacks_survey_changelist") + f"?q={number}")
        .context["cl"]
        .result_count
        == 1
    )
    survey_page = client.get(reverse("admin:callbacks_survey_change", args=[followup.survey_id]))
    assert survey_page.status_code == 200
    assert (
        reverse("admin:callbacks_response_change", args=[answer.pk]) in survey_page.content.decode()
    )

    answers = client.get(reverse("admin:callbacks_response_changelist") + "?has_problem__exact=1")
    assert [r.pk for r in answers.context["cl"].result_list] == [answer.pk]
    page = client.get(reverse("admin:callbacks_response_change", args=[answer.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    assert "满意" in text and "包装有破损" in text
    assert not page.context["has_change_permission"]
    assert client.get(reverse("admin:callbacks_response_add")).status_code == 403
    assert client.get(reverse("admin:callbacks_survey_add")).status_code == 403


@pytest.mark.parametrize("count", [2, 12])
def test_the_answers_list_takes_a_constant_number_of_queries(
    client, supervisor, make_followup, version, django_assert_max_num_queries, count
):
    for _ in range(count):
        followup = make_followup()
        services.followup_record_call(
            followup=followup, agent=supervisor, method="phone", at=NOW, reached=True,
            answers={k[2:]: v for k, v in answers_post(version).items()}, now=NOW,
        )  # fmt: skip
    client.force_login(supervisor)
    with django_assert_max_num_queries(ANSWER_LIST_QUERIES):
        response = client.get(reverse("admin:callbacks_response_changelist"))
    assert len(response.context["cl"].result_list) == count


ANSWER_LIST_QUERIES = 12  # +1: the user's roles, for which cases they may see
