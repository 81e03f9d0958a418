from celery import shared_task

from . import backup


@shared_task(acks_late=True)
def offer_cases_to_backups():
    return backup.backup_offer_sweep()
