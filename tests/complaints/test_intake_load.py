"""Intake under load: the least-loaded handler is chosen from open cases only (a long case
history does not count, nor make it slower), stays correct when intakes run concurrently,
and a create through the API costs a bounded number of queries."""

import re
import threading

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from complaints import services
from complaints.intake import RULES_VERSION_KEY
from complaints.models import Case, Customer, RoutingRule, State, UrgencyRule
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake
from .test_api import CASES, body, client_for


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def tech_rule(tech):
    return RoutingRule.objects.create(name="技术问题", category="technical", department=tech)


def finish(cases):
    """Take cases off everyone's desk (closed long ago): history, not load."""
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(state=State.CLOSED)


def test_only_open_cases_count_as_load(tech, tech_rule, make_user):
    veteran = make_user("veteran", role=roles.HANDLER, departments=[tech])
    newcomer = make_user("newcomer", role=roles.HANDLER, departments=[tech])
    history = [intake(category="technical", department=tech, assignee=veteran).case
               for _ in range(5)]  # fmt: skip
    finish(history)
    busy = [intake(category="technical", department=tech, assignee=newcomer).case
            for _ in range(2)]  # fmt: skip

    case = intake(subject="APP登录后闪退", category="technical").case

    assert case.assignee == veteran  # 0 open cases against the newcomer's 2
    assert case.state == State.ASSIGNED
    finish(busy)
    assert intake(subject="无法导出报表", category="technical").case.assignee == newcomer


def test_agents_count_but_supervisors_and_other_departments_do_not(tech, tech_rule, make_user):
    other = Department.objects.create(code="logistics", name="物流部")
    make_user("elsewhere", role=roles.HANDLER, departments=[other])
    make_user("boss", role=roles.SUPERVISOR, departments=[tech])
    desk = make_user("desk", role=roles.AGENT, departments=[tech])
    assert intake(category="technical").case.assignee == desk
    assert services.least_loaded_handler(other).username == "elsewhere"
    assert services.least_loaded_handler(Department.objects.create(code="x", name="空")) is None


def test_intake_assigns_only_active_members_on_duty_who_work_cases(tech, tech_rule, make_user):
    """The SQL choice (least_loaded_handler) and the queryset rules it spells out
    (least_loaded(handler_candidates(…))) pick the same person, whoever is ruled out."""
    import datetime

    from django.utils import timezone

    from complaints.intake_assign import handler_candidates, least_loaded
    from servicedesk.rota.models import Absence, AbsenceKind

    now = timezone.now()
    left = make_user("left", role=roles.HANDLER, departments=[tech])
    left.is_active = False
    left.save()
    away = make_user("away", role=roles.HANDLER, departments=[tech])
    Absence.objects.create(
        user=away, kind=AbsenceKind.LEAVE, starts_at=now - datetime.timedelta(hours=1),
        ends_at=now + datetime.timedelta(days=1),
    )  # fmt: skip
    make_user("boss", role=roles.SUPERVISOR, departments=[tech])
    busy = make_user("busy", role=roles.HANDLER, departments=[tech])
    free = make_user("free", role=roles.AGENT, departments=[tech])
    for _ in range(2):
        intake(category="technical", department=tech, assignee=busy)
    intake(category="technical", department=tech, assignee=free)

    def both():
        return (
            services.least_loaded_handler(tech, now),
            least_loaded(handler_candidates(tech, now)),
        )

    assert both() == (free, free)  # 1 open case against 2; the others are ruled out
    intake(category="technical", department=tech, assignee=free)
    assert both() == (busy, busy)  # a tie (2 and 2): the earlier account
    finish(Case.objects.filter(assignee=busy))
    assert intake(category="technical").case.assignee == busy


