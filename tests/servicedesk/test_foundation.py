"""The foundation: health check, roles, admin look, language switch, notifications and the
real broker + worker."""

import subprocess
import sys
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.db import transaction
from django.test import override_settings
from django.urls import reverse

from servicedesk.staff import roles
from servicedesk.staff.models import Notification
from servicedesk.staff.services import notify
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_healthz_ok_when_database_and_broker_answer(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "broker": "ok"}


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_healthz_503_names_the_broker_when_it_is_down(client, db):
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "fail"
    assert body["database"] == "ok"
    assert body["broker"].startswith("error")


def test_roles_exist_with_their_permissions(db):
    names = set(Group.objects.values_list("name", flat=True))
    assert set(roles.ALL_ROLES) <= names
    admin_group = Group.objects.get(name=roles.ADMINISTRATOR)
    agent_group = Group.objects.get(name=roles.AGENT)
    assert admin_group.permissions.filter(codename="change_department").exists()
    assert not agent_group.permissions.filter(codename="change_department").exists()
    assert agent_group.permissions.filter(codename="view_department").exists()


def test_a_user_belongs_to_departments_and_roles(make_user, department):
    from servicedesk.staff.models import Department

    other = Department.objects.create(code="tech", name="技术部")
    user = make_user("wang", role=roles.HANDLER, departments=[department, other])
    assert set(user.departments.all()) == {department, other}
    assert user.has_role(roles.HANDLER)
    assert not user.sees_all_departments
    boss = make_user("boss", role=roles.MANAGER)
    assert boss.sees_all_departments


def test_admin_login_is_chinese_by_default_with_the_product_title(client, db):
    response = client.get("/admin/login/")
    page = response.content.decode()
    assert response.status_code == 200
    assert "客户服务中心" in page and "Service Desk" not in page
    assert "登录" in page
    assert 'name="language"' in page  # the language switch


def test_english_is_selectable(client, db):
    response = client.post(reverse("set_language"), {"language": "en", "next": "/admin/login/"})
    assert response.status_code == 302
    page = client.get("/admin/login/").content.decode()
    assert "Log in" in page
    assert "登录" not in page


def test_admin_index_lists_work_before_settings(client, make_user):
    admin = make_user("root", is_superuser=True)
    client.force_login(admin)
    page = client.get("/admin/").content.decode()
    cases_at = page.find('id="app-complaints"') if 'id="app-complaints"' in page else None
    staff_at = page.find("/admin/staff/")
    beat_at = page.find("/admin/django_celery_beat/")
    assert 0 <= staff_at < beat_at
    if cases_at is not None:
        assert cases_at < staff_at


def test_schedule_is_visible_to_supervisors_in_the_admin(client, supervisor):
    client.force_login(supervisor)
    response = client.get("/admin/django_celery_beat/periodictask/")
    assert response.status_code == 200


def test_notify_once_per_event_and_email_after_commit(django_capture_on_commit_callbacks, agent):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = notify(recipients=[agent], event_key="case:1:escalated:1", subject="升级", body="x")
        second = notify(
            recipients=[agent], event_key="case:1:escalated:1", subject="升级", body="x"
        )
    assert len(first) == 1 and second == []
    assert Notification.objects.filter(recipient=agent).count() == 1
    assert len(callbacks) == 1  # one e-mail task enqueued, on commit


def test_notification_email_task_body_sends_once(agent):
    from servicedesk.staff.services import notification_send_pending

    (n,) = notify(recipients=[agent], event_key="e1", subject="你好", body="正文")
    assert notification_send_pending() == 1
    n.refresh_from_db()
    assert n.emailed_at is not None
    assert notification_send_pending() == 0  # idempotent: already sent
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "你好"
    assert mail.outbox[0].to == [agent.email]


@pytest.mark.worker
def test_task_through_the_real_broker_is_run_by_a_real_worker(live_worker, agent):
    with transaction.atomic():
        (n,) = notify(recipients=[agent], event_key="worker-proof", subject="后台任务", body="ok")
    # The worker thread picks the task up from the broker and sends the mail.
    assert wait_until(lambda: Notification.objects.get(pk=n.pk).emailed_at is not None)
    assert [m.subject for m in mail.outbox] == ["后台任务"]


def _manage(*args, env_extra=None):
    import os

    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "SECRET_KEY"}}
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_variables():
    result = _manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env_extra={
            "DEBUG": "0",
            "SECRET_KEY": "a-long-random-production-secret-key-0123456789-abcdefghijklmnop",
            "ALLOWED_HOSTS": "kefu.example.com",
            "SITE_URL": "https://kefu.example.com",
        },
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_secret_key_is_required_when_debug_is_off():
    result = _manage("check", env_extra={"DEBUG": "0", "SITE_URL": "https://kefu.example.com"})
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_site_url_is_required_when_debug_is_off():
    result = _manage("check", env_extra={"DEBUG": "0", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "SITE_URL" in result.stderr


def test_no_missing_migrations():
    result = _manage("makemigrations", "--check", "--dry-run", env_extra={"DEBUG": "1"})
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("role", "granted", "refused"),
    [
        (
            roles.AGENT,
            ["view_personal_data", "assign_case", "transition_case"],
            ["waive_satisfaction"],
        ),
        (
            roles.HANDLER,
            ["transition_case", "view_case"],
            ["view_personal_data", "assign_case", "cancel_case"],
        ),
        (roles.SUPERVISOR, ["waive_satisfaction", "view_personal_data"], ["delete_case"]),
        (
            roles.ADMINISTRATOR,
            ["change_case", "view_personal_data"],
            ["delete_case", "delete_caseevent"],
        ),
    ],
)
def test_role_permission_matrix(db, role, granted, refused):
    codes = set(Group.objects.get(name=role).permissions.values_list("codename", flat=True))
    assert set(granted) <= codes
    assert not set(refused) & codes
