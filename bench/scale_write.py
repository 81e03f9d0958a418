"""The write side at scale: intake throughput under gunicorn + wrk, queries per create, and
the escalation sweep when 100,000 cases fall due at once — at 10k, 100k and 1M cases.

    DEBUG=1 .venv/bin/python bench/scale_write.py                      # 10k, 100k, 1M
    DEBUG=1 .venv/bin/python bench/scale_write.py --sizes 10000 --due 5000 --seconds 10
    DEBUG=1 .venv/bin/python bench/scale_write.py --with-peer          # + django-helpdesk's

Uses its own PostgreSQL database (`--database-url`, default $DATABASE_URL, else
postgres://postgres@127.0.0.1:5432/sd_bench_write; the name must contain "bench": it is
emptied), created and migrated if missing. Cases, customers and timeline entries are loaded
server-side (INSERT … SELECT over generate_series), growing the same tables from one size to
the next. At each size it prints:

- queries per create: statements of one API create measured in this process (a new customer,
  a returning customer, a duplicate that is absorbed; BEGIN/COMMIT not counted);
- intake req/s: `wrk` POSTing varied bodies (half returning customers, subjects, channels and
  categories drawn at random; every category routes to a department and is assigned to its
  least-loaded handler) to gunicorn with 2 workers (`--preload`) for --seconds;
- gunicorn worker memory (RSS, after the run).

Then, at the largest size, it loads --due open cases whose first response fell due in the
last 6 hours and times ONE escalation sweep (services.sla_sweep): escalations raised and
notifications created (digests: one per person). It prints figures and asserts nothing.

`--with-peer` also measures django-helpdesk 2.6.1's API ticket create (bench/peer.py: a venv
under --peer-dir, its database hd_100000 with 100,000 tickets) the way its server_bench.sh
does — its gunicorn, 2 sync workers, `wrk -t1` with its post_api.lua, same connections and
seconds as ours — and prints its req/s, CPU per create and the ratio ours / peer.
`--pairs N` then measures the two N more times in turn, at the largest size (one first, then
the other, the order swapped each pair), and prints each pair's ratios and their median: on a
machine whose speed wanders from minute to minute, a ratio of two runs minutes apart says
more about the machine than about the two desks.

The cache is Redis db 14 (`REDIS_URL`), as in production. Needs Debian's `wrk` (apt-get
install wrk). Each department has 8 handlers; the open backlog is a fixed 2,000 cases spread
over them (a desk's backlog does not grow with its history).
"""

import argparse
import datetime
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import peer

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sd_bench_write")
# Tasks enqueued after commit stay in each process. The cache is the one production runs
# with, Redis (db 14; intake reads its rules' version token there on every create), not the
# database table of `make run`; REDIS_URL= (empty) measures with that table instead.
os.environ["CELERY_BROKER_URL"] = "memory://localhost/"
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("CACHE_KEY_PREFIX", "bench_write")

DEPARTMENTS = [  # (code, name, category routed there)
    ("bw-product", "产品部（压测）", "product"),
    ("bw-service", "服务部（压测）", "service"),
    ("bw-logistics", "物流部（压测）", "logistics"),
    ("bw-process", "流程部（压测）", "process"),
    ("bw-tech", "技术部（压测）", "technical"),
]
HANDLERS_PER_DEPARTMENT = 8
OPEN_BACKLOG = 2000
EVENTS_PER_CASE = 3
CHUNK = 100_000

# What the bench's creates draw from (wrk's script below; bench/intake_cpu.py too).
SUBJECTS = [
    "快递三天没有更新", "手机屏幕碎了要求换货", "发票抬头开错了", "客服电话一直打不通",
    "APP登录后闪退", "退款一周还没到账", "商品与描述不符", "安装师傅迟到两小时", "会员积分被清零",
    "耳机左耳没有声音", "包装破损商品受潮", "优惠券无法使用", "订单被无故取消", "充电器发热严重",
    "售后态度恶劣", "预约上门一直没人来", "系统扣款两次", "赠品没有收到", "说明书缺页",
    "物流信息显示已签收但没收到",
]  # fmt: skip
CATEGORIES = ["product", "service", "logistics", "process", "technical"]
CHANNELS = ["phone", "email", "web", "chat", "social", "api"]


