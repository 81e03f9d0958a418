"""The read side at scale: every page staff read, at 10,000, 100,000 and 1,000,000 cases.

    DEBUG=1 .venv/bin/python bench/scale.py                        # 10k, 100k, 1M
    DEBUG=1 .venv/bin/python bench/scale.py --sizes 10000 100000   # quicker
    DEBUG=1 .venv/bin/python bench/scale.py --with-peer            # + django-helpdesk at 100k

Uses its own PostgreSQL database (`--database-url`, default
postgres://postgres@127.0.0.1:5432/sd_bench_read; the name must contain "bench": its case,
customer and answer tables are emptied). Creates it if missing and migrates it, then for each
size tops the tables up with server-side SQL (INSERT … SELECT … FROM generate_series: no
Python per row) — cases over 18 months in every state with their deadline columns and
search text, ~3.8 timeline entries per case, a customer per three cases, a satisfaction
answer per five resolved cases — runs VACUUM (ANALYZE), as autovacuum would after such a load
(statistics, and the visibility map index-only scans need), and measures each page in-process with
Django's test client: median of `--reps` requests after a warm-up, SQL queries per request,
response size. With `--explain`, the EXPLAIN (ANALYZE) of each list's page query at the largest
size goes to bench/explain-<size>.txt. It prints figures and asserts nothing about time.

`--with-peer` runs django-helpdesk 2.6.1's own benchmark (/work/shared/peers/helpdesk_bench,
see its README; nothing of it is copied here) at 100,000 tickets in the same run: a venv under
--peer-dir with django-helpdesk from PyPI, its database hd_100000 (role `bench`) and its data
generator (bench/peer.py, shared with scale_write.py), then its bench.py; it prints the ratios
of comparable pages.
"""

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))
sys.path.insert(0, str(BASE_DIR / "bench"))
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/sd_bench_read"

CHUNK = 100_000
DEPARTMENTS = [
    ("front", "客服中心"), ("tech", "技术部"), ("aftersales", "售后部"),
    ("logistics", "物流部"), ("product", "产品部"),
]  # fmt: skip
HANDLERS_PER_DEPARTMENT = 8
OPEN_BACKLOG = 5_000  # cases being worked, whatever the size of the history
RESOLVED_WAITING = 3_000  # resolved, waiting for the satisfaction step

# (subject, description, category, department code): what cases are about. Each row of the
# table takes one, plus its own number, so the text is realistic and the words repeat.
TOPICS = [
    ("快递员态度恶劣", "快递员送货时态度很差，还骂人，客户要求投诉处理", "logistics", "logistics"),
    ("物流三天没有更新", "订单的物流信息三天没有更新，客户要求尽快送达", "logistics", "logistics"),
    ("包裹送错地址", "快递把包裹送到了别的小区，客户要求重新派送", "logistics", "logistics"),
    (
        "收到的手机屏幕碎了",
        "快递送到时包装破损，手机屏幕碎裂，客户要求退货",
        "logistics",
        "aftersales",
    ),
    ("APP打开就闪退", "手机上的APP一打开就闪退，客户要求尽快处理", "technical", "tech"),
    ("登录提示密码错误", "账号登录时一直提示密码错误，客户要求处理", "technical", "tech"),
    ("无法导出月度数据", "后台导出按钮是灰色的，无法导出月度数据", "technical", "tech"),
    ("支付后订单状态没有变化", "付款成功但订单仍显示待支付，客户要求核实", "technical", "tech"),
    ("退款一直没有到账", "申请退款十天了还没有到账，客户要求尽快处理", "process", "aftersales"),
    ("发票抬头开错了", "电子发票的抬头写错了公司名称，客户要求重开", "process", "aftersales"),
    ("会员积分没有到账", "上个月消费的会员积分一直没有到账，客户要求补发", "service", "front"),
    ("客服电话一直打不通", "客服热线一直占线，客户要求回电", "service", "front"),
    ("蓝牙耳机充不进电", "新买的蓝牙耳机充电盒充不进电，客户要求换货", "product", "product"),
    ("衣服颜色发错了", "买的是黑色外套，收到的是白色，客户要求换货", "product", "aftersales"),
    ("洗衣机噪音很大", "新买的洗衣机脱水时噪音很大，客户要求上门检修", "product", "product"),
    ("商品与描述不符", "收到的商品与页面描述不一致，客户要求退货退款", "product", "product"),
    ("优惠券无法使用", "下单时优惠券提示不可用，客户要求补偿", "process", "front"),
    ("安装师傅迟到", "预约的安装师傅迟到三个小时，客户要求道歉", "service", "aftersales"),
    ("建议增加夜间配送", "希望晚上八点以后也能送货，客户提出建议", "logistics", "logistics"),
    ("咨询保修期限", "客户咨询空调的保修期限和保修范围", "product", "front"),
]
RESULTS = {
    "logistics": "已联系快递公司处理并向客户致歉", "technical": "升级版本后问题解决",
    "process": "核实后已按流程处理完毕", "service": "已回电说明并补偿", "product": "已安排换货",
}  # fmt: skip
SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗")
GIVEN = ["伟", "芳", "娜", "敏", "静", "磊", "洋", "勇", "艳", "杰", "小明", "建国", "丽华", "志强"]


