"""GET/POST /api/v1/surveys/<token>/: the survey for channel apps. No login (the token is the
credential), answered once through the same service as the page, refusals as status codes,
rate-limited per client address together with the page, documented in the schema."""

import datetime
import threading

import pytest
import time_machine
from django.db import connection
from django.test import override_settings
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from callbacks import tokens
from callbacks.models import Response, SurveyStatus
from complaints.models import Case, Channel, EventKind, State

from .survey_helpers import IN_WINDOW, answers, form_data, sent_survey, token_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clean_cache")]


@pytest.fixture
def api():
    """An anonymous client speaking English (the messages asserted are English msgids)."""
    return APIClient(HTTP_ACCEPT_LANGUAGE="en")


def url(survey_or_token):
    token = survey_or_token if isinstance(survey_or_token, str) else token_of(survey_or_token)
    return f"/api/v1/surveys/{token}/"


def post(api, survey, body, **extra):
    return api.post(url(survey), body, format="json", **extra)


def assert_nothing_saved(survey):
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT and survey.answered_at is None
    assert not Response.objects.exists()
    assert Case.objects.count() == 1


# --- reading -----------------------------------------------------------------------------


def test_get_returns_the_questionnaire_without_login(
    api, survey, in_window, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):
        response = api.get(url(survey))
    assert response.status_code == 200
    data = response.json()
    assert data["case"] == {"number": survey.case.number, "subject": survey.case.subject}
    assert data["status"] == "sent"
    assert data["expires_at"].startswith("2026-11-09T12:00:00")
    q = data["questionnaire"]
    assert q["version"] == survey.version.number
    assert q["greeting"] == survey.version.greeting and q["closing"] == survey.version.closing_text
    assert [x["code"] for x in q["questions"]] == [
        "overall", "quality", "quality_problem", "attitude", "promptness", "needs",
        "difficulty", "suggestions", "improvements",
    ]  # fmt: skip
    overall = q["questions"][0]
    assert overall["kind"] == "scale5" and overall["required"] is True
    assert [(c["label"], c["score"]) for c in overall["choices"]] == [
        ("非常满意", 5), ("满意", 4), ("一般", 3), ("不满意", 2), ("非常不满意", 1),
    ]  # fmt: skip
    assert all(isinstance(c["id"], int) for c in overall["choices"])
    text = q["questions"][2]
    assert text["kind"] == "text" and text["required"] is False and text["choices"] == []


def test_unknown_forged_or_tampered_token_is_404(api, survey, in_window):
    token = token_of(survey)
    for bad in [
        token[:-1] + ("A" if token[-1] != "A" else "B"),
        tokens.make_token(tokens.new_nonce()),
        token.split(".")[0],
        "garbage",
    ]:
        assert api.get(url(bad)).status_code == 404, bad
        assert post(api, bad, {"answers": answers(survey)}).status_code == 404
    assert_nothing_saved(survey)


def test_expired_survey_is_410(api, survey):
    with time_machine.travel(survey.expires_at + datetime.timedelta(seconds=1), tick=False):
        response = api.get(url(survey))
        assert response.status_code == 410
        assert response.json()["code"] == "expired"
        assert post(api, survey, {"answers": answers(survey)}).status_code == 410
    assert_nothing_saved(survey)


# --- answering ---------------------------------------------------------------------------


def test_post_records_the_answer_once(api, survey, in_window):
    body = {"answers": answers(survey, suggestions="客服很耐心")}
    response = post(api, survey, body)
    assert response.status_code == 201
    assert response.json() == {
        "answered_at": response.json()["answered_at"],
        "overall_score": 4,
        "has_problem": False,
        "cases_opened": [],
    }
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.ANSWERED
    answer = Response.objects.get(survey=survey)
    assert answer.method == "online" and answer.answers.count() == 6
    case = Case.objects.get(pk=survey.case_id)
    assert case.feedback_score == 4 and case.state == State.RESOLVED

    again = post(api, survey, body)
    assert again.status_code == 409
    assert again.json()["code"] == "answered"
    assert api.get(url(survey)).status_code == 409
    assert Response.objects.count() == 1


def test_choice_ids_as_strings_and_lists_are_accepted(api, survey, in_window):
    body = {k: str(v) for k, v in answers(survey).items()}
    body["needs"] = [body["needs"]]
    assert post(api, survey, {"answers": body}).status_code == 201


