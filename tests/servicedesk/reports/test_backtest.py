"""An alert rule's "test against last month" button: what it would have raised."""

import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from complaints import services as case_services
from servicedesk.reports.models import AlertRule, Indicator

from ...complaints.helpers import intake

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def test_the_rule_shows_what_it_would_have_raised_last_month(agent, manager):
    rule = AlertRule.objects.create(
        name="首次响应慢", indicator=Indicator.FIRST_RESPONSE_MEDIAN, threshold=24,
        window_days=7, min_count=1,
    )  # fmt: skip
    with time_machine.travel(at(2026, 11, 10, 10), tick=False) as clock:
        case = intake(urgency="low").case
        clock.move_to(at(2026, 11, 11, 16))  # answered after 30 hours
        case_services.case_add_event(
            case=case, user=agent, message="已回复", customer_notified=True
        )
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    with time_machine.travel(at(2026, 12, 2, 9), tick=False):
        page = client.get(f"/admin/reports/alertrule/{rule.pk}/change/").content.decode()
        assert f"/admin/reports/alertrule/{rule.pk}/backtest/" in page
        response = client.get(f"/admin/reports/alertrule/{rule.pk}/backtest/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "would have raised 1 alert." in html
    days = response.context["days"]
    assert days[0].day == datetime.date(2026, 11, 1) and len(days) == 30
    assert [d.day for d in days if d.raised] == [datetime.date(2026, 11, 10)]
    assert "Median first response 30 h" in html
    assert not rule.alerts.exists()  # a test raises nothing for real
