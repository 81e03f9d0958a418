"""A transaction's first statement sent with its BEGIN, in one message.

psycopg opens a transaction with a `BEGIN` of its own and waits for the answer before it sends
the first statement: a round trip per transaction that does nothing else. Intake's transaction
runs four (BEGIN, the customer with their open cases, the number with the handler, the case
with its rows) before its COMMIT; `begin_with()` sends the first statement in the same
message as the BEGIN — `BEGIN; EXECUTE name(…)`, the simple query protocol, the statement
prepared on the connection by name (`PREPARE name AS …`, in the same message the first time)
and so planned once per connection as servicedesk/prepared.py's are; the values are bound
client-side, as Django binds every other query.

Only where that helps and is safe: on PostgreSQL with prepared statements on
(DATABASE_PREPARED), inside transaction.atomic() with nothing sent yet in the transaction;
otherwise the statement runs through prepared_cursor() as before. If the server does not
know a name this process prepared on the connection (a pooler, or `DISCARD ALL`), or knows
one it did not expect, the message is sent again the other way; nothing has run then."""

import functools
import hashlib
import weakref

from django.conf import settings
from django.db import utils

from .prepared import default_connection, prepared_cursor, raw_connection

_prepared_names = weakref.WeakKeyDictionary()  # psycopg connection -> names prepared on it

UNDEFINED_STATEMENT = "26000"  # invalid_sql_statement_name: EXECUTE of an unknown name
DUPLICATE_STATEMENT = "42P05"  # duplicate_prepared_statement: PREPARE of a known one


def begin_with(sql, params):
    """A Django cursor that has run `sql` (%s placeholders) with `params`, positioned on its
    rows: with the transaction's BEGIN in the same message when the caller's transaction
    (transaction.atomic) has not begun on the server yet. The caller closes the cursor."""
    conn = default_connection()
    if conn.vendor != "postgresql" or not settings.DATABASE_PREPARED or not conn.in_atomic_block:
        return _as_before(sql, params)
    raw = raw_connection(conn)
    if raw.autocommit or raw.pgconn.transaction_status != _idle():
        return _as_before(sql, params)  # begun already: nothing to save
    names = _prepared_names.setdefault(raw, set())
    name, numbered = _statement(sql)
    for _attempt in range(2):
        text = f"BEGIN; EXECUTE {name}({', '.join(['%s'] * len(params))})"
        if name not in names:
            text = f"PREPARE {name} AS {numbered}; {text}"
        cursor = conn._prepare_cursor(_beginning_cursor_class()(raw))
        try:
            cursor.execute(text, params)
        except (utils.ProgrammingError, utils.OperationalError) as exc:
            cursor.close()
            state = getattr(exc.__cause__, "sqlstate", None)
            if state == DUPLICATE_STATEMENT:  # the PREPARE failed: nothing ran
                names.add(name)
            elif state == UNDEFINED_STATEMENT:  # the BEGIN ran: end that transaction
                names.discard(name)
                raw.rollback()
            else:
                raise
            continue
        names.add(name)
        while cursor.cursor.nextset():  # past PREPARE's and BEGIN's answers to the rows
            pass
        return cursor
    return _as_before(sql, params)


def _as_before(sql, params):
    cursor = prepared_cursor()
    cursor.execute(sql, params)
    return cursor


def _idle():
    from psycopg import pq

    return pq.TransactionStatus.IDLE


@functools.lru_cache(maxsize=64)
def _statement(sql):
    """The statement's name on the server and its text with $1… placeholders (converted as
    psycopg converts them)."""
    from psycopg._queries import _query2pg_nocache

    numbered = _query2pg_nocache(sql.encode(), "utf-8")[0].decode()
    # The text goes through a client-binding cursor again: its own % stay literal.
    numbered = numbered.replace("%", "%%")
    return f"sd_{hashlib.sha1(sql.encode()).hexdigest()[:24]}", numbered


@functools.cache
def _beginning_cursor_class():
    from django.db.backends.postgresql.base import Cursor
    from psycopg import adapt, errors

    class BeginningCursor(Cursor):
        """Django's client-binding cursor, except that psycopg does not send a BEGIN before
        the statement: the statement carries its own (psycopg's BaseCursor._start_query
        without its last step, `self._conn._start_query()`; psycopg 3.3)."""

        def _start_query(self, query=None):
            if self.closed:
                raise errors.InterfaceError("the cursor is closed")
            self._reset()
            if not self._last_query or (self._last_query is not query):
                self._last_query = None
                self._tx = adapt.Transformer(self)
            return
            yield  # a generator, as the method it replaces

    return BeginningCursor
