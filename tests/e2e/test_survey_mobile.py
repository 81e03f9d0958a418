"""A customer answers the satisfaction survey on a phone (390×844), from the link we sent."""

import datetime

from playwright.sync_api import expect

from callbacks import services as survey_services
from callbacks import tokens
from callbacks.models import Survey, SurveyStatus

from .cases import call_in, walk
from .conftest import PHONE as PHONE_SCREEN

ANSWERS = {
    "overall": "满意",
    "quality": "较好",
    "attitude": "非常满意",
    "promptness": "经常能",
    "needs": "基本满足",
}


def test_customer_answers_the_survey_on_a_phone(desk, team, clock):
    customer = {"name": "王女士", "email": "wang@example.com", "phone": ""}
    case = call_in(team, customer=customer)
    case = walk(
        case,
        team.handler,
        ("start_investigation", {}),
        ("resolve", {"result": "已向客户致歉并补偿 20 元优惠券。"}),
    )
    survey = Survey.objects.get(case=case)
    survey_services.survey_dispatch_sweep(now=survey.send_at)
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    clock.move_to(survey.sent_at + datetime.timedelta(hours=1))  # she opens it an hour later

    customer_phone = desk(PHONE_SCREEN, is_mobile=True, has_touch=True, device_scale_factor=2)
    page = customer_phone.goto(f"/s/{tokens.make_token(survey.nonce)}/")
    expect(page.get_by_role("heading", name="满意度调查")).to_be_visible()
    expect(page.locator("#case-number")).to_have_text(case.number)
    expect(page.locator("body")).to_contain_text(case.subject)
    expect(page.locator(".question")).to_have_count(9)
    expect(page.locator(".question[aria-required=true]")).to_have_count(5)
    # Nothing wider than the phone: no sideways scrolling.
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1] == 390, width
    customer_phone.shot("survey-mobile")

    for code, label in ANSWERS.items():
        question = page.locator(f"#question-{code}")
        question.get_by_role("radio", name=label, exact=True).tap()
        expect(question.get_by_role("radio", name=label, exact=True)).to_be_checked()
    page.locator("#id_q-suggestions").fill("希望快递员能送货上门。")
    page = customer_phone.click(page.get_by_role("button", name="提交问卷"))

    expect(page.get_by_role("heading", name="感谢您的回答")).to_be_visible()
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.ANSWERED
    case.refresh_from_db()
    assert case.feedback_score is not None
