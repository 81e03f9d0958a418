"""The public form does not ask customers for our internal 问题性质: the question is in plain
words and optional; left empty, the category is inferred from what they wrote."""

import pytest
import time_machine
from django.core.cache import cache

from complaints.models import Case, Category

from .test_public_form import SUBMIT, form_data


@pytest.fixture(autouse=True)
def _clean_cache_and_media(db, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    cache.clear()
    yield
    cache.clear()


def test_the_form_asks_in_plain_words_and_does_not_name_our_classification(client):
    page = client.get(SUBMIT).content.decode()
    assert "问题涉及哪方面" in page and "不确定可以不选" in page
    assert "配送、快递" in page and "工作人员的服务态度" in page
    assert "问题性质" not in page
    assert "邮箱" in page  # the e-mail field, as customers call it


@pytest.mark.parametrize(
    "overrides, expected",
    [
        ({}, Category.LOGISTICS),  # "快递五天了还没送到"
        (
            {
                "subject": "APP 一打开就闪退",
                "description": "升级以后每次打开都闪退。",
                "product": "",
            },
            Category.TECHNICAL,
        ),
        (
            {
                "subject": "客服态度很差",
                "description": "电话里的工作人员直接挂断了。",
                "product": "",
            },
            Category.SERVICE,
        ),
        (
            {
                "subject": "想问一下",
                "description": "你们周末营业吗？",
                "product": "",
                "type": "consultation",
            },
            Category.OTHER,
        ),
    ],
)
def test_left_empty_the_category_is_inferred_from_the_words(client, overrides, expected):
    response = client.post(SUBMIT, form_data(category="", **overrides))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Case.objects.get().category == expected


@time_machine.travel("2026-11-25 10:00 +0800", tick=False)
def test_a_return_without_telling_words_is_about_the_goods(client):
    data = form_data(
        category="",
        type="return_exchange",
        subject="想退货",
        description="尺码不合适。",
        product="真丝连衣裙",
        purchase_date="2026-11-20",
        return_reason="personal",
    )
    response = client.post(SUBMIT, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Case.objects.get().category == Category.PRODUCT


def test_a_chosen_answer_is_kept(client):
    response = client.post(SUBMIT, form_data(category="product"))
    assert response.status_code == 302
    assert Case.objects.get().category == Category.PRODUCT
