"""The escalation schedule lives in its own table (complaints_caseescalation): the sweep
writes that table and never the case row, the escalated filter and the level badges read it
without a query per case, and the migration that moved it there kept every case's values."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from complaints import services
from complaints.models import Case, CaseEscalation, SlaBreach
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake
from .test_api import CASES, client_for

SH = ZoneInfo("Asia/Shanghai")
CHANGELIST = reverse("admin:complaints_case_changelist")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def tech_sup(make_user, tech):
    return make_user("tech_sup", role=roles.SUPERVISOR, departments=[tech])


@pytest.fixture
def desk(make_user, tech, tech_sup):
    return make_user("handler", role=roles.HANDLER, departments=[tech])


def open_cases(n, tech, handler):
    """Cases received Monday 10:00 whose first response is due Tuesday 10:00."""
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        return [intake(department=tech, assignee=handler, urgency="high").case for _ in range(n)]


def case_row_version(case):
    """What changes whenever the case row is written: its updated_at, and on PostgreSQL the
    row version (xmin), which changes even when no column does."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT xmin::text, updated_at FROM complaints_case WHERE id = %s", [case.pk]
            )
        else:
            cursor.execute("SELECT '', updated_at FROM complaints_case WHERE id = %s", [case.pk])
        return cursor.fetchone()


def test_an_intake_schedules_the_first_look_in_the_escalation_table(tech, desk):
    (case,) = open_cases(1, tech, desk)
    row = CaseEscalation.objects.get(case=case)
    assert (row.level, row.next_at) == (0, case.first_response_due)
    assert Case.objects.get(pk=case.pk).next_escalation_at == case.first_response_due


def test_the_sweep_raises_escalations_without_writing_the_case_row(tech, desk):
    cases = open_cases(3, tech, desk)
    before = [case_row_version(c) for c in cases]

    assert services.sla_sweep(now=at(2026, 11, 3, 10, 5)) == 3

    assert [case_row_version(c) for c in cases] == before
    for case in cases:
        row = CaseEscalation.objects.get(case=case)
        assert row.level == 1
        assert row.next_at == case.first_response_due + datetime.timedelta(hours=4)  # level 2
        fresh = Case.objects.get(pk=case.pk)
        assert (fresh.escalation_level, fresh.current_stage) == (1, "first_response")
    assert SlaBreach.objects.count() == 3
    # Four hours later the managers hear of them: still no case row written.
    assert services.sla_sweep(now=at(2026, 11, 3, 14, 5)) == 3
    assert [case_row_version(c) for c in cases] == before
    assert set(CaseEscalation.objects.values_list("level", flat=True)) == {2}


def test_a_case_saved_later_keeps_the_level_the_sweep_raised(tech, desk):
    (case,) = open_cases(1, tech, desk)
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    with time_machine.travel(at(2026, 11, 3, 11), tick=False):
        case = services.case_transition(case=case, name="start_investigation", user=desk)
    assert Case.objects.get(pk=case.pk).escalation_level == 1


