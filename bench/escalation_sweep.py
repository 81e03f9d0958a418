"""How long one escalation sweep takes over a large case table, and how many queries it issues.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/servicedesk_bench DEBUG=1 \\
        .venv/bin/python bench/escalation_sweep.py [--cases 1000000 --open 100000]

Creates the PostgreSQL database if it is missing and migrates it, empties its case tables
(the database name must contain "bench"), loads the cases in one INSERT … SELECT over
generate_series per 100,000 rows (server-side: no Python per row), runs ANALYZE, then times ONE
call of complaints.services.sla_sweep() with a query counter and prints the figures and the
EXPLAIN of the sweep's SELECT. It prints figures and asserts nothing about time.

The data: a few customers, one department with a supervisor, a handler and an agent, one
manager. Closed cases have every deadline met and no escalation row (the sweep reads the
partial index of complaints_caseescalation). Of the open cases, one in ten (`--overdue-every`) missed its
first response between 1 minute and 6 hours ago: each raises a level-1 escalation, and those
more than ESCALATION_LEVEL2_AFTER_HOURS (4 h) late a level-2 one too. The other open cases
have their next deadline ahead.
"""

import argparse
import datetime
import os
import re
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/servicedesk_bench")
# Notification e-mails are queued after each batch: keep those messages in this process.
os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")

CHUNK = 100_000
CUSTOMERS = 50


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000, help="cases in all")
    parser.add_argument(
        "--open", type=int, default=None, help="of which open (default: a tenth of --cases)"
    )
    parser.add_argument(
        "--overdue-every", type=int, default=10, help="one open case in N is overdue"
    )
    parser.add_argument("--batch-size", type=int, default=None, help="ESCALATION_BATCH_SIZE")
    args = parser.parse_args()
    if args.open is None:
        args.open = args.cases // 10
    if not 0 <= args.open <= args.cases:
        parser.error("--open must be between 0 and --cases")
    return args


def ensure_database(db):
    """CREATE DATABASE through the server's `postgres` database if the bench one is missing."""
    import psycopg
    from psycopg import sql

    params = {
        "host": db.get("HOST") or None,
        "port": db.get("PORT") or None,
        "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None,
    }
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            print(f"created database {db['NAME']}")


