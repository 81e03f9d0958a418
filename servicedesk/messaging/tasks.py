from celery import shared_task

from . import inbound, outbound, webhooks


@shared_task
def poll_mailboxes():
    inbound.mailboxes_poll()


@shared_task
def send_outbound():
    return outbound.outbound_send_due()


@shared_task
def deliver_webhooks():
    return webhooks.deliveries_send_due()


@shared_task
def messaging_sweep():
    """Every minute: what the broker lost or what waits for its next attempt."""
    outbound.outbound_send_due()
    webhooks.deliveries_send_due()
