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
from django.db import DEFAULT_DB_ALIAS, connection, connections, models


def default_connection():
    """The default connection itself, not the `connection` proxy, whose every attribute is
    a lookup in a context-local store (and a caught AttributeError, twice): these functions
    read it dozens of times per statement (each field's value is prepared with it), intake's
    and the API token's a few times per request."""
    return connections[DEFAULT_DB_ALIAS]


def prepared_cursor():
    conn = default_connection()
    if conn.vendor != "postgresql" or not settings.DATABASE_PREPARED:
        return conn.cursor()
    raw = raw_connection(conn)
    # Only server-binding cursors prepare; Django's own (client-binding) cursors never do,
    # so this leaves every other query as it was.
    raw.prepare_threshold = 0
    with conn.wrap_database_errors:
        return conn._prepare_cursor(_cursor_class()(raw))


def raw_connection(conn):
    """`conn`'s psycopg connection, as Django opens its own cursors (BaseDatabaseWrapper.
    _cursor): a connection that failed its health check (CONN_HEALTH_CHECKS; the server
    restarted or ended it) is replaced first."""
    conn.close_if_health_check_failed()
    conn.ensure_connection()
    return conn.connection


@functools.cache
def _cursor_class():
    from django.db.backends.postgresql.base import ServerBindingCursor
    from psycopg._queries import PostgresQuery, _query2pg_nocache

    kept = functools.lru_cache(maxsize=256)(_query2pg_nocache)

    class KeptQuery(PostgresQuery):
        """psycopg turns a statement's %s placeholders into $1… on every run when it has more
        than 50 parameters (a guard against ORM inserts of ever-varying length, which would
        flood its cache); a new case's statement has about 100 and took 0.19 ms to convert,
        each time. The statements run through this cursor are a few fixed strings, so their
        conversion is kept. Converted as psycopg converts (its own function, cached; psycopg 3.3's
        attributes: tests/servicedesk/test_prepared.py fails if they change)."""

        def convert(self, query, vars):
            if vars is None or not isinstance(query, str | bytes):
                return super().convert(query, vars)
            if isinstance(query, str):
                query = query.encode(self._tx.encoding)
            self.query, self._want_formats, self._order, self._parts = kept(
                query, self._tx.encoding
            )
            self.dump(vars)

    class PreparingCursor(ServerBindingCursor):
        _query_cls = KeptQuery

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
    conn = default_connection()
    values = list(row)
    for i, column, converters in _converters(model, conn.vendor):
        value = values[i]
        for convert in converters:
            value = convert(value, column, conn)
        values[i] = value
    return model.from_db(conn.alias, columns(model), values)


@functools.cache
def _converters(model, vendor):
    found = []
    for i, field in enumerate(model._meta.concrete_fields):
        column = field.get_col(model._meta.db_table)
        converters = connection.ops.get_db_converters(column) + field.get_db_converters(connection)
        if converters:
            found.append((i, column, converters))
    return found


def insert(objs):
    """Insert new rows for `objs` (unsaved instances of one model) in one prepared statement,
    as bulk_create() does: each field's value as save() would write it (auto_now included),
    primary keys set on the instances. No pre_save/post_save signal is sent: a caller uses it
    only for models nothing listens to, or sends its own signal (intake's
    case_events_bulk_created)."""
    objs = list(objs)
    if not objs:
        return
    model = type(objs[0])
    conn = default_connection()
    if not conn.features.can_return_rows_from_bulk_insert:
        model.objects.bulk_create(objs)
        return
    fields = _insert_fields(model)
    params = []
    for obj in objs:
        obj._prepare_related_fields_for_save(operation_name="insert")
        params.extend(_values(obj, fields, conn))
    with prepared_cursor() as cursor:
        cursor.execute(_insert_sql(model, len(objs), conn.vendor), params)
        keys = [row[0] for row in cursor.fetchall()]
    for obj, key in zip(objs, keys, strict=True):
        obj.pk = key
        obj._state.adding = False
        obj._state.db = conn.alias