def parse_args():
    from peer import PEER_DIR

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--reps", type=int, default=7, help="requests per page (median)")
    parser.add_argument("--explain", action="store_true", help="EXPLAIN ANALYZE at the largest")
    parser.add_argument("--keep", action="store_true", help="start from the rows already there")
    parser.add_argument("--with-peer", action="store_true", help="django-helpdesk at 100k")
    parser.add_argument("--peer-dir", default=PEER_DIR)
    return parser.parse_args()


def setup_django(args):
    os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "servicedesk.settings")
    os.environ.setdefault("CELERY_BROKER_URL", "memory://localhost/")
    os.environ.setdefault("CACHE_KEY_PREFIX", "bench_read")
    # The cache production runs with (Redis), not the database table of `make run`.
    os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/13")
    import django

    django.setup()
    from django.conf import settings
    from django.db import connection

    db = settings.DATABASES["default"]
    if connection.vendor != "postgresql" or "bench" not in db["NAME"]:
        raise SystemExit("bench: a PostgreSQL database whose name contains 'bench', please")
    ensure_database(db)
    settings.ALLOWED_HOSTS = ["*"]
    settings.DEBUG = False  # no query log growing in memory; we count with a wrapper


def ensure_database(db):
    import psycopg
    from psycopg import sql

    params = {k.lower(): db.get(k) or None for k in ("HOST", "PORT", "USER", "PASSWORD")}
    with psycopg.connect(dbname="postgres", autocommit=True, **params) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [db["NAME"]]
        ).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(db["NAME"])))
            print(f"created database {db['NAME']}")


# --- loading ---------------------------------------------------------------------------------


def insert_statement(model, columns, source):
    """INSERT … SELECT for every concrete column of `model`: from `columns` (SQL over the
    source's row), else NULL, the field's plain default or '' — a new NOT NULL column without
    a default stops the bench with a message instead of breaking it. A case's
    `next_escalation_at` / `escalation_level` go to its escalation row, in the same statement."""
    from django.db.models.fields import NOT_PROVIDED

    keys = {"next_escalation_at": "next_at", "escalation_level": "level"}
    escalation = {keys[k]: v.replace(" % ", " %% ") for k, v in columns.items() if k in keys}
    names, exprs, params = [], [], {}
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        names.append(f'"{field.column}"')
        if field.column in columns:
            exprs.append(columns[field.column].replace(" % ", " %% "))  # modulo, not a parameter
        elif field.null:
            exprs.append("NULL")
        elif field.default is not NOT_PROVIDED and not callable(field.default):
            key = f"default_{field.column}"
            params[key] = (
                json.dumps(field.default) if isinstance(field.default, dict) else field.default
            )
            exprs.append(f"%({key})s")
        elif field.default is NOT_PROVIDED and field.empty_strings_allowed:
            exprs.append("''")
        elif callable(field.default) and field.get_internal_type() == "JSONField":
            exprs.append("'{}'::jsonb" if field.default() == {} else "'[]'::jsonb")
        else:
            raise SystemExit(f"bench: no value for {model.__name__}.{field.name}")
    table = model._meta.db_table
    source = source.replace(" % ", " %% ")
    if escalation:  # the case's escalation row, in the same statement
        from escalation_sweep import with_escalation

        return with_escalation(names, exprs, source, escalation), params
    return f"INSERT INTO {table} ({', '.join(names)}) SELECT {', '.join(exprs)} {source}", params


