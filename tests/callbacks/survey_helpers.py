"""Building blocks for the survey page, API and answer tests: a survey that went out, and
answers picked by their Chinese labels."""

from callbacks import services, tokens
from callbacks.models import Choice, Survey

from .conftest import at

# Inside the link's validity: sent 2026-11-02 12:00, valid 7 days.
IN_WINDOW = at(2026, 11, 2, 14)

# The handbook questionnaire's rating questions and a middle-of-the-road answer to each.
RATINGS = {
    "overall": "满意",
    "quality": "较好",
    "attitude": "满意",
    "promptness": "经常能",
    "needs": "基本满足",
}


def sent_survey(resolve_case, **customer):
    """A resolved case's survey, sent by e-mail through the dispatch sweep."""
    customer = {"name": "王女士", "email": "wang@example.com", "phone": "", **customer}
    case = resolve_case(at(2026, 11, 2, 10), customer=customer)
    survey = Survey.objects.get(case=case)
    services.survey_dispatch_sweep(now=survey.send_at)
    survey.refresh_from_db()
    return survey


def token_of(survey):
    return tokens.make_token(survey.nonce)


def choice_id(version, code, label):
    """The id of the choice labelled `label` of question `code` (`version`: or a survey)."""
    version = getattr(version, "version", version)
    return Choice.objects.get(question__version=version, question__code=code, label=label).pk


def answers(version, **changes):
    """{code: value} as the service and the API take it (`version`: or a survey): every
    rating answered, open texts as given in `changes`, a rating changed by its label, None
    leaves a question unanswered."""
    data = {code: choice_id(version, code, label) for code, label in RATINGS.items()}
    for code, value in changes.items():
        if value is None:
            data.pop(code, None)
        else:
            data[code] = choice_id(version, code, value) if code in RATINGS else value
    return data


def form_data(survey, **changes):
    """The same answers as the page's form posts them (q-<code>)."""
    return {f"q-{code}": value for code, value in answers(survey, **changes).items()}
