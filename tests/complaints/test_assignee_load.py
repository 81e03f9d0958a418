"""Each person's active cases are kept in complaints_assigneeload by triggers on the case
table (complaints/models_load.py): whatever changes a case — the lifecycle, a queryset
update, a bulk insert, a delete — the kept count equals the counted one, on SQLite and
PostgreSQL; intake's least-loaded choice reads it."""

import pytest
from django.db.models import Count

from complaints import services
from complaints.models import ACTIVE_STATES, AssigneeLoad, Case, State
from complaints.models_load import recount
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake, walk

pytestmark = pytest.mark.django_db


def kept():
    return {row.user_id: row.open_cases for row in AssigneeLoad.objects.all() if row.open_cases}


def counted():
    rows = (
        Case.objects.filter(assignee__isnull=False, state__in=ACTIVE_STATES)
        .values("assignee")
        .annotate(n=Count("pk"))
    )
    return {row["assignee"]: row["n"] for row in rows}


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def people(make_user, tech):
    return [make_user(f"h{i}", role=roles.HANDLER, departments=[tech]) for i in range(3)]


def test_the_lifecycle_keeps_the_count(make_user, tech, people):
    first, second, third = people
    agent = make_user("desk", role=roles.AGENT, departments=[tech])
    cases = [intake(category="technical", department=tech, assignee=first).case for _ in range(3)]
    assert kept() == counted() == {first.pk: 3}
    # Reassigned: one less for the first, one more for the second.
    services.case_transition(
        case=cases[0], name="assign", user=agent, department=tech, assignee=second
    )
    assert kept() == counted() == {first.pk: 2, second.pk: 1}
    # Resolved: no longer active. Reopened: active again.
    resolved = walk(
        Case.objects.get(pk=cases[1].pk), first,
        ("start_investigation", {}), ("resolve", {"result": "已处理"}),
    )  # fmt: skip
    assert kept() == counted() == {first.pk: 1, second.pk: 1}
    services.case_transition(case=resolved, name="reopen", user=agent, reason="客户说问题还在")
    assert kept() == counted()
    assert kept()[first.pk] == 2
    # Cancelled: gone from the load.
    services.case_transition(case=cases[2], name="cancel", user=agent, reason="重复提交")
    assert kept() == counted()
    assert third.pk not in kept()


def test_sql_of_any_kind_keeps_the_count(tech, people):
    first, second, _ = people
    cases = [intake(category="technical", department=tech, assignee=first).case for _ in range(4)]
    Case.objects.filter(pk__in=[c.pk for c in cases[:2]]).update(assignee=second)
    assert kept() == counted() == {first.pk: 2, second.pk: 2}
    Case.objects.filter(pk=cases[2].pk).update(state=State.CLOSED)
    assert kept() == counted() == {first.pk: 1, second.pk: 2}
    Case.objects.filter(pk=cases[0].pk).update(subject="只改了主题")  # no change of load
    assert kept() == counted()
    Case.objects.filter(pk=cases[1].pk).update(assignee=None)
    assert kept() == counted() == {first.pk: 1, second.pk: 1}
    # A bulk insert counts; deleting it (a case without a timeline: a timeline is
    # append-only on PostgreSQL) takes it off.
    Case.objects.bulk_create([
        Case(number="209901-00001", channel="phone", customer=cases[0].customer,
             subject="批量导入", description="-", type="complaint", category="technical",
             department=tech, assignee=second, state=State.ASSIGNED)
    ])  # fmt: skip
    assert kept() == counted() == {first.pk: 1, second.pk: 2}
    Case.objects.filter(number="209901-00001").delete()
    assert kept() == counted() == {first.pk: 1, second.pk: 1}


def test_recount_rebuilds_from_the_cases(tech, people):
    first = people[0]
    for _ in range(2):
        intake(category="technical", department=tech, assignee=first)
    AssigneeLoad.objects.all().delete()
    AssigneeLoad.objects.create(user_id=999999, open_cases=5)  # stale: nobody's
    assert kept() != counted()
    recount()
    assert kept() == counted() == {first.pk: 2}


def test_intake_gives_the_case_to_the_least_kept_load(tech, people):
    first, second, third = people
    for person, n in ((first, 2), (second, 1), (third, 3)):
        for _ in range(n):
            intake(category="technical", department=tech, assignee=person)
    assert services.least_loaded_handler(tech) == second
    # The kept count is what decides: a person whose cases closed behind the ORM's back
    # (a queryset update) is free at once.
    Case.objects.filter(assignee=third).update(state=State.CLOSED)
    assert services.least_loaded_handler(tech) == third
