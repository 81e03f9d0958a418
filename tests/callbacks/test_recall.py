"""Product recalls (召回): the customers affected from deliveries and cases, one outreach call
each in bulk (again: nothing new), contacted / unreachable / remedied, compensation on cases,
the progress page."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied
from django.test import Client

from callbacks import recall_services as services
from callbacks.models import Delivery, FollowUp, RecallCampaign, RecallContact
from complaints.models import Customer

from ..complaints.helpers import intake

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


@pytest.fixture
def campaign(manager):
    return RecallCampaign.objects.create(
        name="暖风机 A1 召回", product="暖风机A1", purchased_from=datetime.date(2026, 10, 1),
        purchased_to=datetime.date(2026, 10, 31), created_by=manager,
    )  # fmt: skip


def customer(name, phone):
    return Customer.objects.create(name=name, phone=phone)


def test_outreach_reaches_each_affected_customer_once(campaign, manager, supervisor, department):
    a, b, c = (
        customer("甲", "13800000001"),
        customer("乙", "13800000002"),
        customer("丙", "13800000003"),
    )
    Delivery.objects.create(
        customer=a, order_no="O1", product="暖风机A1 白色", delivered_at=at(2026, 10, 5)
    )
    Delivery.objects.create(
        customer=a, order_no="O2", product="暖风机A1 灰色", delivered_at=at(2026, 10, 6)
    )
    Delivery.objects.create(
        customer=c, order_no="O3", product="暖风机A1", delivered_at=at(2026, 9, 5)
    )  # outside
    case = intake(customer={"name": "乙", "phone": "13800000002"}, product="暖风机A1",
                  department=department).case  # fmt: skip
    case.__class__.objects.filter(pk=case.pk).update(created_at=at(2026, 10, 20))

    with pytest.raises(PermissionDenied):
        services.recall_outreach_generate(campaign=campaign, user=supervisor)
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    url = f"/admin/callbacks/recallcampaign/{campaign.pk}/outreach/"
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302  # again: nothing new
    calls = FollowUp.objects.filter(purpose="recall")
    assert sorted(calls.values_list("customer__name", flat=True)) == ["乙", "甲"]
    assert RecallContact.objects.filter(campaign=campaign).count() == 2

    contact_a = RecallContact.objects.get(customer=a)
    contact_b = RecallContact.objects.get(customer=b)
    FollowUp.objects.filter(pk=contact_a.followup_id).update(status="unreachable")
    services.recall_contact_set(contact=contact_b, status="remedied", user=manager)
    services.compensation_record(case=case, user=manager, kind="replacement", amount="199.00",
                                 campaign=campaign)  # fmt: skip
    with pytest.raises(PermissionDenied):
        services.compensation_record(case=case, user=supervisor, kind="cash", amount="10")
    progress = services.recall_progress(campaign)
    assert progress["affected"] == 2 and progress["calls"] == 2
    assert (progress["unreachable"], progress["remedied"], progress["pending"]) == (1, 1, 0)
    assert progress["compensation_total"] == Decimal("199.00")
    page = client.get(f"/admin/callbacks/recallcampaign/{campaign.pk}/change/").content.decode()
    assert 'data-figure="remedied">1<' in page
    assert 'data-figure="compensation">1 · ¥199' in page


def test_the_workbook_has_a_recalls_sheet(campaign, manager, tmp_path):
    from openpyxl import load_workbook

    from servicedesk.reports import data, workbook

    a = customer("甲", "13800000001")
    Delivery.objects.create(
        customer=a, order_no="O1", product="暖风机A1", delivered_at=at(2026, 10, 5)
    )
    services.recall_outreach_generate(campaign=campaign, user=manager)
    first, last = datetime.date.today().replace(day=1), datetime.date.today()
    figures = data.period_figures(first, last)
    path = tmp_path / "r.xlsx"
    workbook.build_workbook(figures, data.case_rows(first, last), path, "en")
    rows = [list(r) for r in load_workbook(path)["Recalls"].iter_rows(values_only=True)]
    assert rows[1][:2] == ["暖风机 A1 召回", "暖风机A1"] and rows[1][4:7] == [1, 1, 1]
