"""The opt-in conversion of the case timeline into monthly partitions (PostgreSQL): every
entry kept, the desk works on as before, the upkeep adds months ahead; SQLite refuses
clearly. DDL is transactional on PostgreSQL: each test's rollback undoes the conversion."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.management import CommandError, call_command
from django.db import connection

from complaints import services
from complaints.models import CaseEvent

from .helpers import intake

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def partitions():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'complaints_caseevent'::regclass ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


@pytest.fixture
def postgres(db):
    if connection.vendor != "postgresql":
        pytest.skip("table partitioning is PostgreSQL's")


def test_sqlite_keeps_one_table_and_says_so(db):
    if connection.vendor == "postgresql":
        pytest.skip("the SQLite refusal")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("timeline_partitions", "--convert")


@pytest.mark.postgres
def test_converting_keeps_every_entry_and_the_desk_works_on(postgres, agent, capsys):
    cases = []
    for month in (9, 10, 11):
        with time_machine.travel(at(2026, month, 10, 10), tick=False):
            cases.append(intake().case)
    with time_machine.travel(at(2026, 11, 12, 10), tick=False):
        services.case_add_event(case=cases[0], user=agent, message="已回电客户说明进展")
    before = list(CaseEvent.objects.order_by("pk").values_list("pk", "case_id", "message"))

    with time_machine.travel(at(2026, 11, 15, 10), tick=False):
        call_command("timeline_partitions", "--convert")
    assert "Partitioned the timeline by month" in capsys.readouterr().out

    assert partitions() == [
        "complaints_caseevent_default", *[f"complaints_caseevent_y2026m{m:02d}" for m in
                                          (9, 10, 11, 12)],
        "complaints_caseevent_y2027m01", "complaints_caseevent_y2027m02",
    ]  # fmt: skip
    after = list(CaseEvent.objects.order_by("pk").values_list("pk", "case_id", "message"))
    assert after == before
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM complaints_caseevent_y2026m09")
        assert cursor.fetchone()[0] == len([e for e in before if e[1] == cases[0].pk]) - 1
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'complaints_caseevent'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"event_case_idx", "complaints_caseevent_pkey"} <= names
    # The desk works on: a new case's entries land in this month's partition, after the rest.
    with time_machine.travel(at(2026, 11, 20, 10), tick=False):
        new = intake().case
    assert min(e.pk for e in new.events.all()) > max(pk for pk, _, _ in before)
    assert [e.message for e in cases[0].events.all()][-1] == "已回电客户说明进展"


@pytest.mark.postgres
def test_the_monthly_upkeep_adds_months_and_a_second_conversion_does_nothing(postgres, capsys):
    with time_machine.travel(at(2026, 11, 15, 10), tick=False):
        intake()
        call_command("timeline_partitions", "--convert", "--months-ahead", "1")
    with time_machine.travel(at(2027, 1, 5, 10), tick=False):
        call_command("timeline_partitions", "--months-ahead", "1")
        call_command("timeline_partitions", "--convert")
    out = capsys.readouterr().out
    assert "complaints_caseevent_y2027m01" in out and "complaints_caseevent_y2027m02" in out
    assert "already partitioned" in out
    assert "complaints_caseevent_y2027m02" in partitions()


@pytest.mark.postgres
def test_upkeep_before_conversion_explains_what_to_do(postgres):
    with pytest.raises(CommandError, match="--convert"):
        call_command("timeline_partitions")
