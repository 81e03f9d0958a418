"""A web process keeps the API tokens it checked until PostgreSQL notifies a change to tokens,
people or permissions (servicedesk/staff/token_cache.py, migration staff 0006). Real
PostgreSQL: changes are made through the ORM and through a second connection, as another web
process or the admin would make them, and through a real gunicorn."""

import http.client
import select

import psycopg
import pytest
from django.contrib.auth.models import Group
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from servicedesk.staff import roles, token_cache
from servicedesk.staff.models import User
from tests.conftest import wait_until
from tests.servicedesk.test_scale_out import (  # noqa: F401 - processes is a fixture
    database_url,
    process_env,
    processes,
    start_web,
    wait_for_port,
)

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("tokens are kept only where the database notifies changes (PostgreSQL)")


def api(key):
    client = APIClient(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def get(key):
    """GET the case list; its status and whether the token was read from the database."""
    with CaptureQueriesContext(connection) as queries:
        answer = api(key).get("/api/v1/cases/")
    read = any("authtoken_token" in q["sql"] for q in queries.captured_queries)
    return answer, read


def elsewhere(sql, params=()):
    """Run `sql` on a connection of its own and commit: another process's change."""
    with psycopg.connect(database_url(), autocommit=True) as other:
        other.execute(sql, params)


def notification_arrived():
    """Wait until the server has sent this process's connection something (a notification)
    — not a timing assertion: it only makes the next request run after the delivery."""
    poller = select.poll()
    poller.register(connection.connection.fileno(), select.POLLIN)
    return wait_until(lambda: poller.poll(0), timeout=10, interval=0.01)


@pytest.fixture
def agent(make_user, department):
    return make_user("kept_agent", role=roles.AGENT, departments=[department])


@pytest.fixture
def key(agent):
    return Token.objects.create(user=agent).key


def test_a_checked_token_is_not_read_again(key, agent):
    first, read = get(key)
    assert first.status_code == 200 and read
    again, read = get(key)
    assert again.status_code == 200 and not read
    # Each request has a person of its own, built from the row.
    assert again.wsgi_request.user == agent
    assert again.wsgi_request.user is not first.wsgi_request.user
    assert again.wsgi_request.auth.key == key


def test_a_token_deleted_elsewhere_is_refused_at_once(key):
    assert get(key)[0].status_code == 200
    assert not get(key)[1]
    elsewhere("DELETE FROM authtoken_token WHERE key = %s", [key])
    assert notification_arrived()
    answer, read = get(key)
    assert answer.status_code == 401 and read
    assert answer.json()["detail"] == "认证令牌无效。"


def test_a_person_deactivated_elsewhere_is_refused_at_once(key, agent):
    assert get(key)[0].status_code == 200
    elsewhere("UPDATE staff_user SET is_active = false WHERE id = %s", [agent.pk])
    assert notification_arrived()
    answer, read = get(key)
    assert answer.status_code == 401 and read
    assert answer.json()["detail"] == "用户未激活或者已删除。"


def test_a_change_made_by_this_process_applies_to_its_next_request(key, agent):
    """The ORM's UPDATE commits on this process's own connection: its notification comes
    back with the UPDATE's answer."""
    assert get(key)[0].status_code == 200
    User.objects.filter(pk=agent.pk).update(is_active=False)
    assert get(key)[0].status_code == 401


def test_a_withdrawn_permission_applies_on_the_next_request(key, agent):
    assert get(key)[0].status_code == 200
    assert not get(key)[1]
    agent.groups.remove(Group.objects.get(name=roles.AGENT))
    answer, read = get(key)
    assert answer.status_code == 403 and read


def test_a_groups_permission_withdrawn_elsewhere_applies_at_once(key):
    assert get(key)[0].status_code == 200
    elsewhere(
        "DELETE FROM auth_group_permissions WHERE group_id = "
        "(SELECT id FROM auth_group WHERE name = %s)",
        [roles.AGENT],
    )
    assert notification_arrived()
    assert get(key)[0].status_code == 403


def test_a_new_connection_keeps_nothing_from_the_last(key):
    """What changed while no connection listened is not missed: a new connection starts with
    no kept rows."""
    assert get(key)[0].status_code == 200
    connection.close()
    elsewhere("DELETE FROM authtoken_token WHERE key = %s", [key])
    assert get(key)[0].status_code == 401


def test_nothing_is_kept_inside_a_transaction(key):
    assert get(key)[0].status_code == 200
    with transaction.atomic():
        assert get(key)[1]
        assert get(key)[1]


def test_nothing_is_kept_when_turned_off(key, settings):
    settings.API_TOKEN_CACHE_SECONDS = 0
    assert get(key)[1]
    assert get(key)[1]


def test_without_notifications_a_token_is_kept_no_longer_than_the_setting(
    key, settings, monkeypatch
):
    """Behind a pooler notifications cannot reach the process: API_TOKEN_CACHE_SECONDS bounds
    how long it answers from what it read. (The triggers are dropped to stand for that; the
    clock is moved rather than waited for.)"""
    settings.API_TOKEN_CACHE_SECONDS = 30
    clock = [1000.0]
    monkeypatch.setattr(token_cache.time, "monotonic", lambda: clock[0])
    assert get(key)[0].status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER servicedesk_auth_changed ON authtoken_token")
    try:
        elsewhere("DELETE FROM authtoken_token WHERE key = %s", [key])
        clock[0] += 29
        assert get(key)[0].status_code == 200  # nothing told this process
        clock[0] += 1
        assert get(key)[0].status_code == 401
    finally:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TRIGGER servicedesk_auth_changed AFTER INSERT OR UPDATE OR DELETE OR "
                "TRUNCATE ON authtoken_token FOR EACH STATEMENT "
                "EXECUTE FUNCTION servicedesk_auth_changed()"
            )


def test_every_web_process_refuses_a_revoked_token(processes, key):  # noqa: F811
    """Real gunicorn, two workers: both answer from the token they kept; once the token is
    deleted every request is refused — each worker heard the database's notification (without
    it, a worker would answer 200 for API_TOKEN_CACHE_SECONDS, 30 s)."""
    env = process_env(GUNICORN_ACCESS_LOG="", API_TOKEN_CACHE_SECONDS="30")
    port, proc = start_web(processes, env, workers=2)
    assert wait_for_port(port, proc)

    def statuses(n):
        # A new connection each time: the two workers take turns accepting them.
        seen = set()
        for _ in range(n):
            web = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            web.request("GET", "/api/v1/cases/", headers={"Authorization": f"Token {key}"})
            seen.add(web.getresponse().status)
            web.close()
        return seen

    assert statuses(40) == {200}
    Token.objects.filter(key=key).delete()
    # Each worker reads the notification before its next lookup. A request racing the
    # delivery may still pass (as one racing the commit would without any keeping): wait for
    # a whole round refused, then check that nothing passes afterwards.
    assert wait_until(lambda: statuses(20) == {401}, timeout=10, interval=0.05)
    assert statuses(40) == {401}
