"""Shared building blocks for follow-up tests: resolved cases through the real services."""

import datetime
import importlib
from zoneinfo import ZoneInfo

import pytest
import time_machine

from callbacks import sms
from complaints import services as case_services
from tests.complaints.helpers import intake, walk

TZ = ZoneInfo("Asia/Shanghai")


def at(*args):
    """An aware Beijing time: at(2026, 11, 2, 10) = 2026-11-02 10:00 +08:00."""
    return datetime.datetime(*args, tzinfo=TZ)


@pytest.fixture(autouse=True)
def _shipped_data(request):
    """The handbook questionnaire and default follow-up plans come from data migrations; a
    transactional test's flush removes them, so put them back for the tests after it."""
    if request.node.get_closest_marker("django_db") is None:
        return
    request.getfixturevalue(
        "db" if "transactional_db" not in request.fixturenames else "transactional_db"
    )
    from django.apps import apps

    from callbacks.models import FollowUpPlan, Questionnaire

    if not Questionnaire.objects.filter(code="satisfaction-callback").exists():
        importlib.import_module("callbacks.migrations.0002_handbook_questionnaire").ship(apps, None)
        importlib.import_module(
            "callbacks.migrations.0015_handbook_questionnaire_translations"
        ).translate(apps, None)
    if not FollowUpPlan.objects.exists():
        importlib.import_module("callbacks.migrations.0004_default_plans_and_schedules").create(
            apps, None
        )


@pytest.fixture
def sms_outbox(settings):
    """SMS through the in-memory backend; yields its outbox (emptied before and after)."""
    settings.SMS_BACKEND = "callbacks.sms.LocmemBackend"
    sms.LocmemBackend.outbox.clear()
    yield sms.LocmemBackend.outbox
    sms.LocmemBackend.outbox.clear()


@pytest.fixture
def resolve_case(agent, django_capture_on_commit_callbacks):
    """resolve_case(at=..., customer={...}) -> a case taken in and resolved at `at` by
    `agent`; the on-commit survey scheduling runs."""

    def make(when=None, **intake_overrides):
        when = when or at(2026, 11, 2, 10)
        with (
            time_machine.travel(when, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            case = intake(**intake_overrides).case
            if case.assignee_id is None:
                case = case_services.case_transition(
                    case=case,
                    name="assign",
                    user=agent,
                    department=agent.departments.first(),
                    assignee=agent,
                )
            case = walk(case, agent, ("start_investigation", {}), ("resolve", {"result": "已处理"}))
        case.refresh_from_db()
        return case

    return make


@pytest.fixture
def clean_cache():
    """An empty cache before and after (the survey page's rate limit counts in it)."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def survey(resolve_case):
    """A satisfaction survey sent by e-mail, its link open."""
    from .survey_helpers import sent_survey

    return sent_survey(resolve_case)


@pytest.fixture
def in_window():
    """The clock stands still inside the link's validity (and inside one rate window)."""
    from .survey_helpers import IN_WINDOW

    with time_machine.travel(IN_WINDOW, tick=False):
        yield
