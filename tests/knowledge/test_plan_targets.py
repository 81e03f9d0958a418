"""The published plan drives what it names (hidden from nobody): a new revision with other
limits and targets changes the next case's first response, the metrics page's target, the
alert rule's threshold and the monthly report, while older cases and periods keep theirs."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from complaints import services as case_services
from knowledge import services
from knowledge.models import Plan
from knowledge.targets import targets_at
from servicedesk.reports import data
from servicedesk.reports import services as report_services
from servicedesk.reports.models import AlertRule, Indicator

from ..complaints.helpers import intake

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


PUBLISHED = at(2026, 11, 15, 9)


def publish(author, approver, **changes):
    plan = Plan.objects.get(is_default=True)
    draft = services.plan_revision_create_draft(plan=plan, user=author)
    services.plan_revision_update(revision=draft, user=author, **changes)
    services.plan_revision_submit(revision=draft, user=author, reason="目标调整")
    return services.plan_revision_approve(revision=draft, user=approver, reason="同意")


@pytest.fixture
def revised(supervisor, manager):
    with time_machine.travel(at(2026, 11, 10, 10), tick=False):
        old_case = intake(urgency="low").case
    with time_machine.travel(PUBLISHED, tick=False):
        revision = publish(supervisor, manager, first_response_hours=2, satisfaction_target_pct=95)
    return old_case, revision


def test_the_next_case_follows_the_new_revision_and_old_cases_keep_theirs(revised, agent):
    old_case, revision = revised
    with time_machine.travel(at(2026, 11, 16, 10), tick=False):
        new_case = intake(urgency="low").case
        # Recomputing the old case's deadlines keeps the revision it was opened under.
        old_case = case_services.case_update(case=old_case, user=agent, urgency="high")
    assert new_case.plan_revision == revision
    assert new_case.first_response_due - new_case.created_at == datetime.timedelta(hours=2)
    assert old_case.plan_revision.number == 1
    assert old_case.first_response_due - old_case.created_at == datetime.timedelta(hours=24)


def test_targets_follow_the_revision_in_force(revised):
    assert targets_at(at(2026, 11, 1)).satisfaction_rate == Decimal("0.90")
    assert targets_at(at(2026, 11, 20)).satisfaction_rate == Decimal("0.95")
    assert targets_at(at(2026, 11, 20)).first_response_hours == 2


def test_the_metrics_page_shows_the_target_of_the_period(revised, supervisor):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    url = "/admin/callbacks/satisfactionsummary/"
    with time_machine.travel(at(2026, 12, 2, 10), tick=False):
        november = client.get(url, {"from": "2026-11-01", "to": "2026-11-30"})
        october = client.get(url, {"from": "2026-10-01", "to": "2026-10-31"})
    assert november.context["target_text"] == "95.0%"
    assert october.context["target_text"] == "90.0%"


def test_the_alert_rule_measures_against_the_plan_in_force(revised, agent):
    rule = AlertRule.objects.get(indicator=Indicator.FIRST_RESPONSE_MEDIAN)
    assert rule.follows_plan
    rule.min_count = 1
    rule.save()
    # Cases answered after 3 hours, before and after the new 2-hour target.
    for day in (8, 18):
        with time_machine.travel(at(2026, 11, day, 10), tick=False) as clock:
            case = intake(urgency="medium").case
            clock.move_to(at(2026, 11, day, 13))
            case_services.case_add_event(
                case=case, user=agent, message="已回复客户", customer_notified=True
            )
    before = report_services.alert_rule_measure(rule=rule, now=at(2026, 11, 9, 10))
    after = report_services.alert_rule_measure(rule=rule, now=at(2026, 11, 19, 10))
    assert before.measured and not before.breaches  # 3 h against 24 h
    assert [b.figures["threshold"] for b in after.breaches] == [2]  # 3 h against 2 h


def test_the_monthly_report_takes_the_targets_of_its_month(revised):
    with time_machine.travel(at(2026, 12, 1, 2), tick=False):
        november = data.period_figures(datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    assert november.kpis.satisfaction_target == Decimal("0.95")
    assert november.kpis.first_response_target_hours == 2
    # The previous period (October) was measured against revision 1.
    assert november.previous.satisfaction_target == Decimal("0.90")
    assert november.previous.first_response_target_hours == 24
    targets = {m.month: m.satisfaction_target for m in november.months}
    assert targets[datetime.date(2026, 10, 1)] == Decimal("0.90")
    assert targets[datetime.date(2026, 11, 1)] == Decimal("0.95")


def test_a_stage_row_that_disagrees_with_the_target_is_refused(supervisor):
    plan = Plan.objects.get(is_default=True)
    draft = services.plan_revision_create_draft(plan=plan, user=supervisor)
    draft.stages.filter(code="first_response").update(time_limit=4)
    with pytest.raises(services.ValidationError) as error:
        services.plan_revision_submit(revision=draft, user=supervisor, reason="提交")
    assert "first_response_hours" in error.value.message_dict


def test_the_urgency_matrix_says_24_hours_for_every_urgency(db):
    revision = Plan.objects.get(is_default=True).revisions.get(number=1)
    assert [row[1] for row in revision.urgency_matrix()] == ["24 hours"] * 3


def test_the_dashboard_measures_this_month_against_the_plan_in_force(revised, manager):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    with time_machine.travel(at(2026, 11, 20, 10), tick=False):
        html = client.get("/admin/").content.decode()
    assert "target 95%" in html
    with time_machine.travel(at(2026, 11, 10, 10), tick=False):
        html = client.get("/admin/").content.decode()
    assert "target 90%" in html