def test_the_sql_choice_follows_the_rota_as_the_queryset_rules_do(tech, make_user):
    """least_loaded_handler restates the rota rule (servicedesk.rota.models.on_duty_q) in
    SQL: at every moment of a day with day and night shifts, and in a department without a
    rota, both pick the same person."""
    import datetime
    from zoneinfo import ZoneInfo

    from complaints.intake_assign import handler_candidates, least_loaded
    from servicedesk.rota import services as rota
    from servicedesk.rota.models import Shift

    shanghai = ZoneInfo("Asia/Shanghai")
    day = datetime.date(2026, 3, 11)
    other = Department.objects.create(code="logistics", name="物流部")
    early = Shift.objects.create(name="早班", start=datetime.time(8), end=datetime.time(17))
    night = Shift.objects.create(name="夜班", start=datetime.time(22), end=datetime.time(7))
    busy = make_user("busy", role=roles.HANDLER, departments=[tech])  # day shift, 2 cases
    owl = make_user("owl", role=roles.HANDLER, departments=[tech])  # night shift, 1 case
    make_user("idle", role=roles.HANDLER, departments=[tech])  # no shift, no case
    lent = make_user("lent", role=roles.HANDLER, departments=[tech, other])  # other's rota
    rota.rota_entry_set(department=tech, user=busy, date=day, shift=early)
    rota.rota_entry_set(department=tech, user=owl, date=day, shift=night)
    rota.rota_entry_set(department=other, user=lent, date=day, shift=early)
    for person, n in ((busy, 2), (owl, 1)):
        for _ in range(n):
            intake(category="technical", department=tech, assignee=person)

    # Idle (no shift, no case) is never picked: the department keeps a rota.
    expected = {(10, 0): busy, (23, 30): owl, (19, 0): None}
    for (hour, minute), person in expected.items():
        now = datetime.datetime.combine(day, datetime.time(hour, minute), tzinfo=shanghai)
        assert services.least_loaded_handler(tech, now) == person
        assert least_loaded(handler_candidates(tech, now)) == person
        # Lent, on another department's shift, is on duty there.
        assert services.least_loaded_handler(other, now) == (lent if hour == 10 else None)
    # A department without a rota: everyone not absent, the least loaded first.
    plain = Department.objects.create(code="plain", name="无排班部")
    first = make_user("first", role=roles.HANDLER, departments=[plain])
    second = make_user("second", role=roles.HANDLER, departments=[plain])
    intake(category="technical", department=plain, assignee=first)
    now = datetime.datetime.combine(day, datetime.time(19), tzinfo=shanghai)
    assert services.least_loaded_handler(plain, now) == second
    assert least_loaded(handler_candidates(plain, now)) == second


@pytest.mark.django_db(transaction=True)
def test_concurrent_intakes_share_the_work_evenly(make_user):
    tech = Department.objects.create(code="tech", name="技术部")
    RoutingRule.objects.create(name="技术问题", category="technical", department=tech)
    handlers = [make_user(f"h{i}", role=roles.HANDLER, departments=[tech]) for i in range(3)]
    errors = []
    barrier = threading.Barrier(6)

    def worker(i):
        try:
            barrier.wait()
            for j in range(2):
                intake(customer={"name": f"并发{i}", "phone": f"1370000{i:02d}{j:02d}"},
                       subject=f"第{i}-{j}号：系统报错无法登录", category="technical")  # fmt: skip
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    loads = [Case.objects.filter(assignee=h, state=State.ASSIGNED).count() for h in handlers]
    assert loads == [4, 4, 4]


@pytest.mark.django_db(transaction=True)
def test_concurrent_contacts_of_one_customer_go_on_their_open_case_in_turn():
    """The customer's open cases are locked with the customer's row read (PostgreSQL: in the
    same statement), so intakes of the same customer racing each other add their contacts one
    after the other: none is lost, the version counts every one."""
    customer = {"name": "常客", "phone": "13700009999"}
    first = intake(customer=customer, subject="快递一直没有送到").case
    errors, absorbed = [], []
    barrier = threading.Barrier(4)

    def worker():
        try:
            barrier.wait()
            result = intake(customer=customer, subject="快递一直没有送到，催一下")
            absorbed.append((result.absorbed, result.case.pk))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert absorbed == [(True, first.pk)] * 4
    version = first.version
    first.refresh_from_db()
    assert first.contacts.count() == 5
    assert first.version == version + 4


def statements(queries):
    """The statements that read or write rows (not BEGIN/COMMIT alone, which SQLite logs; a
    statement sent with its BEGIN counts: servicedesk/prepared_begin.py)."""
    control = re.compile(r"(BEGIN( IMMEDIATE)?|COMMIT|SAVEPOINT \S+|RELEASE SAVEPOINT \S+)")
    return [q["sql"] for q in queries.captured_queries if not control.fullmatch(q["sql"].strip())]


@pytest.mark.django_db(transaction=True)
def test_an_api_create_costs_at_most_12_queries(agent, make_user):
    tech = Department.objects.create(code="tech", name="技术部")
    for i in range(3):
        make_user(f"handler{i}", role=roles.HANDLER, departments=[tech])
    RoutingRule.objects.create(name="产品问题", category="product", department=tech)
    client = client_for(agent)
    returning = {"name": "老客户", "phone": "13900000001"}
    first = client.post(CASES, body(customer=returning), format="json")
    assert first.status_code == 201

    with CaptureQueriesContext(connection) as queries:
        new = client.post(CASES, body(customer={"name": "新客户", "phone": "13900000002"},
                                      subject="发票抬头开错了"), format="json")  # fmt: skip
    assert len(statements(queries)) <= 12, "\n".join(statements(queries))
    with CaptureQueriesContext(connection) as queries:
        again = client.post(CASES, body(customer=returning, subject="快递员态度恶劣"),
                            format="json")  # fmt: skip
    assert len(statements(queries)) <= 12, "\n".join(statements(queries))

    assert (new.status_code, again.status_code) == (201, 201)
    cases = Case.objects.filter(number__in=[new.json()["number"], again.json()["number"]])
    assert {c.customer_is_new for c in cases} == {True, False}
    assert {c.assignee.username for c in cases} == {"handler1", "handler2"}
    assert all(c.state == State.ASSIGNED for c in cases)