def people():
    """Departments, their handlers, an agent, a supervisor and a manager (once)."""
    from django.contrib.auth.models import Group

    from servicedesk.staff import roles
    from servicedesk.staff.models import Department, Membership, User

    if Department.objects.filter(code="bench-front").exists():
        return
    depts = {code: Department.objects.create(code=f"bench-{code}", name=f"{name}（压测）")
             for code, name in DEPARTMENTS}  # fmt: skip

    def user(username, role, departments):
        u = User.objects.create_user(username, email=f"{username}@example.com", is_staff=True)
        u.set_password("bench")
        u.save()
        u.groups.add(Group.objects.get(name=role))
        for d in departments:
            Membership.objects.create(user=u, department=d)
        return u

    user("bench_agent", roles.AGENT, [depts["front"]])
    user("bench_supervisor", roles.SUPERVISOR, [depts["front"]])
    user("bench_manager", roles.MANAGER, [depts["front"]])
    for code, dept in depts.items():
        for i in range(HANDLERS_PER_DEPARTMENT):
            user(f"bench_{code}_{i}", roles.HANDLER, [dept])


def staff_ids():
    from servicedesk.staff.models import Department, User

    depts = {
        d.code.removeprefix("bench-"): d.pk
        for d in Department.objects.filter(code__startswith="bench-")
    }
    handlers = {
        code: list(User.objects.filter(username__startswith=f"bench_{code}_").order_by("pk").values_list("pk", flat=True))
        for code in depts
    }  # fmt: skip
    users = dict(User.objects.filter(username__startswith="bench_").values_list("username", "pk"))
    return depts, handlers, users


def sql_array(values, cast="text"):
    from django.db import connection

    with connection.cursor() as cursor:
        return cursor.mogrify("%s", [list(values)]) + f"::{cast}[]"


def load_customers(upto):
    from django.db import connection

    from complaints.models import Customer

    have = Customer.objects.count()
    if have >= upto:
        return
    columns = {
        "name": f"({sql_array(SURNAMES)})[1 + g % {len(SURNAMES)}] || ({sql_array(GIVEN)})[1 + (g / 20) % {len(GIVEN)}]",
        "phone": "'13' || lpad(((g::bigint * 7919) % 1000000000)::text, 9, '0')",
        "phone_normalized": "'13' || lpad(((g::bigint * 7919) % 1000000000)::text, 9, '0')",
        "member_no": "CASE WHEN g % 3 = 0 THEN 'VIP' || lpad(g::text, 8, '0') ELSE '' END",
        "member_no_normalized": "CASE WHEN g % 3 = 0 THEN 'VIP' || lpad(g::text, 8, '0') ELSE '' END",
        "created_at": "%(now)s - (g % 540) * interval '1 day'",
        "purchase_amount": "0",
    }
    sql, params = insert_statement(Customer, columns, "FROM generate_series(%(start)s, %(stop)s) g")
    with connection.cursor() as cursor:
        for start in range(have + 1, upto + 1, CHUNK):
            stop = min(start + CHUNK - 1, upto)
            cursor.execute(sql, {**params, "now": NOW, "start": start, "stop": stop})


