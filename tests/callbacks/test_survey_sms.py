"""The survey SMS: signed with the site's 【签名】, one 70-character segment, a short link that
opens the survey; the questionnaire names the hotline of the SERVICE_HOTLINE setting."""

import pytest

from callbacks import services, sms, tokens
from callbacks.models import QuestionnaireVersion, Survey

pytestmark = pytest.mark.django_db


def _sent(resolve_case, sms_outbox, *, phone="13900000077"):
    case = resolve_case(customer={"name": "赵女士", "phone": phone, "email": ""})
    survey = Survey.objects.get(case=case)
    services.survey_dispatch_sweep(now=survey.send_at)
    return case, survey, sms_outbox[-1].body


def test_survey_sms_is_signed_and_fits_one_segment(resolve_case, sms_outbox, settings):
    settings.SMS_SIGNATURE = "好家电"
    settings.SITE_URL = "https://hjd.cn"
    case, survey, body = _sent(resolve_case, sms_outbox)
    assert body.startswith("【好家电】")
    assert len(body) <= sms.SEGMENT, (len(body), body)
    assert case.number in body  # a short address leaves room for the case number
    assert tokens.survey_url(survey) in body


def test_survey_sms_drops_the_case_number_rather_than_take_two_segments(
    resolve_case, sms_outbox, settings
):
    # A longer address (here the development one) leaves no room: the number gives way.
    settings.SMS_SIGNATURE = "好家电"
    settings.SITE_URL = "http://127.0.0.1:8000"
    case, survey, body = _sent(resolve_case, sms_outbox)
    assert len(body) <= sms.SEGMENT, (len(body), body)
    assert case.number not in body and "已办结" in body
    assert tokens.survey_url(survey) in body


def test_unsigned_site_falls_back_to_a_plain_signature(resolve_case, sms_outbox, settings):
    settings.SMS_SIGNATURE = ""
    _, _, body = _sent(resolve_case, sms_outbox)
    assert body.startswith("【客服中心】")


def test_short_link_opens_the_survey_and_old_signed_links_still_do(client, resolve_case):
    case = resolve_case(customer={"name": "赵女士", "phone": "13900000078", "email": ""})
    survey = Survey.objects.get(case=case)
    short = tokens.short_token(survey.nonce)
    assert len(short) == 22
    assert services.survey_find(short) == survey
    assert services.survey_find(tokens.make_token(survey.nonce)) == survey
    assert services.survey_find(("A" if short[0] != "A" else "B") + short[1:]) is None
    # The last character carries 2 bits and 4 unused ones: another spelling is refused.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    assert short[-1] in "AQgw"
    other_spelling = short[:-1] + alphabet[alphabet.index(short[-1]) + 1]
    assert tokens.nonce_from_token(other_spelling) is None


def test_questionnaire_names_the_configured_hotline(settings):
    version = QuestionnaireVersion.objects.get(questionnaire__code="satisfaction-callback")
    assert "400-xxx-xxxx" not in version.closing
    settings.SERVICE_HOTLINE = "400-123-4567"
    assert "客服热线 400-123-4567" in version.closing_text
    settings.SERVICE_HOTLINE = ""
    assert "客服热线" not in version.closing_text and "{热线}" not in version.closing_text
    assert version.closing_text.endswith("欢迎随时与我们联系。")
