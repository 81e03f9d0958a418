"""Customers served in Chinese, English, Japanese or Korean (004: multilingual service): the
public web form, the survey page, the survey e-mails and texts and the frame of our replies
follow the customer's language (or the link's, or the browser's); staff screens stay
Chinese/English."""

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from callbacks import services, tokens
from callbacks.models import Question, Response, Survey
from complaints.models import Case, Customer
from servicedesk.messaging import outbound
from servicedesk.messaging.models import OutboundMessage

from .conftest import at
from .survey_helpers import IN_WINDOW, form_data, sent_survey

SUBMIT = "/submit/"


def link_of(survey):
    """The survey link as we send it (it carries the customer's language)."""
    return tokens.survey_url(survey).removeprefix(settings.SITE_URL)


def web_form(**overrides):
    data = {
        "name": "田中 花子", "phone": "", "email": "hanako@example.jp", "member_no": "",
        "preferred_contact": "email", "type": "complaint", "category": "logistics",
        "subject": "荷物が届かない", "description": "5日前に注文した商品がまだ届きません。",
        "expected_outcome": "", "order_no": "", "product": "", "consent": "on",
    }  # fmt: skip
    data.update(overrides)
    return data


# --- the survey page -----------------------------------------------------------------------


def test_survey_page_in_japanese_shows_japanese_questions_and_buttons(resolve_case):
    survey = sent_survey(resolve_case, name="佐藤様", email="sato@example.jp", language="ja")
    # A question nobody translated falls back to the Chinese wording.
    Question.objects.filter(version=survey.version, code="improvements").update(translations={})
    assert link_of(survey).endswith("?lang=ja")
    with time_machine.travel(IN_WINDOW, tick=False):
        response = Client(HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9").get(link_of(survey))
    page = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "ja"
    assert '<html lang="ja">' in page
    assert "満足度アンケート" in page  # the page's own words
    assert "当社の製品・サービス全体について、どの程度ご満足いただけましたか？" in page
    assert "大変満足" in page and "十分に満たしている" in page  # the options
    assert "回答を送信する" in page  # the button
    assert "平素より格別のご愛顧" in page  # the greeting
    assert "您希望我们在哪些方面进行改进？" in page  # untranslated: Chinese
    assert "您对我们公司提供的产品/服务整体满意度如何？" not in page
    # The switch offers the other languages, not the current one.
    assert "?lang=ko" in page and "?lang=en" in page and "?lang=zh-hans" in page
    assert "?lang=ja" not in page


def test_survey_error_is_shown_in_the_page_language_and_nothing_is_saved(resolve_case):
    survey = sent_survey(resolve_case)  # a Chinese-speaking customer …
    data = form_data(survey)
    del data["q-overall"]
    client = Client()
    with time_machine.travel(IN_WINDOW, tick=False):
        # … whose link is opened in Korean with the page's switch
        response = client.post(f"/s/{tokens.make_token(survey.nonce)}/?lang=ko", data)
    page = response.content.decode()
    assert response.status_code == 200 and '<html lang="ko">' in page
    assert "이 질문에 응답해 주세요." in page
    assert "응답 보내기" in page
    assert not Response.objects.exists()
    survey.refresh_from_db()
    assert survey.answered_at is None
    # The switch is remembered for the next page.
    assert client.cookies["customer_language"].value == "ko"


def test_browser_language_is_honoured_when_the_link_says_none(resolve_case):
    survey = sent_survey(resolve_case)
    with time_machine.travel(IN_WINDOW, tick=False):
        page = Client(HTTP_ACCEPT_LANGUAGE="en-GB,en;q=0.8").get(
            f"/s/{tokens.make_token(survey.nonce)}/"
        )
    assert '<html lang="en">' in page.content.decode()
    assert "Overall, how satisfied are you with our products/service?" in page.content.decode()


# --- the public web form -------------------------------------------------------------------


def test_public_form_in_korean(db):
    response = Client().get(f"{SUBMIT}?lang=ko")
    page = response.content.decode()
    assert response.status_code == 200 and response["Content-Language"] == "ko"
    assert '<html lang="ko">' in page
    assert "문의하기" in page and "성함" in page and "휴대폰 번호" in page and "제출하기" in page
    assert "배송" in page  # a choice of the form, translated
    # The browser's language chooses too.
    page = Client(HTTP_ACCEPT_LANGUAGE="ko-KR,ko;q=0.9").get(SUBMIT).content.decode()
    assert '<html lang="ko">' in page


def test_public_form_errors_in_japanese_and_the_customer_keeps_the_language(db):
    client = Client()
    response = client.post(f"{SUBMIT}?lang=ja", web_form(name="", email=""))
    page = response.content.decode()
    assert response.status_code == 200 and '<html lang="ja">' in page
    assert "ご連絡のため、携帯電話番号またはメールアドレスをご入力ください。" in page
    assert "この項目は必須です。" in page  # Django's own message, in Japanese
    assert "印の付いた項目をご確認ください。" in page
    assert not Case.objects.exists() and not Customer.objects.exists()

    response = client.post(f"{SUBMIT}?lang=ja", web_form())
    assert response.status_code == 302
    assert Customer.objects.get().language == "ja"
    done = client.get(response["Location"]).content.decode()  # the cookie keeps Japanese
    assert "お問い合わせを受け付けました" in done and Case.objects.get().number in done


def test_staff_screens_stay_chinese_or_english(db):
    assert [code for code, _name in settings.LANGUAGES] == ["zh-hans", "en"]
    client = Client(HTTP_ACCEPT_LANGUAGE="ja")
    client.cookies["customer_language"] = "ja"
    page = client.get("/admin/login/?lang=ja").content.decode()
    assert '<html lang="zh-hans"' in page


# --- messages ------------------------------------------------------------------------------


def test_an_english_speaking_customers_survey_email_is_in_english(resolve_case, settings):
    settings.SERVICE_HOTLINE = "400-820-1234"
    case = resolve_case(
        customer={"name": "John Smith", "email": "john@example.com", "phone": "",
                  "language": "en"},
    )  # fmt: skip
    survey = Survey.objects.get(case=case)
    services.survey_dispatch_sweep(now=survey.send_at)
    (message,) = mail.outbox
    assert message.subject == f"How did we do with case {case.number}?"
    assert message.body.startswith("Dear John Smith,")
    assert "Please answer a few short questions:" in message.body
    assert "Dear customer, thank you for your continued trust" in message.body  # greeting
    assert "customer service hotline 400-820-1234." in message.body  # closing, with the hotline
    assert link_of(survey) in message.body and link_of(survey).endswith("?lang=en")
    assert "您" not in message.body


def test_a_japanese_customers_survey_text_is_in_japanese(resolve_case, sms_outbox):
    case = resolve_case(
        customer={"name": "鈴木", "phone": "13900000088", "email": "", "language": "ja"}
    )
    survey = Survey.objects.get(case=case)
    services.survey_dispatch_sweep(now=survey.send_at)
    (text,) = sms_outbox
    # With the case number when it fits one 70-character segment; here the link is too long.
    assert "お問い合わせの対応が完了しました。評価にご協力ください" in text.body
    assert text.body.endswith("?lang=ja")


def test_public_reply_frame_is_in_the_customers_language(resolve_case, agent):
    case = resolve_case(
        at(2026, 11, 2, 10),
        customer={"name": "김민수", "email": "minsu@example.kr", "phone": "", "language": "ko"},
    )
    outbound.reply_create(case=case, user=agent, body="안녕하세요, 확인했습니다.", public=True)
    message = OutboundMessage.objects.get(case=case)
    assert message.body.startswith("안녕하세요, 확인했습니다.")
    assert "이 메일에 회신하시면 같은 문의에 추가됩니다" in message.body


# --- the customer's language through the API -----------------------------------------------


@pytest.mark.parametrize("language", ["ko", "fr"])
def test_the_api_sets_the_customers_language(db, agent, language):
    token, _created = Token.objects.get_or_create(user=agent)
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    body = {
        "channel": "social", "subject": "배송 문의", "description": "택배가 오지 않았습니다.",
        "type": "complaint", "category": "logistics",
        "customer": {"name": "이영희", "phone": "13800138011", "language": language},
    }  # fmt: skip
    response = client.post("/api/v1/cases/", body, format="json")
    if language == "ko":
        assert response.status_code == 201, response.json()
        assert response.json()["customer"]["language"] == "ko"
        assert Customer.objects.get().language == "ko"
    else:
        assert response.status_code == 400
        assert "language" in response.json()["customer"]
        assert not Case.objects.exists()


def test_return_instructions_go_out_in_the_customers_language(
    agent, department, settings, django_capture_on_commit_callbacks
):
    from tests.complaints.test_returns import a_return, api

    settings.RETURN_ADDRESS = "上海市浦东新区XX路1号 售后部"
    case = a_return(
        agent,
        department,
        customer={"name": "高橋", "email": "takahashi@example.jp", "language": "ja"},
    )
    client, url = api(agent), f"/api/v1/cases/{case.number}/return/"
    version = client.get(url).json()["version"]
    client.post(f"{url}approve/", {"expected_version": version}, content_type="application/json")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"{url}notify_customer/", {}, content_type="application/json")
    (sent,) = mail.outbox
    assert sent.subject == f"お問い合わせ {case.number} の返品方法のご案内"
    assert "返送料は当社が負担いたします。着払いでお送りください。" in sent.body
    assert "上海市浦东新区XX路1号 售后部" in sent.body


def test_the_survey_api_gives_the_language_and_the_translations(resolve_case):
    survey = sent_survey(resolve_case, email="sato@example.jp", language="ja")
    with time_machine.travel(IN_WINDOW, tick=False):
        data = APIClient().get(f"/api/v1/surveys/{tokens.make_token(survey.nonce)}/").json()
    assert data["language"] == "ja"
    overall = next(q for q in data["questionnaire"]["questions"] if q["code"] == "overall")
    assert (
        overall["translations"]["ja"]
        == "当社の製品・サービス全体について、どの程度ご満足いただけましたか？"
    )
    assert overall["choices"][0]["translations"]["ko"] == "매우 만족"
    assert data["questionnaire"]["closing_translations"]["en"].startswith("Thank you again")
