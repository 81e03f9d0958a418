"""The fault suite: the service as production runs it (gunicorn, a prefork Celery worker,
beat, Redis, an SMTP server), broken on purpose — Redis stopped, the worker killed with
kill -9 in the middle of its work, the database's connections terminated, a recipient
refused — and counted afterwards: nothing lost, nothing doubled, every page still answers.

"At most the one in flight": a worker killed between the SMTP server accepting a message and
the database marking it sent resends that one message (with the same Message-ID, so mail
clients show it once). The counts below allow exactly that, and nothing more.
"""

import collections
import datetime

import pytest
import requests
from django.db import connection
from django.utils import timezone
from rest_framework.authtoken.models import Token

from callbacks import services as callback_services
from callbacks import tokens
from callbacks.models import Survey, SurveyChannel, SurveyStatus
from complaints.models import Case, CaseEvent, CaseType, Category, Channel, Customer, State
from servicedesk.reports.models import Export, ExportStatus
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Notification
from servicedesk.staff.services import notify_bulk
from tests.callbacks.survey_helpers import answers
from tests.complaints.helpers import intake, walk
from tests.complaints.test_public_form import form_data

from .conftest import REFUSED, server_password, wait_for, web_session

pytestmark = [pytest.mark.faults, pytest.mark.django_db(transaction=True)]


def by_subject(stack, prefix):
    return [m for m in stack.sink.messages if (m[2] or "").startswith(prefix)]


def assert_once_each(messages, expected):
    """Every expected Message-ID delivered; at most one delivered twice (in flight)."""
    counts = collections.Counter(mid for _rcpt, mid, _subj in messages)
    assert len(counts) == expected, f"{len(counts)} distinct of {expected}"
    assert sum(counts.values()) - len(counts) <= 1, counts.most_common(3)


@pytest.fixture
def people(make_user, department):
    tech = Department.objects.create(code="tech", name="技术部")
    agent = make_user("agent", role=roles.AGENT, departments=[department])
    handler = make_user("handler", role=roles.HANDLER, departments=[tech])
    supervisor = make_user("supervisor", role=roles.SUPERVISOR, departments=[department])
    return {"agent": agent, "handler": handler, "supervisor": server_password(supervisor),
            "tech": tech, "department": department}  # fmt: skip


def sent_survey(agent, department):
    case = intake(customer={"name": "王女士", "email": "wang@example.com", "phone": ""}).case
    case = walk(
        case, agent, ("assign", {"department": department, "assignee": agent}),
        ("start_investigation", {}), ("resolve", {"result": "已处理"}),
    )  # fmt: skip
    survey = callback_services.survey_schedule(case=case)
    now = timezone.now()
    Survey.objects.filter(pk=survey.pk).update(
        status=SurveyStatus.SENT, sent_at=now, expires_at=now + datetime.timedelta(days=7)
    )
    survey.refresh_from_db()
    return survey


def test_redis_stopped_pages_still_work_and_pending_work_runs_once_when_it_returns(sweeps, people):
    stack = sweeps
    agent, supervisor = people["agent"], people["supervisor"]
    survey = sent_survey(agent, people["department"])
    received = intake(customer={"name": "赵先生", "phone": "13900001111"}).case
    token = Token.objects.create(user=agent).key
    staff_web = web_session(stack, supervisor)  # logged in before Redis stops
    public = requests.Session()
    public.get(f"{stack.url}/submit/", timeout=30)

    stack.redis_down()
    statuses = {}
    statuses["submit"] = public.post(
        f"{stack.url}/submit/", data={**form_data(), "csrfmiddlewaretoken": public.cookies["csrftoken"]},
        allow_redirects=False, timeout=60,
    ).status_code  # fmt: skip
    statuses["survey"] = requests.post(
        f"{stack.url}/api/v1/surveys/{tokens.make_token(survey.nonce)}/",
        json={"answers": answers(survey)}, timeout=60,
    ).status_code  # fmt: skip
    statuses["assign"] = requests.post(
        f"{stack.url}/api/v1/cases/{received.number}/transitions/assign/",
        json={"department": "tech", "assignee": "handler"},
        headers={"Authorization": f"Token {token}"}, timeout=60,
    ).status_code  # fmt: skip
    statuses["export"] = staff_web.post(
        f"{stack.url}/admin/reports/export/add/",
        data={"kind": "cases", "query": "", "csrfmiddlewaretoken": staff_web.cookies["csrftoken"]},
        allow_redirects=False, timeout=60,
    ).status_code  # fmt: skip
    assert statuses == {"submit": 302, "survey": 201, "assign": 200, "export": 302}
    # every step saved, once
    assert Case.objects.filter(channel=Channel.WEB).count() == 1
    assert Survey.objects.get(pk=survey.pk).status == SurveyStatus.ANSWERED
    assert CaseEvent.objects.filter(case=received, transition="assign").count() == 1
    export = Export.objects.get()
    assert export.status == ExportStatus.QUEUED

    stack.redis_up()  # empty: the tasks sent before it stopped are gone too
    wait_for(lambda: Export.objects.get().status == ExportStatus.DONE, what="the export")
    wait_for(lambda: not Notification.objects.email_pending().exists(), what="the e-mails")
    assigned = Notification.objects.get(recipient=people["handler"])
    mails = [m for m in stack.sink.messages if m[1] == f"<notification.{assigned.pk}@localhost>"]
    assert len(mails) == 1
    assert Export.objects.get().attempts == 1


