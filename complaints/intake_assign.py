"""Intake's case number and its assignee: the number drawn per month, the members of a
department intake may assign, and the least loaded of them (complaints/intake_workflow.py)."""

import datetime
import functools

from django.contrib.auth.models import Group
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from servicedesk.prepared import columns, default_connection, instance, prepared_cursor
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
    period = _period(now)
    with prepared_cursor() as cursor:
        cursor.execute(_number_sql(), [period])
        (last,) = cursor.fetchone()
    return f"{period}-{last:05d}"


@functools.cache
def _number_sql():
    table = connection.ops.quote_name(CaseNumberSequence._meta.db_table)
    return (
        f"INSERT INTO {table} (period, last) VALUES (%s, 1) "
        f"ON CONFLICT (period) DO UPDATE SET last = {table}.last + 1 RETURNING last"
    )


def next_number_and_handler(now, department):
    """next_number(now) and least_loaded_handler(department, now), in that order: on
    PostgreSQL in ONE statement — the draw, then the function complaints_least_loaded
    (migration 0027) called with the number drawn, so it runs after the draw and, being
    VOLATILE, reads with a fresh snapshot what the previous intake committed (the statement's
    own snapshot predates its wait for the number's row). Elsewhere, the two statements."""
    if default_connection().vendor != "postgresql":
        return next_number(now), least_loaded_handler(department, now)
    period = _period(now)
    with prepared_cursor() as cursor:
        cursor.execute(_number_and_handler_sql(), [period, *_rota_params(department, now)])
        row = cursor.fetchone()
    handler = None if row[1] is None else instance(User, row[1:])
    return f"{period}-{row[0]:05d}", handler


@functools.cache
def _number_and_handler_sql():
    return (
        f"WITH n AS ({_number_sql()}) SELECT n.last, {_user_columns()} FROM n "
        "LEFT JOIN LATERAL complaints_least_loaded(%s, %s, %s, %s, %s, %s, n.last) u ON true"
    )


@functools.cache
def _user_columns():
    return ", ".join(f"u.{connection.ops.quote_name(c)}" for c in columns(User))


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
    return f"SELECT {_user_columns()} FROM complaints_least_loaded(%s, %s, %s, %s, %s, %s, 0) u"


@functools.cache
def _least_loaded_sql():
    def table(model):
        return connection.ops.quote_name(model._meta.db_table)

    return (
        f"SELECT {_user_columns()} FROM {table(User)} u "
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
