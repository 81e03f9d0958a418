"""The case page's deadlines table agrees with its escalation history (frozen clock): a stage
that was escalated never reads "按时完成"; one finished late reads "逾期 5 天 14 小时后完成"."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.urls import reverse

from complaints import services
from complaints.models import SlaBreach
from servicedesk.staff import roles

from .helpers import intake

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def frozen(moment):
    return time_machine.travel(moment, tick=False)


@pytest.fixture(autouse=True)
def _chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def front(make_user, department):
    return make_user("front", role=roles.HANDLER, departments=[department])


def deadline_row(html, stage):
    match = re.search(r'<tr[^>]*data-stage="' + stage + r'" data-state="([a-z]+)">(.*?)</tr>',
                      html, re.S)  # fmt: skip
    assert match, stage
    return match.group(1), re.sub(r"<[^>]+>", " ", match.group(2))


def case_page(client, user, case):
    client.force_login(user)
    response = client.get(
        reverse("admin:complaints_case_change", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    )
    assert response.status_code == 200
    return response.content.decode()


def test_a_first_response_escalated_and_given_late_reads_as_done_late(
    client, department, front, supervisor
):
    with frozen(at(2026, 11, 2, 10)):  # high urgency: respond by Tue 10:00
        case = intake(department=department, assignee=front, urgency="high").case
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    assert SlaBreach.objects.filter(case=case, stage="first_response", level=1).exists()
    with frozen(at(2026, 11, 9, 0, 10)) as clock:  # 5 days 14 hours 10 minutes after
        services.case_add_event(case=case, user=front, message="已致电客户", customer_notified=True)
        clock.move_to(at(2026, 11, 9, 9))
        html = case_page(client, supervisor, case)
    state, text = deadline_row(html, "first_response")
    assert state == "late"
    assert "逾期 5 天 14 小时后完成" in text
    assert "L1" in text  # the row says it was escalated, as the history below does
    assert "按时完成" not in text


def test_a_missed_promise_met_the_second_time_is_not_shown_as_on_time(
    client, department, front, supervisor
):
    """The promised contact (沟通节点) was missed and escalated; a new promise was then kept.
    The stage was escalated: the table says how late, not "按时完成"."""
    with frozen(at(2026, 11, 2, 10)) as clock:
        case = intake(department=department, assignee=front, urgency="high").case
        services.case_add_event(
            case=case, user=front, message="答应客户下午六点前回电", customer_notified=True,
            next_contact_at=at(2026, 11, 2, 18),
        )  # fmt: skip
        services.sla_sweep(now=at(2026, 11, 2, 18, 5))
        assert SlaBreach.objects.filter(case=case, stage="next_contact").exists()
        clock.move_to(at(2026, 11, 3, 9))
        services.case_add_event(
            case=case, user=front, message="致歉，改约明天下午三点回电", customer_notified=True,
            next_contact_at=at(2026, 11, 4, 15),
        )  # fmt: skip
        clock.move_to(at(2026, 11, 4, 14))
        services.case_add_event(case=case, user=front, message="已回电", customer_notified=True)
        clock.move_to(at(2026, 11, 4, 16))
        html = case_page(client, supervisor, case)
    state, text = deadline_row(html, "next_contact")
    assert state == "late" and "按时完成" not in text
    # Counted from the promise it was escalated on (Mon 18:00) to the call (Wed 14:00).
    assert "逾期 44 小时后完成" in text
    # The first response, given at 10:00 with the promise, was on time and never escalated.
    state, text = deadline_row(html, "first_response")
    assert state == "met" and "按时完成" in text
