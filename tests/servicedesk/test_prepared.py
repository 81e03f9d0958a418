"""servicedesk/prepared.py: statements PostgreSQL plans once per connection."""

import pytest
from django.db import connection

from servicedesk.prepared import prepared_cursor


@pytest.mark.django_db
def test_a_statement_with_many_parameters_is_converted_once_and_runs_right_each_time():
    """psycopg converts a statement with more than 50 parameters on every run; ours keep
    their conversion (a new case's statement has ~100), and still bind each run's values."""
    if connection.vendor != "postgresql":
        pytest.skip("server-side binding: PostgreSQL only")
    sql = "SELECT " + " + ".join(["%s::int"] * 80)
    converted = []
    for values in ([1] * 80, list(range(80))):
        with prepared_cursor() as cursor:
            cursor.execute(sql, values)
            assert cursor.fetchone()[0] == sum(values)
            converted.append(cursor._query.query)
    assert converted[0] is converted[1]  # the same bytes: not converted again
    assert b"$80" in converted[0] and b"%s" not in converted[0]