def listed_queries(client, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return response.content.decode(), len(queries)


def test_the_escalated_filter_and_badges_cost_the_same_queries_for_one_case_or_many(
    client, tech, desk, tech_sup
):
    first = open_cases(1, tech, desk)
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    client.force_login(tech_sup)
    listed_queries(client, {})  # per-process caches (content types) warm
    with time_machine.travel(at(2026, 11, 3, 10, 6), tick=False):
        html, one = listed_queries(client, {"escalated": "any"})
        _html, unfiltered_one = listed_queries(client, {})
    assert first[0].number in html and html.count(">level 1 escalated<") == 1

    more = open_cases(4, tech, desk)
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    with time_machine.travel(at(2026, 11, 3, 10, 6), tick=False):
        html, five = listed_queries(client, {"escalated": "any"})
        _html, unfiltered = listed_queries(client, {})
    assert all(c.number in html for c in more) and html.count(">level 1 escalated<") == 5
    assert (five, unfiltered) == (one, unfiltered_one)


def test_the_api_lists_escalation_levels_without_a_query_per_case(tech, desk, tech_sup):
    open_cases(1, tech, desk)
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    client = client_for(tech_sup)
    client.get(CASES)  # warm
    with CaptureQueriesContext(connection) as one:
        first = client.get(CASES).json()["results"]
    open_cases(4, tech, desk)
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    with CaptureQueriesContext(connection) as five:
        listed = client.get(CASES).json()["results"]
    assert [c["escalation_level"] for c in first] == [1]
    assert [c["escalation_level"] for c in listed] == [1] * 5
    assert len(five) == len(one)


def test_an_old_digest_link_still_opens_the_escalated_cases(client, tech, desk, tech_sup):
    (late,) = open_cases(1, tech, desk)
    services.sla_sweep(now=at(2026, 11, 3, 10, 5))
    (quiet,) = open_cases(1, tech, desk)
    client.force_login(tech_sup)
    response = client.get(CHANGELIST + "?escalation_level__gte=1", follow=True)
    assert response.redirect_chain[-1][0].endswith("?escalated=any")
    numbers = [c.number for c in response.context["cl"].result_list]
    assert numbers == [late.number] and quiet.number not in numbers


@pytest.mark.django_db(transaction=True)
def test_the_migration_copies_every_schedule_into_the_new_table():
    before, after = (
        [("complaints", "0021_subject_grams_index")],
        [("complaints", "0022_case_escalation_table")],
    )
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = executor.loader.project_state(before).apps
        customer = old.get_model("complaints", "Customer").objects.create(name="老客户")
        OldCase = old.get_model("complaints", "Case")
        due = at(2026, 11, 3, 10)
        values = {"A": (0, due), "B": (2, None), "C": (1, due), "D": (0, None)}
        for number, (level, next_at) in values.items():
            OldCase.objects.create(
                number=number, channel="phone", customer=customer, subject="旧数据",
                type="complaint", category="product", urgency="medium", priority=3,
                state="assigned", escalation_level=level, next_escalation_at=next_at,
            )  # fmt: skip
        executor = MigrationExecutor(connection)
        executor.migrate(after)
    finally:
        executor = MigrationExecutor(connection)
        executor.loader.build_graph()
        executor.migrate(executor.loader.graph.leaf_nodes())

    copied = {
        number: (level, next_at)
        for number, level, next_at in CaseEscalation.objects.values_list(
            "case__number", "level", "next_at"
        )
    }
    assert copied == {"A": (0, due), "B": (2, None), "C": (1, due)}  # D had nothing to keep
    assert [Case.objects.get(number=n).escalation_level for n in "ABCD"] == [0, 2, 1, 0]


@pytest.fixture
def other_connection():
    """A second session on the test database: another request or sweep, meanwhile."""
    from django.db import connections

    other = connections.create_connection("default")
    yield other
    other.close()


def holds_case(other, case):
    """The other session's transaction locks the case as a request does (services lock the
    case with SELECT … FOR UPDATE before they change it and save its escalation row)."""
    cursor = other.cursor()
    cursor.execute("BEGIN")
    cursor.execute("SELECT id FROM complaints_case WHERE id = %s FOR UPDATE", [case.pk])
    return cursor


@pytest.mark.django_db(transaction=True)
def test_the_sweep_skips_a_case_a_request_holds_instead_of_waiting(make_user, other_connection):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite runs one writer at a time)")
    tech = Department.objects.create(code="tech", name="技术部")
    make_user("tech_sup", role=roles.SUPERVISOR, departments=[tech])
    busy, free = open_cases(2, tech, make_user("handler", role=roles.HANDLER, departments=[tech]))
    request = holds_case(other_connection, busy)
    with connection.cursor() as cursor:
        cursor.execute("SET lock_timeout = '5s'")  # waiting would fail the test, not hang it
    try:
        assert services.sla_sweep(now=at(2026, 11, 3, 10, 5)) == 1
        assert list(SlaBreach.objects.values_list("case_id", flat=True)) == [free.pk]
        request.execute("ROLLBACK")
        assert services.sla_sweep(now=at(2026, 11, 3, 10, 6)) == 1  # its turn on the next sweep
    finally:
        with connection.cursor() as cursor:
            cursor.execute("RESET lock_timeout")
    assert set(SlaBreach.objects.values_list("case_id", flat=True)) == {busy.pk, free.pk}


@pytest.mark.django_db(transaction=True)
def test_the_row_by_row_claim_skips_a_held_case_and_locks_what_it_claims(
    make_user, other_connection
):
    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's (SQLite runs one writer at a time)")
    from django.db import OperationalError, transaction

    from complaints.deadlines import _claim_due

    tech = Department.objects.create(code="tech", name="技术部")
    make_user("tech_sup", role=roles.SUPERVISOR, departments=[tech])
    handler = make_user("handler", role=roles.HANDLER, departments=[tech])
    busy, free, third = open_cases(3, tech, handler)
    now = at(2026, 11, 3, 10, 5)
    request = holds_case(other_connection, busy)
    with transaction.atomic():
        (claimed,) = _claim_due(Case, now, 1)
        assert claimed.pk in (free.pk, third.pk) and claimed.escalation_level == 0
        request.execute("ROLLBACK")
        request.execute("BEGIN")
        with pytest.raises(OperationalError):  # another sweep cannot take it meanwhile
            request.execute(
                "SELECT case_id FROM complaints_caseescalation WHERE case_id = %s "
                "FOR UPDATE NOWAIT",
                [claimed.pk],
            )
        request.execute("ROLLBACK")
