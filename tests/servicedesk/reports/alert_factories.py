"""factory_boy factories for the early-warning and reports-admin tests: cases, answers,
rules and stored reports with exactly the columns the indicators read."""

import datetime
from zoneinfo import ZoneInfo

import factory
from django.core.files.base import ContentFile

from callbacks.models import Response
from callbacks.services import satisfaction_version
from complaints.models import Case, Customer
from servicedesk.reports.models import AlertRule, Report

TZ = ZoneInfo("Asia/Shanghai")


def at(*args):
    """An aware Beijing time: at(2026, 11, 16, 10) = 2026-11-16 10:00 +08:00."""
    return datetime.datetime(*args, tzinfo=TZ)


class CustomerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Customer

    name = factory.Sequence(lambda n: f"预警客户{n}")
    phone = factory.Sequence(lambda n: f"137{n:08d}")


class CaseFactory(factory.django.DjangoModelFactory):
    """A case as the indicators see it; state and deadline columns are given directly."""

    class Meta:
        model = Case

    number = factory.Sequence(lambda n: f"202611-{n:05d}")
    channel = "phone"
    customer = factory.SubFactory(CustomerFactory)
    subject = factory.Sequence(lambda n: f"第{n}号投诉")
    description = "客户来电投诉。"
    type = "complaint"
    category = "product"


class ResponseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Response

    version = factory.LazyFunction(satisfaction_version)
    customer = factory.SubFactory(CustomerFactory)
    method = "online"
    overall_score = 5


class AlertRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AlertRule

    name = factory.Sequence(lambda n: f"规则{n}")
    indicator = "first_response_median"
    threshold = 24
    window_days = 7
    min_count = 3


class ReportFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Report

    kind = "monthly"
    period_start = datetime.date(2026, 10, 1)
    period_end = datetime.date(2026, 10, 31)
    language = "zh-hans"
    file = factory.LazyAttribute(
        lambda o: ContentFile(b"PK\x03\x04 workbook bytes", name=f"月度报表-{o.period_start}.xlsx")
    )
    size = 22
    row_counts = factory.LazyFunction(lambda: {"概览": 12, "案件清单": 340})
