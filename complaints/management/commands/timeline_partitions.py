"""Partition the case timeline (complaints_caseevent) by month on PostgreSQL — an opt-in
conversion for a maintenance window, then the monthly upkeep.

    manage.py timeline_partitions --convert   # once: rewrite the table as monthly partitions
    manage.py timeline_partitions             # monthly: add the partitions for months ahead

Why a command and not a migration: converting copies every timeline row into a new table
while holding an ACCESS EXCLUSIVE lock on it (minutes at 4 million rows, hours at 400
million), needs the table's size again in free disk, and changes its primary key to
(id, created_at) — the partition key must be part of every unique constraint. A migration
would do that unannounced during a deploy. Run it when intake can pause; the procedure is in
deploy/README.md. The conversion keeps the column layout, the index and foreign-key names
Django's migrations know, and the table's triggers; it refuses if another table references
the timeline by foreign key (a key to a partitioned table must include created_at).
"""

import datetime
import zoneinfo

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

TABLE = "complaints_caseevent"
OLD = f"{TABLE}_unpartitioned"


def month_start(day):
    return day.replace(day=1)


def add_month(day):
    return (day.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def partition_name(month):
    return f"{TABLE}_y{month:%Y}m{month:%m}"


class Command(BaseCommand):
    help = "Partition the case timeline by month (PostgreSQL): --convert once, then monthly."

    def add_arguments(self, parser):
        parser.add_argument(
            "--convert", action="store_true",
            help="rewrite the existing table as a partitioned one (locks it while copying)",
        )  # fmt: skip
        parser.add_argument(
            "--months-ahead", type=int, default=3, help="partitions to keep ready (default 3)"
        )
        parser.add_argument(
            "--keep-old", action="store_true",
            help=f"keep the old table as {OLD} instead of dropping it after the copy",
        )  # fmt: skip

    def handle(self, *args, convert, months_ahead, keep_old, **options):
        if connection.vendor != "postgresql":
            raise CommandError("Timeline partitions need PostgreSQL; SQLite keeps one table.")
        with transaction.atomic(), connection.cursor() as cursor:
            partitioned = self._is_partitioned(cursor)
            if convert and partitioned:
                self.stdout.write("The timeline is already partitioned by month.")
            elif convert:
                self._convert(cursor, months_ahead, keep_old)
            elif not partitioned:
                raise CommandError(
                    "The timeline is not partitioned yet: run with --convert in a maintenance "
                    "window (see deploy/README.md)."
                )
            added = self._add_months(cursor, self._this_month(), months_ahead)
            if added:
                self.stdout.write(f"Added partitions: {', '.join(added)}")

    # --- steps ---------------------------------------------------------------------------

    def _is_partitioned(self, cursor):
        cursor.execute("SELECT 1 FROM pg_partitioned_table WHERE partrelid = %s::regclass", [TABLE])
        return cursor.fetchone() is not None

    def _this_month(self):
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        return month_start(timezone.now().astimezone(tz).date())

    def _bound(self, month):
        """A month's first instant in local time (business months, as the reports count)."""
        tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
        return datetime.datetime(month.year, month.month, 1, tzinfo=tz)

    def _add_months(self, cursor, start, count, *, until=None):
        """Create the monthly partitions from `start` through `count` months past this one."""
        last = self._this_month()
        for _ in range(count):
            last = add_month(last)
        if until and until > last:
            last = until
        added, month = [], start
        while month <= last:
            name = partition_name(month)
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is None:
                cursor.execute(
                    f'CREATE TABLE "{name}" PARTITION OF "{TABLE}" FOR VALUES FROM (%s) TO (%s)',
                    [self._bound(month), self._bound(add_month(month))],
                )
                added.append(name)
            month = add_month(month)
        return added

    def _convert(self, cursor, months_ahead, keep_old):
        # Deferred foreign-key checks still pending would forbid altering the table.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f'LOCK TABLE "{TABLE}" IN ACCESS EXCLUSIVE MODE')
        cursor.execute(
            "SELECT conrelid::regclass::text FROM pg_constraint "
            "WHERE contype = 'f' AND confrelid = %s::regclass",
            [TABLE],
        )
        referencing = [row[0] for row in cursor.fetchall()]
        if referencing:
            raise CommandError(
                f"{', '.join(referencing)} reference the timeline by foreign key: a key to a "
                "partitioned table must include created_at. Nothing was changed."
            )
        indexes = self._definitions(
            cursor,
            "SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i "
            "JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary",
        )
        foreign_keys = self._definitions(
            cursor,
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
        )
        triggers = self._definitions(
            cursor,
            "SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger "
            "WHERE tgrelid = %s::regclass AND NOT tgisinternal",
        )
        for name, definition in indexes:
            if definition.startswith("CREATE UNIQUE"):
                raise CommandError(f"Unique index {name} lacks created_at: nothing changed.")
        cursor.execute("SELECT min(created_at), count(*) FROM " + f'"{TABLE}"')
        oldest, rows = cursor.fetchone()

        # Free the names Django's migrations know, then build the new table under them.
        cursor.execute(f'ALTER TABLE "{TABLE}" RENAME TO "{OLD}"')
        cursor.execute(f'ALTER TABLE "{OLD}" RENAME CONSTRAINT "{TABLE}_pkey" TO "{OLD}_pkey"')
        for n, (name, _definition) in enumerate(indexes):
            cursor.execute(f'ALTER INDEX "{name}" RENAME TO "{OLD}_idx{n}"')
        for name, _definition in foreign_keys:
            cursor.execute(f'ALTER TABLE "{OLD}" DROP CONSTRAINT "{name}"')
        for name, _definition in triggers:
            cursor.execute(f'DROP TRIGGER "{name}" ON "{OLD}"')
        cursor.execute(
            f'CREATE TABLE "{TABLE}" (LIKE "{OLD}" INCLUDING DEFAULTS INCLUDING IDENTITY '
            "INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMMENTS) "
            "PARTITION BY RANGE (created_at)"
        )
        cursor.execute(
            f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{TABLE}_pkey" PRIMARY KEY (id, created_at)'
        )
        first = month_start(timezone.localtime(oldest).date()) if oldest else self._this_month()
        self._add_months(cursor, first, months_ahead)
        # Rows outside every month (a clock far off) still have a place.
        cursor.execute(f'CREATE TABLE "{TABLE}_default" PARTITION OF "{TABLE}" DEFAULT')
        cursor.execute(f'INSERT INTO "{TABLE}" SELECT * FROM "{OLD}"')
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('\"{TABLE}\"', 'id'), "
            f'(SELECT coalesce(max(id), 0) + 1 FROM "{OLD}"), false)'
        )
        # The definitions were read before the renames: they name the table and the indexes
        # as Django's migrations know them.
        for _name, definition in indexes:
            cursor.execute(definition)
        for name, definition in foreign_keys:
            cursor.execute(f'ALTER TABLE "{TABLE}" ADD CONSTRAINT "{name}" {definition}')
        for _name, definition in triggers:
            cursor.execute(definition)
        if not keep_old:
            cursor.execute(f'DROP TABLE "{OLD}"')
        cursor.execute(f'ANALYZE "{TABLE}"')
        self.stdout.write(
            f"Partitioned the timeline by month: {rows:,} entries copied"
            + (f"; the old table is kept as {OLD}." if keep_old else ".")
        )

    def _definitions(self, cursor, sql):
        cursor.execute(sql, [TABLE])
        return cursor.fetchall()
