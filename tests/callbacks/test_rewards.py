"""The optional thank-you coupon for answering a survey (001): off by default; on, one code from
the uploaded list per answer, shown with the thanks and e-mailed."""

from django.core import mail
from django.test import Client

from callbacks import rewards, services
from callbacks.models import RewardCoupon

from .survey_helpers import answers, token_of


def answer(survey, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.survey_submit(survey=survey, answers=answers(survey))


def test_no_coupon_unless_switched_on(survey, in_window, django_capture_on_commit_callbacks):
    rewards.coupons_upload(text="THX-001\nTHX-002")
    answer(survey, django_capture_on_commit_callbacks)
    assert not RewardCoupon.objects.filter(response__isnull=False).exists()


def test_a_coupon_per_answer_from_the_uploaded_list(
    survey, in_window, settings, manager, django_capture_on_commit_callbacks
):
    settings.SURVEY_REWARD_ENABLED = True
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(manager)
    response = client.post(
        "/admin/callbacks/rewardcoupon/add/",
        {"codes": "THX-001\n\nTHX-002\nTHX-001", "batch": "2026 双十一"},
    )
    assert response.status_code == 302 and RewardCoupon.objects.count() == 2
    mail.outbox.clear()
    answer(survey, django_capture_on_commit_callbacks)
    coupon = RewardCoupon.objects.get(response__isnull=False)
    assert coupon.code == "THX-001"
    assert rewards.reward_give(response=coupon.response) == coupon  # never a second code
    assert any("THX-001" in m.body for m in mail.outbox)  # 王女士 has an e-mail address
    page = Client().get(f"/s/{token_of(survey)}/thanks/").content.decode()
    assert "THX-001" in page