def test_a_worker_killed_mid_notification_batch_sends_everything_once_and_550_fails_alone(
    sweeps, people, make_user
):
    stack = sweeps
    users = [make_user(f"staff{i}", role=roles.AGENT) for i in range(24)]
    users[5].email = REFUSED
    users[5].save()
    notify_bulk([(u, "fault:batch", f"批量通知 {u.username}", "正文", "") for u in users])
    # beat's sweep claims groups of 5; the slow SMTP server makes the batch take seconds
    wait_for(
        lambda: len(by_subject(stack, "批量通知")) >= 6, what="the batch to start",
        details=lambda: list(Notification.objects.values_list(
            "email_attempts", "email_error", "email_due_at", "emailed_at")[:5]),
    )  # fmt: skip
    stack.worker_kill9()
    stack.worker_up()
    wait_for(lambda: not Notification.objects.email_pending().exists(), what="the rest")
    assert_once_each(by_subject(stack, "批量通知"), expected=23)
    dead = Notification.objects.get(recipient=users[5])
    assert dead.email_failed_at and "550" in dead.email_error and dead.email_attempts == 1
    assert Notification.objects.filter(emailed_at__isnull=False).count() == 23


def test_a_worker_killed_mid_survey_dispatch_sends_every_survey_once(sweeps, people):
    stack = sweeps
    version = callback_services.satisfaction_version()
    now = timezone.now()
    cases = [
        intake(customer={"name": f"客户{i}", "email": f"kehu{i}@example.com", "phone": ""}).case
        for i in range(20)
    ]
    Survey.objects.bulk_create(
        Survey(case=c, customer=c.customer, version=version, channel=SurveyChannel.EMAIL,
               nonce=tokens.new_nonce(), send_at=now, window_ends_at=now + datetime.timedelta(days=3))
        for c in cases
    )  # fmt: skip
    wait_for(lambda: Survey.objects.filter(status=SurveyStatus.SENT).count() >= 5,
             what="the dispatch to start")  # fmt: skip
    stack.worker_kill9()
    stack.worker_up()
    wait_for(
        lambda: Survey.objects.filter(status=SurveyStatus.SENT).count() == 20, what="all surveys"
    )
    messages = [m for m in stack.sink.messages if m[1] and m[1].startswith("<survey.")]
    assert_once_each(messages, expected=20)
    assert sorted({m[0] for m in messages}) == sorted(c.customer.email for c in cases)


def load_cases(n):
    customer = Customer.objects.create(name="批量客户", phone="13800000000")
    now = timezone.now()
    Case.objects.bulk_create(
        Case(number=f"F{i:010d}", channel=Channel.PHONE, customer=customer,
             subject=f"故障演练工单 {i}", description="演练", type=CaseType.COMPLAINT,
             category=Category.PRODUCT, state=State.RECEIVED, created_at=now,
             cycle_started_at=now, first_response_due=now + datetime.timedelta(days=1))
        for i in range(n)
    )  # fmt: skip


def test_a_worker_killed_mid_export_resumes_and_the_export_is_done(sweeps, people):
    from django.db import transaction

    stack = sweeps
    load_cases(2500)
    staff_web = web_session(stack, people["supervisor"])
    staff_web.post(
        f"{stack.url}/admin/reports/export/add/",
        data={"kind": "cases", "query": "", "csrfmiddlewaretoken": staff_web.cookies["csrftoken"]},
        allow_redirects=False, timeout=60,
    )  # fmt: skip
    export = Export.objects.get()
    wait_for(lambda: Export.objects.get(pk=export.pk).status == ExportStatus.RUNNING,
             interval=0.02, what="the export to start")  # fmt: skip
    # Hold the export's row: its next progress write waits, so the kill lands mid-export.
    with transaction.atomic():
        Export.objects.select_for_update().get(pk=export.pk)
        stack.worker_kill9()
    stack.worker_up()
    done = wait_for(
        lambda: Export.objects.filter(
            pk=export.pk, status__in=[ExportStatus.DONE, ExportStatus.FAILED]
        ).first(),
        what="the export to finish",
    )
    assert done.status == ExportStatus.DONE, done.error
    assert done.rows_done == 2500 and done.attempts == 2
    assert done.file and done.error in ("", "已中断（后台进程停止），已自动重新开始。")


def test_terminated_database_connections_the_web_recovers(sweeps, people):
    stack = sweeps
    token = Token.objects.create(user=people["agent"]).key
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"
    assert api.get(f"{stack.url}/api/v1/cases/", timeout=30).status_code == 200
    # Each terminated backend has exited (pg_terminate_backend waits for it, up to 10 s), so
    # its goodbye is in the web process's socket: the health check of the kept connection
    # looks there (servicedesk/postgresql/base.py). A request racing the termination itself —
    # the millisecond before the backend writes its goodbye — fails once, as after a network
    # partition (deploy/README, CONN_MAX_AGE).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 10000)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        (terminated,) = cursor.fetchone()
    assert terminated >= 1
    answers_after = [api.get(f"{stack.url}/api/v1/cases/", timeout=30).status_code
                     for _ in range(6)]  # fmt: skip
    assert answers_after == [200] * 6
    created = api.post(
        f"{stack.url}/api/v1/cases/",
        json={"channel": "phone", "customer": {"name": "钱女士", "phone": "13700001234"},
              "subject": "数据库重启后登记", "description": "测试", "type": "complaint",
              "category": "service"},
        headers={"Idempotency-Key": "after-restart"}, timeout=30,
    )  # fmt: skip
    assert created.status_code == 201
    assert requests.get(f"{stack.url}/healthz", timeout=30).status_code == 200
