"""Django's PostgreSQL backend, with a cheaper health check of a kept connection and cursors
whose common methods cost no exception.

With CONN_HEALTH_CHECKS Django asks the server `SELECT 1` before the first query of every
request that reuses a connection: a round trip per request (2 % of an API create's CPU, and
its wait). A server that ends a connection — restarted, or an administrator's
pg_terminate_backend — sends its goodbye and closes the socket, so an idle connection it
ended has something to read. The check here looks at the socket first (one poll that does
not wait) and asks the server only when something arrived or psycopg already knows the
connection is broken; a connection with nothing to read is used as it is, and fails as
without any check if the server vanished without a word (a network partition) — or if the
request comes in the moment between the server's decision to end the connection and its
goodbye (that request fails once; the next reconnects)."""

import select

from django.db.backends import utils
from django.db.backends.postgresql.base import DatabaseWrapper as PostgreSQLDatabaseWrapper


class DatabaseWrapper(PostgreSQLDatabaseWrapper):
    def is_usable(self):
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        try:
            poller = select.poll()  # not select(): it fails on descriptors above 1023
            poller.register(conn.fileno(), select.POLLIN)
            said_something = poller.poll(0)  # readable, hung up or in error
        except (OSError, ValueError):
            return False
        if not said_something:
            return True
        return super().is_usable()  # the server said something: ask it

    def make_cursor(self, cursor):
        return CursorWrapper(cursor, self)

    def make_debug_cursor(self, cursor):
        return CursorDebugWrapper(cursor, self)


class CursorWrapper(utils.CursorWrapper):
    """Django's cursor wrapper with the methods every query calls defined here. Django's
    reaches them through __getattr__, which Python calls only once its own lookup has failed:
    an AttributeError with a formatted message raised and caught each time — two per query
    (fetch and close), 1 % of an API create's CPU. Same calls, same error wrapping."""

    def close(self):
        return self.cursor.close()

    def fetchone(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchone()

    def fetchmany(self, *args, **kwargs):
        with self.db.wrap_database_errors:
            return self.cursor.fetchmany(*args, **kwargs)

    def fetchall(self):
        with self.db.wrap_database_errors:
            return self.cursor.fetchall()

    @property
    def rowcount(self):
        return self.cursor.rowcount

    @property
    def description(self):
        return self.cursor.description


class CursorDebugWrapper(CursorWrapper, utils.CursorDebugWrapper):
    pass
