from celery import shared_task

from . import inbound, outbound, webhooks, wechat_in
from .models import WeChatMessage


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
def fetch_wechat_media(message_id):
    message = WeChatMessage.objects.filter(pk=message_id).first()
    if message is not None:
        wechat_in.wechat_media_fetch(message=message)


@shared_task
def messaging_sweep():
    """Every minute: what the broker lost or what waits for its next attempt."""
    outbound.outbound_send_due()
    webhooks.deliveries_send_due()
    wechat_in.wechat_media_fetch_pending()
