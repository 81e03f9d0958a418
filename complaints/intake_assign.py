"""Intake's case number and its assignee: the number drawn per month, the members of a
department intake may assign, and the least loaded of them (complaints/intake_workflow.py)."""

import datetime
import functools
from dataclasses import dataclass

from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from servicedesk.prepared import columns, default_connection, instance, prepared_cursor
from servicedesk.prepared_gate import Gate
from servicedesk.rota.models import ROTA_HORIZON_DAYS, Absence, RotaEntry, on_duty_q
from servicedesk.staff import roles
from servicedesk.staff.models import Membership, User

from .models import ACTIVE_STATES, AssigneeLoad, Case, CaseNumberSequence


def _period(now):
    return timezone.localtime(now).strftime("%Y%m")


def next_number(now):
    """`YYYYMM-NNNNN` by local month, in one upsert. The sequence row stays locked for the
    rest of the transaction, so concurrent intakes queue for it and never share a number —
    and everything intake does after taking its number (the least-loaded choice) runs one
    intake at a time and sees the previous intake's assignment."""
    with prepared_cursor() as cursor:
        cursor.execute(_number_sql(), [_period(now)])
        return _number(*cursor.fetchone())


def _number(period, last):
    return f"{period}-{last:05d}"


@functools.cache
def _number_sql():
    """The draw: the month's row (period, last), its count moved on."""
    table = connection.ops.quote_name(CaseNumberSequence._meta.db_table)
    return (
        f"INSERT INTO {table} (period, last) VALUES (%s, 1) "
        f"ON CONFLICT (period) DO UPDATE SET last = {table}.last + 1 RETURNING period, last"
    )


def _least_loaded_call(drawn):
    """complaints_least_loaded(…) with _rota_params() and `drawn` (SQL) last."""
    return f"complaints_least_loaded(%s, %s, %s, %s, %s, %s, {drawn})"


def _handler(row):
    """The user of a row of user_columns(), None when they are all NULL (nobody chosen)."""
    return None if row[_USER_ID] is None else instance(User, row)


def next_number_and_handler(now, department):
    """next_number(now) and least_loaded_handler(department, now), in that order: on
    PostgreSQL in ONE statement — the draw, then the function complaints_least_loaded
    (migration 0027) called with the number drawn, so it runs after the draw and, being
    VOLATILE, reads with a fresh snapshot what the previous intake committed (the statement's
    own snapshot predates its wait for the number's row). Elsewhere, the two statements."""
    if default_connection().vendor != "postgresql":
        return next_number(now), least_loaded_handler(department, now)
    with prepared_cursor() as cursor:
        cursor.execute(_number_and_handler_sql(), [_period(now), *_rota_params(department, now)])
        row = cursor.fetchone()
    return _number(*row[:2]), _handler(row[2:])


@functools.cache
def _number_and_handler_sql():
    return (
        f"WITH n AS ({_number_sql()}) SELECT n.period, n.last, {user_columns()} FROM n "
        f"LEFT JOIN LATERAL {_least_loaded_call('n.last')} u ON true"
    )


@functools.cache
def user_columns(alias="u"):
    """The user's columns of `alias`, in instance() order."""
    return ", ".join(f"{alias}.{connection.ops.quote_name(c)}" for c in columns(User))


# --- the handler chosen before the draw, checked after it (PostgreSQL) -------------------
#
# Drawing the number locks the month's row until the commit: from there on, intakes run one
# at a time. So that they wait for as little as possible, intake on PostgreSQL chooses the
# handler in its first statement (customer_find(pick=…)), builds the case assigned to them,
# and draws the number in the statement that inserts the case (number_gate): after the draw,
# complaints_least_loaded chooses again — seeing what the previous intake committed — and the
# case goes in only if that is the same handler. If not (an intake of the same department
# committed in between), nothing went in, the number is drawn and kept, and intake builds the
# case again for the handler chosen after the draw.


@dataclass
class Pick:
    """The least-loaded handler of `department` at `now`, chosen before the draw."""

    department: object
    now: datetime.datetime
    handler: object = None
    done: bool = False
    _params: list = None

    def params(self):
        """complaints_least_loaded's arguments but the last (the same before and after)."""
        if self._params is None:
            self._params = _rota_params(self.department, self.now)
        return self._params

    def read(self, row):
        """The handler's columns (user_columns), all None when nobody is on duty."""
        self.handler = _handler(row)
        self.done = True


@functools.cache
def pick_sql():
    """The least-loaded handler's row, or one row of NULLs (six parameters: _rota_params)."""
    return (
        f"SELECT {user_columns()} FROM (SELECT 1) one LEFT JOIN {_least_loaded_call(0)} u ON true"
    )


def number_gate(pick):
    """The Gate (servicedesk/prepared_gate.py) a new case's insert runs under: draw the
    month's next number, choose the handler after it, go in if that is the one `pick` chose.
    Read its result with gate_number() and gate_handler()."""
    handler = None if pick.handler is None else pick.handler.pk
    return Gate(
        sql=_gate_sql(),
        params=[_period(pick.now), handler, *pick.params()],
        columns={"number": _NUMBER},
        outputs=_gate_outputs(),
    )


def gate_number(gate):
    """The number a gated insert that ran drew."""
    return _number(*gate.result[:2])


def gate_handler(gate):
    """The handler a gated insert that ran chose after the draw."""
    return _handler(gate.result[2:])


