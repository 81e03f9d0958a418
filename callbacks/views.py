"""The public survey page customers open from the link in their e-mail or SMS: /s/<token>/.

No login: the signed token is the credential (tokens.py). Everything a customer answers goes
through services.survey_submit, which validates, records once and acts on the answers (a low
score reopens the case, a reported problem becomes a case); this module only parses the form,
limits the rate and renders.

The page speaks the customer's language (Chinese, English, Japanese or Korean): the link we
send carries it (`?lang=`), the switch on the page changes it, else the browser's
Accept-Language or the customer's recorded language decides (servicedesk.customer_language).
The questionnaire's wording is shown in that language where it has a translation, in Chinese
where not (callbacks.languages). The token is in the address, so the pages are never cached or
indexed and send no path in the Referer. The policy is "strict-origin", not "no-referrer":
under "no-referrer" browsers send `Origin: null` with the form's POST, which Django's CSRF
check refuses, and nobody could answer.
"""

import functools
import math

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from complaints import services as case_services
from servicedesk import customer_language, ratelimit

from . import services
from .models import TEXT_ANSWER_MAX_LENGTH, ProblemReport, QuestionKind, RewardCoupon
from .models import Response as SurveyResponse

# The status of each page a link can lead to when the survey cannot be answered.
UNAVAILABLE_STATUS = {"invalid": 404, "expired": 410, "answered": 200}
RATE_SCOPE = "callbacks:survey"


def survey_rate_limit():
    """(answers, seconds) from settings.SURVEY_RATE_LIMIT."""
    return ratelimit.parse_rate(settings.SURVEY_RATE_LIMIT)


def survey_rate_check(request):
    """Count one answer attempt (a POST, by the page or the API) from the request's address.

    Returns 0 when it is allowed, else the seconds until the next window (not counted then).
    Every attempt counts, invalid ones too: the limit is there against floods of POSTs.
    """
    return ratelimit.take(request, scope=RATE_SCOPE, rate=settings.SURVEY_RATE_LIMIT).retry_after


def survey_page(view):
    """Language and headers of the pages whose address carries a survey token."""

    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response["X-Robots-Tag"] = "noindex, nofollow"
        response["Referrer-Policy"] = "strict-origin"
        return response

    return never_cache(customer_language.customer_pages(wrapped))


def _for_customer(request, survey):
    """The survey's customer known: their language when nothing else chose one."""
    if survey is not None:
        customer_language.use_for_customer(request, survey.customer.language)
    return survey


def _unavailable(request, reason, *, survey=None, status=None):
    return render(
        request,
        "callbacks/survey_unavailable.html",
        {
            "reason": reason,
            "survey": survey,
            "closing": survey.version.closing_in(request.LANGUAGE_CODE) if survey else "",
        },
        status=status or UNAVAILABLE_STATUS[reason],
    )


def _closed(request, survey, reason, *, posted):
    # A second submit is refused (409); opening the link again after answering is not an
    # error, just the same "already answered" page.
    status = 409 if posted and reason == "answered" else None
    return _unavailable(request, reason, survey=survey, status=status)


def _rate_limited(request, retry_after):
    response = render(
        request,
        "callbacks/survey_unavailable.html",
        {"reason": "rate_limited", "minutes": math.ceil(retry_after / 60)},
        status=429,
    )
    response["Retry-After"] = str(retry_after)
    return response


def _answers_from_post(data, questions):
    """The form's fields (q-<code>) as the service's {code: value}."""
    answers = {}
    for q in questions:
        name = f"q-{q.code}"
        answers[q.code] = data.getlist(name) if q.kind == QuestionKind.MULTIPLE else data.get(name)
    return answers


def _question_rows(questions, answers, errors, language):
    """What the template shows per question, in the page's language, with the customer's
    input kept after an error."""
    rows = []
    for number, q in enumerate(questions, start=1):
        given = answers.get(q.code)
        values = given if isinstance(given, list) else [given]
        picked = {str(v).strip() for v in values if v is not None}
        rows.append(
            {
                "number": number,
                "question": q,
                "label": q.text_in(language),
                "name": f"q-{q.code}",
                "input_type": "checkbox" if q.kind == QuestionKind.MULTIPLE else "radio",
                "is_text": q.kind == QuestionKind.TEXT,
                "text": given if q.kind == QuestionKind.TEXT and isinstance(given, str) else "",
                "choices": [
                    {"id": c.pk, "label": c.label_in(language), "checked": str(c.pk) in picked}
                    for c in q.choices.all()
                ],
                "errors": errors.get(q.code, []),
            }
        )
    return rows


@survey_page
@require_http_methods(["GET", "HEAD", "POST"])
def survey(request, token):
    if request.method == "POST":
        retry_after = survey_rate_check(request)
        if retry_after:
            return _rate_limited(request, retry_after)
    survey = _for_customer(request, services.survey_find(token))
    if survey is None:
        return _unavailable(request, "invalid")
    language = request.LANGUAGE_CODE
    posted = request.method == "POST"
    try:
        services.survey_check_open(survey)
    except services.SurveyUnavailable as exc:
        return _closed(request, survey, exc.reason, posted=posted)
    questions = list(survey.version.questions.prefetch_related("choices"))
    answers, errors = {}, {}
    if posted:
        answers = _answers_from_post(request.POST, questions)
        try:
            services.survey_submit(survey=survey, answers=answers)
        except services.SurveyUnavailable as exc:  # answered or expired since the page opened
            return _closed(request, survey, exc.reason, posted=True)
        except ValidationError as exc:
            errors = exc.message_dict if hasattr(exc, "error_dict") else {"": exc.messages}
        else:
            return redirect("callbacks:survey_thanks", token=token)
    codes = {q.code for q in questions}
    return render(
        request,
        "callbacks/survey.html",
        {
            "survey": survey,
            "case": survey.case,
            "version": survey.version,
            "rows": _question_rows(questions, answers, errors, language),
            "greeting": survey.version.greeting_in(language),
            "closing": survey.version.closing_in(language),
            "has_errors": bool(errors),
            "other_errors": [m for code, ms in errors.items() if code not in codes for m in ms],
            "text_max_length": TEXT_ANSWER_MAX_LENGTH,
        },
    )


@survey_page
@require_http_methods(["GET", "HEAD"])
def survey_thanks(request, token):
    """After answering (the form redirects here): thanks, and what happens next."""
    survey = _for_customer(request, services.survey_find(token))
    if survey is None:
        return _unavailable(request, "invalid")
    response = (
        SurveyResponse.objects.filter(survey=survey)
        .prefetch_related(
            Prefetch("problems", queryset=ProblemReport.objects.select_related("case"))
        )
        .first()
    )
    if response is None:  # not answered yet
        return redirect("callbacks:survey", token=token)
    problem_cases = [p.case.number for p in response.problems.all() if p.case_id]
    unsatisfied = (
        response.overall_score is not None
        and response.overall_score < case_services.UNSATISFIED_BELOW
    )
    return render(
        request,
        "callbacks/survey_thanks.html",
        {
            "survey": survey,
            "version": survey.version,
            "closing": survey.version.closing_in(request.LANGUAGE_CODE),
            "problem_cases": problem_cases,
            "unsatisfied": unsatisfied,
            "coupon": RewardCoupon.objects.filter(response=response).first(),
        },
    )