def lua_list(values):
    return "{" + ", ".join(f'"{v}"' for v in values) + "}"


LUA = r"""
math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16) %% 100000)
local subjects = %(subjects)s
local categories = %(categories)s
local channels = %(channels)s
local n = 0
request = function()
  n = n + 1
  local phone
  if math.random() < 0.5 then
    phone = string.format("139%%08d", math.random(1, %(customers)d))
  else
    phone = string.format("15%%09d", math.random(0, 999999999))
  end
  local subject = subjects[math.random(#subjects)] .. "（" .. math.random(1, 100000) .. "）"
  local body = string.format(
    '{"channel":"%%s","customer":{"name":"压测客户","phone":"%%s"},"subject":"%%s",' ..
    '"description":"客户来电反映：%%s，要求尽快处理。","type":"complaint","category":"%%s"}',
    channels[math.random(#channels)], phone, subject, subject, categories[math.random(#categories)])
  return wrk.format("POST", "/api/v1/cases/", {
    ["Content-Type"] = "application/json", ["Authorization"] = "Token %(token)s",
    ["X-Forwarded-Proto"] = "https"}, body)
end
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="10000,100000,1000000", help="cases, comma-separated")
    parser.add_argument("--due", type=int, default=100_000, help="cases falling due at once")
    parser.add_argument("--seconds", type=int, default=20, help="wrk duration per size")
    parser.add_argument("--connections", type=int, default=8, help="wrk connections")
    parser.add_argument(
        "--threads", type=int, default=1, help="wrk threads (1: as the peer's script runs it)"
    )
    parser.add_argument("--database-url", default=os.environ["DATABASE_URL"])
    parser.add_argument("--with-peer", action="store_true", help="django-helpdesk's intake")
    parser.add_argument("--peer-dir", default=peer.PEER_DIR)
    parser.add_argument(
        "--pairs", type=int, default=0, help="with --with-peer: N more runs of each, in turn"
    )
    parser.add_argument(
        "--escalation-only", action="store_true",
        help="only the sweep, on the cases a previous run left (no reload, no wrk)",
    )  # fmt: skip
    args = parser.parse_args()
    args.sizes = sorted(int(s) for s in args.sizes.split(","))
    os.environ["DATABASE_URL"] = args.database_url
    return args


def setup_people():
    from django.contrib.auth.models import Group
    from rest_framework.authtoken.models import Token

    from complaints.models import RoutingRule
    from servicedesk.staff import roles
    from servicedesk.staff.models import Department, Membership, User

    agent = User.objects.create_user("bw_agent", email="bw_agent@example.com", is_staff=True)
    agent.groups.add(Group.objects.get(name=roles.AGENT))
    manager = User.objects.create_user("bw_manager", email="bw_m@example.com", is_staff=True)
    manager.groups.add(Group.objects.get(name=roles.MANAGER))
    handler_ids = []
    for order, (code, name, category) in enumerate(DEPARTMENTS, 1):
        dept = Department.objects.create(code=code, name=name)
        Membership.objects.create(user=agent, department=dept)
        RoutingRule.objects.create(name=name, category=category, department=dept, order=order)
        sup = User.objects.create_user(f"bw_sup_{code}", email=f"s-{code}@example.com")
        sup.groups.add(Group.objects.get(name=roles.SUPERVISOR))
        Membership.objects.create(user=sup, department=dept)
        for i in range(HANDLERS_PER_DEPARTMENT):
            user = User.objects.create_user(f"bw_h_{code}_{i}", email=f"h{i}-{code}@example.com")
            user.groups.add(Group.objects.get(name=roles.HANDLER))
            Membership.objects.create(user=user, department=dept)
            handler_ids.append((dept.pk, user.pk))
    token = Token.objects.create(user=agent)
    return agent, token.key, handler_ids


def empty_tables():
    from django.db import connection

    from complaints.models import RoutingRule
    from servicedesk.staff.models import User

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE complaints_case, complaints_customer, complaints_casenumbersequence, "
            "complaints_assigneeload, staff_notification, staff_membership, staff_department "
            "RESTART IDENTITY CASCADE"
        )
        # Seeded customers take ids 1…N (explicitly); customers the API creates come after.
        cursor.execute("ALTER TABLE complaints_customer ALTER COLUMN id RESTART WITH 100000000")
    RoutingRule.objects.all().delete()
    User.objects.filter(username__startswith="bw_").delete()


def case_columns(handler_ids, now):
    """{column: SQL over g} for seeded cases: closed history over the last 18 months, except
    the last OPEN_BACKLOG rows of the first load (open, deadlines ahead)."""
    depts = [d for d, _ in handler_ids]
    handlers = [h for _, h in handler_ids]
    n = len(handler_ids)
    is_open = "(g <= %(open)s)"
    created = "%(now)s - ((g %% 777600) * interval '1 minute') - interval '3 days'"
    done = f"CASE WHEN {is_open} THEN NULL ELSE ({created}) + interval '{{h}} hours' END"
    ahead = "%(now)s + ((1 + g %% 72) * interval '1 hour')"
    return {
        "number": "'S' || lpad(g::text, 12, '0')",
        "channel": "(ARRAY['phone','email','web','social'])[1 + g %% 4]",
        "customer_id": "1 + (g %% %(customers)s)",
        "customer_is_new": "false",
        "subject": "'历史工单：快递三天没有更新 #' || g",
        "description": "'物流信息三天没有更新，客户要求尽快送达。'",
        "type": "'complaint'",
        "category": "(ARRAY['product','service','logistics','process','technical'])[1 + g %% 5]",
        "urgency": "'medium'",
        "priority": "3",
        "department_id": f"(ARRAY{depts}::bigint[])[1 + g %% {n}]",
        "assignee_id": f"(ARRAY{handlers}::bigint[])[1 + g %% {n}]",
        "created_by_id": "%(agent)s",
        "state": f"CASE WHEN {is_open} THEN 'assigned' ELSE 'closed' END",
        "result": f"CASE WHEN {is_open} THEN '' ELSE '已处理' END",
        "feedback_score": f"CASE WHEN {is_open} THEN NULL ELSE 5 END",
        "created_at": created,
        "updated_at": "%(now)s",
        "cycle_started_at": created,
        "first_response_due": f"CASE WHEN {is_open} THEN {ahead} ELSE ({created}) + interval '72 hours' END",
        "first_response_at": done.format(h=2),
        "investigation_due": f"({created}) + interval '120 hours'",
        "investigation_done_at": done.format(h=20),
        "solution_due": f"({created}) + interval '168 hours'",
        "solution_sent_at": done.format(h=30),
        "resolved_at": done.format(h=30),
        "satisfaction_due": f"CASE WHEN {is_open} THEN NULL ELSE ({created}) + interval '102 hours' END",
        "satisfaction_done_at": done.format(h=50),
        "closed_at": done.format(h=50),
        "current_stage": f"CASE WHEN {is_open} THEN 'first_response' ELSE '' END",
        "current_due": f"CASE WHEN {is_open} THEN {ahead} END",
        "next_escalation_at": f"CASE WHEN {is_open} THEN {ahead} END",
    }


def due_columns(handler_ids, now):
    """Open cases whose first response fell due 1 minute to 6 hours ago."""
    columns = case_columns(handler_ids, now)
    due = "%(now)s - ((1 + g %% 360) * interval '1 minute')"
    columns.update(
        number="'D' || lpad(g::text, 12, '0')",
        subject="'逾期工单：退款一周还没到账 #' || g",
        state="'assigned'",
        result="''",
        feedback_score="NULL",
        created_at="%(now)s - interval '2 days'",
        cycle_started_at="%(now)s - interval '2 days'",
        first_response_due=due,
        # The later stages are still ahead: one missed deadline per case (two levels at most).
        investigation_due="%(now)s + interval '2 days'",
        solution_due="%(now)s + interval '4 days'",
        current_due=due,
        next_escalation_at=due,
        current_stage="'first_response'",
        **dict.fromkeys(["first_response_at", "investigation_done_at", "solution_sent_at", "resolved_at", "satisfaction_due", "satisfaction_done_at", "closed_at"], "NULL"),
    )  # fmt: skip
    return columns


def model_insert(label, columns):
    """INSERT … SELECT … FROM generate_series for `label`'s model: `columns` as given, other
    columns NULL, their plain default or '' (a new NOT NULL column without a default stops
    the bench with a message)."""
    from django.apps import apps
    from django.db.models.fields import NOT_PROVIDED

    model = apps.get_model(label)
    names, exprs, defaults = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key and field.column not in columns:
            continue
        names.append(f'"{field.column}"')
        if field.column in columns:
            exprs.append(columns[field.column])
        elif field.null:
            exprs.append("NULL")
        elif field.default is not NOT_PROVIDED and not callable(field.default):
            defaults[f"default_{field.column}"] = field.default
            exprs.append(f"%(default_{field.column})s")
        elif field.empty_strings_allowed:
            exprs.append("''")
        else:
            raise SystemExit(f"bench: no value for {label}.{field.name}")
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(names)}) SELECT {', '.join(exprs)} "
        "FROM generate_series(%(start)s, %(stop)s) AS g"
    )
    return sql, defaults


def load_to(size, have, *, handler_ids, agent, now):
    """Grow the case table from `have` to `size` rows (customers: a third of the cases)."""
    import escalation_sweep
    from django.db import connection

    sql, defaults = escalation_sweep.insert_statement(case_columns(handler_ids, now))
    customers = max(size // 3, 1)
    params = {"now": now, "open": OPEN_BACKLOG, "agent": agent.pk, "customers": customers,
              **defaults}  # fmt: skip
    started = time.perf_counter()
    customer_sql, customer_defaults = model_insert(
        "complaints.Customer",
        {"id": "g", "name": "'压测客户' || g", "phone": "'139' || lpad(g::text, 8, '0')",
         "phone_normalized": "'139' || lpad(g::text, 8, '0')", "created_at": "%(now)s"},
    )  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(
            customer_sql,
            {"now": now, "start": have // 3 + 1, "stop": customers, **customer_defaults},
        )
        for start in range(have + 1, size + 1, CHUNK):
            stop = min(start + CHUNK - 1, size)
            cursor.execute(sql, {**params, "start": start, "stop": stop})
            cursor.execute(
                "INSERT INTO complaints_caseevent (case_id, kind, transition, from_state,"
                " to_state, message, customer_notified, data, author_id, created_at) "
                "SELECT c.id, 'note', '', '', '', '历史记录 ' || k, false, '{}'::jsonb, NULL,"
                " c.created_at + k * interval '1 hour' "
                "FROM complaints_case c CROSS JOIN generate_series(1, %(k)s) AS k "
                "WHERE c.number BETWEEN %(a)s AND %(b)s",
                {"k": EVENTS_PER_CASE, "a": f"S{start:012d}", "b": f"S{stop:012d}"},
            )
            print(f"  … {stop:>9,} cases", end="\r", flush=True)
    print(" " * 30, end="\r")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def queries_per_create(token, size):
    """Statements of three API creates (new, returning, absorbed), BEGIN/COMMIT left out (a
    statement sent with its BEGIN counts once)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    client = APIClient(HTTP_AUTHORIZATION=f"Token {token}", HTTP_HOST="127.0.0.1")
    # Transaction control alone is not counted; a statement sent with its BEGIN is.
    control = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT \S+|RELEASE SAVEPOINT \S+)")
    bodies = [
        ("new customer", {"phone": f"170{time.time_ns() % 10**8:08d}"}, "充电器发热严重"),
        # A seeded customer no earlier size asked for (customers are 1 … size/3).
        ("returning customer", {"phone": f"139{size // 3:08d}"}, "会员积分被清零了"),
        ("absorbed duplicate", {"phone": f"139{size // 3:08d}"}, "会员积分被清零"),
    ]
    counts = []
    # A new customer each time: a repeat would be absorbed and leave intake's rules unread.
    warm = {"channel": "phone",
            "customer": {"name": "预热", "phone": f"150{time.time_ns() % 10**8:08d}"},
            "subject": "预热请求", "description": "预热", "type": "complaint",
            "category": "service"}  # fmt: skip
    client.post("/api/v1/cases/", warm, format="json")  # caches: content types, permissions
    for label, customer, subject in bodies:
        body = {"channel": "phone", "customer": {"name": "查询计数", **customer},
                "subject": subject, "description": subject, "type": "complaint",
                "category": "service"}  # fmt: skip
        with CaptureQueriesContext(connection) as q:
            response = client.post("/api/v1/cases/", body, format="json")
        assert response.status_code in (200, 201), response.content[:500]
        n = sum(1 for x in q.captured_queries if not control.fullmatch(x["sql"].strip()))
        counts.append((label, n, response.json().get("absorbed")))
    return counts


