"""Scheduled work of the knowledge app (schedules are django-celery-beat rows, migration 0004)."""

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task
def plan_reviews_remind():
    """Daily: remind plan owners of reviews due within 30 days and of overdue ones."""
    return services.plan_reviews_remind(today=timezone.localdate())


@shared_task
def plan_acknowledgements_remind():
    """Daily: remind staff who have not acknowledged the revision in force after N working days."""
    from .rollout import plan_acknowledgements_remind as remind

    return remind()