def case_columns(depts, handlers, users):
    """{column: SQL over g (the case's row number)} for complaints_case."""
    from knowledge import text

    t = len(TOPICS)
    topic = f"(1 + (g + g / 100) % {t})"  # not in step with the state buckets (g % 20)
    subjects = sql_array(s for s, _d, _c, _dep in TOPICS)
    descriptions = sql_array(d for _s, d, _c, _dep in TOPICS)
    categories = sql_array(c for _s, _d, c, _dep in TOPICS)
    dept_ids = sql_array((depts[dep] for _s, _d, _c, dep in TOPICS), "bigint")
    # handlers[topic][i]: each topic's department's handlers, as one flat array
    flat = [h for _s, _d, _c, dep in TOPICS for h in handlers[dep]]
    handler_ids = sql_array(flat, "bigint")
    n_h = HANDLERS_PER_DEPARTMENT
    results = sql_array(RESULTS[c] for _s, _d, c, _dep in TOPICS)
    search = sql_array(text.search_text(s, s, s, d) for s, d, _c, _dep in TOPICS)
    search_done = sql_array(
        text.search_text(s, s, s, d, "", RESULTS[c]) for s, d, c, _dep in TOPICS
    )
    # Row g was received g * span minutes ago (18 months at the largest size): each size's
    # top-up reaches further back in time, the recent weeks are there from the start.
    created = "%(now)s - (g * %(minutes)s) * interval '1 minute'"
    # A desk's backlog does not grow with its history: the newest OPEN_BACKLOG cases are
    # being worked (by g % 20: 1 received and unassigned, 4 assigned, 7 investigating,
    # 4 solution proposed, 4 reopened), the next RESOLVED_WAITING are resolved and wait for
    # the satisfaction step, the older ones are closed — but one in 50 cancelled.
    active = f"(g <= {OPEN_BACKLOG})"
    bucket = "(g % 20)"
    resolved = f"(g > {OPEN_BACKLOG} AND g <= {OPEN_BACKLOG + RESOLVED_WAITING})"
    cancelled = f"(g > {OPEN_BACKLOG + RESOLVED_WAITING} AND g % 50 = 0)"
    closed = f"(g > {OPEN_BACKLOG + RESOLVED_WAITING} AND g % 50 <> 0)"
    unassigned = f"({active} AND {bucket} = 0)"
    state = (
        f"CASE WHEN {closed} THEN 'closed' WHEN {resolved} THEN 'resolved' "
        f"WHEN {cancelled} THEN 'cancelled' WHEN {bucket} < 1 THEN 'received' "
        f"WHEN {bucket} < 5 THEN 'assigned' WHEN {bucket} < 12 THEN 'investigating' "
        f"WHEN {bucket} < 16 THEN 'solution_proposed' ELSE 'reopened' END"
    )
    done = f"({closed} OR {resolved})"
    due = f"CASE WHEN {active} THEN %(now)s + ((g % 97) - 10) * interval '1 hour' END"
    return {
        # Unique: a month holds fewer than 100,000 consecutive rows.
        "number": "to_char(" + created + ", 'YYYYMM') || '-' || lpad((g % 100000)::text, 5, '0')",
        "channel": f"({sql_array(['phone', 'web', 'email', 'chat', 'social', 'api'])})[1 + (g / 7) % 6]",
        "customer_id": "(SELECT min(id) FROM complaints_customer) + (g * 31) % %(customers)s",
        "customer_is_new": "g % 4 = 0",
        "subject": f"({subjects})[{topic}] || ' #' || g",
        "description": f"({descriptions})[{topic}]",
        "type": f"({sql_array(['complaint', 'consultation', 'return_exchange', 'suggestion'])})[1 + (g / 3) % 4]",
        "category": f"({categories})[{topic}]",
        "order_no": "'SO' || lpad(g::text, 10, '0')",
        "urgency": f"({sql_array(['medium', 'low', 'high'])})[1 + (g / 11) % 3]",
        "priority": "1 + (g / 13) % 5",
        "department_id": f"CASE WHEN {unassigned} AND g % 40 = 0 THEN NULL ELSE ({dept_ids})[{topic}] END",
        "assignee_id": f"CASE WHEN {unassigned} THEN NULL ELSE ({handler_ids})[({topic} - 1) * {n_h} + 1 + (g / {t}) % {n_h}] END",
        "created_by_id": f"CASE WHEN g % 10 = 0 THEN {users['bench_agent']} END",
        "state": state,
        "result": f"CASE WHEN {done} THEN ({results})[{topic}] ELSE '' END",
        "search_text": f"CASE WHEN {done} THEN ({search_done})[{topic}] ELSE ({search})[{topic}] END || ' ' || g",
        "feedback_score": f"CASE WHEN {closed} THEN 1 + (g % 17) % 5 END",
        # Received evenly over the months (~1,850 a day at 1M): the open ones are the newest.
        "created_at": created,
        "updated_at": "%(now)s",
        "cycle_started_at": created,
        "first_response_due": f"({created}) + interval '24 hours'",
        "first_response_at": f"CASE WHEN NOT {active} THEN ({created}) + interval '2 hours' END",
        "resolved_at": f"CASE WHEN {done} THEN ({created}) + interval '30 hours' END",
        "closed_at": f"CASE WHEN {closed} THEN ({created}) + interval '50 hours' END",
        "satisfaction_done_at": f"CASE WHEN {closed} THEN ({created}) + interval '50 hours' END",
        "current_stage": f"CASE WHEN {active} THEN 'investigation' ELSE '' END",
        "current_due": due,
        "next_escalation_at": due,
        "escalation_level": f"CASE WHEN {active} AND g % 97 < 10 THEN 1 ELSE 0 END",
    }


