"""The escalation sweep's bulk parts: raising case escalations in set-based SQL on
PostgreSQL, and turning what one sweep raised into notifications — one per escalation for a
few, one digest per person when many fall due at once.

services.sla_sweep owns the workflow (claims, transactions, recipients); the row-by-row path
in services stays the reference (SQLite, technical requests) and the same tests run on both.
"""

import datetime
import heapq
from collections import Counter
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.translation import gettext as _

from . import sla
from .models import (
    ACTIVE_STATES,
    FINAL_STATES,
    STAGE_LABELS,
    Case,
    CaseEscalation,
    CaseEvent,
    EventKind,
    SlaBreach,
    State,
)

# How many escalations of one sweep a person is told about one by one; beyond it, one digest.
DIGEST_LIST_LIMIT = 200


@dataclass(slots=True)
class Raised:
    """One escalation a sweep raised, with what each way of telling people needs."""

    key: str  # event key of the one-by-one notification
    link: str
    number: str
    case_subject: str
    stage: str
    level: int
    due_at: datetime.datetime | str  # or its isoformat()
    department: str
    people: list = field(default_factory=list)

    def notice(self):
        """(subject, body) of the one-by-one notification (built only when one is sent)."""
        due_at = self.due_at
        if isinstance(due_at, str):
            due_at = datetime.datetime.fromisoformat(due_at)
        return notice_text(
            self.number, self.case_subject, self.stage, self.level, due_at, self.department
        )


def stage_label(stage):
    return str(STAGE_LABELS[stage])


def notice_text(number, case_subject, stage, level, due_at, department_name):
    """(subject, body) of the notification for one escalation."""
    subject = _("Case %(number)s: %(stage)s overdue (escalation level %(level)s)") % {
        "number": number,
        "stage": stage_label(stage),
        "level": level,
    }
    body = _(
        "%(subject)s\nDeadline: %(due)s\nDepartment: %(department)s\nSubject: %(case_subject)s"
    ) % {
        "subject": subject,
        "due": timezone.localtime(due_at).strftime("%Y-%m-%d %H:%M"),
        "department": department_name or "-",
        "case_subject": case_subject,
    }
    return subject, body


def digest_text(items):
    """(subject, body) of one person's digest of `items` (Raised)."""
    cases = len({r.number for r in items})
    subject = _("%(count)s escalations in %(cases)s cases: deadlines missed") % {
        "count": len(items),
        "cases": cases,
    }
    lines = [subject, ""]
    by_level = Counter(r.level for r in items)
    by_stage = Counter(r.stage for r in items)
    by_department = Counter(r.department or "-" for r in items)
    for level, n in sorted(by_level.items()):
        lines.append(_("Escalation level %(level)s: %(count)s") % {"level": level, "count": n})
    lines.append("")
    lines.append(_("By stage:"))
    lines += [f"  {stage_label(s)}: {n}" for s, n in by_stage.most_common()]
    lines.append(_("By department:"))
    lines += [f"  {d}: {n}" for d, n in by_department.most_common()]
    lines.append("")
    lines.append(_("Cases:"))
    # The first DIGEST_LIST_LIMIT in order, without sorting all of them (133,000 at once).
    listed = heapq.nsmallest(DIGEST_LIST_LIMIT, items, key=lambda r: (-r.level, r.number, r.stage))
    for r in listed:
        lines.append(
            f"  {r.number}  L{r.level}  {stage_label(r.stage)}  {r.department or '-'}  "
            f"{r.case_subject[:40]}"
        )
    if len(items) > DIGEST_LIST_LIMIT:
        lines.append(
            _("… and %(count)s more: see the case list.")
            % {"count": len(items) - DIGEST_LIST_LIMIT}
        )
    return subject, "\n".join(lines)


DIGEST_LINK = "/admin/complaints/case/?escalated=any"


def notices_for(raised, now):
    """notify_bulk rows for what one sweep raised: each person hears of up to
    ESCALATION_DIGEST_OVER escalations one by one, of more in one digest."""
    per_person = {}
    for r in raised:
        for user in r.people:
            per_person.setdefault(user.pk, (user, []))[1].append(r)
    notices = []
    for user, items in per_person.values():
        if len(items) <= settings.ESCALATION_DIGEST_OVER:
            notices += [(user, r.key, *r.notice(), r.link) for r in items]
        else:
            # Two sweeps at once claim different cases: the first number keeps their keys apart.
            first = min(r.number for r in items)
            key = f"escalation-digest:{now:%Y%m%dT%H%M%S}:{first}"
            notices.append((user, key, *digest_text(items), DIGEST_LINK))
    return notices


# --- set-based case escalation (PostgreSQL) ------------------------------------------


def _iso_sql(column):
    """SQL rendering `column` (timestamptz) like Python's datetime.isoformat() in UTC."""
    utc = f"({column} AT TIME ZONE 'UTC')"
    return (
        f"to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || CASE WHEN "
        f"date_part('microseconds', {utc})::bigint %% 1000000 <> 0 "
        f"THEN to_char({utc}, '.US') ELSE '' END || '+00:00'"
    )


