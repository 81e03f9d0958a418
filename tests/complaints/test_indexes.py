"""Every foreign key of the busy tables is still served by an index whose first column it is
(deleting a customer, a user or a department looks its cases up by it), while no index
repeats another's leading column on its own: each index is written by every insert."""

import pytest
from django.db import connection

from complaints.models import Case, CaseContact, CaseEvent, SlaBreach

pytestmark = pytest.mark.django_db


def _indexes(model, *, partial=True):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
    conditional = {index.name for index in model._meta.indexes if index.condition is not None}
    return [
        c["columns"]
        for name, c in constraints.items()
        if (c["index"] or c["unique"]) and (partial or name not in conditional)
    ]


@pytest.mark.parametrize("model", [Case, CaseEvent, CaseContact, SlaBreach])
def test_every_foreign_key_leads_an_index(model):
    leading = {columns[0] for columns in _indexes(model) if columns}
    for field in model._meta.concrete_fields:
        if field.is_relation:
            assert field.column in leading, f"{model.__name__}.{field.name} has no index"


@pytest.mark.parametrize("model", [Case, CaseEvent, CaseContact, SlaBreach])
def test_no_single_column_index_duplicates_a_composite_one(model):
    indexes = _indexes(model, partial=False)  # a partial index holds other rows
    composite_leads = {columns[0] for columns in indexes if len(columns) > 1}
    singles = [columns[0] for columns in indexes if len(columns) == 1]
    redundant = [c for c in singles if c in composite_leads and c != "id"]
    assert redundant == [], f"{model.__name__}: {redundant} repeat a composite index"
