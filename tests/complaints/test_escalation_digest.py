"""When many deadlines are missed at once, each person gets ONE digest per sweep listing the
cases and counts, not one message per case; a few still arrive one by one. The sweep's
bulk path (set-based SQL on PostgreSQL) writes the same breaches, timeline entries and
schedule as the row-by-row one (SQLite): these tests run on both."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings
from django.utils import translation

from complaints import services
from complaints.models import CaseEscalation, CaseEvent, EventKind, SlaBreach
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Notification

from .helpers import intake

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


@pytest.fixture
def desk(make_user, agent, manager):
    """Two departments, each with a handler and a supervisor, and cases routed to them."""
    tech = Department.objects.create(code="tech", name="技术部")
    logistics = Department.objects.create(code="logistics", name="物流部")
    people = {
        "tech_h": make_user("tech_h", role=roles.HANDLER, departments=[tech]),
        "log_h": make_user("log_h", role=roles.HANDLER, departments=[logistics]),
        "tech_sup": make_user("tech_sup", role=roles.SUPERVISOR, departments=[tech]),
        "log_sup": make_user("log_sup", role=roles.SUPERVISOR, departments=[logistics]),
        "manager": manager,
    }

    def open_cases(n, department, handler):
        with time_machine.travel(at(2026, 11, 2, 10), tick=False):
            return [
                intake(urgency="high", subject=f"{department.name}第{i}号：一直没人处理",
                       department=department, assignee=handler).case
                for i in range(n)
            ]  # fmt: skip

    people["open_cases"] = open_cases
    people["tech"], people["logistics"] = tech, logistics
    return people


@override_settings(ESCALATION_DIGEST_OVER=3)
def test_many_missed_deadlines_make_one_digest_per_person(desk):
    tech_cases = desk["open_cases"](5, desk["tech"], desk["tech_h"])
    log_cases = desk["open_cases"](2, desk["logistics"], desk["log_h"])

    with translation.override("zh-hans"):
        assert services.sla_sweep(now=at(2026, 11, 3, 10, 5)) == 7

    # The tech supervisor: 5 escalations (over 3) -> one digest listing every case.
    digest = Notification.objects.get(recipient=desk["tech_sup"])
    assert "5" in digest.subject and "逾期" in digest.subject
    for case in tech_cases:
        assert case.number in digest.body
    assert not any(case.number in digest.body for case in log_cases)
    assert "首次响应: 5" in digest.body and "技术部: 5" in digest.body
    assert digest.link.startswith("/admin/complaints/case/")
    # The logistics supervisor: 2 (not over 3) -> one message per case, as before.
    singles = Notification.objects.filter(recipient=desk["log_sup"])
    assert singles.count() == 2
    assert {n.link for n in singles} == {
        f"/admin/complaints/case/{c.pk}/change/" for c in log_cases
    }
    # Level 2 is not due yet: the manager hears nothing.
    assert not Notification.objects.filter(recipient=desk["manager"]).exists()
    # Every escalation is on the record, one breach and one timeline entry each.
    assert SlaBreach.objects.filter(level=1).count() == 7
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATION).count() == 7


@override_settings(ESCALATION_DIGEST_OVER=3)
def test_level_2_reaches_the_managers_as_one_digest_and_a_rerun_sends_nothing(desk):
    desk["open_cases"](4, desk["tech"], desk["tech_h"])
    desk["open_cases"](4, desk["logistics"], desk["log_h"])
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    assert services.sla_sweep(now=at(2026, 11, 3, 14, 5)) == 8  # 4 h later: level 2

    digest = Notification.objects.get(recipient=desk["manager"])
    assert "升级级别 2：8 项" in digest.body
    assert "技术部: 4" in digest.body and "物流部: 4" in digest.body
    assert Notification.objects.filter(recipient=desk["tech_sup"]).count() == 1  # level 1 only
    CaseEscalation.objects.update(next_at=at(2026, 11, 3, 10))  # as if the sweep were lost
    assert services.sla_sweep(now=at(2026, 11, 3, 14, 5)) == 0
    assert Notification.objects.count() == 3


@override_settings(ESCALATION_DIGEST_OVER=2)
def test_a_long_digest_lists_the_first_cases_and_says_how_many_more(desk, monkeypatch):
    from complaints import escalation

    monkeypatch.setattr(escalation, "DIGEST_LIST_LIMIT", 3)
    desk["open_cases"](5, desk["tech"], desk["tech_h"])
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    digest = Notification.objects.get(recipient=desk["tech_sup"])
    assert digest.body.count("L1 ") == 3
    assert "另有 2 项" in digest.body


def test_the_sweep_records_breach_event_and_schedule(desk):
    (case,) = desk["open_cases"](1, desk["tech"], desk["tech_h"])
    due = case.first_response_due
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))

    breach = SlaBreach.objects.get()
    assert (breach.stage, breach.level, breach.due_at) == ("first_response", 1, due)
    assert breach.department == desk["tech"] and breach.notified == ["tech_sup"]
    event = CaseEvent.objects.get(kind=EventKind.ESCALATION)
    assert event.data == {
        "stage": "first_response", "level": 1, "due_at": due.isoformat(),
        "notified": ["tech_sup"],
    }  # fmt: skip
    assert event.author is None and case.number in event.message
    case.refresh_from_db()
    assert case.escalation_level == 1
    assert case.next_escalation_at == due + datetime.timedelta(hours=4)
    assert (case.current_stage, case.current_due) == ("first_response", due)


@override_settings(ESCALATION_DIGEST_OVER=1)
def test_the_digest_links_to_the_escalated_cases(desk, client):
    cases = desk["open_cases"](2, desk["tech"], desk["tech_h"])
    quiet = desk["open_cases"](1, desk["logistics"], desk["log_h"])[0]
    with time_machine.travel(at(2026, 11, 3, 10, 5), tick=False):
        services.sla_sweep()
    CaseEscalation.objects.filter(case=quiet).update(level=0)  # as if not escalated
    digest = Notification.objects.get(recipient=desk["tech_sup"])
    client.force_login(desk["tech_sup"])
    page = client.get(digest.link)
    assert page.status_code == 200
    text = page.content.decode()
    assert all(c.number in text for c in cases) and quiet.number not in text
