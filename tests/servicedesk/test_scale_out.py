"""Scale-out on one PostgreSQL + Redis: two web processes, two prefork Celery workers and two
beat processes, started as real processes (free ports, a queue of their own), do no double
work — every case numbered once, every missed deadline escalated once and told once — and
only one beat schedules while the other waits at the advisory lock."""

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from complaints.models import (
    Case,
    CaseEscalation,
    CaseEvent,
    EventKind,
    RoutingRule,
    SlaBreach,
    State,
)
from servicedesk.beat import LOCK_KEY
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Notification
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
CASES = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url():
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def process_env(**extra):
    """The environment of a process a test starts: the test's database, this checkout."""
    return {
        **os.environ, "DATABASE_URL": database_url(), "DEBUG": "1", "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "servicedesk.settings", **extra,
    }  # fmt: skip


def start_web(processes, env, *, name="web", workers=1):
    """gunicorn as deployed (servicedesk.gunicorn_conf) on a free port: (port, process)."""
    port = free_port()
    proc = processes(name, [str(BIN / "gunicorn"), "servicedesk.wsgi:application", "-c",
                            "python:servicedesk.gunicorn_conf", "--workers", str(workers),
                            "--bind", f"127.0.0.1:{port}"], env)  # fmt: skip
    return port, proc


@pytest.fixture
def processes(tmp_path):
    started = []

    def start(name, args, env):
        log = open(tmp_path / f"{name}.log", "wb")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(
            args, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        started.append((proc, log))
        return proc

    yield start
    for proc, _ in started:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
    for proc, log in started:
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


def post_case(port, token, n):
    body = {
        "channel": "web", "customer": {"name": f"扩容客户{n}", "phone": f"1365555{n:04d}"},
        "subject": f"第{n}号：系统报错无法下单", "description": "页面一直提示系统繁忙。",
        "type": "complaint", "category": "technical",
    }  # fmt: skip
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/cases/", data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )  # fmt: skip
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, json.loads(response.read())


def wait_for_port(port, proc, timeout=40):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.3)
    return False


@pytest.mark.postgres
@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_two_of_everything_do_no_double_work(make_user, processes, settings):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (advisory locks, row locks) and Redis shared by processes")
    from django_celery_beat.models import IntervalSchedule, PeriodicTask
    from rest_framework.authtoken.models import Token

    tech = Department.objects.create(code="tech", name="技术部")
    RoutingRule.objects.create(name="技术问题", category="technical", department=tech)
    agent = make_user("desk", role=roles.AGENT, departments=[tech])
    handlers = [make_user(f"h{i}", role=roles.HANDLER, departments=[tech]) for i in range(3)]
    supervisor = make_user("sup", role=roles.SUPERVISOR, departments=[tech])
    token = Token.objects.create(user=agent).key
    # The escalation sweep every second instead of every minute; nothing else scheduled.
    PeriodicTask.objects.update(enabled=False)
    every_second = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(
        name="sweep (test)", task="complaints.tasks.sla_sweep", interval=every_second
    )

    queue = f"scale-out-{uuid.uuid4().hex[:8]}"
    env = process_env(CELERY_TASK_DEFAULT_QUEUE=queue)
    ports, webs = zip(*[start_web(processes, env, name=f"web{i}") for i in range(2)], strict=True)
    for i in range(2):
        processes(f"worker{i}", [str(BIN / "celery"), "-A", "servicedesk", "worker",
                                 "--pool", "prefork", "-c", "1", "-Q", queue, "-n",
                                 f"w{i}-{queue}@%h", "-l", "warning", "--without-gossip",
                                 "--without-mingle", "--without-heartbeat"], env)  # fmt: skip
    beats = [
        processes(f"beat{i}", [str(BIN / "celery"), "-A", "servicedesk", "beat", "-l", "info",
                               "--max-interval", "1"], env)
        for i in range(2)
    ]  # fmt: skip
    assert all(wait_for_port(port, web) for port, web in zip(ports, webs, strict=True))

    # Two web processes take intakes at once: every case numbered once, work shared evenly.
    results, errors = [], []

    def intake(n):
        try:
            results.append(post_case(ports[n % 2], token, n))
        except Exception as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=intake, args=(n,)) for n in range(CASES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and {status for status, _ in results} == {201}
    assert len({body["number"] for _, body in results}) == CASES
    # The agent is a member of the department too: four people share the work evenly.
    loads = [Case.objects.filter(assignee=u, state=State.ASSIGNED).count()
             for u in [agent, *handlers]]  # fmt: skip
    assert sum(loads) == CASES and max(loads) - min(loads) <= 1, loads

    # Every case misses its first response; both workers sweep every second.
    due = timezone.now() - timedelta(minutes=10)
    Case.objects.update(first_response_due=due, current_due=due)
    assert CaseEscalation.objects.update(next_at=due) == CASES  # intake wrote one a case
    assert wait_until(lambda: SlaBreach.objects.count() >= CASES, timeout=40)
    time.sleep(2)  # a few more sweeps from both workers: they must find nothing to do
    assert SlaBreach.objects.count() == CASES
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATION).count() == CASES
    told = Notification.objects.filter(recipient=supervisor)
    for case in Case.objects.all():
        assert sum(case.number in n.body for n in told) == 1, case.number

    # One beat holds the scheduler lock; the other is waiting for it.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT granted, count(*) FROM pg_locks WHERE locktype = 'advisory' "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "AND objid = %s GROUP BY granted",
            [LOCK_KEY],
        )
        locks = dict(cursor.fetchall())
    assert locks == {True: 1, False: 1}
    assert all(beat.poll() is None for beat in beats)
