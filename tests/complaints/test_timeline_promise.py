"""The timeline's customer-notified entries show the next contact promised (沟通节点)."""

import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from complaints import services

from .helpers import intake

SH = ZoneInfo("Asia/Shanghai")


def test_a_customer_notified_entry_shows_the_promised_next_contact(agent, department):
    with time_machine.travel(datetime.datetime(2026, 11, 2, 10, tzinfo=SH), tick=False):
        case = intake(department=department, user=agent).case
        services.case_add_event(
            case=case,
            user=agent,
            message="已致电客户，承诺明天下午回电",
            customer_notified=True,
            next_contact_at=datetime.datetime(2026, 11, 3, 15, tzinfo=SH),
        )
        services.case_add_event(case=case, user=agent, message="内部备注", kind="note")
        client = Client(HTTP_ACCEPT_LANGUAGE="en")
        client.force_login(agent)
        html = client.get(f"/admin/complaints/case/{case.pk}/change/").content.decode()
    assert html.count("next contact promised") == 1
    assert "next contact promised (沟通节点): 2026-11-03 15:00" in html