def created_count():
    from complaints.models import CaseContact

    return CaseContact.objects.count()


def cpu_seconds(pids):
    """User + system CPU time of these processes (those still alive)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def backend_pids():
    """PostgreSQL backends serving the bench database, other than this process's own."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        return [pid for (pid,) in cursor.fetchall()]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def memory_mb(pid):
    """(RSS, PSS, USS) in MB: resident, proportional share of pages shared with the master
    and the other worker, and private (what the process alone costs)."""
    try:
        fields = {}
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
            name, value = line.split(":", 1)
            fields[name] = int(value.split()[0]) / 1024
    except OSError:
        return (0.0, 0.0, 0.0)
    return (fields["Rss"], fields["Pss"], fields["Private_Clean"] + fields["Private_Dirty"])


def run_wrk(args, token, customers):
    """gunicorn (2 workers, --preload) on a free port, wrk against it; (req/s, errors,
    worker RSS MB list, wrk's summary line)."""
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "http://127.0.0.1",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-" + "x" * 50),
        "GUNICORN_ACCESS_LOG": "",  # none, as the peer's gunicorn runs (nginx logs, deployed)
    }
    gunicorn = subprocess.Popen(
        [str(BASE_DIR / ".venv/bin/gunicorn"), "servicedesk.wsgi:application",
         "-c", "python:servicedesk.gunicorn_conf", "--workers", "2",
         "--bind", f"127.0.0.1:{port}"],
        cwd=BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        peer.wait_until_serving(gunicorn, port)
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(
                LUA
                % {"customers": customers, "token": token, "subjects": lua_list(SUBJECTS),
                   "categories": lua_list(CATEGORIES), "channels": lua_list(CHANNELS)}
            )  # fmt: skip
        # Warm both workers (imports, first queries) before measuring.
        subprocess.run(["wrk", "-t1", "-c2", "-d2s", "-s", lua.name,
                        f"http://127.0.0.1:{port}/"], capture_output=True, check=False)  # fmt: skip
        children = subprocess.run(
            ["ps", "-o", "pid=", "--ppid", str(gunicorn.pid)], capture_output=True, text=True
        ).stdout.split()
        serving = [int(pid) for pid in children] + backend_pids()
        cpu_before, created_before = cpu_seconds(serving), created_count()
        out = subprocess.run(
            ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.seconds}s",
             "-s", lua.name, f"http://127.0.0.1:{port}/"],
            capture_output=True, text=True, check=False,
        ).stdout  # fmt: skip
        cpu = cpu_seconds(serving) - cpu_before
        creates = created_count() - created_before
        os.unlink(lua.name)
        memory = [memory_mb(int(pid)) for pid in children]
        memory.insert(0, memory_mb(gunicorn.pid))
    finally:
        gunicorn.send_signal(signal.SIGTERM)
        gunicorn.wait(timeout=30)
    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    latency = re.search(r"Latency\s+(\S+)", out)
    return (
        float(rate.group(1)) if rate else 0.0,
        int(errors.group(1)) if errors else 0,
        memory,
        latency.group(1) if latency else "?",
        out,
        1000 * cpu / creates if creates else 0.0,
    )


