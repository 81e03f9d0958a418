"""Scheduled work of the complaints app (schedules are django-celery-beat rows)."""

from celery import shared_task

from . import services


@shared_task
def sla_sweep():
    """Every minute: escalate cases and technical requests past a deadline (idempotent)."""
    return services.sla_sweep()


@shared_task(acks_late=True)
def privacy_retention():
    """Nightly: anonymise customers past the PIPL retention period (bulk, idempotent)."""
    from . import privacy

    return privacy.retention_anonymise()


@shared_task(acks_late=True)
def similar_cases_sweep():
    """Every minute: pick the similar resolved cases of working cases that have none or an old
    pick, so their pages rank a few rows instead of searching (idempotent)."""
    from . import similar_store

    return similar_store.sweep()
