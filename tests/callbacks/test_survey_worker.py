"""End to end through the real broker and a real Celery worker: a case resolved by an agent
leads to the satisfaction survey e-mail in the outbox, sent by the scheduled dispatch task."""

import pytest
import time_machine
from django.core import mail

from callbacks import tokens
from callbacks.models import Survey, SurveyStatus
from tests.conftest import wait_until

from .conftest import at


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_resolved_case_leads_to_a_survey_email_sent_by_the_worker(
    live_worker, resolve_case, settings
):
    from callbacks.tasks import survey_dispatch

    case = resolve_case(
        at(2026, 11, 2, 10),
        customer={"name": "周女士", "email": "zhou@example.com", "phone": ""},
    )
    survey = Survey.objects.get(case=case)
    assert survey.status == SurveyStatus.SCHEDULED
    with time_machine.travel(survey.send_at, tick=True):
        survey_dispatch.delay()  # what beat sends every minute
        assert wait_until(lambda: len(mail.outbox) == 1)
    message = mail.outbox[0]
    assert message.to == ["zhou@example.com"]
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.SENT
    assert tokens.survey_url(survey) in message.body
