"""How long the monthly report takes, and how much memory, for a month of N cases.

    DEBUG=1 .venv/bin/python bench/report_export.py                      # 200,000 and 1,000,000
    DEBUG=1 .venv/bin/python bench/report_export.py --rows 20000         # quick

Works in a throw-away SQLite database under a temporary VAR_DIR (removed at the end unless
--keep), so it needs no server and touches no real data; --database-url runs it against a
PostgreSQL database whose name contains "bench" instead (its case tables are emptied).

For each size, in ascending order, it tops the month (November 2026) up to that many cases
with bulk_create (plus one satisfaction answer per 20 cases and a return request per 50),
then measures, each in a fresh Python process so that the figures are the report's own:

1. `data.period_figures` — time and queries;
2. `workbook.build_workbook` — time, file size, peak memory;
3. `services.report_generate` — the whole thing as the scheduler runs it (figures, the
   workbook streamed to a temporary file, stored through the file storage, the Report row).

Peak memory is printed two ways: the process's peak resident set (VmHWM, or
resource.getrusage off Linux: the interpreter, Django, the database driver's and lxml's C
buffers included) next to its size when the step starts, and — for the workbook step —
with --tracemalloc, tracemalloc's peak of Python allocations, measured in a second run of the
step because tracing slows Python down (several times: leave it off for 1,000,000 rows). Nothing is asserted: read the figures and compare them with
bench/README.md.
"""

import argparse
import datetime
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")

MONTH_START = datetime.date(2026, 11, 1)
MONTH_END = datetime.date(2026, 11, 30)
BATCH = 5000
CUSTOMERS = 20_000
STEPS = ("figures", "workbook", "generate")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--rows", type=int, nargs="+", default=[200_000, 1_000_000],
        help="cases in the month, one or more sizes (default: 200000 1000000)",
    )  # fmt: skip
    parser.add_argument("--database-url", default="", help="PostgreSQL …bench database")
    parser.add_argument("--keep", action="store_true", help="keep the temporary VAR_DIR")
    parser.add_argument(
        "--var-dir", default="", help="use (and keep) this VAR_DIR, e.g. one kept before"
    )
    parser.add_argument("--step", choices=STEPS, help=argparse.SUPPRESS)  # child process
    parser.add_argument("--trace", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also measure the workbook step's Python allocations (slow: tracing makes the "
        "step several times longer)",
    )
    return parser.parse_args()