def escalation_run(due, handler_ids, agent, have, now, customers=None):
    """Load `due` overdue open cases (of `customers` seeded customers, else a third of
    `have`) and time one sweep."""
    import escalation_sweep
    from django.db import connection

    from complaints import services
    from complaints.models import SlaBreach
    from servicedesk.staff.models import Notification

    sql, defaults = escalation_sweep.insert_statement(due_columns(handler_ids, now))
    params = {"now": now, "open": 0, "agent": agent.pk, "customers": customers or max(have // 3, 1),
              **defaults}  # fmt: skip
    with connection.cursor() as cursor:
        for start in range(1, due + 1, CHUNK):
            cursor.execute(sql, {**params, "start": start, "stop": min(start + CHUNK - 1, due)})
        cursor.execute("ANALYZE complaints_case, complaints_caseescalation")
    notes_before = Notification.objects.count()
    started = time.perf_counter()
    raised = services.sla_sweep(now=now)
    seconds = time.perf_counter() - started
    notes = Notification.objects.count() - notes_before
    levels = {
        level: SlaBreach.objects.filter(level=level, escalated_at=now).count() for level in (1, 2)
    }
    again = time.perf_counter()
    raised_again = services.sla_sweep(now=now)
    return seconds, raised, levels, notes, raised_again, time.perf_counter() - again


def escalation_again(args):
    """The sweep alone, on the table a previous run filled: its due cases replaced."""
    from django.db import connection

    from servicedesk.staff.models import User

    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM complaints_case WHERE number LIKE 'D%%'")
        ids = [row[0] for row in cursor.fetchall()]
        # The timeline is append-only (a trigger): the bench's own rows go with triggers off.
        cursor.execute("SET session_replication_role = replica")
        # Replica mode skips the foreign keys' checks: the escalation rows go by name too.
        for table in ("complaints_slabreach", "complaints_caseevent", "complaints_casecontact",
                      "complaints_caseescalation"):  # fmt: skip
            cursor.execute(f"DELETE FROM {table} WHERE case_id = ANY(%s)", [ids])
        cursor.execute("DELETE FROM complaints_case WHERE id = ANY(%s)", [ids])
        cursor.execute("SET session_replication_role = DEFAULT")
        # The triggers that keep each handler's active cases were off too.
        from complaints.models_load import recount

        recount()
        cursor.execute("DELETE FROM staff_notification")
        cursor.execute(
            "SELECT m.department_id, m.user_id FROM staff_membership m JOIN staff_user u "
            "ON u.id = m.user_id WHERE u.username LIKE 'bw_h_%%' ORDER BY m.user_id"
        )
        handler_ids = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM complaints_case")
        have = cursor.fetchone()[0]
        # The seeded customers (ids 1 … N, phones 139…): the API's intakes added others, so
        # a third of the cases now counts past them.
        cursor.execute("SELECT count(*) FROM complaints_customer WHERE phone LIKE '139%%'")
        customers = cursor.fetchone()[0]
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    agent = User.objects.get(username="bw_agent")
    report_escalation(args, handler_ids, agent, have, now, customers)


def report_escalation(args, handler_ids, agent, have, now, customers=None):
    from django.conf import settings

    seconds, raised, levels, notes, again, again_s = escalation_run(
        args.due, handler_ids, agent, have, now, customers
    )
    print(f"\n== escalation: {args.due:,} cases fall due at once ({have:,} cases in the table)")
    print(f"sweep time             {seconds:.2f} s")
    print(f"escalations raised     {raised:,} (level 1: {levels[1]:,}, level 2: {levels[2]:,})")
    print(f"notifications created  {notes:,} (one digest per person over "
          f"ESCALATION_DIGEST_OVER={settings.ESCALATION_DIGEST_OVER})")  # fmt: skip
    print(f"a second sweep         {again} escalations in {again_s:.2f} s")


def report_peer(args, hd, rows):
    """The peer's intake, measured now, beside ours at 100k (else the closest size)."""
    result = peer.intake(hd, args.connections, args.seconds, cpu_seconds)
    print(f"\n== django-helpdesk 2.6.1: API ticket create, {result.tickets:,} tickets "
          f"(gunicorn 2 sync workers, wrk -t1 -c{args.connections} -d{args.seconds}s, "
          "post_api.lua)")  # fmt: skip
    print(f"intake (wrk)           {result.rate:,.1f} req/s, latency avg {result.latency}, "
          f"non-2xx {result.errors}; {result.creates:,} tickets created")  # fmt: skip
    print(f"CPU per create         {result.cpu_ms:.1f} ms ({result.processes}); "
          f"load average now {os.getloadavg()[0]:.1f}")  # fmt: skip
    if result.rate == 0 or result.errors:
        print(result.out)
    size, _, _, rate, _, _, cpu_ms = min(rows, key=lambda row: abs(row[0] - peer.TICKETS))
    ratio = f"{rate / result.rate:.2f}×" if result.rate else "n/a"
    cpu = f"{result.cpu_ms / cpu_ms:.2f}×" if cpu_ms else "n/a"
    print(f"ours / peer            {ratio} req/s (ours at {size:,} cases: {rate:,.1f} req/s); "
          f"CPU per create peer / ours {cpu} ({result.cpu_ms:.1f} / {cpu_ms:.1f} ms)")  # fmt: skip
    return result


def report_pairs(args, hd, token, have):
    """Ours (at `have` cases) and the peer `args.pairs` times in turn; each pair's ratios,
    then the medians (returned as the summary's line)."""
    print(f"\n== in turn, {args.pairs} pairs: ours at {have:,} cases, django-helpdesk at "
          f"{peer.TICKETS:,} tickets ({args.seconds} s each)")  # fmt: skip

    def ours():
        rate, _, _, _, _, cpu_ms = run_wrk(args, token, max(have // 3, 1))
        return rate, cpu_ms

    def theirs():
        result = peer.intake(hd, args.connections, args.seconds, cpu_seconds)
        return result.rate, result.cpu_ms

    rates, cpus = [], []
    for i in range(args.pairs):
        if i % 2 == 0:
            (rate, cpu_ms), (peer_rate, peer_cpu) = ours(), theirs()
        else:
            (peer_rate, peer_cpu), (rate, cpu_ms) = theirs(), ours()
        if not (rate and peer_rate and cpu_ms):
            print(f"pair {i + 1}: a run failed (ours {rate}, peer {peer_rate} req/s)")
            continue
        rates.append(rate / peer_rate)
        cpus.append(peer_cpu / cpu_ms)
        print(f"pair {i + 1} ({'ours' if i % 2 == 0 else 'peer'} first)  ours {rate:,.1f} "
              f"req/s {cpu_ms:.1f} ms, peer {peer_rate:,.1f} req/s {peer_cpu:.1f} ms -> "
              f"{rates[-1]:.2f}× req/s, {cpus[-1]:.2f}× CPU")  # fmt: skip
    if not rates:
        return None
    return (f"{'in turn':>10}  ours / peer {statistics.median(rates):.2f}× req/s (median of "
            f"{len(rates)}: {min(rates):.2f}–{max(rates):.2f}×), CPU per create "
            f"{statistics.median(cpus):.2f}× ({min(cpus):.2f}–{max(cpus):.2f}×)")  # fmt: skip


def main():
    args = parse_args()
    import django

    django.setup()
    import escalation_sweep
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection

    db = settings.DATABASES["default"]
    if connection.vendor != "postgresql":
        raise SystemExit("bench: set DATABASE_URL to a PostgreSQL database")
    if "bench" not in db["NAME"]:
        raise SystemExit(f"bench: refusing to empty {db['NAME']!r}: its name must contain 'bench'")
    escalation_sweep.ensure_database(db)
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    if args.escalation_only:
        return escalation_again(args)
    hd = peer.setup(args.peer_dir) if args.with_peer else None
    print(f"database {db['NAME']}; gunicorn 2 workers (--preload), wrk -t{args.threads} "
          f"-c{args.connections} for {args.seconds} s per size; {os.cpu_count()} CPUs")  # fmt: skip
    empty_tables()
    agent, token, handler_ids = setup_people()
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    have = 0
    rows = []
    for size in args.sizes:
        load_seconds = load_to(size, have, handler_ids=handler_ids, agent=agent, now=now)
        have = size
        counts = queries_per_create(token, size)
        rate, errors, memory, latency, out, cpu_ms = run_wrk(args, token, max(size // 3, 1))
        rows.append((size, load_seconds, counts, rate, errors, memory, cpu_ms))
        workers = "; ".join(f"RSS {r:.0f} / PSS {p:.0f} / USS {u:.0f}" for r, p, u in memory[1:])
        print(f"\n== {size:,} cases (loaded in {load_seconds:.0f} s)")
        print("queries per create     " + ", ".join(f"{label}: {n}" for label, n, _ in counts))
        print(f"intake (wrk)           {rate:,.1f} req/s, latency avg {latency}, "
              f"non-2xx {errors}")  # fmt: skip
        print(f"CPU per create         {cpu_ms:.1f} ms (gunicorn worker + its PostgreSQL "
              f"backend) -> {2000 / cpu_ms if cpu_ms else 0:,.0f} creates/s on 2 idle cores; "
              f"load average now {os.getloadavg()[0]:.1f}")  # fmt: skip
        print(f"gunicorn memory (MB)   master RSS {memory[0][0]:.0f}; workers: {workers}")
        if rate == 0:
            print(out)
    peer_result = report_peer(args, hd, rows) if hd else None
    pairs = report_pairs(args, hd, token, have) if hd and args.pairs else None
    if args.due:
        report_escalation(args, handler_ids, agent, have, now)
    print("\nsummary")
    print(f"{'cases':>10}  {'req/s':>8}  {'CPU ms/create':>13}  {'queries/create':>14}  "
          f"{'worker PSS MB':>13}")  # fmt: skip
    for size, _, counts, rate, _, memory, cpu_ms in rows:
        worst = max(n for _, n, _ in counts)
        pss = max((p for _, p, _ in memory[1:]), default=0)
        print(f"{size:>10,}  {rate:>8,.1f}  {cpu_ms:>13.1f}  {worst:>14}  {pss:>13.0f}")
    if peer_result:
        print(f"{'peer':>10}  {peer_result.rate:>8,.1f}  {peer_result.cpu_ms:>13.1f}  "
              f"(django-helpdesk 2.6.1, {peer_result.tickets:,} tickets)")  # fmt: skip
    if pairs:
        print(pairs)


if __name__ == "__main__":
    main()