def people():
    """One department and its staff; the sweep alerts the supervisor, then the manager."""
    from django.contrib.auth.models import Group

    from complaints.models import Customer
    from servicedesk.staff import roles
    from servicedesk.staff.models import Department, Membership, User

    dept = Department.objects.create(code="bench-logistics", name="物流部（压测）")
    staff = {}
    for username, role in [
        ("bench_agent", roles.AGENT),
        ("bench_handler", roles.HANDLER),
        ("bench_supervisor", roles.SUPERVISOR),
        ("bench_manager", roles.MANAGER),
    ]:
        user = User.objects.create_user(username, email=f"{username}@example.com", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        Membership.objects.create(user=user, department=dept)
        staff[role] = user
    customers = Customer.objects.bulk_create(
        Customer(name=f"压测客户{i}", phone=f"1380000{i:04d}", phone_normalized=f"1380000{i:04d}")
        for i in range(CUSTOMERS)
    )
    return dept, staff, [c.pk for c in customers]


def column_sql(dept, staff, customer_ids):
    """{column: SQL expression over g (the row number) and the named parameters}."""
    from servicedesk.staff import roles

    is_open = "(g > %(closed)s)"
    overdue = f"({is_open} AND g %% %(every)s = 0)"
    # Closed: received over the last two years, oldest first. Open: over the last 3 days.
    created = (
        f"CASE WHEN {is_open} THEN %(now)s - ((g %% 4320) * interval '1 minute') "
        "ELSE %(now)s - interval '3 days' - ((%(closed)s - g) * interval '1 minute') END"
    )
    # Overdue: first response was due 1 minute to 6 hours ago; else due 1 to 72 hours ahead.
    first_due = (
        f"CASE WHEN {overdue} THEN %(now)s - ((1 + g %% 360) * interval '1 minute') "
        f"WHEN {is_open} THEN %(now)s + ((1 + g %% 72) * interval '1 hour') "
        f"ELSE ({created}) + interval '24 hours' END"
    )
    later = f"CASE WHEN {is_open} THEN %(now)s + interval '{{h}} hours' ELSE ({created}) + interval '{{c}} hours' END"
    done = f"CASE WHEN {is_open} THEN NULL ELSE ({created}) + interval '{{h}} hours' END"
    states = "(ARRAY['received','assigned','investigating'])[1 + g %% 3]"
    return {
        "number": "'B' || lpad(g::text, 12, '0')",
        "channel": "'phone'",
        "customer_id": f"(ARRAY{customer_ids}::bigint[])[1 + g %% {len(customer_ids)}]",
        "customer_is_new": "false",
        "subject": "'快递三天没有更新 #' || g",
        "description": "'物流信息三天没有更新，客户要求尽快送达。'",
        "type": "'complaint'",
        "category": "'logistics'",
        "urgency": "'high'",
        "priority": "3",
        "department_id": str(dept.pk),
        "assignee_id": str(staff[roles.HANDLER].pk),
        "created_by_id": str(staff[roles.AGENT].pk),
        "state": f"CASE WHEN {is_open} THEN {states} ELSE 'closed' END",
        "result": f"CASE WHEN {is_open} THEN '' ELSE '已补发' END",
        "feedback_score": f"CASE WHEN {is_open} THEN NULL ELSE 5 END",
        "created_at": created,
        "updated_at": "%(now)s",
        "cycle_started_at": created,
        "first_response_due": first_due,
        "first_response_at": done.format(h=2),
        "investigation_due": later.format(h=96, c=72),
        "investigation_done_at": done.format(h=20),
        "solution_due": later.format(h=144, c=120),
        "solution_sent_at": done.format(h=30),
        "resolved_at": done.format(h=30),
        "satisfaction_due": f"CASE WHEN {is_open} THEN NULL ELSE ({created}) + interval '102 hours' END",
        "satisfaction_done_at": done.format(h=50),
        "closed_at": done.format(h=50),
        "current_stage": f"CASE WHEN {is_open} THEN 'first_response' ELSE '' END",
        "current_due": f"CASE WHEN {is_open} THEN {first_due} END",
        "next_escalation_at": f"CASE WHEN {is_open} THEN {first_due} END",
    }


# Keys of a case's columns that are not columns of complaints_case: its escalation row's.
ESCALATION_KEYS = {"next_escalation_at": "next_at", "escalation_level": "level"}


def with_escalation(names, exprs, source, escalation):
    """One statement inserting cases (`names` from `exprs` over `source`, whose row is `g`) and
    the escalation rows (complaints_caseescalation) of those with a next look or a level:
    `escalation` {"next_at": SQL, "level": SQL} over the same `g`. The two are joined by the
    case number (unique)."""
    number = exprs[names.index('"number"')]
    next_at = escalation.get("next_at", "NULL::timestamptz")
    level = escalation.get("level", "0")
    return (
        f"WITH rows AS (SELECT g, ({number}) AS esc_number, ({next_at}) AS esc_next_at, "
        f"({level}) AS esc_level {source}), "
        f"cases AS (INSERT INTO complaints_case ({', '.join(names)}) "
        f"SELECT {', '.join(exprs)} FROM rows RETURNING id, number) "
        "INSERT INTO complaints_caseescalation (case_id, next_at, level) "
        "SELECT cases.id, rows.esc_next_at, rows.esc_level FROM cases "
        "JOIN rows ON rows.esc_number = cases.number "
        "WHERE rows.esc_next_at IS NOT NULL OR rows.esc_level > 0"
    )


def insert_statement(columns):
    """INSERT … SELECT … FROM generate_series: every concrete column of Case, from `columns`,
    else NULL, the field's plain default or '' for text — so a new NOT NULL column without a
    default stops the bench instead of silently breaking it. `next_escalation_at` and
    `escalation_level` in `columns` go to the cases' escalation rows, in the same statement."""
    from django.db.models.fields import NOT_PROVIDED

    from complaints.models import Case

    escalation = {ESCALATION_KEYS[k]: v for k, v in columns.items() if k in ESCALATION_KEYS}
    names, exprs, defaults = [], [], {}
    for field in Case._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(f'"{field.column}"')
        if field.column in columns:
            exprs.append(columns[field.column])
        elif field.null:
            exprs.append("NULL")
        elif field.default is not NOT_PROVIDED and not callable(field.default):
            key = f"default_{field.column}"
            defaults[key] = field.default
            exprs.append(f"%({key})s")
        elif field.default is NOT_PROVIDED and field.empty_strings_allowed:
            exprs.append("''")  # what Django stores for a blank text field
        else:
            raise SystemExit(f"bench: no value for Case.{field.name}; add it to column_sql()")
    source = "FROM generate_series(%(start)s, %(stop)s) AS g"
    if escalation:
        return with_escalation(names, exprs, source, escalation), defaults
    sql = f"INSERT INTO complaints_case ({', '.join(names)}) SELECT {', '.join(exprs)} {source}"
    return sql, defaults


def load(args, now):
    from django.db import connection

    dept, staff, customer_ids = people()
    sql, defaults = insert_statement(column_sql(dept, staff, customer_ids))
    params = {"now": now, "closed": args.cases - args.open, "every": args.overdue_every, **defaults}
    started = time.perf_counter()
    with connection.cursor() as cursor:
        for start in range(1, args.cases + 1, CHUNK):
            stop = min(start + CHUNK - 1, args.cases)
            cursor.execute(sql, {**params, "start": start, "stop": stop})
            print(f"  … {stop:>9,} rows", end="\r", flush=True)
    load_seconds = time.perf_counter() - started
    print(" " * 30, end="\r")
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return load_seconds, time.perf_counter() - started


def empty_tables():
    from django.db import connection

    from servicedesk.staff.models import User

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE complaints_case, complaints_customer, staff_notification, "
            "staff_membership, staff_department RESTART IDENTITY CASCADE"
        )
    User.objects.filter(username__startswith="bench_").delete()


