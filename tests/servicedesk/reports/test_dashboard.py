"""The manager dashboard: the admin index for supervisors and managers, with today's intake,
open cases by state, overdue, escalations, satisfaction vs target, follow-ups and alerts."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse
from django.utils import translation

from callbacks.models import Response
from complaints.models import Case
from servicedesk.reports import dashboard
from servicedesk.reports.models import Alert, AlertRule
from servicedesk.staff import roles
from tests.complaints.helpers import intake

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 20, 15, 0, tzinfo=TZ)


def _response(score, when):
    from callbacks.services import satisfaction_version

    case = Case.objects.first()
    return Response.objects.create(
        version=satisfaction_version(),
        customer=case.customer,
        method="online",
        answered_at=when,
        overall_score=score,
    )


@pytest.fixture
def desk(agent):
    """Three cases received today (two by phone, one by web), one received ten days ago and
    now overdue; this month's answers 5, 4, 4, 2 → 75 % satisfied; one open alert."""
    with time_machine.travel(NOW - datetime.timedelta(days=10), tick=False):
        old = intake(channel="phone").case
    with time_machine.travel(NOW - datetime.timedelta(hours=3), tick=False):
        intake(channel="phone")
        intake(channel="phone")
        intake(channel="web")
    for score in (5, 4, 4, 2):
        _response(score, NOW - datetime.timedelta(days=2))
    _response(1, NOW - datetime.timedelta(days=40))  # last month: not counted
    rule = AlertRule.objects.get(indicator="sla_breach_rate")
    Alert.objects.create(rule=rule, message="时限未达成率 35%", figures={"rate": "0.35"})
    return old


def test_figures(desk, supervisor):
    with translation.override("en"):
        d = dashboard.dashboard_figures(supervisor, now=NOW)
    assert d.today_received == 3
    assert d.today_by_channel == [("Phone", 2), ("Web form", 1)]
    assert d.daily[-1] == (NOW.date(), 3) and d.daily[-11][1] == 1 and len(d.daily) == 14
    assert d.open_total == 4
    assert d.overdue == 1  # the 10-day-old case's first response is long past due
    assert d.satisfaction_answers == 4
    assert str(d.satisfaction_rate) == "0.7500" and d.satisfaction_meets_target is False
    assert d.alerts_open == 1


def test_supervisor_lands_on_the_dashboard_with_charts(desk, client, supervisor):
    client.force_login(supervisor)
    with time_machine.travel(NOW, tick=False), translation.override("zh-hans"):
        page = client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="dashboard"' in html and html.count("<svg") >= 3
    assert "时限未达成率 35%" in html  # the open alert, linked
    assert "75%" in html


def test_agents_get_the_plain_index(desk, client, agent):
    client.force_login(agent)
    page = client.get(reverse("admin:index"))
    assert page.status_code == 200 and 'id="dashboard"' not in page.content.decode()


def test_dashboard_queries_do_not_grow_with_volume(
    desk, client, supervisor, django_assert_max_num_queries
):
    client.force_login(supervisor)
    with time_machine.travel(NOW, tick=False):
        with django_assert_max_num_queries(40) as few:
            client.get(reverse("admin:index"))
        for _ in range(15):
            intake(channel="email")
        for score in (5, 5, 3):
            _response(score, NOW - datetime.timedelta(days=1))
        with django_assert_max_num_queries(len(few.captured_queries)):
            client.get(reverse("admin:index"))


def test_manager_role_sees_it_too(desk, make_user, client, department):
    manager = make_user("mgr2", role=roles.MANAGER, departments=[department])
    client.force_login(manager)
    page = client.get(reverse("admin:index"))
    assert 'id="dashboard"' in page.content.decode()
