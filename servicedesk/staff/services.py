"""Notifying staff: an in-app row per recipient and event, plus an e-mail sent from the
database outbox (`notification_send_pending`) by a task after commit."""

from django.db import transaction

from .models import Notification


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
        transaction.on_commit(_enqueue_pending)
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
        transaction.on_commit(_enqueue_pending)
    return len(rows)


def _enqueue_pending():
    from .tasks import send_pending_notification_emails

    send_pending_notification_emails.delay()


def notification_send_pending(*, limit=200):
    """Send every notification e-mail not yet sent, in batches over one mail connection.
    Rows are claimed with row locks (skipping those another worker holds) and marked sent in
    the same transaction, so two workers never send the same e-mail."""
    from django.conf import settings
    from django.core.mail import EmailMessage, get_connection
    from django.db import connection as db
    from django.utils import timezone

    sent = 0
    while True:
        with transaction.atomic():
            queryset = Notification.objects.email_pending().order_by("pk")
            if db.features.has_select_for_update_skip_locked:
                queryset = queryset.select_for_update(skip_locked=True, of=("self",))
            batch = list(queryset.select_related("recipient")[:limit])
            if not batch:
                return sent
            messages = [
                EmailMessage(
                    n.subject,
                    f"{n.body}\n\n{settings.SITE_URL}{n.link}" if n.link else n.body,
                    None,
                    [n.recipient.email],
                )
                for n in batch
            ]
            get_connection().send_messages(messages)
            now = timezone.now()
            for n in batch:
                n.emailed_at = now
            Notification.objects.bulk_update(batch, ["emailed_at"])
            sent += len(batch)
        if len(batch) < limit:
            return sent
