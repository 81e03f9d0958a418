"""The staffing page's figures for a week: forecast, need, scheduled, gaps, suggestion."""

import datetime

from django.utils import timezone

from servicedesk.rota import services as rota

from . import forecast

ONE_DAY = datetime.timedelta(days=1)


def slot_label(slot):
    return f"{slot // 2:02d}:{(slot % 2) * 30:02d}"


def staffing_week(*, monday, weeks=8, department=None, now=None):
    now = now or timezone.now()
    tz = timezone.get_current_timezone()
    fc = forecast.forecast_week(monday=monday, weeks=weeks, department=department)
    history_start = datetime.datetime.combine(
        monday - datetime.timedelta(weeks=weeks), datetime.time(), tzinfo=tz
    )
    aht = forecast.handling_seconds(
        since=history_start,
        until=datetime.datetime.combine(monday, datetime.time(), tzinfo=tz),
        channels=fc.channels,
    )
    need = forecast.agents_needed(fc, aht=aht)
    start = datetime.datetime.combine(monday, datetime.time(), tzinfo=tz)
    scheduled_by_moment = rota.scheduled_per_interval(
        start=start, end=start + 7 * ONE_DAY, department=department
    )
    days = [monday + i * ONE_DAY for i in range(7)]
    scheduled = {}
    for moment, n in scheduled_by_moment.items():
        local = timezone.localtime(moment, tz)
        scheduled[(local.date(), local.hour * 2 + local.minute // 30)] = n
    shifts = list(rota.shifts_for(department)) if department else []
    suggestion = forecast.suggest_rota(need.per_interval, shifts, monday=monday) if shifts else {}
    return {
        "forecast": fc,
        "need": need,
        "scheduled": scheduled,
        "days": days,
        "suggestion": suggestion,
        "shifts": shifts,
    }