def _values(obj, fields, conn):
    """Each field's value of `obj` as save() would write it (auto_now included).

    A value of a type its field hands on unchanged is taken as it is (see _AS_IS): what
    get_db_prep_save would return, without the calls — intake writes ~90 values per case,
    and the two calls per value were a twentieth of its Python time. An integer field's int
    is adapted as Django adapts it (PostgreSQL: typed as int2/int4/int8). Every other value
    goes through the field's pre_save and get_db_prep_save, as save() does."""
    values = []
    adapt = conn.ops.adapt_integerfield_value
    for field, attname, as_is, integer in _plan(fields):
        if as_is is not None:
            value = getattr(obj, attname)
            if value is None:
                values.append(None)
                continue
            if type(value) is as_is or (as_is is str and isinstance(value, str)):
                values.append(adapt(value, integer) if integer else value)
                continue
        values.append(field.get_db_prep_save(field.pre_save(obj, True), conn))
    return values


# Field classes (exactly: a subclass may convert) whose pre_save reads the attribute and whose
# get_db_prep_save hands on unchanged None and a value of this type — for the text fields any
# str, a choice's enum member included (CharField.to_python) — or, for an integer field, an
# int adapted by adapt_integerfield_value (IntegerField.get_db_prep_value); exactly a bool
# for BooleanField.to_python, exactly an int for an auto key's get_db_prep_value.
_AS_IS = {
    models.CharField: str,
    models.TextField: str,
    models.EmailField: str,
    models.BooleanField: bool,
    models.AutoField: int,
    models.BigAutoField: int,
}
_INTEGERS = (
    models.IntegerField, models.SmallIntegerField, models.BigIntegerField,
    models.PositiveIntegerField, models.PositiveSmallIntegerField,
)  # fmt: skip

_plans = {}


def _plan(fields):
    """(field, attname, the type taken as it is or None, integer field's internal type or "") for
    each of `fields` — one of the lists _insert_fields() and _linked_fields() keep, known
    by its identity."""
    plan = _plans.get(id(fields))
    if plan is None or plan[0] is not fields:
        plan = _plans[id(fields)] = (fields, [(f, f.attname, *_as_is(f)) for f in fields])
    return plan[1]


def _as_is(field):
    kind = type(field)
    if kind is models.ForeignKey:  # its key's value, as the key's own field prepares it
        target = field.target_field
        return _as_is(target) if target.primary_key and not target.is_relation else (None, "")
    if kind in _INTEGERS:
        return int, field.get_internal_type()
    return _AS_IS.get(kind), ""


@functools.cache
def _insert_fields(model):
    returned = set(model._meta.db_returning_fields)
    return [
        f
        for f in model._meta.local_concrete_fields
        if f not in returned and not getattr(f, "generated", False)
    ]


@functools.cache
def _insert_sql(model, count, vendor):
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in _insert_fields(model))
    row = "(" + ", ".join(["%s"] * len(_insert_fields(model))) + ")"
    return (
        f"INSERT INTO {quote(model._meta.db_table)} ({names}) VALUES {', '.join([row] * count)} "
        f"RETURNING {quote(model._meta.pk.column)}"
    )


def insert_with(first, related, parent=None, gate=None):
    """Insert `first` (an unsaved instance) and `related` (unsaved instances of other models,
    each with a foreign key to `first`'s model left unset) in ONE prepared statement on
    PostgreSQL — data-modifying WITH clauses, each later insert taking `first`'s new key —
    instead of one statement per model. Each related row's foreign key is set to `first`;
    keys are set on every instance. As insert(): no pre_save/post_save signal. Elsewhere, one
    insert() per model.

    `parent`: an unsaved instance `first` has its one foreign key to (intake's new customer
    of a new case), inserted before it in the same statement, `first` taking its new key.

    `gate` (PostgreSQL only; servicedesk/prepared_gate.py): a condition decided in the same
    statement, before the rows, under which they go in — else none does. Returns whether
    they went in (always True without a gate)."""
    related = list(related)
    groups = {}
    for obj in related:
        groups.setdefault(type(obj), []).append(obj)
    conn = default_connection()
    if gate is not None:
        from .prepared_gate import insert_gated

        return insert_gated(first, groups, parent, gate, conn)
    if conn.vendor != "postgresql" or not conn.features.can_return_rows_from_bulk_insert:
        if parent is not None:
            insert([parent])
            setattr(first, _link(type(first), type(parent)).name, parent)
        insert([first])
        for model, objs in groups.items():
            for obj in objs:
                setattr(obj, _link(model, type(first)).attname, first.pk)
            insert(objs)
        return True
    params = _statement_values(first, groups, parent, conn)
    shape = tuple((model, len(objs)) for model, objs in groups.items())
    parent_model = None if parent is None else type(parent)
    with prepared_cursor() as cursor:
        cursor.execute(_insert_with_sql(type(first), shape, parent_model), params)
        row = list(cursor.fetchone())
    _keys_set(first, groups, parent, row, conn)
    return True


