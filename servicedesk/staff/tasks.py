from celery import shared_task

from . import services


@shared_task
def send_pending_notification_emails():
    return services.notification_send_pending()
