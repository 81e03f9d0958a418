"""The scheduler's jobs (django-celery-beat's periodic tasks) as an administrator reads them:
a Chinese title and a schedule in words ("每天 08:00"), not the task path and a crontab line.

The rows keep their names (`complaints.sla_sweep`): code and migrations find them by name.
"""

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

# Periodic task name → what the job does, in a few words.
TITLES = {
    "complaints.sla_sweep": _("Deadline check and escalation"),
    "complaints.privacy_retention": _("Anonymise expired personal data"),
    "complaints.similar_cases_sweep": _("Pick similar cases for the cases being worked"),
    "callbacks.survey_dispatch": _("Send satisfaction surveys"),
    "callbacks.followups_generate": _("Create due follow-up calls"),
    "knowledge.plan_reviews_remind": _("Remind of plan reviews"),
    "knowledge.plan_acknowledgements_remind": _("Remind staff to acknowledge plans"),
    "callbacks.action_items_remind_overdue": _("Remind owners of overdue follow-up actions"),
    "messaging.poll_mailboxes": _("Fetch e-mail"),
    "messaging.sweep": _("Send replies and webhooks"),
    "reports.monthly_report": _("Monthly report"),
    "reports.alerts_evaluate": _("Early-warning check"),
    "reports.export_sweep": _("Retry interrupted exports"),
    "staff.send_pending_notification_emails": _("Send notification e-mails"),
    "workforce.offer_cases_to_backups": _("Hand cases of absent staff to their backups"),
    "celery.backend_cleanup": _("Clean up old task results"),
}


def task_title(task):
    return str(TITLES.get(task.name, task.name))


def _number(field, low, high):
    return field.isdigit() and low <= int(field) <= high


INTERVAL_UNITS = {
    "seconds": (_("every second"), _("every %(n)s seconds")),
    "minutes": (_("every minute"), _("every %(n)s minutes")),
    "hours": (_("every hour"), _("every %(n)s hours")),
    "days": (_("every day"), _("every %(n)s days")),
}


def interval_words(interval):
    one, many = INTERVAL_UNITS.get(interval.period, (None, None))
    if one is None:
        return str(interval)
    return str(one) if interval.every == 1 else str(many) % {"n": interval.every}


def schedule_words(task):
    """ "每 15 分钟", "每天 08:00", "每月 1 日 02:00"; anything less simple as the crontab line."""
    if task.interval_id:
        return interval_words(task.interval)
    cron = task.crontab
    if cron is None:
        return str(task.clocked or task.solar or "—")
    minute, hour = cron.minute, cron.hour
    rest = (cron.day_of_month, cron.month_of_year, cron.day_of_week)
    if not (_number(minute, 0, 59) and _number(hour, 0, 23)):
        return f"{minute} {hour} {' '.join(rest)}"
    at = f"{int(hour):02d}:{int(minute):02d}"
    if rest == ("*", "*", "*"):
        return gettext("every day at %(at)s") % {"at": at}
    if rest[1:] == ("*", "*") and _number(rest[0], 1, 31):
        return gettext("on day %(day)s of every month at %(at)s") % {"day": rest[0], "at": at}
    return f"{minute} {hour} {' '.join(rest)}"


admin.site.unregister(PeriodicTask)


@admin.register(PeriodicTask)
class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    list_display = ("title", "enabled", "schedule", "last_run_at")
    list_filter = ["enabled"]
    date_hierarchy = None

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("interval", "crontab")

    def action_checkbox(self, obj):
        # Django labels the checkbox with str(obj), the task path: use the title.
        attrs = {
            "class": "action-select",
            "aria-label": format_html(
                gettext("Select this object for an action - {}"), task_title(obj)
            ),
        }
        return forms.CheckboxInput(attrs, lambda value: False).render(
            helpers.ACTION_CHECKBOX_NAME, str(obj.pk)
        )

    @admin.display(description=_("job"), ordering="name")
    def title(self, obj):
        return task_title(obj)

    @admin.display(description=_("schedule"))
    def schedule(self, obj):
        return schedule_words(obj)