def statement_kind(sql):
    """'INSERT complaints_slabreach', 'SELECT complaints_case' … for the time breakdown."""
    verb = sql.split(None, 1)[0].upper()
    match = re.search(r'(?:FROM|INTO|UPDATE) "(\w+)"', sql)
    return f"{verb} {match.group(1) if match else ''}".strip()


def explain(sql):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN " + sql)
        return "\n".join("    " + row[0] for row in cursor.fetchall())


def main():
    args = parse_args()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test.utils import CaptureQueriesContext

    from complaints import services
    from complaints.models import Case, SlaBreach

    db = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        raise SystemExit("bench: set DATABASE_URL to a PostgreSQL database (postgres://…/…bench)")
    if "bench" not in db["NAME"]:
        raise SystemExit(f"bench: refusing to empty {db['NAME']!r}: its name must contain 'bench'")
    ensure_database(db)
    call_command("migrate", verbosity=0)
    if args.batch_size:
        settings.ESCALATION_BATCH_SIZE = args.batch_size

    print(f"database {db['NAME']} on {db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}")
    empty_tables()
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    load_seconds, analyze_seconds = load(args, now)
    open_count = Case.objects.open().count()
    pending = Case.objects.filter(escalation__next_at__lte=now).count()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_size_pretty(pg_total_relation_size('complaints_case')), "
            "pg_size_pretty(pg_relation_size('escalation_next_at_idx'))"
        )
        table_size, index_size = cursor.fetchone()

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        raised = services.sla_sweep(now=now)
        sweep_seconds = time.perf_counter() - started
    batch_selects = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith('SELECT') and 'FROM "complaints_case"' in q["sql"]
        and '"next_at" <=' in q["sql"]
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as again:
        raised_again = services.sla_sweep(now=now)

    batch_size = settings.ESCALATION_BATCH_SIZE
    levels = dict(SlaBreach.objects.values_list("level").annotate(n=Count("pk")))
    print()
    print(f"cases loaded            {args.cases:>12,}  ({open_count:,} open)")
    print(f"load time               {load_seconds:>12.1f} s  (+ ANALYZE {analyze_seconds:.1f} s)")
    print(f"table + indexes         {table_size:>12}  (escalation_next_at_idx {index_size})")
    print(f"cases due for the sweep {pending:>12,}")
    print(f"sweep time              {sweep_seconds:>12.2f} s")
    print(
        f"escalations raised      {raised:>12,}  "
        f"(level 1: {levels.get(1, 0):,}, level 2: {levels.get(2, 0):,})"
    )
    print(f"queries                 {len(queries):>12,}")
    batches = len(batch_selects)
    print(
        f"case batches            {batches:>12,}  (batch size {batch_size}; the last SELECT "
        "finds the rest, or nothing)"
    )
    if batches:
        print(f"queries per batch       {len(queries) / batches:>12.1f}")
    print(f"a second sweep          {raised_again:>12,} escalations, {len(again)} queries")
    db_seconds, by_kind = 0.0, {}
    for q in queries.captured_queries:
        seconds = float(q["time"])
        db_seconds += seconds
        kind = statement_kind(q["sql"])
        by_kind[kind] = by_kind.get(kind, 0.0) + seconds
    print(
        f"time in the database    {db_seconds:>12.2f} s  (the rest, "
        f"{sweep_seconds - db_seconds:.2f} s, is Python: deciding, building rows)"
    )
    for kind, seconds in sorted(by_kind.items(), key=lambda kv: -kv[1])[:6]:
        print(f"    {seconds:>8.2f} s  {kind}")
    if batch_selects:
        print("\nEXPLAIN of the sweep's SELECT (one batch):")
        print("    " + re.sub(r"^SELECT .*? FROM ", "SELECT … FROM ", batch_selects[0]))
        print(explain(batch_selects[0]))
    plan = Case.objects.overdue(now).order_by("current_due").values("pk")[:50].explain()
    print("\nEXPLAIN of the overdue queue (Case.objects.overdue(now), first 50):")
    print("\n".join("    " + line for line in plan.splitlines()))


if __name__ == "__main__":
    main()
