"""What an answer sets off (services.response_record), whether it came from the survey link
or an agent's call: a low overall score reopens the case for a manager and escalates it; a
problem the customer describes, or one the agent classified on the call, becomes a new case
with its category and grade; bad input saves nothing."""

import pytest
from django.core.exceptions import ValidationError

from callbacks import services
from callbacks.models import Grade, Method, ProblemReport, Response
from complaints.models import Case, Channel, EventKind, State, Urgency
from servicedesk.staff import roles
from tests.complaints.helpers import intake

from .survey_helpers import answers

pytestmark = pytest.mark.django_db


@pytest.fixture
def version():
    return services.satisfaction_version()


@pytest.fixture
def case(resolve_case):
    return resolve_case(customer={"name": "陈先生", "phone": "13900000123"})


def record(version, case, *, customer=None, method=Method.PHONE, **kwargs):
    return services.response_record(
        version=version,
        customer=customer or case.customer,
        case=case,
        method=method,
        **kwargs,
    )


def problem_cases(original):
    return Case.objects.exclude(pk=original.pk)


# --- the overall score --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("label", "score", "second_handling"),
    [("非常满意", 5, False), ("满意", 4, False), ("一般", 3, True), ("非常不满意", 1, True)],
)
def test_overall_score_below_4_sends_the_case_back(
    version, case, manager, agent, label, score, second_handling
):
    response = record(
        version, case, answers=answers(version, overall=label), agent=agent, recorded_by=agent
    )
    assert response.overall_score == score
    case.refresh_from_db()
    feedback = case.events.get(data__feedback_score=score)
    assert f"{score}/5" in feedback.message
    escalations = case.events.filter(kind=EventKind.ESCALATION)
    if not second_handling:
        assert case.state == State.RESOLVED and case.feedback_score == score
        assert not escalations.exists()
        return
    # Reopening starts a new handling cycle: the score stays in the timeline.
    assert case.state != State.RESOLVED and case.reopen_count == 1
    assert case.assignee == manager
    assert case.escalation_level == 2
    event = escalations.get()
    assert event.data["reason"] == "unsatisfied" and event.data["score"] == score
    assert event.data["source"] == Method.PHONE
    assert event.data["notified"] == [manager.username]


def test_the_least_loaded_manager_takes_the_second_handling(
    version, resolve_case, make_user, department
):
    busy = make_user("busy-manager", role=roles.MANAGER, departments=[department])
    free = make_user("free-manager", role=roles.MANAGER, departments=[department])
    intake(assignee=busy, department=department)  # one open case for "busy"
    first = resolve_case(customer={"name": "甲", "phone": "13900000201"})
    record(version, first, answers=answers(version, overall="不满意"))
    first.refresh_from_db()
    assert first.assignee == free


def test_answers_without_a_case_touch_no_case(version, resolve_case, manager):
    """A periodic or sample call: the score is stored, no case is reopened."""
    other = resolve_case(customer={"name": "周女士", "phone": "13900000301"})
    response = services.response_record(
        version=version,
        customer=other.customer,
        answers=answers(version, overall="非常不满意"),
        method=Method.FACE,
    )
    assert response.overall_score == 1 and response.case is None
    other.refresh_from_db()
    assert other.state == State.RESOLVED and other.feedback_score is None


def test_snapshots_for_the_metrics(version, case, agent):
    response = record(version, case, answers=answers(version), method=Method.EMAIL)
    assert response.department == case.department
    assert response.agent == case.assignee == agent
    assert response.case_channel == case.channel
    assert response.answers.count() == 5


# --- problems ---------------------------------------------------------------------------------


def test_problem_text_becomes_a_graded_case(version, case):
    described = "耳机用了一周右边就没声音了"
    response = record(version, case, answers=answers(version, quality_problem=described))
    assert response.has_problem
    new = problem_cases(case).get()
    assert new.channel == Channel.CALLBACK
    assert new.category == "product" and new.type == "complaint"
    assert new.customer == case.customer and new.description == described
    assert case.number in new.prior_history
    problem = ProblemReport.objects.get(response=response)
    assert problem.case == new and problem.category == "product_quality"
    # graded from the intake's urgency: no keyword → medium → important
    assert new.urgency == Urgency.MEDIUM and problem.grade == Grade.IMPORTANT


def test_problem_text_with_an_urgent_keyword_is_major(version, case):
    record(version, case, answers=answers(version, quality_problem="充电器发烫，孩子的手被烫伤了"))
    new = problem_cases(case).get()
    assert new.urgency == Urgency.HIGH
    assert ProblemReport.objects.get(case=new).grade == Grade.MAJOR


@pytest.mark.parametrize("none", ["无", "没有。", "No", "暂时没有"])
def test_no_problem_answers_open_no_case(version, case, none):
    response = record(version, case, answers=answers(version, quality_problem=none))
    assert not response.has_problem
    assert not problem_cases(case).exists()
    assert not ProblemReport.objects.exists()


@pytest.mark.parametrize(
    ("category", "grade", "case_category", "urgency"),
    [
        ("delivery", "major", "logistics", Urgency.HIGH),
        ("service_attitude", "general", "service", Urgency.LOW),
        ("technical_support", "important", "technical", Urgency.MEDIUM),
    ],
)
def test_problems_recorded_on_a_call_keep_the_agents_grade(
    version, case, agent, category, grade, case_category, urgency
):
    response = record(
        version,
        case,
        answers=answers(version),
        problems=[{"category": category, "grade": grade, "description": "客户反映的问题"}],
        suggestions="希望多回访",
        agent=agent,
        recorded_by=agent,
    )
    assert response.has_problem and response.suggestions == "希望多回访"
    problem = response.problems.get()
    assert (problem.category, problem.grade) == (category, grade)
    new = problem.case
    assert new.channel == Channel.CALLBACK and new.category == case_category
    assert new.urgency == urgency
    assert new.created_by == agent


def test_a_typed_problem_and_a_recorded_one_make_two_cases(version, case):
    response = record(
        version,
        case,
        answers=answers(version, quality_problem="包装破损，屏幕有划痕"),
        problems=[{"category": "delivery", "grade": "general", "description": "送货晚了三天"}],
    )
    assert response.problems.count() == 2
    assert problem_cases(case).count() == 2
    assert set(problem_cases(case).values_list("category", flat=True)) == {"product", "logistics"}


# --- bad input -----------------------------------------------------------------------------------


def assert_nothing_saved(case):
    assert not Response.objects.exists()
    assert not problem_cases(case).exists()
    case.refresh_from_db()
    assert case.state == State.RESOLVED and case.feedback_score is None


def test_bad_problems_are_refused_and_nothing_is_saved(version, case, manager):
    with pytest.raises(ValidationError) as exc:
        record(
            version,
            case,
            answers=answers(version, overall="非常不满意"),
            problems=[
                {"category": "delivery", "grade": "major", "description": "送货晚了"},
                {"category": "weather", "grade": "", "description": " "},
            ],
        )
    assert len(exc.value.message_dict["problems"]) == 3  # category, grade, description
    assert_nothing_saved(case)


def test_bad_answers_are_refused_with_the_problems_unsaved(version, case):
    with pytest.raises(ValidationError) as exc:
        record(
            version,
            case,
            answers=answers(version, overall=None, quality_problem="耳机坏了"),
            problems=[{"category": "delivery", "grade": "major", "description": "送货晚了"}],
        )
    assert set(exc.value.message_dict) == {"overall"}
    assert_nothing_saved(case)
