"""The public survey page (/s/<token>/): no login, Chinese by default, answered once through
the same service as every answer; refusals (invalid link, expired, already answered, too
many requests) are clear pages with their own status codes."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client, override_settings

from callbacks import services, tokens, views
from callbacks.models import Response, Survey, SurveyStatus
from complaints.models import Case, Channel, EventKind, State

from .survey_helpers import IN_WINDOW, form_data, sent_survey, token_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


def url(survey):
    return f"/s/{token_of(survey)}/"


def assert_nothing_saved(survey):
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT and survey.answered_at is None
    assert not Response.objects.exists()
    case = Case.objects.get(pk=survey.case_id)
    assert case.feedback_score is None and case.state == State.RESOLVED


# --- the page ------------------------------------------------------------------------------


def test_page_is_public_chinese_by_default_and_shows_the_questionnaire(
    client, survey, in_window, django_assert_max_num_queries
):
    # A Chinese customer's link carries no ?lang=, to keep the SMS in one segment: the page is
    # Chinese unless the browser asks for another customer language.
    link = tokens.survey_url(survey).removeprefix(settings.SITE_URL)
    assert link == f"/s/{tokens.short_token(survey.nonce)}/"
    with django_assert_max_num_queries(8):
        response = client.get(link)
    page = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Language"] == "zh-hans"
    assert '<html lang="zh-hans">' in page
    assert "客户服务中心" in page
    assert '<meta name="viewport"' in page and "csrfmiddlewaretoken" in page
    case = survey.case
    assert case.number in page and case.subject in page
    version = survey.version
    assert version.greeting in page and version.closing_text in page
    questions = list(version.questions.prefetch_related("choices"))
    positions = [page.index(q.text) for q in questions]
    assert positions == sorted(positions)  # in the questionnaire's order
    for q in questions:
        for c in q.choices.all():
            assert f'name="q-{q.code}" value="{c.pk}"' in page
        if q.kind == "text":
            assert f'<textarea id="id_q-{q.code}" name="q-{q.code}"' in page
    assert page.count('type="radio" name="q-overall"') == 5
    assert "非常满意" in page and "完全满足" in page
    assert page.count('class="req"') == sum(q.required for q in questions)


def test_token_in_the_address_is_not_cached_indexed_or_leaked(client, survey, in_window):
    response = client.get(url(survey))
    assert "no-store" in response["Cache-Control"]
    assert "noindex" in response["X-Robots-Tag"]
    assert '<meta name="robots" content="noindex' in response.content.decode()
    # Not "no-referrer": browsers would then send "Origin: null" with the form (see views).
    assert response["Referrer-Policy"] == "strict-origin"


def test_language_the_customer_chose_wins(client, survey, in_window):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    response = client.get(url(survey))
    assert response["Content-Language"] == "en"
    assert '<html lang="en">' in response.content.decode()
    assert "Customer Service Centre" in response.content.decode()


# --- answering -----------------------------------------------------------------------------


def test_valid_answer_is_recorded_once_and_thanked(client, survey, in_window):
    response = client.post(url(survey), form_data(survey, suggestions="希望送货再快一点"))
    assert response.status_code == 302
    assert response["Location"] == f"/s/{token_of(survey)}/thanks/"

    survey.refresh_from_db()
    assert survey.status == SurveyStatus.ANSWERED and survey.answered_at == IN_WINDOW
    answer = Response.objects.get(survey=survey)
    assert answer.method == "online" and answer.overall_score == 4
    assert answer.case == survey.case and not answer.has_problem
    assert answer.answers.count() == 6  # five ratings and the suggestion
    case = Case.objects.get(pk=survey.case_id)
    assert case.feedback_score == 4 and "希望送货再快一点" in case.feedback_text
    assert case.state == State.RESOLVED  # satisfied: no second handling

    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert survey.version.closing_text in thanks.content.decode()
    assert 'id="unsatisfied"' not in thanks.content.decode()

    again = client.get(url(survey))  # the link opened again later
    assert again.status_code == 200
    assert 'id="survey-answered"' in again.content.decode()
    assert 'name="q-overall"' not in again.content.decode()


def test_thanks_page_before_answering_goes_back_to_the_survey(client, survey, in_window):
    response = client.get(f"/s/{token_of(survey)}/thanks/")
    assert response.status_code == 302 and response["Location"] == url(survey)


def test_second_submit_is_refused_with_a_clear_page(client, survey, in_window):
    assert client.post(url(survey), form_data(survey)).status_code == 302
    second = client.post(url(survey), form_data(survey, overall="非常不满意"))
    assert second.status_code == 409
    assert 'id="survey-answered"' in second.content.decode()
    assert Response.objects.filter(survey=survey).count() == 1
    assert Case.objects.get(pk=survey.case_id).feedback_score == 4  # the first answer stands


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"overall": None}, "overall"),  # required, not answered
        ({"quality": "999999"}, "quality"),  # not one of the choices
        ({"attitude": "满意 OR 1=1"}, "attitude"),
        ({"suggestions": "长" * 2001}, "suggestions"),  # over 2000 characters
        ({"suggestions": "送货\x00太慢"}, "suggestions"),  # PostgreSQL refuses NUL in text
    ],
)
def test_bad_input_shows_errors_next_to_the_question_and_saves_nothing(
    client, survey, in_window, changes, code
):
    data = form_data(survey, improvements="包装可以更结实")
    key = f"q-{code}"
    if changes[code] is None:
        del data[key]
    else:
        data[key] = changes[code]
    response = client.post(url(survey), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert f'id="q-{code}-errors"' in page
    assert 'aria-invalid="true"' in page
    errors = {row["question"].code: row["errors"] for row in response.context["rows"]}
    assert errors[code] and not any(e for c, e in errors.items() if c != code)
    # what the customer entered is still there
    assert "包装可以更结实</textarea>" in page
    if code != "promptness":
        picked = data["q-promptness"]
        assert f'name="q-promptness" value="{picked}" checked' in page
    assert_nothing_saved(survey)


def test_errors_are_shown_in_the_page_language(client, survey, in_window):
    data = form_data(survey)
    del data["q-overall"]
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.post(url(survey), data).content.decode()
    assert "Please answer this question." in page


# --- refusals --------------------------------------------------------------------------------


def test_expired_link_says_so(client, survey):
    after = survey.expires_at + datetime.timedelta(minutes=1)
    with time_machine.travel(after, tick=False):
        response = client.get(url(survey))
        assert response.status_code == 410
        assert 'id="survey-expired"' in response.content.decode()
        assert 'name="q-overall"' not in response.content.decode()
        assert client.post(url(survey), form_data(survey)).status_code == 410
    assert_nothing_saved(survey)
    # once the sweep has marked it expired too
    services.survey_dispatch_sweep(now=after)
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.EXPIRED
    with time_machine.travel(IN_WINDOW, tick=False):
        assert client.get(url(survey)).status_code == 410


def test_tampered_forged_or_unknown_token_is_404_in_chinese(client, survey, in_window):
    token = token_of(survey)
    nonce, signature = token.split(".")
    tampered = [
        token[:-1] + ("A" if token[-1] != "A" else "B"),  # signature changed
        nonce[:-1] + ("0" if nonce[-1] != "0" else "1") + "." + signature,  # nonce changed
        tokens.make_token(tokens.new_nonce()),  # well signed, but no such survey
        nonce,  # signature missing
        "garbage",
    ]
    for bad in tampered:
        response = client.get(f"/s/{bad}/")
        assert response.status_code == 404, bad
        page = response.content.decode()
        assert '<html lang="zh-hans">' in page and 'id="survey-invalid"' in page
        assert client.post(f"/s/{bad}/", form_data(survey)).status_code == 404
        assert client.get(f"/s/{bad}/thanks/").status_code == 404
    assert_nothing_saved(survey)


def test_csrf_is_enforced(survey, in_window):
    browser = Client(enforce_csrf_checks=True)
    assert browser.post(url(survey), form_data(survey)).status_code == 403
    assert_nothing_saved(survey)

    browser.get(url(survey))
    token = browser.cookies[settings.CSRF_COOKIE_NAME].value
    data = {**form_data(survey), "csrfmiddlewaretoken": token}
    # What a browser sends under "no-referrer": Django refuses it, hence "strict-origin".
    assert browser.post(url(survey), data, HTTP_ORIGIN="null").status_code == 403
    response = browser.post(url(survey), data, HTTP_ORIGIN="http://testserver")
    assert response.status_code == 302
    assert Response.objects.filter(survey=survey).count() == 1


@override_settings(SURVEY_RATE_LIMIT="2/h")
def test_rate_limit_answers_429_in_chinese_and_saves_nothing(client, survey, in_window):
    bad = form_data(survey, overall=None)
    for _ in range(2):  # invalid attempts count too
        assert client.post(url(survey), bad).status_code == 200
    response = client.post(url(survey), form_data(survey))
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    page = response.content.decode()
    assert '<html lang="zh-hans">' in page and 'id="survey-rate_limited"' in page
    assert_nothing_saved(survey)
    assert client.get(url(survey)).status_code == 200  # reading is not limited
    # another address is not affected
    assert client.post(url(survey), form_data(survey), REMOTE_ADDR="10.1.2.3").status_code == 302


def test_rate_setting_formats():
    for rate, expected in [("20/h", (20, 3600)), ("30/minute", (30, 60)), ("5/day", (5, 86400))]:
        with override_settings(SURVEY_RATE_LIMIT=rate):
            assert views.survey_rate_limit() == expected


# --- what the answers set off ------------------------------------------------------------------


def test_low_score_reopens_the_case_for_a_manager(client, survey, manager, in_window):
    response = client.post(url(survey), form_data(survey, overall="不满意"))
    assert response.status_code == 302
    case = Case.objects.get(pk=survey.case_id)
    assert case.state != State.RESOLVED and case.reopen_count == 1
    assert case.assignee == manager and case.escalation_level == 2
    event = case.events.get(kind=EventKind.ESCALATION)
    assert event.data["reason"] == "unsatisfied" and event.data["score"] == 2
    assert event.data["source"] == "online"
    thanks = client.get(response["Location"])
    assert 'id="unsatisfied"' in thanks.content.decode()


def test_reported_problem_becomes_a_new_case(client, survey, in_window):
    described = "收到的耳机左耳没有声音，换了手机也一样"
    response = client.post(url(survey), form_data(survey, quality_problem=described))
    assert response.status_code == 302
    new = Case.objects.exclude(pk=survey.case_id).get()
    assert new.channel == Channel.CALLBACK and new.category == "product"
    assert new.customer_id == survey.customer_id and new.description == described
    problem = Response.objects.get(survey=survey).problems.get()
    assert problem.case == new and problem.category == "product_quality" and problem.grade
    thanks = client.get(response["Location"]).content.decode()
    assert new.number in thanks


@pytest.mark.parametrize("none", ["无", "没有问题。", " 暂无 "])
def test_no_problem_answer_opens_no_case(client, survey, in_window, none):
    assert client.post(url(survey), form_data(survey, quality_problem=none)).status_code == 302
    assert Case.objects.count() == 1
    assert not Response.objects.get(survey=survey).has_problem


def test_phone_survey_has_no_answerable_link(client, resolve_case, in_window):
    survey = sent_survey(resolve_case, email="", phone="010-88886666")
    assert survey.channel == "phone"
    assert client.get(url(survey)).status_code == 410


def test_case_subject_is_escaped(client, resolve_case, in_window):
    case = resolve_case(
        customer={"name": "钱先生", "email": "qian@example.com", "phone": ""},
        subject="<script>alert(1)</script>屏幕有坏点",
    )
    survey = Survey.objects.get(case=case)
    services.survey_dispatch_sweep(now=survey.send_at)
    page = client.get(url(survey)).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;屏幕有坏点" in page
    assert "<script>alert(1)" not in page


def test_answering_works_when_the_cache_is_down(client, survey, in_window, caplog):
    from tests.servicedesk.test_ratelimit import unreachable_redis_cache

    with override_settings(CACHES=unreachable_redis_cache(), SURVEY_RATE_LIMIT="1/h"):
        assert client.post(url(survey), form_data(survey, overall=None)).status_code == 200
        response = client.post(url(survey), form_data(survey))
    assert response.status_code == 302
    assert Response.objects.filter(survey=survey).count() == 1
    assert "cache is unavailable" in caplog.text
