"""insert_with() under a condition decided in its own statement (servicedesk/prepared.py).

A Gate's WITH clauses run first and end in one named `g`, a single row with a boolean
column `ok`; then each row of insert_with() goes in by its own `INSERT … SELECT … FROM g
WHERE g.ok` — so all of them or none — and the statement returns the gate's `outputs` (read
from `g`) with the new keys. Intake uses it to draw the case number, check the handler it
chose before the draw, and insert the case, in one statement (complaints/intake_assign.py).

Each value is a parameter of an INSERT … SELECT: PostgreSQL types an untyped one (a string,
a None) from its column, as in a VALUES list, and refuses a text too long for it the same.
"""

import functools
from dataclasses import dataclass, field

from django.db import connection

from .prepared import (
    _insert_fields,
    _keys_set,
    _link,
    _linked_fields,
    _statement_values,
    prepared_cursor,
)


@dataclass
class Gate:
    """`sql`: WITH clauses (without the WITH) ending in `g AS (…)`, one row with a boolean
    column `ok`; `params`: their values; `columns`: {field name of the first row: SQL
    expression over g} written instead of the instance's value; `outputs`: SQL expressions
    over g, returned in `result` after the statement, whether the rows went in or not."""

    sql: str
    params: list
    columns: dict = field(default_factory=dict)
    outputs: tuple = ()
    result: tuple = ()


def insert_gated(first, groups, parent, gate, conn):
    """insert_with() under `gate` (its rows grouped by model): whether they went in; the
    gate's outputs in `gate.result` either way."""
    if conn.vendor != "postgresql":
        raise NotImplementedError("a gated insert is PostgreSQL's")
    params = [*gate.params, *_statement_values(first, groups, parent, conn, skip=gate.columns)]
    shape = tuple((model, len(objs)) for model, objs in groups.items())
    parent_model = None if parent is None else type(parent)
    sql = _gated_sql(
        type(first), shape, parent_model, gate.sql, tuple(gate.columns.items()), gate.outputs
    )
    with prepared_cursor() as cursor:
        cursor.execute(sql, params)
        row = list(cursor.fetchone())
    ok, gate.result, row = (
        row[0],
        tuple(row[1 : 1 + len(gate.outputs)]),
        row[1 + len(gate.outputs) :],
    )
    if ok:
        _keys_set(first, groups, parent, row, conn)
    return bool(ok)


@functools.cache
def _gated_sql(first_model, shape, parent_model, gate_sql, columns, outputs):
    quote = connection.ops.quote_name
    columns = dict(columns)

    def key_of(model):
        return quote(model._meta.pk.column)

    def clause(alias, model, fields, exprs, overrides=None):
        """One row of `model`: its first values `exprs`, then a parameter for each field
        but those `overrides` {field name: expression} writes."""
        overrides = overrides or {}
        exprs = [*exprs, *(overrides.get(f.name, "%s") for f in fields[len(exprs) :])]
        return (
            f"{alias} AS (INSERT INTO {quote(model._meta.db_table)} "
            f"({', '.join(quote(f.column) for f in fields)}) "
            f"SELECT {', '.join(exprs)} FROM g WHERE g.ok RETURNING {key_of(model)})"
        )

    parts = [gate_sql]
    if parent_model is None:
        parts.append(clause("c0", first_model, _insert_fields(first_model), [], columns))
    else:
        link = _link(first_model, parent_model)
        parts.append(clause("p", parent_model, _insert_fields(parent_model), []))
        parts.append(
            clause(
                "c0", first_model, [link, *_linked_fields(first_model, parent_model)],
                [f"(SELECT {key_of(parent_model)} FROM p)"], columns,
            )
        )  # fmt: skip
    selected = ["g.ok", *outputs, f"(SELECT {key_of(first_model)} FROM c0)"]
    for i, (model, count) in enumerate(shape, 1):
        link = _link(model, first_model)
        fields = [link, *_linked_fields(model, first_model)]
        source = f"(SELECT {key_of(first_model)} FROM c0)"
        aliases = [f"c{i}_{j}" for j in range(count)]
        parts += [clause(alias, model, fields, [source]) for alias in aliases]
        keys = ", ".join(f"(SELECT {key_of(model)} FROM {alias})" for alias in aliases)
        selected.append(f"ARRAY[{keys}]")
    if parent_model is not None:
        selected.append(f"(SELECT {key_of(parent_model)} FROM p)")
    return f"WITH {', '.join(parts)} SELECT {', '.join(selected)} FROM g"
