"""API tokens a web process has checked, kept until PostgreSQL says something they depend on
changed (API_TOKEN_CACHE_SECONDS at most).

A channel system sends every case with the same token, and the token's statement (the token,
its person and their permissions: servicedesk/staff/authentication.py) was one of the four
statements of an API create (six round trips with BEGIN and COMMIT). A web process keeps the
row it read for each token and serves the next requests from it, on PostgreSQL only, and only
while it can hear about changes:

- the migration staff 0006 adds statement triggers that `pg_notify('servicedesk_auth')`
  whenever tokens, people, their groups or permissions (or the permissions' names) change:
  inserted, updated, deleted or truncated, by the admin, the ORM or raw SQL;
- the connection the rows were read on LISTENs on that channel, from before the first row
  is read; a notification (any) forgets every kept row of that connection, a new
  connection starts with none;
- before a kept row is used, the connection's health check (servicedesk/postgresql/base.py)
  looks at the socket: a notification waiting there is read (with the check's `SELECT 1`)
  and forgets the rows before the lookup.

So a revoked token, a deactivated person or a withdrawn permission is refused by every web
process as soon as PostgreSQL's notification reaches it (it is sent when the change commits:
a request racing the commit may be answered as before it, as it may without any keeping).
Rows are not kept inside a transaction (the changes it makes are not notified until it
commits, so a test's or a script's own change would go unseen) nor without autocommit.
The expiry bounds what a process could miss if notifications cannot reach it — behind a
pooler in transaction mode, where LISTEN does not follow the client: set 0 there."""

import time

from django.conf import settings

CHANNEL = "servicedesk_auth"
MAX_ROWS = 1000  # tokens kept per connection at most


class KeptRows:
    """The token rows read on one connection, forgotten on any notification."""

    def __init__(self, conn):
        self.conn = conn
        self.rows = {}
        self.generation = 0  # moves on each notification: a row read across one isn't kept

    def forget(self, notify):
        if notify.channel == CHANNEL:
            self.rows.clear()
            self.generation += 1

    def get(self, key):
        kept = self.rows.get(key)
        if kept is None:
            return None
        expires, row = kept
        if time.monotonic() >= expires:
            del self.rows[key]
            return None
        return row

    def keep(self, key, row, generation):
        """Keep `row`, read for `key` when the generation was `generation`."""
        if generation == self.generation:
            if len(self.rows) >= MAX_ROWS:  # a process's memory is not a token's to fill
                self.rows.clear()
            self.rows[key] = (time.monotonic() + settings.API_TOKEN_CACHE_SECONDS, row)


def kept_rows(db):
    """The KeptRows of `db`'s connection (a Django DatabaseWrapper), after reading whatever
    the server sent; None when rows may not be kept now (not PostgreSQL, turned off, in a
    transaction or without autocommit)."""
    if (
        settings.API_TOKEN_CACHE_SECONDS <= 0
        or db.vendor != "postgresql"
        or db.in_atomic_block
        or not db.get_autocommit()
    ):
        return None
    # Django's health check, made here whatever this request has done already: the socket is
    # polled, and what arrived is read (with `SELECT 1`) — notifications forget rows.
    if db.connection is not None and not db.is_usable():
        db.close()
    db.ensure_connection()
    db.health_check_done = True
    conn = db.connection
    kept = getattr(db, "_kept_token_rows", None)
    if kept is None or kept.conn is not conn:
        kept = KeptRows(conn)
        conn.add_notify_handler(kept.forget)
        with db.cursor() as cursor:  # autocommit: listening from here on
            cursor.execute(f"LISTEN {CHANNEL}")
        db._kept_token_rows = kept
    return kept
