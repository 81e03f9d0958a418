"""The follow-ups demo data: a year of answers the metrics can show, the queue an agent
finds in the morning, surveys in several states — on top of the complaints demo or alone."""

import datetime

import pytest
import time_machine
from django.db.models import Count
from django.utils import timezone

from callbacks import demo, stats
from callbacks.models import (
    CallAttempt,
    Delivery,
    FollowUp,
    FollowUpPurpose,
    FollowUpStatus,
    ProblemReport,
    Response,
    Survey,
    SurveyStatus,
)
from complaints import services as case_services
from servicedesk import demo as project_demo
from tests.complaints.helpers import intake, walk

pytestmark = pytest.mark.django_db


# The demo spreads a year of data back from "now": the test pins "now" (a working-day
# morning in Shanghai) so it does not depend on the day it runs (it failed on 2026-12-03).
DEMO_NOW = datetime.datetime(
    2026, 11, 18, 10, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8))
)


@time_machine.travel(DEMO_NOW, tick=True)
def test_demo_alone_gives_a_year_of_answers_and_a_queue():
    staff = project_demo.seed_staff()
    summary = demo.seed(staff)
    assert "questionnaires answered" in summary

    now = timezone.now()
    today = timezone.localdate(now)
    trend = stats.monthly_trend(last_day=today)
    assert sum(1 for month in trend if month["answers"]) >= 11
    rates = [m["rate"] for m in trend if m["rate"] is not None]
    assert min(rates) < stats.metrics.SATISFACTION_TARGET  # the trend crosses the target
    assert Response.objects.filter(has_problem=True).exists()
    assert ProblemReport.objects.values("category").distinct().count() == 4
    # every answer is complete: the overall question and the four other ratings
    assert not Response.objects.annotate(n=Count("answers")).filter(n__lt=5).exists()
    assert not Response.objects.filter(answered_at__gt=now).exists()

    pending = FollowUp.objects.pending()
    assert pending.filter(assignee=staff["users"]["agent1"]).exists()
    assert pending.filter(assignee__isnull=True).exists()
    assert FollowUp.objects.overdue(now).exists()
    start = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    assert pending.filter(due_at__gte=start, due_at__lt=start + datetime.timedelta(days=1))
    assert FollowUp.objects.filter(status=FollowUpStatus.UNREACHABLE).exists()
    assert CallAttempt.objects.filter(reached=False).exists()
    assert Delivery.objects.count() == 10
    assert FollowUp.objects.filter(purpose=FollowUpPurpose.DELIVERY).exists()
    # the two newest deliveries are left for the hourly task
    assert Delivery.objects.filter(followup__isnull=True).count() == 2

    # seeding again adds nothing
    assert demo.seed(staff) == ""


@time_machine.travel(DEMO_NOW, tick=True)
def test_closed_cases_get_their_survey_and_resolved_ones_are_scheduled():
    staff = project_demo.seed_staff()
    agent, kefu = staff["users"]["agent1"], staff["departments"]["kefu"]
    cases = []
    with time_machine.travel(timezone.now() - datetime.timedelta(days=10), tick=False):
        for n, score in enumerate([5, 4, 2, 5, 4, 5, 3, 5]):
            case = intake(channel="web" if n % 2 else "phone").case
            case = walk(
                case, agent, ("assign", {"department": kefu, "assignee": agent}),
                ("start_investigation", {}), ("resolve", {"result": "已处理"}),
            )  # fmt: skip
            case = case_services.case_record_feedback(case=case, score=score, user=agent)
            cases.append(walk(case, agent, ("close", {})))
    still_resolved = walk(
        intake().case, agent, ("assign", {"department": kefu, "assignee": agent}),
        ("start_investigation", {}), ("resolve", {"result": "已处理"}),
    )  # fmt: skip

    demo.seed(staff)

    assert Survey.objects.filter(case__in=cases).count() == len(cases)
    assert Survey.objects.get(case=still_resolved).status == SurveyStatus.SCHEDULED
    answered = Response.objects.filter(case__in=cases).select_related("case")
    assert answered.exists()
    for response in answered:
        # the answer carries what the case recorded, and who and which channel it is about
        assert response.overall_score == response.case.feedback_score
        assert response.department_id == kefu.pk
        assert response.agent_id == agent.pk
        assert response.case_channel == response.case.channel
        assert response.survey.status == SurveyStatus.ANSWERED
