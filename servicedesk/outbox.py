"""Background work whose record is a database row: enqueue without ever failing the request,
and claim → send → mark one message at a time.

The pattern every outbox here follows (notification e-mails, satisfaction surveys; customer
replies can use the same):

1. The row *is* the pending work. The request saves it and commits; `enqueue_on_commit` then
   asks the broker to run the task soon. That is only a hint: when the broker is down the
   failure is logged and the request still answers with its saved work. A periodic sweep
   (django-celery-beat) finds the row anyway.
2. `claim` takes a few due rows with one locked SELECT and one UPDATE that pushes their due
   time one lease ahead (and counts the attempt). A second worker skips them; a worker killed
   with the rows claimed leaves them due again when the lease ends.
3. The worker sends them one by one and marks each as soon as it is out (`sent`), or records
   its failure (`failed`: retried with backoff, parked as dead after the last attempt or at
   once for a permanent refusal such as SMTP 550). A crash therefore resends at most the
   one message that was in flight, and one bad recipient fails alone.
"""

import contextlib
import datetime
import logging
import smtplib
import threading

from django.db import connection, transaction
from django.db.models import F, Q

logger = logging.getLogger(__name__)


def enqueue(task, *args):
    """task.delay(*args), logging instead of raising when the broker cannot be reached."""
    try:
        task.delay(*args)
    except Exception:  # kombu OperationalError, redis ConnectionError, OSError …
        logger.warning(
            "Could not enqueue %s%r; the periodic sweep will pick the work up",
            task.name,
            args,
            exc_info=True,
        )
        return False
    return True


def enqueue_on_commit(task, *args):
    """Enqueue `task` once the current transaction commits (at once outside one); never
    raises into the request."""
    transaction.on_commit(lambda: enqueue(task, *args))


def claim(queryset, *, due_field, attempts_field, now, lease, limit):
    """Claim up to `limit` rows of `queryset` that are due (`due_field` empty or ≤ `now`):
    their due time moves to `now + lease` and their attempt counter goes up by one, in one
    short transaction. Returns the claimed primary keys, oldest first."""
    due = Q(**{f"{due_field}__isnull": True}) | Q(**{f"{due_field}__lte": now})
    with transaction.atomic():
        rows = queryset.filter(due).order_by("pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        ids = list(rows.values_list("pk", flat=True)[:limit])
        if ids:
            queryset.model.objects.filter(pk__in=ids).update(
                **{due_field: now + lease, attempts_field: F(attempts_field) + 1}
            )
    return ids


def backoff(attempts, *, base_minutes=5, max_minutes=240):
    """The wait before the next attempt: 5, 10, 20 … minutes, at most 4 hours."""
    return datetime.timedelta(minutes=min(max_minutes, base_minutes * 2 ** max(0, attempts - 1)))


def is_permanent(exc):
    """True when retrying cannot help: the mail server refused the recipient or the message
    with a 5xx reply (550 no such user …)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500
    return False


def error_text(exc):
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{addr}: {code} {msg.decode(errors='replace') if isinstance(msg, bytes) else msg}"
            for addr, (code, msg) in exc.recipients.items()
        )
    return f"{type(exc).__name__}: {exc}"[:1000]


@contextlib.contextmanager
def heartbeat(model, pk, *, field, every):
    """While the block runs, set `field` of row `pk` to now every `every` seconds from a
    thread of this process: a sweep that sees the time stop knows the worker died (kill -9,
    a lost machine) and can restart or fail the job within minutes instead of waiting for the
    broker's visibility timeout."""
    from django.db import connections
    from django.utils import timezone

    stop = threading.Event()

    def beat():
        try:
            while not stop.wait(every):
                model.objects.filter(pk=pk).update(**{field: timezone.now()})
        except Exception:
            logger.warning("Heartbeat of %s %s stopped", model.__name__, pk, exc_info=True)
        finally:
            connections.close_all()

    model.objects.filter(pk=pk).update(**{field: timezone.now()})
    thread = threading.Thread(target=beat, daemon=True, name=f"heartbeat-{pk}")
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
