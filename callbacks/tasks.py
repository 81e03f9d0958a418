"""Scheduled work of the follow-ups app (schedules are django-celery-beat rows)."""

from celery import shared_task

from . import action_reminders, services


@shared_task
def survey_dispatch():
    """Every minute: send due satisfaction surveys, remind once, expire old links."""
    return services.survey_dispatch_sweep()


@shared_task
def followups_generate():
    """Every hour: create the follow-up calls periodic plans and deliveries make due."""
    return services.followups_generate()


@shared_task
def action_items_remind_overdue():
    """Every morning: remind owner departments of overdue follow-up report action items."""
    return action_reminders.action_items_remind_overdue()
