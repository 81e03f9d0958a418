"""Statements PostgreSQL plans once per connection instead of on every run.

Django sends every query with its parameters bound client-side, so PostgreSQL parses and plans
it each time. For the few statements intake runs on every case that planning costs more than
running them: the least-loaded choice plans in about 1 ms and runs in 0.5 ms. A cursor from
`prepared_cursor()` binds server-side and prepares each statement on its first run; later runs
on the same connection reuse the plan. Everything else keeps Django's client-side binding
(a prepared statement needs a session: see deploy/README on connection poolers).

On SQLite, and wherever prepared statements are turned off (`DATABASE_PREPARED=False`), it is
an ordinary cursor. Queries through it are still counted and logged as Django's are.
"""

import functools

from django.conf import settings
from django.db import connection


def prepared_cursor():
    if connection.vendor != "postgresql" or not settings.DATABASE_PREPARED:
        return connection.cursor()
    connection.ensure_connection()
    raw = connection.connection
    # Only server-binding cursors prepare; Django's own (client-binding) cursors never do,
    # so this leaves every other query as it was.
    raw.prepare_threshold = 0
    return connection._prepare_cursor(_cursor_class()(raw))


@functools.cache
def _cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor

    class PreparingCursor(ServerBindingCursor):
        def _convert_query(self, query, params=None):
            # Kept, as psycopg's client-binding cursor keeps it, so that Django's query log
            # (DEBUG, tests counting queries) shows the statement (with $1… placeholders).
            self._query = super()._convert_query(query, params)
            return self._query

    return PreparingCursor


@functools.cache
def columns(model):
    """The columns of `model` in the order Model.from_db() takes them, for a statement that
    selects a whole row by name (never `*`: a prepared plan must not change its columns)."""
    return [f.attname for f in model._meta.concrete_fields]


def instance(model, row):
    """A `model` instance from a row of its columns (in `columns(model)` order), converted as
    the ORM converts what it reads (SQLite's dates arrive as text, for one)."""
    values = list(row)
    for i, column, converters in _converters(model, connection.vendor):
        value = values[i]
        for convert in converters:
            value = convert(value, column, connection)
        values[i] = value
    return model.from_db(connection.alias, columns(model), values)


@functools.cache
def _converters(model, vendor):
    found = []
    for i, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((i, column, converters))
    return found
