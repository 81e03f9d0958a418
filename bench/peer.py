"""django-helpdesk 2.6.1, the peer, for bench/scale.py (read side) and bench/scale_write.py
(intake): its own benchmark folder (/work/shared/peers/helpdesk_bench, see its README) is
copied under --peer-dir and run from there; nothing of helpdesk or of that folder is copied
into this repository.

`setup(peer_dir)` makes the venv (django-helpdesk from PyPI, gunicorn, psycopg2-binary), the
role `bench` and the database hd_100000 with 100,000 tickets (its gen_data.py), once.
`intake(…)` measures its API ticket create the way its server_bench.sh does: its gunicorn
(2 sync workers, 127.0.0.1), a session from its mk_session.py and `wrk -t1` with its
post_api.lua.
"""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

PEER_SRC = Path("/work/shared/peers/helpdesk_bench")
PEER_DIR = "/tmp/peerbench-i12read"
TICKETS = 100_000
DBNAME = f"hd_{TICKETS}"


@dataclass
class Peer:
    work: Path
    proj: Path
    python: str
    env: dict = field(repr=False)  # what its scripts run with (HD_DB, HD_DBNAME)


def psql(*args, **kwargs):
    return subprocess.run(["psql", "-h", "127.0.0.1", "-U", "postgres", *args], **kwargs)


def wait_until_serving(server, port, timeout=60):
    """Wait until `server` (a Popen of gunicorn) accepts connections on 127.0.0.1:`port`; stop
    the bench with its last output if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if server.poll() is not None:
                raise SystemExit(server.stderr.read().decode()[-2000:]) from None
            time.sleep(0.3)


def setup(peer_dir=PEER_DIR):
    """The peer's venv, project copy and database hd_100000 (created and filled if missing)."""
    work = Path(peer_dir)
    proj, venv = work / "proj", work / "venv"
    work.mkdir(parents=True, exist_ok=True)
    if not proj.exists():
        subprocess.run(["cp", "-r", str(PEER_SRC), str(proj)], check=True)
        for script in ("setup_db.sh", "run_all.sh"):
            path = proj / script
            path.write_text(path.read_text().replace("/tmp/peerbench", str(work)))
        (work / "data").mkdir(exist_ok=True)
    if not (venv / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "django-helpdesk==2.6.1",
                        "gunicorn", "psycopg2-binary"], check=True)  # fmt: skip
    psql(
        "-qc",
        "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname='bench') THEN "
        "CREATE ROLE bench LOGIN SUPERUSER PASSWORD 'bench'; END IF; END$$",
        check=True,
    )
    env = {**os.environ, "HD_DB": "pg", "HD_DBNAME": DBNAME}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("DATABASE_URL", None)
    exists = psql(
        "-tAc", f"SELECT 1 FROM pg_database WHERE datname = '{DBNAME}'",
        capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    py = str(venv / "bin" / "python")
    if not exists:
        psql("-qc", f"CREATE DATABASE {DBNAME} OWNER bench", check=True)
        subprocess.run([py, "manage.py", "migrate", "-v0"], cwd=proj, env=env, check=True)
        subprocess.run([py, "gen_data.py", str(TICKETS)], cwd=proj, env=env, check=True)
    return Peer(work=work, proj=proj, python=py, env=env)


# --- intake: its API ticket create under gunicorn + wrk ----------------------------------------

DJANGO = "import os;os.environ.setdefault('DJANGO_SETTINGS_MODULE','hdproj.settings');import django;django.setup();"


def peer_python(peer, code):
    """Run `code` with the peer's Django set up; its stdout, stripped."""
    return subprocess.run(
        [peer.python, "-c", DJANGO + code],
        cwd=peer.proj, env=peer.env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip


def sql_one(query):
    return psql("-d", DBNAME, "-tAc", query, capture_output=True, text=True, check=True).stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Intake:
    rate: float
    errors: int
    latency: str
    creates: int
    cpu_ms: float  # per create: gunicorn workers + their PostgreSQL backends
    tickets: int  # in the table before the run
    processes: str  # whose CPU was counted
    out: str


def intake(peer, connections, seconds, cpu_seconds):
    """Its API create (POST /helpdesk/api/tickets/) for `seconds` with `connections`:
    gunicorn 2 sync workers, session and CSRF from mk_session.py, its post_api.lua. The
    tickets it creates (and the warm-up's) are deleted afterwards, through its ORM, so
    hd_100000 keeps its 100,000 tickets for scale.py."""
    tickets = int(sql_one("SELECT count(*) FROM helpdesk_ticket"))
    last_id = int(sql_one("SELECT coalesce(max(id), 0) FROM helpdesk_ticket"))
    sid, csrf = subprocess.run(
        [peer.python, "mk_session.py"],
        cwd=peer.proj, env=peer.env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    queue = peer_python(
        peer, "from helpdesk.models import Queue;print(Queue.objects.order_by('id').first().id)"
    )
    port = free_port()
    gunicorn = subprocess.Popen(
        [str(Path(peer.python).parent / "gunicorn"), "hdproj.wsgi", "--workers", "2",
         "--bind", f"127.0.0.1:{port}", "--timeout", "120", "--log-level", "warning"],
        cwd=peer.proj, env=peer.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    wrk_env = {**os.environ, "SID": sid, "CSRF": csrf, "QUEUE": queue}
    url = f"http://127.0.0.1:{port}/helpdesk/api/tickets/"
    try:
        wait_until_serving(gunicorn, port)
        # Warm both workers (imports, their database connection: CONN_MAX_AGE 60) first.
        subprocess.run(["wrk", "-t1", "-c2", "-d2s", "-s", "post_api.lua", url],
                       cwd=peer.proj, env=wrk_env, capture_output=True, check=False)  # fmt: skip
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(gunicorn.pid)], capture_output=True, text=True
        ).stdout.split()
        backends = sql_one(
            f"SELECT pid FROM pg_stat_activity WHERE datname = '{DBNAME}' "
            "AND pid <> pg_backend_pid()"
        ).split()
        serving = [int(pid) for pid in children + backends]
        before = int(sql_one("SELECT count(*) FROM helpdesk_ticket"))
        cpu_before = cpu_seconds(serving)
        out = subprocess.run(
            ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "60s",
             "--latency", "-s", "post_api.lua", url],
            cwd=peer.proj, env=wrk_env, capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        cpu = cpu_seconds(serving)
        creates = int(sql_one("SELECT count(*) FROM helpdesk_ticket")) - before
        cpu -= cpu_before
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    peer_python(
        peer, f"from helpdesk.models import Ticket;Ticket.objects.filter(id__gt={last_id}).delete()"
    )
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    latency = re.search(r"Latency\s+(\S+)", out)
    return Intake(
        rate=float(rate.group(1)) if rate else 0.0,
        errors=int(errors.group(1)) if errors else 0,
        latency=latency.group(1) if latency else "?",
        creates=creates,
        cpu_ms=1000 * cpu / creates if creates else 0.0,
        tickets=tickets,
        processes=f"{len(children)} gunicorn workers + {len(backends)} PostgreSQL backends",
        out=out,
    )
