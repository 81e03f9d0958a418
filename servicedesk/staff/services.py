"""Notifying staff: one function, in-app row plus an e-mail sent by a task after commit."""

from django.db import transaction

from .models import Notification


def notify(*, recipients, event_key, subject, body="", link="", email=True):
    """Notify each recipient once per `event_key`; returns the notifications created now.

    Safe to call twice for the same event (a retried task, two sweeps racing): the unique
    (recipient, event_key) constraint makes the second call create nothing and send nothing.
    """
    from .tasks import send_notification_email

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
            if obj.email_wanted:
                send_notification_email.delay_on_commit(obj.pk)
    return created


def notification_send_email(*, notification_id):
    """Send a notification's e-mail once; a second run finds it already sent and does nothing."""
    from django.conf import settings
    from django.core.mail import send_mail
    from django.utils import timezone

    with transaction.atomic():
        n = (
            Notification.objects.select_for_update()
            .select_related("recipient")
            .filter(pk=notification_id, emailed_at__isnull=True, email_wanted=True)
            .first()
        )
        if n is None:
            return False
        link = f"\n\n{settings.SITE_URL}{n.link}" if n.link else ""
        # Sent inside the lock: if sending raises, the row stays unsent and the task retries.
        send_mail(n.subject, f"{n.body}{link}", None, [n.recipient.email])
        n.emailed_at = timezone.now()
        n.save(update_fields=["emailed_at"])
    return True