def load_cases(upto, total):
    from django.db import connection

    from complaints.models import Case, CaseEvent, Customer

    have = Case.objects.count()
    if have >= upto:
        return
    depts, handlers, users = staff_ids()
    sql, params = insert_statement(
        Case, case_columns(depts, handlers, users), "FROM generate_series(%(start)s, %(stop)s) g"
    )
    minutes = 18 * 30 * 24 * 60 / total
    customers = Customer.objects.count()
    # ~3.8 timeline entries per case: 3 for every case, a fourth for four cases in five.
    event_sql, event_params = insert_statement(
        CaseEvent,
        {
            "case_id": "c.id",
            "kind": "CASE WHEN k = 1 THEN 'created' WHEN k = 3 THEN 'progress' ELSE 'transition' END",
            "transition": "CASE WHEN k = 2 THEN 'assign' WHEN k = 4 THEN 'resolve' ELSE '' END",
            "message": "CASE WHEN k = 3 THEN '已联系客户，正在处理' ELSE '' END",
            "customer_notified": "k = 3",
            "data": "'{}'::jsonb",
            "author_id": "c.created_by_id",
            "created_at": "c.created_at + (k - 1) * interval '1 hour'",
        },
        "FROM complaints_case c CROSS JOIN generate_series(1, 4) k "
        "WHERE c.id BETWEEN %(first)s AND %(last)s AND (k < 4 OR c.id % 5 <> 0)",
    )
    with connection.cursor() as cursor:
        for start in range(have + 1, upto + 1, CHUNK):
            stop = min(start + CHUNK - 1, upto)
            cursor.execute("SELECT coalesce(max(id), 0) FROM complaints_case")
            first = cursor.fetchone()[0] + 1
            cursor.execute(sql, {**params, "now": NOW, "start": start, "stop": stop,
                                 "total": total, "minutes": minutes, "customers": customers})  # fmt: skip
            cursor.execute(event_sql, {**event_params, "first": first, "last": first + CHUNK})
            print(f"  … {stop:>9,} cases", end="\r", flush=True)
    print(" " * 30, end="\r")