def _template_sql(template, values, params):
    """A translated %-template as SQL concatenation: the literal parts become named
    parameters (added to `params`), the placeholders the SQL expressions in `values`."""
    parts, rest = [], template
    while rest:
        found = [(rest.find(f"%({name})s"), name) for name in values if f"%({name})s" in rest]
        pos, name = min(found) if found else (len(rest), None)
        if pos:
            key = f"lit{len(params)}"
            params[key] = rest[:pos]
            parts.append(f"%({key})s")
        if name is None:
            break
        parts.append(f"({values[name]})::text")
        rest = rest[pos + len(f"%({name})s") :]
    return " || ".join(parts) or "''"


def escalate_cases_sql(*, now, limit, level1_people, level1_default, level2_people):
    """Claim up to `limit` due cases (skipping rows another sweep holds), raise their
    escalations, write breaches and timeline entries and reschedule the cases — one
    statement. Returns (cases claimed, [(case_id, number, subject, department_id, stage,
    due_at, level)] of the escalations raised — the breaches actually inserted), due_at as
    datetime.isoformat() writes it in UTC: text costs Python nothing to read, a timestamp
    ~10 µs (1.5 s for 133,000 escalations), and the notifications' keys are text.

    The same rules as sla.escalations_due and Case.pending_deadlines, in SQL; the test suite
    runs against both. `level1_people` {department_id: [usernames]}, `level1_default`
    [usernames] (no department, or nobody there), `level2_people` [usernames]."""
    case_t, escalation_t, breach_t, event_t = (
        m._meta.db_table for m in (Case, CaseEscalation, SlaBreach, CaseEvent)
    )
    level2_after = datetime.timedelta(hours=settings.ESCALATION_LEVEL2_AFTER_HOURS)
    active = ", ".join(f"'{s.value}'" for s in ACTIVE_STATES)
    final = ", ".join(f"'{s.value}'" for s in FINAL_STATES)
    columns = ["id", "number", "subject", "department_id", "state"]
    columns += [column for pair in sla.CASE_STAGES.values() for column in pair]
    stages = []
    for order, (stage, (due_col, done_col)) in enumerate(sla.CASE_STAGES.items(), 1):
        if stage == sla.FIRST_RESPONSE:
            still_open = f"c.state NOT IN ({final})"
        elif stage == sla.SATISFACTION:
            still_open = f"c.state = '{State.RESOLVED.value}'"
        else:
            still_open = f"c.state IN ({active})"
        stages.append(f"('{stage}', c.{due_col}, {order}, {still_open} AND c.{done_col} IS NULL)")
    # Rolling stages (the daily progress update): due while set and the case is active.
    for order, (stage, due_col) in enumerate(sla.ROLLING_STAGES.items(), len(stages) + 1):
        columns.append(due_col)
        stages.append(f"('{stage}', c.{due_col}, {order}, c.state IN ({active}))")
    all_stages = [*sla.CASE_STAGES, *sla.ROLLING_STAGES]
    params = {}
    for i, stage in enumerate(all_stages):
        params[f"label{i}"] = stage_label(stage)
    labels = " ".join(f"WHEN '{s}' THEN %(label{i})s" for i, s in enumerate(all_stages))
    message_sql = _template_sql(
        _("Case %(number)s: %(stage)s overdue (escalation level %(level)s)"),
        {"number": "c.number", "stage": f"CASE b.stage {labels} END", "level": "b.level"},
        params,
    )
    sql = f"""
    WITH claimed AS (
        -- Claimed by the escalation row (the one row the statement writes); what later steps
        -- read of the case is read here, so none of them joins the big table again. The
        -- breaches and timeline entries take a key-share lock on the case (their foreign
        -- keys), which a request's SELECT … FOR UPDATE of the case blocks: taken here, it
        -- skips a case a request holds instead of waiting for it while holding the escalation
        -- row that request may be about to write (a deadlock). Each case read by its key (a
        -- hash join read all million cases to find 100,000: 0.7–1.2 s).
        SELECT c.*
        FROM (
            SELECT e.case_id FROM {escalation_t} e
            WHERE e.next_at <= %(now)s
            ORDER BY e.next_at
            LIMIT %(limit)s
            FOR UPDATE SKIP LOCKED
        ) e
        CROSS JOIN LATERAL (
            SELECT {", ".join(columns)} FROM {case_t}
            WHERE id = e.case_id
            FOR KEY SHARE SKIP LOCKED
        ) c
    ), pending AS (
        SELECT c.id AS case_id, s.stage, s.due, s.ord
        FROM claimed c
        CROSS JOIN LATERAL (VALUES {", ".join(stages)}) AS s(stage, due, ord, still_open)
        WHERE s.still_open AND s.due IS NOT NULL
    ), state AS (
        -- Levels already raised for each deadline: a probe of breach_once_per_level each
        -- deadline already past (one still ahead has none: a level is raised once its
        -- deadline has passed).
        SELECT p.*, coalesce(k.has1, false) AS has1, coalesce(k.has2, false) AS has2
        FROM pending p LEFT JOIN LATERAL (
            SELECT bool_or(b.level = 1) AS has1, bool_or(b.level = 2) AS has2
            FROM {breach_t} b
            WHERE p.due <= %(now)s
              AND b.case_id = p.case_id AND b.stage = p.stage AND b.due_at = p.due
              AND b.technical_request_id IS NULL
        ) k ON true
    ), raise AS (
        SELECT case_id, stage, due, 1 AS level FROM state WHERE NOT has1 AND due <= %(now)s
        UNION ALL
        SELECT case_id, stage, due, 2 FROM state
        WHERE NOT has2 AND due + %(level2_after)s <= %(now)s
    ), schedule AS (
        -- Each case's next look and the highest level raised now, from its deadlines alone,
        -- one hash aggregate (a claimed case with no deadline pending has no row: its next
        -- look is none, until a save schedules one).
        SELECT case_id,
               min(LEAST(
                   CASE WHEN NOT has1 AND due > %(now)s THEN due END,
                   CASE WHEN NOT has2 AND (has1 OR due <= %(now)s)
                         AND due + %(level2_after)s > %(now)s
                        THEN due + %(level2_after)s END
               )) AS next_at,
               max(CASE WHEN NOT has2 AND due + %(level2_after)s <= %(now)s THEN 2
                        WHEN NOT has1 AND due <= %(now)s THEN 1 END) AS level
        FROM state
        GROUP BY case_id
    ), moved AS (
        -- The case row is not written: its current_stage/current_due follow from its own
        -- fields and were set when it was last saved.
        UPDATE {escalation_t} e SET
            next_at = schedule.next_at,
            level = GREATEST(e.level, coalesce(schedule.level, 0))
        FROM claimed
        LEFT JOIN schedule ON schedule.case_id = claimed.id
        WHERE e.case_id = claimed.id
    ), breaches AS (
        INSERT INTO {breach_t}
            (case_id, technical_request_id, stage, due_at, level, escalated_at,
             department_id, notified)
        SELECT r.case_id, NULL, r.stage, r.due, r.level, %(now)s, c.department_id,
               CASE WHEN r.level >= 2 THEN %(level2)s::jsonb
                    ELSE coalesce(%(level1)s::jsonb -> (c.department_id::text),
                                  %(level1_default)s::jsonb) END
        FROM raise r JOIN claimed c ON c.id = r.case_id
        ON CONFLICT DO NOTHING
        RETURNING case_id, stage, due_at, level, notified, {_iso_sql("due_at")} AS due_iso
    ), events AS (
        INSERT INTO {event_t}
            (case_id, kind, transition, from_state, to_state, message, customer_notified,
             data, author_id, created_at)
        SELECT b.case_id, '{EventKind.ESCALATION.value}', '', '', '', {message_sql}, false,
               jsonb_build_object('stage', b.stage, 'level', b.level,
                                  'due_at', b.due_iso, 'notified', b.notified),
               NULL, %(now)s
        FROM breaches b JOIN claimed c ON c.id = b.case_id
    )
    SELECT n.claimed, b.case_id, c.number, c.subject, c.department_id, b.stage, b.due_iso,
           b.level
    FROM (SELECT count(*) AS claimed FROM claimed) n
    LEFT JOIN breaches b ON true
    LEFT JOIN claimed c ON c.id = b.case_id
    ORDER BY c.number, b.due_at, b.level
    """
    from psycopg.types.json import Jsonb

    params.update(
        now=now,
        limit=limit,
        level2_after=level2_after,
        level1=Jsonb({str(k): v for k, v in level1_people.items()}),
        level1_default=Jsonb(level1_default),
        level2=Jsonb(level2_people),
    )
    with connection.cursor() as cursor:
        # The planner's row estimates for the chained CTEs are far too high, which makes it
        # compile the statement with JIT: ~0.8 s of compiling for nothing. For this
        # transaction only (the sweep runs in one).
        cursor.execute("SET LOCAL jit = off")
        # The statement sorts and hashes a batch's rows several times (~15 MB each at 100,000
        # cases): in memory rather than in temporary files.
        cursor.execute("SET LOCAL work_mem = '64MB'")
        # The commit does not wait for its WAL to reach the disk (~0.5 s for 100,000 cases;
        # the rest of its ~2.5 s is checking the 400,000 foreign keys the rows carry): a
        # server crash within the next second may lose this sweep, which the next one then
        # does again — the escalation rows are still due. At worst a person gets the same
        # digest twice; nothing is lost nor half-written (the transaction stays atomic).
        cursor.execute("SET LOCAL synchronous_commit = off")
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return rows[0][0], [row[1:] for row in rows if row[1] is not None]
