from celery import shared_task

from . import services


@shared_task
def send_notification_email(notification_id):
    return services.notification_send_email(notification_id=notification_id)


@shared_task
def send_pending_notification_emails():
    return services.notification_send_pending()
