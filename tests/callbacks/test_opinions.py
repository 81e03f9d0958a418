"""意见集中度 counts what customers wrote: the suggestions are classified into editable
categories by jieba keywords and counted with the problem classes and chosen options."""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.test import Client

from callbacks import opinions, stats
from callbacks.models import OpinionCategory, Response
from callbacks.services import satisfaction_version
from complaints.models import Customer

SH = ZoneInfo("Asia/Shanghai")


def test_suggestions_are_classified_by_keywords(db):
    categories = list(OpinionCategory.objects.filter(is_active=True))
    logistics = OpinionCategory.objects.get(name="物流配送").code
    quality = OpinionCategory.objects.get(name="产品质量").code
    assert opinions.classify("希望快递能快一点，包装也要结实", categories) == [logistics]
    assert set(opinions.classify("质量不错但是物流太慢", categories)) >= {logistics, quality}
    assert opinions.classify("没什么意见，谢谢", categories) == [opinions.OTHER]
    assert opinions.classify("  ", categories) == []


def test_opinion_concentration_counts_the_written_suggestions(db, supervisor):
    version = satisfaction_version()
    texts = ["快递太慢了", "物流能不能快一点", "客服态度很好，但发货慢", ""]
    for i, suggestion in enumerate(texts):
        customer = Customer.objects.create(name=f"客户{i}", phone=f"1350000000{i}")
        Response.objects.create(
            customer=customer, version=version, method="phone", overall_score=4,
            suggestions=suggestion, answered_at=datetime.datetime(2026, 11, 5, 10, tzinfo=SH),
        )  # fmt: skip
    # An editable category: a manager adds a word and it counts from then on.
    OpinionCategory.objects.filter(name="服务态度").update(keywords="态度")
    summary = stats.satisfaction_summary(
        date_from=datetime.date(2026, 11, 1), date_to=datetime.date(2026, 11, 30)
    )
    shares = {o["label"]: (o["count"], o["share"]) for o in summary["opinions"]}
    # By hand: 物流配送 3 mentions (快递, 物流, 发货), 服务态度 1 (态度), 响应速度 1 (太慢);
    # 5 mentions in all.
    assert shares == {
        "物流配送": (3, Decimal("0.6000")),
        "服务态度": (1, Decimal("0.2000")),
        "响应速度": (1, Decimal("0.2000")),
    }
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    assert client.get("/admin/callbacks/opinioncategory/").status_code == 200
