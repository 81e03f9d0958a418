"""Permissions are read in one query (servicedesk.staff.backends.PermissionBackend): a
person's own and their groups' permissions both count, a refusal costs no further query,
and ModelBackend still logs people in (sessions keep naming it)."""

import pytest
from django.contrib.auth import BACKEND_SESSION_KEY
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from servicedesk.staff import roles
from servicedesk.staff.models import User


def fresh(user):
    return User.objects.get(pk=user.pk)  # no permission cache yet


def test_group_and_own_permissions_count_and_are_read_once(make_user):
    user = make_user("zhang", role=roles.AGENT)
    user.user_permissions.add(Permission.objects.get(codename="change_plan"))
    user = fresh(user)
    with CaptureQueriesContext(connection) as queries:
        assert user.has_perm("complaints.add_case")  # from the agent group
        assert user.has_perm("knowledge.change_plan")  # given to the person
        assert not user.has_perm("knowledge.delete_plan")  # neither: refused
        assert user.has_module_perms("complaints")
    assert len(queries) == 1


def test_losing_a_group_takes_its_permissions_away(make_user):
    user = make_user("li", role=roles.AGENT)
    assert fresh(user).has_perm("complaints.add_case")
    user.groups.remove(Group.objects.get(name=roles.AGENT))
    assert not fresh(user).has_perm("complaints.add_case")


def test_inactive_people_have_no_permission_and_superusers_have_all(make_user):
    user = make_user("wang", role=roles.MANAGER)
    user.is_active = False
    user.save()
    assert not fresh(user).has_perm("complaints.add_case")
    boss = make_user("boss", is_superuser=True)
    assert fresh(boss).has_perm("knowledge.delete_plan")


@pytest.mark.django_db
def test_logging_in_still_goes_through_model_backend(client, make_user):
    make_user("zhao", role=roles.AGENT)
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "zhao", "password": "pw-for-tests"}
    )
    assert response.status_code == 302
    assert client.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    assert client.get("/admin/").status_code == 200


def test_a_test_client_force_login_is_a_model_backend_session(client, make_user):
    user = make_user("qian", role=roles.AGENT)
    client.force_login(user)
    assert client.session[BACKEND_SESSION_KEY] == "django.contrib.auth.backends.ModelBackend"
    assert client.get("/admin/").status_code == 200
