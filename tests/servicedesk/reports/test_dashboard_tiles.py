"""Every dashboard tile links to exactly the list behind its number (issue 14): followed, the
link lists as many rows as the tile shows — today's received cases, open, overdue, escalated
and still open, this month's survey answers, follow-up calls due today, open alerts."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from callbacks.models import FollowUp, FollowUpPurpose
from complaints import services
from complaints.models import Customer
from servicedesk.reports.models import Alert, AlertRule, AlertStatus
from servicedesk.staff import roles
from tests.complaints.helpers import intake

from .test_dashboard import _response

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
NOW = datetime.datetime(2026, 11, 20, 15, 0, tzinfo=TZ)
TILES = ["received", "open", "overdue", "escalated", "satisfaction", "followups", "alerts"]


@pytest.fixture
def desk(agent, department, supervisor):
    """Cases received ten days ago (two escalated by now, one of them cancelled since), three
    received today; answers this month and last; follow-ups due today, yesterday and
    tomorrow; open, acknowledged and closed alerts."""
    with time_machine.travel(NOW - datetime.timedelta(days=10), tick=False):
        old = [intake(department=department, urgency="high").case for _ in range(3)]
    services.sla_sweep(now=NOW - datetime.timedelta(days=8))
    services.case_transition(case=old[0], name="cancel", user=supervisor, reason="客户撤回")
    with time_machine.travel(NOW - datetime.timedelta(hours=3), tick=False):
        for channel in ["phone", "phone", "web"]:
            intake(department=department, channel=channel)
    for score in (5, 4, 4, 2):
        _response(score, NOW - datetime.timedelta(days=2))
    _response(1, NOW - datetime.timedelta(days=40))  # last month: not counted
    from callbacks.services import satisfaction_version

    for n, days in enumerate([0, 0, -1, 1]):
        FollowUp.objects.create(
            customer=Customer.objects.create(name=f"回访客户{n}", phone=f"1370000{n:04d}"),
            purpose=FollowUpPurpose.PERIODIC,
            version=satisfaction_version(),
            due_at=NOW + datetime.timedelta(days=days, hours=-1),
        )
    rule = AlertRule.objects.get(indicator="sla_breach_rate")
    for n, status in enumerate([AlertStatus.OPEN, AlertStatus.ACKNOWLEDGED, AlertStatus.CLOSED]):
        Alert.objects.create(
            rule=rule, subject=f"dept{n}", message="时限未达成率 35%", figures={}, status=status
        )


def tiles(html):
    """{tile: (link, the number it shows)}."""
    found = {}
    for name, href, body in re.findall(
        r'<a class="sd-tile[^"]*" id="tile-(\w+)" href="([^"]+)">(.*?)</a>', html, re.S
    ):
        value = re.search(r'<div class="sd-v">([^<]*)</div>', body).group(1).strip()
        found[name] = (href.replace("&amp;", "&"), value)
    return found


@pytest.mark.parametrize("role", [roles.SUPERVISOR, roles.MANAGER])
def test_each_tile_links_to_the_list_of_what_it_counts(desk, client, make_user, department, role):
    user = make_user("reader", role=role, departments=[department])
    client.force_login(user)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("admin:index"))
        d = page.context["dashboard"]
        shown = tiles(page.content.decode())
        assert sorted(shown) == sorted(TILES)
        listed = {}
        for name, (href, _value) in shown.items():
            response = client.get(href)
            assert response.status_code == 200, name
            listed[name] = response.context["cl"].result_count
    # The figures this fixture makes, so no tile passes by counting nothing.
    assert (d.today_received, d.escalated_open, d.satisfaction_answers) == (3, 2, 4)
    assert (d.followups_due_today, d.alerts_open) == (2, 2)
    for name in ["received", "open", "overdue", "escalated", "followups", "alerts"]:
        assert listed[name] == int(shown[name][1]), name
    # The satisfaction tile shows a rate: its list is the answers the rate is made of.
    assert listed["satisfaction"] == d.satisfaction_answers


def test_the_received_today_tile_lists_finished_cases_too(desk, client, supervisor, department):
    with time_machine.travel(NOW - datetime.timedelta(hours=1), tick=False):
        case = intake(department=department, channel="phone").case
        services.case_transition(case=case, name="cancel", user=supervisor, reason="重复来电")
    client.force_login(supervisor)
    with time_machine.travel(NOW, tick=False):
        page = client.get(reverse("admin:index"))
        href, value = tiles(page.content.decode())["received"]
        assert value == "4"
        assert client.get(href).context["cl"].result_count == 4