def load_answers():
    """A satisfaction answer for one resolved or closed case in five, answered 2 days after
    resolution; one in eight reports a problem."""
    from django.db import connection

    from callbacks.models import QuestionnaireVersion, Response

    version = QuestionnaireVersion.objects.order_by("pk").first()
    sql, params = insert_statement(
        Response,
        {
            "version_id": str(version.pk),
            "customer_id": "c.customer_id",
            "case_id": "c.id",
            "method": "CASE WHEN c.id % 3 = 0 THEN 'phone' ELSE 'online' END",
            "answered_at": "c.resolved_at + interval '2 days'",
            "overall_score": "CASE WHEN c.id % 10 = 0 THEN 2 WHEN c.id % 10 = 1 THEN 3 WHEN c.id % 10 < 6 THEN 4 ELSE 5 END",
            "has_problem": "c.id % 8 = 0",
            "department_id": "c.department_id",
            "agent_id": "c.assignee_id",
            "case_channel": "c.channel",
        },
        "FROM complaints_case c WHERE c.resolved_at < %(now)s - interval '2 days' AND c.id % 5 = 0 "
        "AND c.id > (SELECT coalesce(max(case_id), 0) FROM callbacks_response)",
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "now": NOW})


def empty_tables():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE complaints_case, complaints_customer, callbacks_response, "
            "complaints_assigneeload RESTART IDENTITY CASCADE"
        )


# --- measuring -------------------------------------------------------------------------------


class Counter:
    """Counts the statements of a request and the time spent waiting for the database."""

    def __init__(self):
        self.n, self.statements, self.seconds = 0, [], 0.0

    def __call__(self, execute, sql, params, many, context):
        self.n += 1
        self.statements.append((sql, params))
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - started


def measure(client, url, params=None, reps=7):
    from django.db import connection

    client.get(url, params or {})
    times, queries, size, status, last = [], 0, 0, 0, None
    for _ in range(reps):
        counter = Counter()
        with connection.execute_wrapper(counter):
            started = time.perf_counter()
            response = client.get(url, params or {})
            times.append((time.perf_counter() - started) * 1000)
        queries, size, status, last = (
            counter.n,
            len(response.content),
            response.status_code,
            counter,
        )
    return {"ms": statistics.median(times), "queries": queries, "kb": size / 1024,
            "status": status, "statements": last.statements}  # fmt: skip


def case_pages_cases():
    """The case being worked and the resolved case whose pages are measured."""
    from complaints.models import Case, State

    depts, _handlers, _users = staff_ids()
    resolved = Case.objects.filter(state=State.RESOLVED).order_by("-pk").first()
    active = (
        Case.objects.filter(state=State.INVESTIGATING, department_id=depts["front"])
        .order_by("-pk")
        .first()
    )
    return active, resolved


# Measured first, before the sweep's pick of similar cases: a case the every-minute sweep has
# not reached yet (opened less than a minute ago, or the worker is behind).
NOT_YET_PICKED = " (similar cases not yet picked)"