# `YYYYMM-NNNNN` as next_number() writes it (more digits past 99,999).
_NUMBER = "g.period || '-' || lpad(g.last::text, greatest(5, length(g.last::text)), '0')"


@functools.cache
def _gate_sql():
    quote = connection.ops.quote_name
    chosen = ", ".join(f"u.{quote(c)} AS {quote('u_' + c)}" for c in columns(User))
    return (
        f"n AS ({_number_sql()}), "
        f"g AS (SELECT n.period, n.last, u.id IS NOT DISTINCT FROM %s AS ok, {chosen} FROM n "
        f"LEFT JOIN LATERAL {_least_loaded_call('n.last')} u ON true)"
    )


@functools.cache
def _gate_outputs():
    quote = connection.ops.quote_name
    return ("g.period", "g.last", *(f"g.{quote('u_' + c)}" for c in columns(User)))


def handler_candidates(department, now):
    """The active members of `department` who can work cases and are on duty at `now`: those
    intake may assign."""
    can_work = User.groups.through.objects.filter(
        user_id=OuterRef("pk"), group__name__in=[roles.HANDLER, roles.AGENT]
    )
    return (
        User.objects.filter(is_active=True, memberships__department=department)
        .filter(Exists(can_work))
        .filter(on_duty_q(now, department))
    )


def least_loaded(users):
    """Of `users` (a queryset), the one with the fewest active cases (ties: the earliest
    account). One query; each count reads only that person's open cases through the partial
    index case_open_by_assignee_idx, so its cost does not grow with the case history."""
    open_cases = (
        Case.objects.filter(assignee=OuterRef("pk"), state__in=ACTIVE_STATES)
        .order_by()
        .values("assignee")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return users.annotate(load=Coalesce(Subquery(open_cases), 0)).order_by("load", "pk").first()


def least_loaded_handler(department, now=None):
    """The member of `department` intake assigns a new case to: the least loaded of those on
    duty now (the rota: not absent, on a shift, or in a department without a rota); ties go
    to the earliest account. None when nobody is on duty.

    The same choice as least_loaded(handler_candidates(…)), written out in SQL: intake runs
    it on every case, and building that queryset cost more Python than everything else intake
    does in the database. Each candidate's load is read from their row of
    complaints_assigneeload (kept by triggers, complaints/models_load.py) instead of counted,
    so it costs the same with 10 or 1,000 active cases each. It restates the rota rule of
    servicedesk.rota.models.on_duty_q: a change there is made here too, and in the function
    complaints_least_loaded (migration 0027) that runs it on PostgreSQL —
    tests/complaints/test_intake_load.py holds them to the same answers (inactive, absent,
    supervisors, load and ties; day and night shifts, another department's shift, a
    department without a rota), and so the kept loads to the counted ones."""
    now = now or timezone.now()
    if default_connection().vendor == "postgresql":  # the same SQL as a function (0027)
        sql = _least_loaded_call_sql()
        params = _rota_params(department, now)
    else:  # the same arguments, in the order the statement takes them
        dept, handler, agent, at, start, end = _rota_params(department, now)
        sql = _least_loaded_sql()
        params = [dept, handler, agent, at, at, dept, at, at, dept, start, end]
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else instance(User, row)


def _rota_params(department, now):
    """complaints_least_loaded's arguments but the last."""
    ops = default_connection().ops
    today = timezone.localtime(now).date()
    horizon = datetime.timedelta(days=ROTA_HORIZON_DAYS)
    return [
        department.pk, roles.HANDLER, roles.AGENT, ops.adapt_datetimefield_value(now),
        ops.adapt_datefield_value(today - horizon), ops.adapt_datefield_value(today + horizon),
    ]  # fmt: skip


@functools.cache
def _least_loaded_call_sql():
    return f"SELECT {user_columns()} FROM {_least_loaded_call(0)} u"


@functools.cache
def _least_loaded_sql():
    def table(model):
        return connection.ops.quote_name(model._meta.db_table)

    return (
        f"SELECT {user_columns()} FROM {table(User)} u "
        f"WHERE u.is_active AND EXISTS (SELECT 1 FROM {table(Membership)} m "
        "  WHERE m.user_id = u.id AND m.department_id = %s) "
        f"AND EXISTS (SELECT 1 FROM {table(User.groups.through)} ug "
        f"  JOIN {table(Group)} g ON g.id = ug.group_id "
        "  WHERE ug.user_id = u.id AND g.name IN (%s, %s)) "
        f"AND NOT EXISTS (SELECT 1 FROM {table(Absence)} a "
        "  WHERE a.user_id = u.id AND a.starts_at <= %s AND a.ends_at > %s) "
        f"AND (EXISTS (SELECT 1 FROM {table(RotaEntry)} r WHERE r.user_id = u.id "
        "    AND r.department_id = %s AND r.starts_at <= %s AND r.ends_at > %s) "
        f"  OR NOT EXISTS (SELECT 1 FROM {table(RotaEntry)} r "
        "    WHERE r.department_id = %s AND r.date BETWEEN %s AND %s)) "
        f"ORDER BY COALESCE((SELECT l.open_cases FROM {table(AssigneeLoad)} l "
        "  WHERE l.user_id = u.id), 0), u.id "
        "LIMIT 1"
    )


_USER_ID = columns(User).index("id")
