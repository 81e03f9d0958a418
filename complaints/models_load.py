"""How many active cases each person has: the load intake balances.

Intake gives a new case to the least-loaded handler on duty. Counting each candidate's active
cases read every one of them (through a partial index), so its cost grew with the backlog,
and a stale statistic could turn the count into a scan of all their cases. The count is kept
here instead, one row per person who ever had an active case, by database triggers on the
case table (migration 0024): a case created, deleted, reassigned or moved into or out of an
active state adds or takes one, in the same transaction, whichever code or SQL statement
changed it. `recount()` rebuilds the rows from the cases (after a bulk load that bypassed
triggers: PostgreSQL's session_replication_role = replica).
"""

from django.db import connection, models
from django.utils.translation import gettext_lazy as _

from .choices import ACTIVE_STATES


class AssigneeLoad(models.Model):
    # A plain column, not a foreign key: the triggers may write a row while a person is being
    # deleted (their cases unassigned), and a stale row for nobody harms nothing.
    user_id = models.BigIntegerField(_("person"), primary_key=True)
    open_cases = models.IntegerField(_("active cases"), default=0)

    class Meta:
        verbose_name = _("active cases of a person")
        verbose_name_plural = _("active cases of people")

    def __str__(self):
        return f"{self.user_id}: {self.open_cases}"


def states_sql():
    """The active states as SQL literals (plain words, checked), for statements that must name
    them as constants (a prepared plan can then use the partial indexes of open cases)."""
    assert all(state.isidentifier() for state in ACTIVE_STATES)
    return ", ".join(f"'{state}'" for state in ACTIVE_STATES)


def recount():
    """Rebuild every person's count from the cases. For maintenance (after a bulk load with
    triggers off): run it while nothing else changes cases."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM complaints_assigneeload")
        cursor.execute(
            "INSERT INTO complaints_assigneeload (user_id, open_cases) "
            "SELECT assignee_id, COUNT(*) FROM complaints_case "
            f"WHERE assignee_id IS NOT NULL AND state IN ({states_sql()}) GROUP BY assignee_id"
        )