def _statement_values(first, groups, parent, conn, skip=()):
    """insert_with()'s values in its statement's order: the parent's row, `first`'s (but its
    fields named in `skip`), each related row's (but its key to `first`)."""
    params = []
    if parent is None:
        first._prepare_related_fields_for_save(operation_name="insert")
        fields = _insert_fields(type(first))
    else:
        parent._prepare_related_fields_for_save(operation_name="insert")
        params = _values(parent, _insert_fields(type(parent)), conn)
        fields = _linked_fields(type(first), type(parent))
        link = _link(type(first), type(parent))
        link.delete_cached_value(first)  # the unsaved parent: its key comes in the statement
        try:
            first._prepare_related_fields_for_save(operation_name="insert")
        finally:
            link.set_cached_value(first, parent)
    values = _values(first, fields, conn)
    if skip:
        values = [v for f, v in zip(fields, values, strict=True) if f.name not in skip]
    params.extend(values)
    for model, objs in groups.items():
        fields = _linked_fields(model, type(first))
        for obj in objs:
            params.extend(_values(obj, fields, conn))
    return params


def _keys_set(first, groups, parent, row, conn):
    """The new keys insert_with()'s statement returned — `first`'s, an array per related
    model, then the parent's if any — set on the instances, now saved."""
    if parent is not None:
        parent.pk = row.pop()
        parent._state.adding = False
        parent._state.db = conn.alias
        setattr(first, _link(type(first), type(parent)).name, parent)
    first.pk = row[0]
    first._state.adding = False
    first._state.db = conn.alias
    for (model, objs), keys in zip(groups.items(), row[1:], strict=True):
        link = _link(model, type(first))
        for obj, key in zip(objs, keys, strict=True):
            setattr(obj, link.attname, first.pk)
            obj.pk = key
            obj._state.adding = False
            obj._state.db = conn.alias


@functools.cache
def _link(model, target):
    """`model`'s one foreign key to `target`."""
    (field,) = [
        f for f in model._meta.concrete_fields if f.is_relation and f.related_model is target
    ]
    return field


@functools.cache
def _linked_fields(model, target):
    """The fields insert_with() writes for a row of `model`: all but its key to `target`."""
    link = _link(model, target)
    return [f for f in _insert_fields(model) if f is not link]


@functools.cache
def _insert_with_sql(first_model, shape, parent_model=None):
    quote = connection.ops.quote_name

    def key_of(model):
        return quote(model._meta.pk.column)

    def clause(alias, model, rows=1, source=None):
        """`alias AS (INSERT …)` of `rows` rows of `model`; with `source`, (a model, the alias
        of the earlier clause inserting it), each row's foreign key to that model is the
        earlier clause's new key."""
        if source is None:
            names, values = _insert_fields(model), []
        else:
            link, (source_model, source_alias) = _link(model, source[0]), source
            names = [link, *_linked_fields(model, source_model)]
            values = [f"(SELECT {key_of(source_model)} FROM {source_alias})"]
        values += ["%s"] * (len(names) - len(values))
        row = f"({', '.join(values)})"
        return (
            f"{alias} AS (INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in names)}) VALUES {', '.join([row] * rows)} "
            f"RETURNING {key_of(model)})"
        )

    pk = key_of(first_model)
    parts, selected = [], [f"(SELECT {pk} FROM c0)"]
    if parent_model is None:
        parts.append(clause("c0", first_model))
    else:
        parts += [clause("p", parent_model), clause("c0", first_model, source=(parent_model, "p"))]
    for i, (model, count) in enumerate(shape, 1):
        parts.append(clause(f"c{i}", model, count, source=(first_model, "c0")))
        # Keys come in insertion order of the VALUES rows: a sequence numbers them in order.
        key = key_of(model)
        selected.append(f"ARRAY(SELECT {key} FROM c{i} ORDER BY {key})")
    if parent_model is not None:
        selected.append(f"(SELECT {key_of(parent_model)} FROM p)")
    return f"WITH {', '.join(parts)} SELECT {', '.join(selected)}"
