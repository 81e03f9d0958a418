"""Intake's first statement goes to PostgreSQL with its transaction's BEGIN, in one message
(servicedesk/prepared_begin.py). Real PostgreSQL, real transactions (committed): the same
cases, customers and de-duplication as the statement run on its own, and intake carries on
when the server's prepared statements and the process's idea of them disagree."""

import re

import psycopg
import pytest
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from complaints.intake import active_rules
from complaints.models import Case, Customer
from servicedesk import prepared_begin
from tests.complaints.helpers import intake
from tests.servicedesk.test_scale_out import database_url

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("a statement sent with its BEGIN: PostgreSQL's simple query protocol")
    connection.close()  # a new connection: nothing prepared on it yet


def sent(queries):
    """What went to the server, without Django's log of transaction control alone (its
    "BEGIN" marks autocommit turned off: psycopg sends the BEGIN later, or the statement
    does)."""
    control = re.compile(r"(BEGIN|COMMIT|ROLLBACK|SAVEPOINT \S+|RELEASE SAVEPOINT \S+)")
    return [q["sql"] for q in queries.captured_queries if not control.fullmatch(q["sql"])]


def first_statement(**kwargs):
    """Intake, and the first statement of its transaction (with its result). The intake rules
    come before the transaction, from the cache (the database's here: no Redis): loaded
    beforehand, so that what is left of them is the cache's read, left out."""
    active_rules()
    with CaptureQueriesContext(connection) as queries:
        result = intake(**kwargs)
    return result, next(sql for sql in sent(queries) if '"servicedesk_cache"' not in sql)


def committed_cases():
    """Cases as another connection sees them: committed."""
    with psycopg.connect(database_url(), autocommit=True) as other:
        return other.execute("SELECT count(*) FROM complaints_case").fetchone()[0]


def test_the_customer_is_read_in_the_message_that_begins_the_transaction():
    customer = {"name": "王女士", "phone": "13700001111"}
    first, sql = first_statement(customer=customer, subject="快递一直没有送到")
    # Prepared by name on first use, with the BEGIN and the statement, in one message.
    assert sql.startswith("PREPARE sd_") and "; BEGIN; EXECUTE sd_" in sql
    assert not first.absorbed and committed_cases() == 1
    # Later transactions on the connection: the BEGIN and the prepared statement.
    again, sql = first_statement(customer=customer, subject="快递一直没有送到，催一下")
    assert sql.startswith("BEGIN; EXECUTE sd_")
    # The same answers: the customer found, the open case de-duplicated against.
    assert again.absorbed and again.case.pk == first.case.pk
    assert Customer.objects.filter(phone="13700001111").count() == 1
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'sd_%%'")
        assert cursor.fetchone()[0] == 1


def test_values_are_bound_as_values():
    """Client-side binding: an address with a quote is a value, found again as itself."""
    customer = {"name": "O'Neil", "email": "o'neil@example.com"}
    first, _ = first_statement(customer=customer, subject="发票抬头开错了")
    again, _ = first_statement(customer=customer, subject="发票抬头开错了，请重开")
    assert again.absorbed and again.case.pk == first.case.pk


def test_a_statement_the_server_forgot_is_prepared_again():
    """A pooler or `DISCARD ALL` may drop the connection's prepared statements: the intake's
    first attempt fails before anything is saved, the transaction it began is ended, and the
    message goes again with its PREPARE."""
    intake(customer={"name": "甲", "phone": "13700002222"})
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    with CaptureQueriesContext(connection) as queries:
        result = intake(customer={"name": "甲", "phone": "13700002222"}, subject="售后态度恶劣")
    first, second = sent(queries)[:2]
    assert first.startswith("BEGIN; EXECUTE sd_") and second.startswith("PREPARE sd_")
    assert not result.absorbed and committed_cases() == 2
    assert Customer.objects.filter(phone="13700002222").count() == 1


def test_a_statement_the_server_knows_already_is_not_prepared_twice():
    intake(customer={"name": "乙", "phone": "13700003333"})
    prepared_begin._prepared_names.clear()  # as if this process had lost count
    with CaptureQueriesContext(connection) as queries:
        result = intake(customer={"name": "乙", "phone": "13700003333"}, subject="说明书缺页")
    first, second = sent(queries)[:2]
    assert first.startswith("PREPARE sd_") and second.startswith("BEGIN; EXECUTE sd_")
    assert not result.absorbed and committed_cases() == 2


def test_a_refused_intake_saves_nothing_and_the_next_one_goes_through():
    with pytest.raises(ValidationError) as refused:
        intake(customer={"name": "丙", "phone": "13700004444"}, category="no-such-category")
    assert "category" in refused.value.message_dict
    assert committed_cases() == 0 and not Customer.objects.exists()
    result, sql = first_statement(customer={"name": "丙", "phone": "13700004444"})
    assert sql.startswith("BEGIN; EXECUTE sd_") and committed_cases() == 1
    assert result.case.customer.phone == "13700004444"


def test_inside_a_transaction_already_begun_the_statement_runs_on_its_own():
    with transaction.atomic():
        Case.objects.exists()  # the transaction has begun on the server
        result, sql = first_statement(customer={"name": "丁", "phone": "13700005555"})
    assert not sql.startswith(("PREPARE", "BEGIN")) and "FROM" in sql
    assert committed_cases() == 1 and result.case.pk


def test_without_prepared_statements_nothing_is_prepared(settings):
    settings.DATABASE_PREPARED = False
    _, sql = first_statement(customer={"name": "戊", "phone": "13700006666"})
    assert not sql.startswith(("PREPARE", "BEGIN")) and committed_cases() == 1