@pytest.mark.django_db(transaction=True)
def test_a_contact_absorbed_through_the_api_costs_at_most_8_queries(agent):
    """Token and permissions, the customer, their open cases, the absorbing case with what
    the answer shows, the contact, its timeline entry and the case's new version."""
    client = client_for(agent)
    customer = {"name": "老客户", "phone": "13900000003"}
    first = client.post(CASES, body(customer=customer), format="json")
    with CaptureQueriesContext(connection) as queries:
        again = client.post(CASES, body(customer=customer), format="json")
    assert again.status_code == 200 and again.json()["absorbed"] is True
    assert again.json()["number"] == first.json()["number"]
    assert len(statements(queries)) <= 8, "\n".join(statements(queries))


@pytest.mark.django_db(transaction=True)
def test_on_postgresql_a_new_case_and_its_rows_are_one_statement(agent, make_user):
    """The case, its escalation row, its contact and its two timeline entries (received,
    assigned) — and a new customer before them — go in one statement with the number drawn
    and the handler checked; the customer, their open cases and the handler chosen are the
    other: an API create is 2 statements in all (and the COMMIT), a new customer's or a
    returning one's. Every row points at the case and every instance holds its row's key,
    the entries in their order."""
    if connection.vendor != "postgresql":
        pytest.skip("one statement with data-modifying WITH clauses: PostgreSQL only")
    tech = Department.objects.create(code="tech", name="技术部")
    make_user("handler0", role=roles.HANDLER, departments=[tech])
    RoutingRule.objects.create(name="产品问题", category="product", department=tech)
    client = client_for(agent)
    client.post(CASES, body(customer={"name": "预热", "phone": "13900000009"}), format="json")
    with CaptureQueriesContext(connection) as queries:
        new = client.post(CASES, body(customer={"name": "新客户", "phone": "13900000008"},
                                      subject="发票抬头开错了"), format="json")  # fmt: skip
    assert new.status_code == 201
    assert len(statements(queries)) <= 2, "\n".join(statements(queries))
    case = Case.objects.select_related("customer").get(number=new.json()["number"])
    assert (case.customer.name, case.customer.phone_normalized) == ("新客户", "13900000008")
    assert case.customer_is_new
    # A returning customer: their open cases come with their row (no customer insert).
    with CaptureQueriesContext(connection) as queries:
        again = client.post(CASES, body(customer={"name": "新客户", "phone": "13900000008"},
                                        subject="快递员态度恶劣"), format="json")  # fmt: skip
    assert again.status_code == 201 and again.json()["absorbed"] is False
    assert again.json()["assignee"]["username"] == "handler0"
    assert len(statements(queries)) <= 2, "\n".join(statements(queries))

    heard = []

    def hear(sender, events, **kwargs):
        heard.extend(events)

    services.case_events_bulk_created.connect(hear, sender=Case)
    try:
        result = intake(department=tech, category="product")
    finally:
        services.case_events_bulk_created.disconnect(hear, sender=Case)
    case = Case.objects.get(pk=result.case.pk)
    assert result.case.state == case.state == State.ASSIGNED
    assert result.contact.pk == case.contacts.get().pk
    assert result.contact.case_id == case.pk
    assert case.escalation.next_at == result.case.next_escalation_at is not None
    kinds = list(case.events.order_by("pk").values_list("pk", "kind"))
    assert [kind for _pk, kind in kinds] == ["created", "transition"]
    assert [(e.pk, e.kind) for e in heard] == kinds  # the instances hold their rows' keys
    assert all(e.case_id == case.pk for e in heard)


# --- the active rules, cached per process ------------------------------------------------


def rule_reads(queries):
    return [s for s in statements(queries) if "_urgencyrule" in s or "_routingrule" in s]


def test_later_intakes_read_the_rules_from_memory_until_a_rule_changes(tech, tech_rule):
    intake(subject="APP登录后闪退", category="technical")
    with CaptureQueriesContext(connection) as queries:
        case = intake(subject="APP登录后无法支付", category="technical").case
    assert rule_reads(queries) == [] and case.department == tech

    UrgencyRule.objects.create(name="媒体曝光", keywords="黑猫投诉台", urgency="high", priority=5)
    with CaptureQueriesContext(connection) as queries:
        case = intake(subject="再不处理就去黑猫投诉台", category="technical").case
    assert len(rule_reads(queries)) == 2
    assert (case.urgency, case.priority) == ("high", 5)


