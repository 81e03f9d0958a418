"""Scheduled work of the reports app (schedules are django-celery-beat rows)."""

from celery import shared_task

from . import services


@shared_task
def monthly_report():
    """02:00 on the 1st: the previous month's report (idempotent: a stored one is kept)."""
    return services.monthly_report_generate().pk


@shared_task
def alerts_evaluate():
    """Every 15 minutes: check the early-warning rules; a breach raises one alert (once)."""
    return services.alerts_evaluate()


@shared_task(bind=True)
def export_run(self, export_id):
    """Run one on-demand export (idempotent: a second delivery finds it claimed). I/O errors
    put it back in the queue while retries remain (BaseTask's backoff)."""
    services.export_run(export_id=export_id, retryable=self.request.retries < self.max_retries)


@shared_task
def export_sweep():
    """Every minute: restart or fail exports whose worker died; re-enqueue lost ones."""
    return services.export_sweep()
