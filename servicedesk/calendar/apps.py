from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


def check_business_hours(app_configs=None, **kwargs):
    from .services import business_hours_problem

    problem = business_hours_problem()
    return [checks.Error(problem, id="workcalendar.E001")] if problem else []


class CalendarConfig(AppConfig):
    name = "servicedesk.calendar"
    label = "workcalendar"
    verbose_name = _("Working-day calendar")

    def ready(self):
        from django.core.signals import setting_changed
        from django.db.models.signals import post_delete, post_migrate, post_save

        from . import services
        from .models import CalendarDay, CalendarYear

        # The deadline engine reads a cached calendar: any change to the rows drops it.
        for model in (CalendarYear, CalendarDay):
            post_save.connect(
                services.invalidate_calendar, sender=model, dispatch_uid=f"cal-save-{model}"
            )
            post_delete.connect(
                services.invalidate_calendar, sender=model, dispatch_uid=f"cal-delete-{model}"
            )
        setting_changed.connect(services.clear_caches, dispatch_uid="cal-settings")
        checks.register(check_business_hours)
        post_migrate.connect(services.seed_empty_calendar, sender=self, dispatch_uid="cal-seed")
