"""API token authentication (servicedesk.staff.authentication) reads the token and its person
in one prepared statement: the same answers as DRF's own, on SQLite and PostgreSQL."""

import datetime

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from servicedesk.prepared import instance, prepared_cursor
from servicedesk.staff import roles
from servicedesk.staff.models import User

pytestmark = pytest.mark.django_db


def client(key, language="zh-hans"):
    api = APIClient(HTTP_ACCEPT_LANGUAGE=language)
    api.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return api


@pytest.mark.parametrize("prepared", [True, False])
def test_a_valid_token_names_its_person(make_user, department, settings, prepared):
    """Also with prepared statements turned off (DATABASE_PREPARED=false, for a pooler)."""
    settings.DATABASE_PREPARED = prepared
    agent = make_user("tok_agent", role=roles.AGENT, departments=[department])
    key = Token.objects.create(user=agent).key
    answer = client(key).get("/api/v1/cases/")
    assert answer.status_code == 200
    assert answer.wsgi_request.user == agent
    # The person read from the row is a whole one: dates as dates (SQLite keeps text).
    assert isinstance(answer.wsgi_request.user.date_joined, datetime.datetime)
    assert answer.wsgi_request.auth.key == key


def test_an_unknown_token_is_refused_in_chinese(make_user):
    answer = client("0" * 40).get("/api/v1/cases/")
    assert answer.status_code == 401
    assert answer.json()["detail"] == "认证令牌无效。"


def test_a_deactivated_persons_token_is_refused_at_once(make_user, department):
    agent = make_user("gone", role=roles.AGENT, departments=[department])
    key = Token.objects.create(user=agent).key
    assert client(key).get("/api/v1/cases/").status_code == 200
    User.objects.filter(pk=agent.pk).update(is_active=False)
    answer = client(key, "en").get("/api/v1/cases/")
    assert answer.status_code == 401
    assert answer.json()["detail"] == "User inactive or deleted."


def test_a_removed_permission_applies_on_the_next_request(make_user, department):
    """Permissions are read per request (one prepared statement), not kept by the process."""
    from django.contrib.auth.models import Group

    agent = make_user("perm_agent", role=roles.AGENT, departments=[department])
    key = Token.objects.create(user=agent).key
    assert client(key).get("/api/v1/cases/").status_code == 200
    agent.groups.remove(Group.objects.get(name=roles.AGENT))
    assert client(key).get("/api/v1/cases/").status_code == 403


def test_prepared_statements_are_counted_and_logged(make_user):
    """A prepared statement is a query like any other for the query budgets of the tests
    (and DEBUG's log): it is counted and its text is shown."""
    user = make_user("logged")
    sql = "SELECT id, username, is_active FROM staff_user WHERE id = %s"
    with CaptureQueriesContext(connection) as queries:
        for _ in range(3):  # prepared on the first run, reused after
            with prepared_cursor() as cursor:
                cursor.execute(sql, [user.pk])
                assert cursor.fetchone() == (user.pk, "logged", True)
    assert len(queries.captured_queries) == 3
    assert all("FROM staff_user" in q["sql"] for q in queries.captured_queries)


def test_a_row_becomes_an_instance_as_the_orm_reads_it(make_user):
    user = make_user("whole", last_login=datetime.datetime(2026, 3, 1, 8, tzinfo=datetime.UTC))
    from servicedesk.prepared import columns

    names = ", ".join(connection.ops.quote_name(c) for c in columns(User))
    with prepared_cursor() as cursor:
        cursor.execute(f"SELECT {names} FROM staff_user WHERE id = %s", [user.pk])
        read = instance(User, cursor.fetchone())
    orm = User.objects.get(pk=user.pk)
    assert read.pk == orm.pk and not read._state.adding
    for field in User._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(orm, field.attname), field.name


def test_on_postgresql_the_token_brings_its_persons_permissions(make_user, department):
    """One statement reads the token, its person and their permissions (their own and their
    groups'); a superuser's are still every permission."""
    if connection.vendor != "postgresql":
        pytest.skip("the permissions come as an array: PostgreSQL only")
    agent = make_user("arr_agent", role=roles.AGENT, departments=[department])
    agent.user_permissions.add(Permission.objects.get(codename="change_plan"))
    key = Token.objects.create(user=agent).key
    with CaptureQueriesContext(connection) as queries:
        answer = client(key).get("/api/v1/cases/")
    assert answer.status_code == 200
    assert not any("auth_permission" in q["sql"] for q in queries.captured_queries[1:])
    assert "auth_permission" in queries.captured_queries[0]["sql"]
    user = answer.wsgi_request.user
    assert user.has_perm("complaints.view_case")  # through the agent group
    assert user.has_perm("knowledge.change_plan")  # given to the person
    assert not user.has_perm("knowledge.delete_plan")

    boss = make_user("arr_boss", is_superuser=True)
    answer = client(Token.objects.create(user=boss).key).get("/api/v1/cases/")
    assert answer.status_code == 200
    assert answer.wsgi_request.user.has_perm("knowledge.delete_plan")