def pages():
    """[(name, user, url, params)] of every page measured, as (label, username, …)."""
    from django.urls import reverse

    from complaints.models import Customer

    depts, handlers, _users = staff_ids()
    active, resolved = case_pages_cases()
    customer = Customer.objects.exclude(member_no="").order_by("pk")[
        1000 % Customer.objects.count()
    ]
    changelist = reverse("admin:complaints_case_changelist")
    agent, handler, supervisor, manager = (
        "bench_agent", "bench_logistics_0", "bench_supervisor", "bench_manager",
    )  # fmt: skip
    out = [
        (
            "case page" + NOT_YET_PICKED,
            agent,
            reverse("admin:complaints_case_change", args=[active.pk]),
            None,
        ),
        (
            "suggestions API" + NOT_YET_PICKED,
            agent,
            f"/api/v1/cases/{active.number}/suggestions/",
            None,
        ),
        (
            "case page (admin)",
            agent,
            reverse("admin:complaints_case_change", args=[active.pk]),
            None,
        ),
        (
            "case page, resolved",
            agent,
            reverse("admin:complaints_case_change", args=[resolved.pk]),
            None,
        ),
        ("suggestions API", agent, f"/api/v1/cases/{active.number}/suggestions/", None),
        ("API case list", handler, "/api/v1/cases/", None),
    ]
    lists = [
        ("", {}), ("tab mine", {"scope": "mine"}), ("tab my departments", {"scope": "my_departments"}),
        ("tab unassigned", {"scope": "unassigned"}), ("state active", {"state": "active"}),
        ("state closed", {"state": "closed"}), ("state reopened", {"state": "reopened"}),
        ("overdue", {"overdue": "yes"}), ("due soon", {"overdue": "soon"}),
        ("urgency high", {"urgency__exact": "high"}), ("priority 5", {"priority": "5"}),
        ("channel web", {"channel__exact": "web"}), ("type suggestion", {"type__exact": "suggestion"}),
        ("category service", {"category__exact": "service"}),
        ("department tech", {"department__id__exact": depts["tech"]}),
        ("assignee", {"assignee": handlers["logistics"][1]}),
        ("active + high + mine", {"state": "active", "urgency__exact": "high", "scope": "mine"}),
    ]  # fmt: skip
    for role, username in [("agent", agent), ("handler", handler), ("supervisor", supervisor)]:
        for label, params in lists:
            out.append((f"list {role} {label}".rstrip(), username, changelist, params))
    searches = [
        ("phone exact", "+86 " + customer.phone[:3] + "-" + customer.phone[3:7] + "-" + customer.phone[7:]),
        ("phone tail 尾号", customer.phone[-4:]),
        ("case number", active.number), ("member number", customer.member_no.lower()),
        ("order number", active.order_no.lower()), ("subject substring", "屏幕碎"),
        ("subject word (2 chars)", "闪退"), ("customer name", customer.name),
        ("rare subject", f"#{active.pk}"),
    ]  # fmt: skip
    for label, term in searches:
        out.append((f"search {label} (agent)", agent, changelist, {"q": term}))
    out.append(("search phone tail (handler)", handler, changelist, {"q": customer.phone[-4:]}))
    today = NOW.date()
    year_ago = (today.replace(day=1) - datetime.timedelta(days=335)).replace(day=1)
    period = {"from": year_ago.isoformat(), "to": today.isoformat()}
    out += [
        ("dashboard (manager)", manager, reverse("admin:index"), None),
        ("dashboard (supervisor)", supervisor, reverse("admin:index"), None),
        ("satisfaction page, 12 months", manager, reverse("admin:callbacks_satisfactionsummary_changelist"), period),
        ("satisfaction API, 12 months", manager, "/api/v1/metrics/satisfaction/", period),
        ("satisfaction API by department", manager, "/api/v1/metrics/satisfaction/", {**period, "group_by": "department"}),
    ]  # fmt: skip
    return out


def page_query(statements):
    """The list's page query: the SELECT … LIMIT of complaints_case with the most text."""
    selects = [
        (s, p)
        for s, p in statements
        if s.startswith("SELECT") and "LIMIT" in s and 'FROM "complaints_case"' in s
    ]
    return max(selects, key=lambda sp: len(sp[0])) if selects else None


