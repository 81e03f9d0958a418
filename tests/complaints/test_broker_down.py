"""With the broker down, steps that notify still answer with their saved work (never a 500
after committing, which a retrying client would record twice); the notification rows wait
for the sweep."""

import pytest

from complaints.models import CaseEvent, TechnicalRequest
from servicedesk.staff.models import Notification
from tests.broker import broker_unreachable

from .test_api import CASES, assigned_case, client_for, handler, new_case, step, tech  # noqa: F401

pytestmark = pytest.mark.django_db


def test_assign_and_a_technical_request_succeed_while_the_broker_is_down(
    agent,
    tech,  # noqa: F811
    handler,  # noqa: F811
    django_capture_on_commit_callbacks,
):
    case = new_case(1, user=agent)
    api = client_for(agent)
    with broker_unreachable(), django_capture_on_commit_callbacks(execute=True):
        assigned = step(api, case, "assign", department="tech", assignee="handler")
        asked = api.post(
            f"{CASES}{case.number}/technical-requests/",
            {"department": "tech", "question": "请确认这批货的质检记录"},
            format="json",
        )
    assert assigned.status_code == 200, assigned.content
    assert asked.status_code == 201, asked.content
    assert CaseEvent.objects.filter(case=case, transition="assign").count() == 1
    assert TechnicalRequest.objects.filter(case=case).count() == 1
    # the e-mails are in the outbox, for the sweep
    assert Notification.objects.email_pending().filter(recipient=handler).count() == 2
