"""Scheduled work of the complaints app (schedules are django-celery-beat rows)."""

from celery import shared_task

from . import services


@shared_task
def sla_sweep():
    """Every minute: escalate cases and technical requests past a deadline (idempotent)."""
    return services.sla_sweep()