def run_size(size, args, results, explain_file):
    from django.db import connection
    from django.test import Client

    from servicedesk.staff.models import User

    started = time.perf_counter()
    load_customers(size // 3)
    load_cases(size, max(args.sizes))
    load_answers()
    loaded = time.perf_counter() - started
    with connection.cursor() as cursor:
        # As autovacuum would after a load this size: statistics, and the visibility map the
        # index-only scans need (the satisfaction figures read callbacks_response_stats only).
        cursor.execute("VACUUM (ANALYZE)")
        cursor.execute("SELECT count(*) FROM complaints_caseevent")
        events = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        db_size = cursor.fetchone()[0]
    print(
        f"\n== {size:,} cases ({events:,} timeline entries, {size // 3:,} customers; loaded in {loaded:.0f} s; database {db_size})"
    )
    from complaints import similar_store
    from complaints.models import CaseSimilar

    CaseSimilar.objects.all().delete()
    clients, picked = {}, False
    for name, username, url, params in pages():
        if not name.endswith(NOT_YET_PICKED) and not picked:
            # What the every-minute sweep does for every working case.
            picked = similar_store.precompute(case_pages_cases())
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        r = measure(clients[username], url, params, reps=args.reps)
        results.setdefault(name, {})[size] = r
        print(
            f"  {name:48s} {r['ms']:8.1f} ms {r['queries']:4d} q {r['kb']:8.1f} KB  {r['status']}",
            flush=True,
        )
        if explain_file and name.startswith(("list", "search")):
            query = page_query(r["statements"])
            if query:
                with connection.cursor() as cursor:
                    cursor.execute("EXPLAIN (ANALYZE, BUFFERS OFF) " + query[0], query[1])
                    plan = "\n".join(row[0] for row in cursor.fetchall())
                explain_file.write(f"--- {name}\n{plan}\n\n")


# --- the peer ---------------------------------------------------------------------------------

PEER_PAIRS = [
    # (ours, peer's endpoint in its bench.py, what)
    ("case page (admin)", "c1_ticket_detail", "case / ticket page"),
    ("list agent", "a2_datatables_json_p1_created_desc", "staff list, first page"),
    ("list supervisor", "b1_admin_ticket_changelist", "admin changelist"),
    ("search subject substring (agent)", "b2_admin_ticket_changelist_search", "admin search"),
    ("dashboard (manager)", "a4_dashboard", "dashboard"),
    ("satisfaction page, 12 months", "f1_report_index", "reports / satisfaction summary"),
]


def run_peer(args):
    """django-helpdesk 2.6.1's bench at 100,000 tickets; returns its endpoints."""
    import peer

    hd = peer.setup(args.peer_dir)
    out = hd.work / "bench_pg_100000.json"
    print("\n== django-helpdesk 2.6.1 at 100,000 tickets (its bench.py)")
    subprocess.run([hd.python, "bench.py", str(out)], cwd=hd.proj, check=True,
                   env={**hd.env, "REPS": "7", "API_LIST": "0"})  # fmt: skip
    return json.loads(out.read_text())["endpoints"]


# --- main --------------------------------------------------------------------------------------

NOW = datetime.datetime.now(datetime.UTC).replace(microsecond=0)


def main():
    args = parse_args()
    args.sizes.sort()
    setup_django(args)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    if not args.keep:
        empty_tables()
    people()
    results, started = {}, time.perf_counter()
    for size in args.sizes:
        explain_file = None
        if args.explain and size == args.sizes[-1]:
            explain_file = open(BASE_DIR / "bench" / f"explain-{size}.txt", "w")  # noqa: SIM115
        try:
            run_size(size, args, results, explain_file)
        finally:
            if explain_file:
                explain_file.close()
    print("\n== side by side (ms, queries)")
    header = "".join(f"{s:>22,}" for s in args.sizes)
    print(f"  {'page':48s}{header}")
    for name, by_size in results.items():
        cells = "".join(
            f"{by_size[s]['ms']:>14.1f} ms {by_size[s]['queries']:>3d} q"
            if s in by_size
            else " " * 22
            for s in args.sizes
        )
        print(f"  {name:48s}{cells}")
    if args.with_peer:
        peer = run_peer(args)
        ours_at = 100_000 if 100_000 in args.sizes else args.sizes[-1]
        print(
            f"\n== ours at {ours_at:,} vs django-helpdesk at 100,000 (median ms; ratio = peer / ours)"
        )
        for ours, theirs, what in PEER_PAIRS:
            mine, other = results.get(ours, {}).get(ours_at), peer.get(theirs)
            if mine and other:
                print(f"  {what:36s} ours {mine['ms']:8.1f} ms  peer {other['median_ms']:8.1f} ms"
                      f"  ×{other['median_ms'] / mine['ms']:.1f}")  # fmt: skip
    print(f"\ntotal {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
