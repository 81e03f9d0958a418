"""The fault suite's production-like stack, started for real on free ports: its own
redis-server (broker and cache; stopped and started again by the tests — never the shared
one), gunicorn, a prefork Celery worker (killed with kill -9 by the tests), beat with the
database schedule, and a local SMTP sink that refuses one address with 550.

Every process uses this run's PostgreSQL test database, its own Redis, queue name and cache
prefix. The suite runs on the PostgreSQL run of `make test` only.
"""

import os
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.smtp_sink import SmtpSink, free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = ROOT / ".venv" / "bin"
REFUSED = "nobody@refused.example"
_running = []  # the stack, for the logs a timeout shows


def pytest_collection_modifyitems(config, items):
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    for item in items:
        if "tests/faults/" not in str(item.path):
            continue
        item.add_marker(pytest.mark.faults)
        if not on_postgres:
            item.add_marker(
                pytest.mark.skip(reason="the fault suite runs on the PostgreSQL run of make test")
            )
        elif shutil.which("redis-server") is None:
            item.add_marker(pytest.mark.skip(reason="redis-server is not installed"))


def wait_for(predicate, *, timeout=60.0, interval=0.25, what="condition", details=None):
    """Poll until predicate() is truthy and return it; fail after `timeout` (a hang guard,
    not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            logs = "".join(
                f"\n--- {p.name} (last lines) ---\n" + "\n".join(p.output().splitlines()[-15:])
                for p in (_running[-1].processes() if _running else [])
            )
            extra = f"\n--- state ---\n{details()}" if details else ""
            pytest.fail(f"timed out waiting for {what}{extra}{logs}")
        time.sleep(interval)


class Process:
    """A child process in its own process group (so kill -9 takes its children too)."""

    def __init__(self, name, args, env, logdir):
        self.name, self.args, self.env = name, args, env
        self.log = logdir / f"{name}.log"
        self.proc = None

    def start(self):
        handle = open(self.log, "ab")  # noqa: SIM115 - kept open for the child
        self.proc = subprocess.Popen(
            self.args, env=self.env, cwd=ROOT, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        handle.close()
        return self

    def output(self):
        return self.log.read_text(errors="replace")

    def kill9(self):
        """kill -9 the process and every child (a machine lost, the OOM killer)."""
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(10)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill9()


class Stack:
    def __init__(self, tmp, database):
        self.tmp = tmp
        self.sink = SmtpSink(refuse=[REFUSED], delay=0.15)
        self.redis_port, self.web_port = free_port(), free_port()
        tag = uuid.uuid4().hex[:8]
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("DATABASE_URL", "REDIS_URL", "CELERY_", "EMAIL_", "CACHE_"))
        }
        env.update(
            DEBUG="1", VAR_DIR=str(tmp), PYTHONUNBUFFERED="1",
            DATABASE_URL=f"postgres://postgres@127.0.0.1:5432/{database}",
            CELERY_BROKER_URL=f"redis://127.0.0.1:{self.redis_port}/0",
            REDIS_URL=f"redis://127.0.0.1:{self.redis_port}/1",
            CELERY_TASK_DEFAULT_QUEUE=f"faults-{tag}", CACHE_KEY_PREFIX=f"faults-{tag}",
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1", EMAIL_PORT=str(self.sink.port),
            # Short leases and stale limits so a dead worker's work is due again in seconds.
            OUTBOX_LEASE_SECONDS="5", OUTBOX_GROUP_SIZE="5",
            EXPORT_HEARTBEAT_SECONDS="1", EXPORT_STALE_SECONDS="4",
            SURVEY_SEND_FROM="00:00", SURVEY_SEND_UNTIL="23:59", PUBLIC_FORM_RATE_LIMIT="1000/h",
        )  # fmt: skip
        self.env = env
        self.redis = Process(
            "redis",
            ["redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "no", "--dir", str(tmp)],
            env, tmp,
        )  # fmt: skip
        self.web = Process(
            "gunicorn",
            [str(BIN / "gunicorn"), "servicedesk.wsgi:application", "-b",
             f"127.0.0.1:{self.web_port}", "-w", "2", "--timeout", "60"],
            env, tmp,
        )  # fmt: skip
        self.worker = self._worker()
        self.beat = Process(
            "beat",
            [str(BIN / "celery"), "-A", "servicedesk", "beat", "-l", "info",
             "-s", str(tmp / "beat-schedule"), "--max-interval", "1"],
            env, tmp,
        )  # fmt: skip
        self.url = f"http://127.0.0.1:{self.web_port}"

    def _worker(self):
        return Process(
            "worker",
            [str(BIN / "celery"), "-A", "servicedesk", "worker", "-P", "prefork", "-c", "2",
             "-l", "info", "-n", f"faults-{uuid.uuid4().hex[:6]}@%h", "--without-mingle",
             "--without-gossip", "-Q", self.env["CELERY_TASK_DEFAULT_QUEUE"]],
            self.env, self.tmp,
        )  # fmt: skip

    # --- Redis ----------------------------------------------------------------------------
    def redis_up(self):
        self.redis.start()
        wait_for(lambda: "Ready to accept connections" in self.redis.output(), what="redis")

    def redis_down(self):
        self.redis.stop()
        self.redis.log.write_text("")  # the next start's "ready" line is a new one

    # --- the worker -----------------------------------------------------------------------
    def worker_up(self):
        self.worker.start()
        wait_for(lambda: " ready." in self.worker.output(), timeout=90, what="the worker")

    def worker_kill9(self):
        self.worker.kill9()
        self.worker = self._worker()

    def start(self):
        self.sink.__enter__()
        self.redis_up()
        self.web.start()
        self.worker_up()
        self.beat.start()
        wait_for(self.web_answers, timeout=90, what="gunicorn")

    def web_answers(self):
        try:
            return requests.get(f"{self.url}/healthz", timeout=5).status_code in (200, 503)
        except requests.ConnectionError:
            return False

    def processes(self):
        return [self.redis, self.web, self.worker, self.beat]

    def stop(self):
        for p in (self.beat, self.worker, self.web, self.redis):
            p.stop()
        self.sink.__exit__(None, None, None)


@pytest.fixture(scope="module")
def stack(django_db_setup, django_db_blocker, tmp_path_factory):
    from django.db import connection

    with django_db_blocker.unblock():
        database = connection.settings_dict["NAME"]
    s = Stack(tmp_path_factory.mktemp("faults"), database)
    _running.append(s)
    try:
        s.start()
        yield s
    finally:
        s.stop()
        _running.remove(s)


@pytest.fixture
def sweeps(transactional_db, stack):
    """The sweeps every 2 seconds instead of every minute (django-celery-beat rows; a
    transactional test's flush removes the shipped ones). Also the shipped questionnaire."""
    import importlib

    from django.apps import apps
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    from callbacks.models import Questionnaire

    if not Questionnaire.objects.filter(code="satisfaction-callback").exists():
        importlib.import_module("callbacks.migrations.0002_handbook_questionnaire").ship(apps, None)
    every, _ = IntervalSchedule.objects.get_or_create(every=2, period=IntervalSchedule.SECONDS)
    for name, task in [
        ("faults.notifications", "servicedesk.staff.tasks.send_pending_notification_emails"),
        ("faults.surveys", "callbacks.tasks.survey_dispatch"),
        ("faults.exports", "servicedesk.reports.tasks.export_sweep"),
    ]:
        PeriodicTask.objects.update_or_create(name=name, defaults={"task": task, "interval": every})
    yield stack
    PeriodicTask.objects.filter(name__startswith="faults.").delete()


def web_session(stack, user=None):
    """A requests session; logged in to the admin as `user` (password "pw-for-tests")."""
    session = requests.Session()
    if user is not None:
        session.get(f"{stack.url}/admin/login/", timeout=30)
        response = session.post(
            f"{stack.url}/admin/login/",
            data={"username": user.username, "password": "pw-for-tests",
                  "csrfmiddlewaretoken": session.cookies["csrftoken"], "next": "/admin/"},
            timeout=30,
        )  # fmt: skip
        assert response.status_code == 200 and "sessionid" in session.cookies
    return session


def server_password(user):
    """Store the test password with a hasher the server processes know (the test process
    uses a fast MD5 hasher only)."""
    from django.contrib.auth.hashers import PBKDF2PasswordHasher

    user.password = PBKDF2PasswordHasher().encode("pw-for-tests", "faultsuitesalt", 1000)
    user.save(update_fields=["password"])
    return user
