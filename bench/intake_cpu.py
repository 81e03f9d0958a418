"""What one API create costs in one process: Python CPU and its PostgreSQL backend's CPU per
create, or (`--callgrind`) the instructions Python executes per create, which repeat to within
~0.2 % from run to run whatever else the machine is doing — the way to compare two versions of
intake on a machine whose speed wanders.

    DEBUG=1 .venv/bin/python bench/scale_write.py --sizes 10000 --due 0   # once: the database
    .venv/bin/python bench/intake_cpu.py                        # CPU ms per create, 5 rounds
    .venv/bin/python bench/intake_cpu.py --callgrind            # M instructions per create

Needs the database bench/scale_write.py leaves (`--database-url`, default $DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/sd_bench_write) with its agent `bw_agent` and token. The
creates are the bench's varied bodies (half returning customers; `--seed`), POSTed to
/api/v1/cases/ through the application gunicorn serves (servicedesk.wsgi) with DEBUG off,
every middleware included, all in one transaction that is rolled back at the end: the same
seed gives the same work. (Django's request_started/finished handlers, which close a
connection in a transaction, are disconnected.) `--callgrind` re-runs this script under valgrind's callgrind with its
instrumentation switched on only around the measured creates (after 20 warm-up creates).
"""

import argparse
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=1000, help="measured creates")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=5, help="CPU: rounds (min and median)")
    parser.add_argument("--callgrind", action="store_true", help="instructions per create")
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--instrumented", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args()


def callgrind(args):
    """This script again under callgrind; M instructions per create from its totals."""
    creates = min(args.creates, 100)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "callgrind.out"
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--instr-atstart=no",
             f"--callgrind-out-file={out}", sys.executable, __file__, "--instrumented",
             "--creates", str(creates), "--seed", str(args.seed), "--rounds", "1"],
            check=True, capture_output=True, env=os.environ,
        )  # fmt: skip
        totals = subprocess.run(
            ["callgrind_annotate", str(out)], capture_output=True, text=True, check=True
        ).stdout
    line = next(x for x in totals.splitlines() if "PROGRAM TOTALS" in x)
    instructions = int(line.split()[0].replace(",", ""))
    print(f"{instructions / creates / 1e6:.3f} M instructions per create ({creates} creates)")


def setup_django(args):
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    os.environ["DATABASE_URL"] = args.database_url or (
        "postgres://postgres@127.0.0.1:5432/sd_bench_write"
    )
    os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")  # as scale_write.py
    os.environ.setdefault("CACHE_KEY_PREFIX", "bench_write")
    os.environ["DEBUG"] = "0"
    os.environ["ALLOWED_HOSTS"] = "127.0.0.1,localhost"
    os.environ["SITE_URL"] = "http://127.0.0.1"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    import warnings

    warnings.filterwarnings("ignore", message="No directory at")  # no collectstatic here
    import django

    django.setup()


def bodies(count, seed, customers):
    """The bench's bodies (bench/scale_write.py's wrk script), drawn from `seed`."""
    from scale_write import CATEGORIES, CHANNELS, SUBJECTS

    rnd = random.Random(seed)
    for _ in range(count):
        if rnd.random() < 0.5:
            phone = f"139{rnd.randint(1, customers):08d}"
        else:
            phone = f"15{rnd.randint(0, 999_999_999):09d}"
        subject = f"{rnd.choice(SUBJECTS)}（{rnd.randint(1, 100_000)}）"
        yield json.dumps(
            {"channel": rnd.choice(CHANNELS),
             "customer": {"name": "压测客户", "phone": phone}, "subject": subject,
             "description": f"客户来电反映：{subject}，要求尽快处理。", "type": "complaint",
             "category": rnd.choice(CATEGORIES)},
            ensure_ascii=False,
        ).encode()  # fmt: skip


def main():
    args = parse_args()
    if args.callgrind:
        return callgrind(args)
    setup_django(args)
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, connection, transaction
    from rest_framework.authtoken.models import Token

    from complaints.models import Customer

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    from servicedesk.wsgi import application as app  # what gunicorn serves

    token = Token.objects.get(user__username="bw_agent").key
    # The seeded customers (phones 139…, as bench/scale_write.py's sweep counts them).
    customers = max(Customer.objects.filter(phone__startswith="139").count(), 1)

    def create(body):
        environ = {
            "REQUEST_METHOD": "POST", "PATH_INFO": "/api/v1/cases/", "SCRIPT_NAME": "",
            "QUERY_STRING": "", "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000",
            "HTTP_HOST": "127.0.0.1", "SERVER_PROTOCOL": "HTTP/1.1",
            "CONTENT_TYPE": "application/json", "CONTENT_LENGTH": str(len(body)),
            "HTTP_AUTHORIZATION": f"Token {token}", "HTTP_X_FORWARDED_PROTO": "https",
            "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http", "wsgi.errors": sys.stderr,
            "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
            "wsgi.version": (1, 0),
        }  # fmt: skip
        status = []
        response = app(environ, lambda s, headers: status.append(s))
        content = b"".join(response)
        response.close()
        if status[0][:3] not in ("200", "201"):
            raise SystemExit(f"{status[0]}: {content[:300]!r}")

    def backend_cpu(pid):
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    work = list(bodies(20 + args.creates * args.rounds, args.seed, customers))

    class Rollback(Exception):
        pass

    rounds = []
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                (pid,) = cursor.fetchone()
            for body in work[:20]:
                create(body)  # imports, caches, prepared statements
            if args.instrumented:
                subprocess.run(["callgrind_control", "-i", "on", str(os.getpid())], check=True,
                               capture_output=True)  # fmt: skip
            for r in range(args.rounds):
                cpu, db = time.process_time(), backend_cpu(pid)
                for body in work[20 + r * args.creates : 20 + (r + 1) * args.creates]:
                    create(body)
                rounds.append((time.process_time() - cpu, backend_cpu(pid) - db))
            if args.instrumented:
                subprocess.run(["callgrind_control", "-i", "off", str(os.getpid())], check=True,
                               capture_output=True)  # fmt: skip
            raise Rollback
    except Rollback:
        pass
    python = sorted(1000 * p / args.creates for p, _ in rounds)
    db = sorted(1000 * d / args.creates for _, d in rounds)
    print(
        f"per create ({args.creates} creates × {args.rounds} rounds): Python {python[0]:.2f} ms "
        f"(median {python[len(python) // 2]:.2f}), PostgreSQL backend {db[0]:.2f} ms "
        f"(median {db[len(db) // 2]:.2f})"
    )


if __name__ == "__main__":
    main()