def test_a_rule_changed_by_another_process_is_read_once_the_recheck_interval_passed(
    tech, tech_rule, settings
):
    settings.INTAKE_RULES_RECHECK_SECONDS = 3600
    rule = UrgencyRule.objects.create(
        name="媒体曝光", keywords="黑猫投诉台", urgency="high", priority=5
    )
    assert intake(subject="再不处理就去黑猫投诉台", category="technical").case.urgency == "high"
    # Another process deactivates the rule: its row changes (no signal reaches this process)
    # and its signal handler puts a new version token in the shared cache.
    UrgencyRule.objects.filter(pk=rule.pk).update(is_active=False)
    cache.set(RULES_VERSION_KEY, "changed-by-another-process", timeout=None)
    # Within the interval this process keeps what it read (no cache read per intake) ...
    with CaptureQueriesContext(connection) as queries:
        assert intake(subject="再不处理就去黑猫投诉台", category="technical").case.urgency == "high"
    assert rule_reads(queries) == []
    # ... and once it has passed, the next intake sees the new token and the change.
    settings.INTAKE_RULES_RECHECK_SECONDS = 0
    assert intake(subject="再不处理就去黑猫投诉台", category="technical").case.urgency == "medium"


def test_a_department_renamed_is_what_routed_cases_show(tech, tech_rule):
    intake(subject="APP登录后闪退", category="technical")
    tech.name = "技术支持部"
    tech.save()
    assert intake(subject="APP无法支付", category="technical").case.department.name == "技术支持部"


@pytest.mark.django_db(transaction=True)
def test_a_handler_chosen_before_the_draw_is_checked_after_it(tech, tech_rule, make_user):
    """On PostgreSQL intake chooses the handler with the customer, before it draws the number
    (intake_assign.Pick). When another intake of the department commits in between and
    takes that handler, the choice made after the draw wins: the case goes to the other
    handler, with the next number, its rows once, the new customer once."""
    if connection.vendor != "postgresql":
        pytest.skip("the handler chosen in the customer's statement: PostgreSQL only")
    first = make_user("first", role=roles.HANDLER, departments=[tech])
    second = make_user("second", role=roles.HANDLER, departments=[tech])
    between = []

    def another_intake_first(execute, sql, params, many, context):
        if sql.startswith("WITH n AS") and not between:  # our draw, about to run
            thread = threading.Thread(target=lambda: between.append(run_between()))
            thread.start()
            thread.join()
        return execute(sql, params, many, context)

    def run_between():
        try:
            return intake(customer={"name": "插队", "phone": "13700000077"},
                          subject="系统报错无法登录", category="technical").case  # fmt: skip
        finally:
            connection.close()

    with connection.execute_wrapper(another_intake_first):
        ours = intake(customer={"name": "新客户", "phone": "13700000088"},
                      subject="登录后页面空白", category="technical")  # fmt: skip
    (other,) = between
    assert other.assignee == first  # chosen first by both; the other committed first
    case = Case.objects.get(pk=ours.case.pk)
    assert case.assignee == second and case.state == State.ASSIGNED
    month, n = other.number.split("-")
    assert case.number == ours.case.number == f"{month}-{int(n) + 1:05d}"
    assert list(case.events.order_by("pk").values_list("kind", flat=True)) == [
        "created", "transition",
    ]  # fmt: skip
    assert case.events.get(kind="transition").data["assignee"] == str(second)
    assert case.contacts.count() == 1 and Case.objects.count() == 2
    assert Customer.objects.filter(phone="13700000088").count() == 1
    loads = [Case.objects.filter(assignee=h, state=State.ASSIGNED).count() for h in (first, second)]
    assert loads == [1, 1]


@pytest.mark.django_db
def test_the_planner_expects_one_handler_from_the_choice(tech):
    """Intake's first statement joins the customer to the handler chosen: planned for the
    thousand rows PostgreSQL assumes of a set-returning function, it read a small case table
    whole for each statement (migration 0028 says one)."""
    if connection.vendor != "postgresql":
        pytest.skip("complaints_least_loaded: PostgreSQL only")
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT * FROM complaints_least_loaded(%s, 'a', 'b', now(), "
            "current_date, current_date, 0)",
            [tech.pk],
        )
        plan = cursor.fetchone()[0]
    assert "Function Scan on complaints_least_loaded" in plan and " rows=1 " in plan, plan
