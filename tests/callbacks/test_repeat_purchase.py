"""客户重复购买率 from the deliveries: of the customers answering in the period, those who
received another delivery after their first answer — on the metrics page and in the workbook."""

import datetime
from zoneinfo import ZoneInfo

import time_machine
from django.test import Client

from callbacks import loyalty
from callbacks.models import Delivery, Response
from callbacks.services import satisfaction_version
from complaints.models import Customer
from servicedesk.reports import data

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def answered(customer, when, version):
    return Response.objects.create(
        customer=customer, version=version, answered_at=when, overall_score=5, method="phone"
    )


def test_repeat_purchase_counts_deliveries_after_the_first_answer(db, supervisor):
    version = satisfaction_version()
    a, b, c, d = (
        Customer.objects.create(name=n, phone=f"1370000000{i}") for i, n in enumerate("甲乙丙丁")
    )
    for customer in (a, b, c, d):
        answered(customer, at(2026, 11, 5, 10), version)
    Delivery.objects.create(customer=a, order_no="A-2", delivered_at=at(2026, 11, 20, 10))
    Delivery.objects.create(customer=b, order_no="B-1", delivered_at=at(2026, 11, 1, 10))  # before
    Delivery.objects.create(customer=c, order_no="C-2", delivered_at=at(2026, 12, 3, 10))  # after
    repeat = loyalty.repeat_purchase(at(2026, 11, 1), at(2026, 12, 1))
    # By hand: 1 of 4 customers bought again within November → 25 %.
    assert (repeat.customers, repeat.repeat) == (4, 1)
    assert str(repeat.rate) == "0.2500"

    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    with time_machine.travel(at(2026, 12, 2, 10), tick=False):
        page = client.get(
            "/admin/callbacks/satisfactionsummary/", {"from": "2026-11-01", "to": "2026-11-30"}
        )
        figures = data.period_figures(datetime.date(2026, 11, 1), datetime.date(2026, 11, 30))
    assert page.context["repeat_text"] == "25.0%"
    assert figures.kpis.repeat_customers == 1 and str(figures.kpis.repeat_purchase_rate) == "0.2500"


def test_a_customer_counts_once_from_their_first_answer_in_the_period(db):
    version = satisfaction_version()
    e, f = (Customer.objects.create(name=n, phone=f"1370000001{i}") for i, n in enumerate("戊己"))
    answered(e, at(2026, 10, 28, 10), version)  # October: not this period's first answer
    answered(e, at(2026, 11, 10, 10), version)
    answered(e, at(2026, 11, 25, 10), version)
    answered(f, at(2026, 11, 12, 10), version)
    Delivery.objects.create(customer=e, order_no="E-1", delivered_at=at(2026, 11, 5, 10))
    # after e's first November answer, though before the second; twice: one customer
    Delivery.objects.create(customer=e, order_no="E-2", delivered_at=at(2026, 11, 20, 10))
    Delivery.objects.create(customer=e, order_no="E-3", delivered_at=at(2026, 11, 22, 10))
    # f: the same moment as the answer is not after it
    Delivery.objects.create(customer=f, order_no="F-1", delivered_at=at(2026, 11, 12, 10))
    repeat = loyalty.repeat_purchase(at(2026, 11, 1), at(2026, 12, 1))
    assert (repeat.customers, repeat.repeat) == (2, 1)
    # the summary passes its own count of customers surveyed: the same figures
    given = loyalty.repeat_purchase(at(2026, 11, 1), at(2026, 12, 1), customers=2)
    assert given == repeat
