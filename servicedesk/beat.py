"""The one scheduler: celery beat with django-celery-beat's DatabaseScheduler, holding a
PostgreSQL advisory lock for as long as it runs.

Start two beats (say, one per host, for failover) and the second waits at the lock until
the first stops; it never enqueues a schedule twice. The lock lives on its own connection
(Django closes its connections between ticks); if that connection is lost the lock is gone
too, so the beat stops and its supervisor (systemd, compose) restarts it to wait again.
On SQLite — the embedded `make run` — there is one machine and one beat: no lock.
"""

import logging

from django.db import connection
from django_celery_beat.schedulers import DatabaseScheduler

logger = logging.getLogger(__name__)

# pg_advisory_lock's key for the scheduler (advisory locks are scoped to one database).
LOCK_KEY = 0x5D_BEA7


_held = None  # this process's lock connection (beat may build more than one scheduler)


def _lock_connection():
    """A connection holding the scheduler lock; blocks while another beat holds it."""
    global _held
    if connection.vendor != "postgresql":
        return None
    if _held is not None and not _held.closed:
        return _held
    import psycopg

    db = connection.settings_dict
    conn = psycopg.connect(
        dbname=db["NAME"], user=db.get("USER") or None, password=db.get("PASSWORD") or None,
        host=db.get("HOST") or None, port=db.get("PORT") or None, autocommit=True,
        application_name="servicedesk beat lock",
    )  # fmt: skip
    if not conn.execute("SELECT pg_try_advisory_lock(%s)", [LOCK_KEY]).fetchone()[0]:
        logger.warning("Another beat holds the scheduler lock: waiting for it.")
        conn.execute("SELECT pg_advisory_lock(%s)", [LOCK_KEY])
    logger.warning("Scheduler lock taken: this beat enqueues the schedule.")
    _held = conn
    return conn


class LockedDatabaseScheduler(DatabaseScheduler):
    """DatabaseScheduler that runs only while it holds the scheduler lock."""

    def __init__(self, *args, lazy=False, **kwargs):
        # beat builds a lazy scheduler for its banner, then the real one: that one waits here.
        self._lock = None if lazy else _lock_connection()
        super().__init__(*args, lazy=lazy, **kwargs)

    def tick(self, *args, **kwargs):
        if self._lock is not None:
            try:
                self._lock.execute("SELECT 1")
            except Exception as exc:
                logger.error("Lost the scheduler lock's connection (%s): stopping.", exc)
                raise SystemExit(1) from exc
        return super().tick(*args, **kwargs)

    def close(self):
        global _held
        super().close()
        if self._lock is not None:
            self._lock.close()  # ends the session: the lock goes to a waiting beat
            _held = None
