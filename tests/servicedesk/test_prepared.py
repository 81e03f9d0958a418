"""servicedesk/prepared.py: statements PostgreSQL plans once per connection."""

import pytest
from django.db import connection

from servicedesk.prepared import prepared_cursor


@pytest.mark.django_db
def test_a_statement_with_many_parameters_is_converted_once_and_runs_right_each_time():
    """psycopg converts a statement with more than 50 parameters on every run; ours keep
    their conversion (a new case's statement has ~100), and still bind each run's values."""
    if connection.vendor != "postgresql":
        pytest.skip("server-side binding: PostgreSQL only")
    sql = "SELECT " + " + ".join(["%s::int"] * 80)
    converted = []
    for values in ([1] * 80, list(range(80))):
        with prepared_cursor() as cursor:
            cursor.execute(sql, values)
            assert cursor.fetchone()[0] == sum(values)
            converted.append(cursor._query.query)
    assert converted[0] is converted[1]  # the same bytes: not converted again
    assert b"$80" in converted[0] and b"%s" not in converted[0]


def plain(value):
    """A value compared by what it holds (psycopg's Jsonb wrapper has no equality)."""
    return getattr(value, "obj", value)


@pytest.mark.django_db
def test_intake_writes_each_value_as_saving_would(make_user, department):
    """A new case's rows are written from values taken as they are where their field would
    hand them on unchanged (_values): each one is what the field's own pre_save and
    get_db_prep_save give, of the same type (a choice's enum member, a key's int, PostgreSQL's
    typed integers), and a value of another type is still converted."""
    import datetime

    import time_machine

    from complaints.models import Case, CaseContact, CaseEscalation, CaseEvent, RoutingRule
    from complaints.services import case_intake
    from servicedesk.prepared import _insert_fields, _values
    from servicedesk.staff import roles

    handler = make_user("handler", role=roles.HANDLER, departments=[department])
    RoutingRule.objects.create(name="产品", category="product", department=department)
    at = datetime.datetime(2026, 11, 3, 10, 0, tzinfo=datetime.UTC)
    with time_machine.travel(at, tick=False):
        result = case_intake(
            channel="phone", customer={"name": "客户", "phone": "13900000001"},
            subject="商品与描述不符", description="收到的商品与页面描述不一致。",
            type="complaint", category="product", priority=2,
        )  # fmt: skip
        case = Case.objects.get(pk=result.case.pk)
        assert case.assignee == handler and case.number and case.customer.name == "客户"
        rows = [case, case.customer, *CaseContact.objects.filter(case=case)]
        rows += [*CaseEvent.objects.filter(case=case), *CaseEscalation.objects.filter(case=case)]
        assert len(rows) >= 5
        for obj in rows:
            fields = _insert_fields(type(obj))
            expected = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
            got = _values(obj, fields, connection)
            assert [type(v) for v in got] == [type(v) for v in expected], type(obj)
            assert [plain(v) for v in got] == [plain(v) for v in expected], type(obj)
        # Values of another type than their field's go through the field's conversion.
        case.priority, case.subject, case.customer_id = "3", 42, str(case.customer_id)
        fields = _insert_fields(Case)
        got = dict(zip([f.name for f in fields], _values(case, fields, connection), strict=True))
        assert (got["priority"], got["subject"]) == (3, "42")
        assert got["customer"] == case.customer.pk
