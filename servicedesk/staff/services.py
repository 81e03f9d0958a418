"""Notifying staff: an in-app row per recipient and event, plus an e-mail sent from the
database outbox (`notification_send_pending`, the pattern of servicedesk.outbox) by a task
after commit and by a sweep every 5 minutes."""

import contextlib
import datetime
import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.utils import timezone

from servicedesk import outbox

from .models import Notification

logger = logging.getLogger(__name__)


def notify(*, recipients, event_key, subject, body="", link="", email=True):
    """Notify each recipient once per `event_key`; returns the notifications created now.

    Safe to call twice for the same event (a retried task, two sweeps racing): the unique
    (recipient, event_key) constraint makes the second call create nothing and send nothing.
    """
    created = []
    for user in {u.pk: u for u in recipients if u is not None and u.is_active}.values():
        obj, was_created = Notification.objects.get_or_create(
            recipient=user,
            event_key=event_key[:200],
            defaults={
                "subject": str(subject)[:200],
                "body": str(body),
                "link": link,
                "email_wanted": bool(email and user.email),
            },
        )
        if was_created:
            created.append(obj)
    if any(n.email_wanted for n in created):
        _enqueue_pending_on_commit()
    return created


def notify_bulk(notices):
    """Many notifications at once: `notices` is a list of (user, event_key, subject, body,
    link). Each (recipient, event) is stored once (a repeat is ignored by the unique
    constraint); e-mails go out in bulk after commit. One INSERT, whatever the count."""
    rows = [
        Notification(
            recipient=user, event_key=key[:200], subject=str(subject)[:200], body=str(body),
            link=link, email_wanted=bool(user.email),
        )
        for user, key, subject, body, link in notices
        if user is not None and user.is_active
    ]  # fmt: skip
    if rows:
        Notification.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
        _enqueue_pending_on_commit()
    return len(rows)


def _enqueue_pending_on_commit():
    """Ask for the e-mail task once the transaction commits, once per atomic block: a workflow
    that notifies several events (a revision approved: its author, the plan's staff) needs one
    task, which sends whatever is pending. (Django keeps each callback with the savepoints
    open when it was registered, and drops it with them on a rollback.)"""
    connection = transaction.get_connection()
    if connection.in_atomic_block:
        here = set(connection.savepoint_ids)
        for entry in getattr(connection, "run_on_commit", None) or []:
            if entry[1] is _enqueue_pending and entry[0] == here:
                return
    transaction.on_commit(_enqueue_pending)


def _enqueue_pending():
    from .tasks import send_pending_notification_emails

    outbox.enqueue(send_pending_notification_emails)


def _email(n):
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
    return EmailMessage(
        n.subject,
        f"{n.body}\n\n{settings.SITE_URL}{n.link}" if n.link else n.body,
        None,
        [n.recipient.email],
        # The same Message-ID on a resend (a worker died between sending and marking): mail
        # clients show one message.
        headers={"Message-ID": f"<notification.{n.pk}@{domain}>"},
    )


def notification_send_pending(*, group=None):
    """Send the notification e-mails that are due: claim a small group, send each over one
    SMTP session and mark it sent at once (servicedesk.outbox). Returns the count sent.

    A worker killed mid-group resends at most the message in flight once the claim's lease
    ends; a recipient the server refuses (5xx) is given up on alone, with its error; other
    failures are retried with backoff until NOTIFICATION_EMAIL_ATTEMPTS."""
    group = group or settings.OUTBOX_GROUP_SIZE
    lease = datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    sent = 0
    while True:
        now = timezone.now()
        ids = outbox.claim(
            Notification.objects.email_pending(), due_field="email_due_at",
            attempts_field="email_attempts", now=now, lease=lease, limit=group,
        )  # fmt: skip
        if not ids:
            return sent
        batch = list(Notification.objects.filter(pk__in=ids).select_related("recipient"))
        batch.sort(key=lambda n: n.pk)
        try:
            connection = get_connection()
            connection.open()
        except (OSError, smtplib.SMTPException) as exc:  # the server is down: all wait
            for n in batch:
                _email_failed(n, exc, permanent=False)
            return sent
        try:
            for n in batch:
                try:
                    connection.send_messages([_email(n)])
                except (OSError, smtplib.SMTPException) as exc:
                    _email_failed(n, exc, permanent=outbox.is_permanent(exc))
                    continue
                Notification.objects.filter(pk=n.pk).update(
                    emailed_at=timezone.now(), email_due_at=None, email_error=""
                )
                sent += 1
        finally:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                connection.close()


def _email_failed(n, exc, *, permanent):
    now = timezone.now()
    give_up = permanent or n.email_attempts >= settings.NOTIFICATION_EMAIL_ATTEMPTS
    logger.warning(
        "Notification %s to %s: e-mail failed (attempt %s%s): %s", n.pk, n.recipient.email,
        n.email_attempts, ", given up" if give_up else "", exc,
    )  # fmt: skip
    Notification.objects.filter(pk=n.pk, emailed_at__isnull=True).update(
        email_error=outbox.error_text(exc),
        email_due_at=None if give_up else now + outbox.backoff(n.email_attempts),
        email_failed_at=now if give_up else None,
    )


def notification_email_retry(*, notifications):
    """Give e-mails that were given up on another round of attempts (the admin's action)."""
    n = notifications.email_dead().update(
        email_failed_at=None, email_due_at=None, email_attempts=0, email_error=""
    )
    if n:
        _enqueue_pending_on_commit()
    return n
