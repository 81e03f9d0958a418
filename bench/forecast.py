"""How long the staffing forecast takes over a million contacts of intake history.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/sd_bench_wf DEBUG=1 \\
        .venv/bin/python bench/forecast.py [--contacts 1000000 --weeks 8]

Creates the PostgreSQL database if it is missing and migrates it, empties its case tables
(the database name must contain "bench"), registers 200 cases through the intake service and
loads the contacts about them server-side, in one INSERT … SELECT over generate_series per
100,000 rows: spread over the `--weeks` weeks before next Monday, busier in office hours,
phone and chat the most. Runs ANALYZE, then times servicedesk.workforce.forecast.forecast_week
(ONE grouped query, then Python over the grouped rows only), the agents needed per interval
(Erlang C / backlog) and the staffing page's whole computation (with the handling time read
from the timeline and the rota). Prints figures and the query's EXPLAIN ANALYZE; asserts
nothing about time.
"""

import argparse
import datetime
import os
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sd_bench_wf")
os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")

CHUNK = 100_000
CASES = 200


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000, help="contacts of history")
    parser.add_argument("--weeks", type=int, default=8, help="weeks of history forecast from")
    return parser.parse_args()


def ensure_database(db):
    import psycopg
    from psycopg import sql

    params = {k: db.get(v) or None for k, v in
              (("host", "HOST"), ("port", "PORT"), ("user", "USER"), ("password", "PASSWORD"))}  # fmt: skip
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            print(f"created database {db['NAME']}")


def load(args, monday):
    from django.db import connection
    from django.utils import timezone

    from complaints import services

    case_ids = [
        services.case_intake(
            channel="phone", customer={"name": f"压测客户{i}", "phone": f"1390000{i:04d}"},
            subject=f"压测工单 {i}", description="预测压测", type="complaint", category="product",
        ).case.pk
        for i in range(CASES)
    ]  # fmt: skip
    start = datetime.datetime.combine(
        monday - datetime.timedelta(weeks=args.weeks),
        datetime.time(),
        timezone.get_current_timezone(),
    )
    span = args.weeks * 7 * 86400
    # Spread evenly, then folded so two in three land between 08:00 and 20:00 local time.
    sql = """
        INSERT INTO complaints_casecontact (case_id, channel, received_at, subject, raw_text)
        SELECT (%(cases)s::bigint[])[1 + g %% %(n_cases)s],
               (ARRAY['phone','phone','phone','chat','chat','email','web','social'])[1 + g %% 8],
               CASE WHEN g %% 3 = 0 THEN %(start)s + ((g::bigint * %(span)s / %(total)s) * interval '1 second')
                    ELSE date_trunc('day', %(start)s + ((g::bigint * %(span)s / %(total)s) * interval '1 second'))
                         + interval '8 hours' + ((g %% 43200) * interval '1 second') END,
               '', ''
        FROM generate_series(%(lo)s, %(hi)s) AS g
    """
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for lo in range(1, args.contacts + 1, CHUNK):
            hi = min(lo + CHUNK - 1, args.contacts)
            cursor.execute(sql, {"cases": case_ids, "n_cases": CASES, "start": start, "span": span,
                                 "total": args.contacts, "lo": lo, "hi": hi})  # fmt: skip
            print(f"  … {hi:>9,} contacts", end="\r", flush=True)
        print(" " * 30, end="\r")
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def main():
    args = parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from complaints.models import CaseContact
    from servicedesk.rota.services import week_start
    from servicedesk.workforce import forecast, staffing

    db = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        raise SystemExit("bench: set DATABASE_URL to a PostgreSQL database (postgres://…/…bench…)")
    if "bench" not in db["NAME"]:
        raise SystemExit(f"bench: refusing to empty {db['NAME']!r}: its name must contain 'bench'")
    ensure_database(db)
    call_command("migrate", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE complaints_case, complaints_customer RESTART IDENTITY CASCADE")
    monday = week_start(timezone.localdate()) + datetime.timedelta(days=7)
    print(f"database {db['NAME']}; forecasting the week of {monday} from {args.weeks} weeks")
    load_seconds = load(args, monday)
    total = CaseContact.objects.count()

    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(
        monday - datetime.timedelta(weeks=args.weeks), datetime.time(), tz
    )
    end = datetime.datetime.combine(monday, datetime.time(), tz)
    with CaptureQueriesContext(connection) as queries:
        t0 = time.perf_counter()
        counts = forecast.intake_counts(start=start, end=end)
        t1 = time.perf_counter()
        fc = forecast.forecast_week(monday=monday, weeks=args.weeks, counts=counts)
        t2 = time.perf_counter()
        need = forecast.agents_needed(fc)
        t3 = time.perf_counter()
    page_started = time.perf_counter()
    with CaptureQueriesContext(connection) as page_queries:
        staffing.staffing_week(monday=monday, weeks=args.weeks)
    page_seconds = time.perf_counter() - page_started

    print()
    print(f"contacts in the history   {total:>12,}  (loaded in {load_seconds:.1f} s)")
    print(f"grouped query             {t1 - t0:>12.2f} s  ({len(counts):,} grouped rows)")
    print(f"forecast from the groups  {t2 - t1:>12.2f} s")
    print(f"agents needed (336 × {len(fc.channels)} ch) {t3 - t2:>8.2f} s")
    print(f"forecast in all           {t3 - t0:>12.2f} s  ({len(queries)} queries)")
    print(f"staffing page computation {page_seconds:>12.2f} s  ({len(page_queries)} queries)")
    print(f"peak agents needed        {max(need.per_interval.values()):>12}")
    plan = forecast.intake_counts_queryset(start=start, end=end).explain(analyze=True)
    print("\nEXPLAIN ANALYZE of the grouped query:")
    print("\n".join("    " + line for line in plan.splitlines()))


if __name__ == "__main__":
    main()