def rss_mb(kind="VmHWM"):
    """This process's resident set in MB: its peak ("VmHWM") or its current size ("VmRSS").

    Linux's /proc/self/status; elsewhere resource.getrusage's peak. getrusage's ru_maxrss
    alone would not do here: Linux carries it across fork and exec, so a child started by
    this (larger) script would report the parent's peak.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(kind + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 1024 if sys.platform != "darwin" else peak / 1048576


# --- loading -----------------------------------------------------------------------------


def staff():
    """Five departments with eight handlers each, some customers, the satisfaction
    questionnaire (from its data migration)."""
    from complaints.models import Customer
    from servicedesk.staff.models import Department, Membership, User

    if Department.objects.filter(code__startswith="bench-").exists():
        departments = list(Department.objects.filter(code__startswith="bench-"))
        handlers = list(User.objects.filter(username__startswith="bench_"))
        customers = list(
            Customer.objects.filter(name__startswith="压测").values_list("pk", flat=True)
        )
        return departments, handlers, customers
    names = ["客服中心", "产品部", "物流部", "技术部", "售后部"]
    departments = [
        Department.objects.create(code=f"bench-{i}", name=f"{name}（压测）")
        for i, name in enumerate(names)
    ]
    handlers = []
    for d, dept in enumerate(departments):
        for h in range(8):
            user = User.objects.create_user(
                f"bench_{d}_{h}", first_name=f"{h}号", last_name=dept.name[:2], is_staff=True
            )
            Membership.objects.create(user=user, department=dept)
            handlers.append(user)
    customers = Customer.objects.bulk_create(
        Customer(
            name=f"压测客户{i}",
            phone=f"138{i:08d}",
            phone_normalized=f"138{i:08d}",
            email=f"customer{i}@example.com" if i % 3 else "",
            email_normalized=f"customer{i}@example.com" if i % 3 else "",
        )
        for i in range(CUSTOMERS)
    )
    return departments, handlers, [c.pk for c in customers]


def case_batch(rng, first, count, departments, handlers, customers):
    """`count` cases numbered from `first`, received over the month, in every state."""
    from django.utils import timezone

    from complaints.models import Case, CaseType, Category, Channel, State, Urgency

    tz = timezone.get_default_timezone()
    month_start = datetime.datetime.combine(MONTH_START, datetime.time.min, tzinfo=tz)
    seconds = (MONTH_END - MONTH_START).days * 86400 + 86399
    channels = Channel.values
    types = CaseType.values
    categories = Category.values
    products = [f"产品{p:02d}" for p in range(40)] + [""] * 10
    hour = datetime.timedelta(hours=1)
    cases = []
    for n in range(first, first + count):
        created = month_start + datetime.timedelta(seconds=rng.randrange(seconds))
        handler = handlers[n % len(handlers)]
        dept = departments[(n % len(handlers)) // 8]
        roll = rng.random()
        state = (
            State.CLOSED if roll < 0.65 else State.RESOLVED if roll < 0.75
            else State.CANCELLED if roll < 0.77 else rng.choice(
                [State.ASSIGNED, State.INVESTIGATING, State.SOLUTION_PROPOSED]
            )
        )  # fmt: skip
        first_due = created + 24 * hour
        answered = created + rng.uniform(0.2, 36) * hour if state != State.CANCELLED else None
        done = state in (State.CLOSED, State.RESOLVED)
        investigated = answered + rng.uniform(4, 60) * hour if done else None
        resolved = investigated + rng.uniform(1, 20) * hour if done else None
        closed = resolved + rng.uniform(10, 90) * hour if state == State.CLOSED else None
        cases.append(
            Case(
                number=f"B{n:012d}",
                channel=channels[n % len(channels)],
                customer_id=customers[n % len(customers)],
                subject=f"压测工单 {n}：商品与描述不符",
                description="客户反映收到的商品与页面描述不一致。",
                type=types[rng.randrange(len(types))],
                category=categories[rng.randrange(len(categories))],
                product=products[rng.randrange(len(products))],
                urgency=Urgency.MEDIUM,
                department=dept,
                assignee=handler,
                state=state,
                created_at=created,
                cycle_started_at=created,
                first_response_due=first_due,
                first_response_at=answered,
                investigation_due=(answered or first_due) + 48 * hour,
                investigation_done_at=investigated,
                solution_due=(investigated or (answered or first_due) + 48 * hour) + 48 * hour,
                solution_sent_at=resolved,
                resolved_at=resolved,
                satisfaction_due=resolved + 72 * hour if resolved else None,
                satisfaction_done_at=closed,
                closed_at=closed,
                feedback_score=rng.choice([5, 5, 4, 4, 4, 3, 2]) if closed else None,
                escalation_level=1 if answered and answered > first_due else 0,
            )
        )
    return cases


def load(target, rng, people):
    """Top the month up to `target` cases; returns the seconds it took."""
    from callbacks.models import Response
    from callbacks.services import satisfaction_version
    from complaints.models import Case, ReturnReason, ReturnRequest, write_escalations

    departments, handlers, customers = people
    have = Case.objects.count()
    if have >= target:
        return 0.0
    version = satisfaction_version()
    started = time.perf_counter()
    for first in range(have, target, BATCH):
        count = min(BATCH, target - first)
        cases = Case.objects.bulk_create(
            case_batch(rng, first, count, departments, handlers, customers)
        )
        write_escalations([c for c in cases if c.escalation_level])  # bulk_create leaves them
        answers = [
            Response(
                version=version, customer_id=c.customer_id, case=c, method="online",
                answered_at=c.closed_at, overall_score=c.feedback_score,
                has_problem=c.feedback_score <= 2, department_id=c.department_id,
                agent_id=c.assignee_id, case_channel=c.channel,
            )
            for c in cases[::20] if c.closed_at
        ]  # fmt: skip
        Response.objects.bulk_create(answers)
        ReturnRequest.objects.bulk_create(
            ReturnRequest(
                case=c, order_no=f"DD{c.number}", product=c.product or "产品00",
                purchase_date=MONTH_START, reason=ReturnReason.QUALITY,
            )
            for c in cases[::50]
        )  # fmt: skip
        if sys.stdout.isatty():
            print(f"  … {first + count:>9,} cases", end="\r", flush=True)
    return time.perf_counter() - started


# --- measuring (in a child process) ------------------------------------------------------


def measure(step, trace):
    """Run one step once; print a JSON line of figures."""
    import tracemalloc

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from servicedesk.reports import data, services, workbook

    result = {"step": step, "rss_before_mb": round(rss_mb("VmRSS"), 1)}
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    with CaptureQueriesContext(connection) as queries:
        if step == "figures":
            data.period_figures(MONTH_START, MONTH_END)
        elif step == "workbook":
            figures = data.period_figures(MONTH_START, MONTH_END)
            path = Path(tempfile.mkdtemp()) / "report.xlsx"
            counts = workbook.build_workbook(
                figures, data.case_rows(MONTH_START, MONTH_END), path, "zh-hans"
            )
            result["rows"] = max(counts.values())
            result["file_mb"] = round(path.stat().st_size / 1048576, 1)
            shutil.rmtree(path.parent)
        else:
            report = services.report_generate(
                start=MONTH_START, end=MONTH_END, kind="period", language="zh-hans"
            )
            result["file_mb"] = round(report.size / 1048576, 1)
            report.file.delete(save=False)
            report.delete()
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["queries"] = len(queries)
    if trace:
        result["tracemalloc_peak_mb"] = round(tracemalloc.get_traced_memory()[1] / 1048576, 1)
        tracemalloc.stop()
    result["rss_peak_mb"] = round(rss_mb(), 1)
    print(json.dumps(result))


def child(step, trace, env):
    args = [sys.executable, __file__, "--step", step] + (["--trace"] if trace else [])
    out = subprocess.run(args, env=env, capture_output=True, text=True, check=False)
    if out.returncode:
        sys.stderr.write(out.stderr)
        raise SystemExit(f"bench: step {step} failed")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    args = parse_args()
    if args.step:
        import django

        django.setup()
        measure(args.step, args.trace)
        return

    var_dir = None
    if args.database_url:
        if "bench" not in args.database_url.rsplit("/", 1)[-1]:
            raise SystemExit("bench: the database name must contain 'bench'")
        os.environ["DATABASE_URL"] = args.database_url
        os.environ.setdefault("VAR_DIR", tempfile.mkdtemp(prefix="report-bench-"))
    else:
        os.environ.pop("DATABASE_URL", None)
        var_dir = args.var_dir or tempfile.mkdtemp(prefix="report-bench-")
        args.keep = args.keep or bool(args.var_dir)
        os.environ["VAR_DIR"] = var_dir
    os.environ.pop("MEDIA_ROOT", None)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    try:
        db = settings.DATABASES["default"]
        print(f"database {connection.vendor} {db['NAME']}")
        call_command("migrate", verbosity=0)
        if args.database_url:
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE complaints_case, complaints_customer, callbacks_response, "
                    "complaints_returnrequest RESTART IDENTITY CASCADE"
                )
        people = staff()
        rng = random.Random(2026)
        env = dict(os.environ)
        print(
            f"{'cases':>10} {'step':<9} {'seconds':>8} {'queries':>8} {'file MB':>8} "
            f"{'RSS at start':>11} {'peak RSS':>9} {'tracemalloc peak':>17}",
            flush=True,
        )
        for target in sorted(args.rows):
            load_seconds = load(target, rng, people)
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("ANALYZE")
            connection.close()  # the children open their own
            print(f"{target:>10,} cases in the month (loaded in {load_seconds:.1f} s)", flush=True)
            for step in STEPS:
                plain = child(step, False, env)
                # Traced once, the workbook alone: what streaming the rows keeps in memory.
                traced = child(step, True, env) if step == "workbook" and args.tracemalloc else {}
                peak = traced.get("tracemalloc_peak_mb")
                print(
                    f"{target:>10,} {step:<9} {plain['seconds']:>8.2f} {plain['queries']:>8} "
                    f"{plain.get('file_mb', ''):>8} {plain['rss_before_mb']:>8.1f} MB "
                    f"{plain['rss_peak_mb']:>6.1f} MB "
                    + (f"{peak:>14.1f} MB" if peak is not None else f"{'':>17}"),
                    flush=True,
                )
    finally:
        if var_dir and not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)
        elif var_dir:
            print(f"kept {var_dir}")


if __name__ == "__main__":
    main()
