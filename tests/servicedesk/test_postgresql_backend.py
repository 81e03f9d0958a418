"""servicedesk/postgresql: the health check of a kept connection looks at its socket and asks
the server only when the server has said something (a terminated connection); its cursors
fetch and report as Django's do."""

import time

import psycopg
import pytest
from django.db import connection


def other_connection():
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    return psycopg.connect(**params, autocommit=True)


@pytest.fixture
def postgresql(transactional_db):
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL backend")
    connection.ensure_connection()


def test_a_healthy_connection_is_usable_without_a_statement(postgresql):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 'the last statement'")
    pid = connection.connection.info.backend_pid
    assert connection.is_usable()
    with other_connection() as other:
        (last,) = other.execute(
            "SELECT query FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()
    assert last == "SELECT 'the last statement'"  # no SELECT 1 was sent


def test_a_connection_the_server_ended_is_not_usable(postgresql):
    pid = connection.connection.info.backend_pid
    with other_connection() as other:
        other.execute("SELECT pg_terminate_backend(%s)", [pid])
    for _ in range(50):  # the server's goodbye reaches the socket
        if not connection.is_usable():
            break
        time.sleep(0.05)
    assert not connection.is_usable()
    connection.close()
    connection.ensure_connection()  # the next request opens a new one
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


def test_the_cursor_fetches_and_reports_as_djangos_does(postgresql):
    import django.db
    from django.contrib.auth.models import Group

    Group.objects.bulk_create([Group(name="group-a"), Group(name="group-b")])
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM auth_group WHERE name LIKE 'group-_' ORDER BY name")
        assert [c.name for c in cursor.description] == ["name"]
        assert cursor.fetchone() == ("group-a",)
        assert cursor.fetchmany(5) == [("group-b",)]
        assert cursor.fetchall() == []
        cursor.execute("UPDATE auth_group SET name = name WHERE name LIKE 'group-_'")
        assert cursor.rowcount == 2
        # psycopg's error for a statement that returned no rows, as Django's own error class
        with pytest.raises(django.db.ProgrammingError):
            cursor.fetchone()
    assert cursor.cursor.closed