def test_invalid_answers_are_400_by_question_code_and_save_nothing(api, survey, in_window):
    body = answers(survey, overall=None, suggestions="长" * 2001, nonsense="?")
    body["quality"] = 999999
    response = post(api, survey, {"answers": body})
    assert response.status_code == 400
    errors = response.json()["answers"]
    assert set(errors) == {"overall", "quality", "suggestions", "nonsense"}
    assert errors["overall"] == ["Please answer this question."]
    assert_nothing_saved(survey)


def test_a_nul_byte_in_a_text_answer_is_400_not_500(api, survey, in_window):
    # PostgreSQL refuses NUL in text: without the check the INSERT fails after validation.
    response = post(api, survey, {"answers": answers(survey, suggestions="送货\x00太慢")})
    assert response.status_code == 400
    assert response.json()["answers"]["suggestions"] == ["Null characters are not allowed."]
    assert_nothing_saved(survey)


@pytest.mark.parametrize("body", [{}, {"answers": "满意"}, {"answers": [1, 2]}])
def test_malformed_body_is_400(api, survey, in_window, body):
    response = post(api, survey, body)
    assert response.status_code == 400
    assert "answers" in response.json()
    assert_nothing_saved(survey)


def test_problem_becomes_a_case_and_its_number_is_returned(api, survey, in_window):
    body = {"answers": answers(survey, quality_problem="耳机充电充不进去")}
    response = post(api, survey, body)
    assert response.status_code == 201
    new = Case.objects.exclude(pk=survey.case_id).get()
    assert response.json()["has_problem"] is True
    assert response.json()["cases_opened"] == [new.number]
    assert new.channel == Channel.CALLBACK and new.category == "product"


def test_low_score_reopens_the_case(api, survey, manager, in_window):
    response = post(api, survey, {"answers": answers(survey, overall="非常不满意")})
    assert response.status_code == 201 and response.json()["overall_score"] == 1
    case = Case.objects.get(pk=survey.case_id)
    assert case.state == State.ASSIGNED and case.assignee == manager
    assert case.events.filter(kind=EventKind.ESCALATION, data__reason="unsatisfied").exists()


@pytest.mark.django_db(transaction=True)
def test_two_answers_at_once_record_one(resolve_case):
    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers: the race is exercised on PostgreSQL")
    survey = sent_survey(resolve_case)
    body = {"answers": answers(survey)}
    barrier = threading.Barrier(2)
    codes = []

    def run():
        from django.db import connection as conn

        try:
            barrier.wait(timeout=30)
            codes.append(post(APIClient(), survey, body).status_code)
        finally:
            conn.close()

    with time_machine.travel(IN_WINDOW, tick=False):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
    assert sorted(codes) == [201, 409]
    assert Response.objects.filter(survey=survey).count() == 1


# --- rate limit ---------------------------------------------------------------------------


@override_settings(SURVEY_RATE_LIMIT="2/h")
def test_answers_are_rate_limited_per_address_with_the_page(api, client, survey, in_window):
    assert (
        client.post(f"/s/{token_of(survey)}/", form_data(survey, overall=None)).status_code == 200
    )
    assert post(api, survey, {"answers": {}}).status_code == 400
    response = post(api, survey, {"answers": answers(survey)})
    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert_nothing_saved(survey)
    assert api.get(url(survey)).status_code == 200  # reading is not counted
    assert (
        post(api, survey, {"answers": answers(survey)}, REMOTE_ADDR="10.9.8.7").status_code == 201
    )


@override_settings(SURVEY_RATE_LIMIT="1/h")
def test_a_channel_system_with_its_token_is_not_limited(api, survey, agent, in_window):
    assert post(api, survey, {"answers": {}}).status_code == 400
    assert post(api, survey, {"answers": {}}).status_code == 429
    key, _ = Token.objects.get_or_create(user=agent)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key.key}")
    assert post(api, survey, {"answers": answers(survey)}).status_code == 201


# --- schema -------------------------------------------------------------------------------


def test_schema_documents_the_survey_endpoint(agent):
    api = APIClient()
    api.force_authenticate(agent)
    schema = api.get("/api/v1/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert schema.status_code == 200
    operations = schema.json()["paths"]["/api/v1/surveys/{token}/"]
    assert set(operations) >= {"get", "post"}
    assert {"201", "400", "404", "409", "410", "429"} <= set(operations["post"]["responses"])
