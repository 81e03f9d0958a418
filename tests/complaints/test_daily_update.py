"""002 daily tracking: a case of priority 4–5 needs a progress update every working day — a
rolling deadline escalated like the others."""

import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from complaints import services
from complaints.models import SlaBreach

from .helpers import intake

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def local(dt):
    return dt.astimezone(SH).replace(tzinfo=None)


def test_a_priority_5_case_needs_an_update_each_working_day_and_escalates_without(
    agent, supervisor, department
):
    with time_machine.travel(at(2026, 11, 5, 10), tick=False) as clock:  # a Thursday
        case = intake(priority=5, department=department, assignee=agent, user=agent).case
        assert local(case.daily_update_due) == datetime.datetime(2026, 11, 6, 10)
        clock.move_to(at(2026, 11, 6, 9))
        services.case_add_event(case=case, user=agent, message="已联系供应商，等待检测报告")
        case.refresh_from_db()
        # Friday 09:00 + one working day: Monday 09:00 (the weekend does not count).
        assert local(case.daily_update_due) == datetime.datetime(2026, 11, 9, 9)
        assert case.pending_deadlines()["daily_update"] == case.daily_update_due
    services.sla_sweep(now=at(2026, 11, 9, 8, 59))
    assert not SlaBreach.objects.filter(stage="daily_update").exists()
    services.sla_sweep(now=at(2026, 11, 9, 9, 1))
    breach = SlaBreach.objects.get(stage="daily_update", level=1)
    assert breach.case_id == case.pk
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(agent)
    with time_machine.travel(at(2026, 11, 9, 10), tick=False):
        data = client.get(f"/api/v1/cases/{case.number}/").json()
    assert data["deadlines"]["daily_update"]["overdue"] is True


def test_lower_priorities_have_no_daily_update_and_raising_the_priority_adds_it(agent, department):
    with time_machine.travel(at(2026, 11, 5, 10), tick=False):
        case = intake(priority=3, department=department).case
        assert case.daily_update_due is None
        assert "daily_update" not in case.pending_deadlines()
        case = services.case_update(case=case, user=agent, priority=4)
    assert local(case.daily_update_due) == datetime.datetime(2026, 11, 6, 10)
