"""Fixtures every test folder shares: users in roles, and a real Celery worker."""

import time

import pytest
from django.conf import settings

from servicedesk.staff import roles


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # The loaded calendar and the years already warned about live in process memory; a
    # test's rollback does not clear them.
    from servicedesk.calendar import services

    services.clear_caches()
    yield
    services.clear_caches()


@pytest.fixture(autouse=True)
def _fresh_intake_rules():
    # Intake keeps the active rules in process memory; a test's rollback sends no signal.
    from complaints import intake

    intake.forget_rules()
    yield
    intake.forget_rules()


@pytest.fixture(autouse=True)
def _fresh_webhook_subscribers():
    # Who subscribes to webhooks is kept in process memory for a few seconds; a test's
    # rollback does not clear it.
    from servicedesk.messaging import webhooks

    webhooks.subscriptions_changed()
    yield
    webhooks.subscriptions_changed()


@pytest.fixture(autouse=True)
def _fresh_word_statistics():
    # The planner's word statistics are kept in process memory for minutes; each test's
    # tables are its own.
    from knowledge import similar

    similar._statistics.clear()
    yield
    similar._statistics.clear()


@pytest.fixture(autouse=True)
def _default_language():
    # A request through the test client runs in this thread, and the language it activated
    # (a customer page in English, say) stays active after it: later code in the test
    # process — another test's fixtures writing timeline texts — would be written in it.
    from django.utils import translation

    translation.deactivate()
    yield
    translation.deactivate()


@pytest.fixture(autouse=True, scope="session")
def _fast_password_hashing():
    # PBKDF2's deliberate slowness costs ~0.3 s per test user; tests don't need it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_report_header(config):
    db = settings.DATABASES["default"]
    return [
        f"database: {db['ENGINE'].rsplit('.', 1)[-1]} ({db.get('NAME')})",
        f"celery broker: {settings.CELERY_BROKER_URL.split('@')[-1]}",
    ]


@pytest.fixture
def make_user(db, django_user_model):
    """make_user("agent1", role=roles.AGENT, departments=[dept]) -> a staff user."""
    from django.contrib.auth.models import Group

    from servicedesk.staff.models import Membership

    def make(username, *, role=None, departments=(), email=None, lead=False, **extra):
        user = django_user_model.objects.create_user(
            username=username,
            password="pw-for-tests",
            email=email if email is not None else f"{username}@example.com",
            is_staff=True,
            **extra,
        )
        if role:
            user.groups.add(Group.objects.get(name=role))
        for dept in departments:
            Membership.objects.create(user=user, department=dept, is_lead=lead)
        return user

    return make


@pytest.fixture
def department(db):
    from servicedesk.staff.models import Department

    return Department.objects.create(code="kefu", name="客服中心")


@pytest.fixture
def agent(make_user, department):
    return make_user("agent", role=roles.AGENT, departments=[department])


@pytest.fixture
def supervisor(make_user, department):
    return make_user("supervisor", role=roles.SUPERVISOR, departments=[department], lead=True)


@pytest.fixture
def manager(make_user, department):
    return make_user("manager", role=roles.MANAGER, departments=[department])


@pytest.fixture
def live_worker(request, transactional_db):
    """A real Celery worker (solo pool, in a thread) consuming the configured broker.

    The broker is the real one of this run: the filesystem transport on SQLite, Redis on
    PostgreSQL. Queued leftovers of earlier tests are purged first. Only for tests marked
    `worker` (so `-m "not worker"` leaves out every test that needs one).
    """
    from celery.contrib.testing.worker import start_worker

    if request.node.get_closest_marker("worker") is None:
        pytest.fail("a test using a real worker must carry @pytest.mark.worker")

    from servicedesk.celery import app

    app.control.purge()
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
        yield app


def wait_until(predicate, *, timeout=30.0, interval=0.2):
    """Poll until predicate() is truthy; returns its last value. Not a timing assertion:
    the timeout only bounds how long a broken pipeline can hang the suite."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(interval)
