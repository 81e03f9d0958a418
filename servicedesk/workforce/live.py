"""Live intake against the forecast: today's contacts per channel on the dashboard, and the
current half hour's volume for the "volume over forecast" alert rule.

The week's forecast reads weeks of history; it is cached per (week, department, history) for
FORECAST_CACHE_SECONDS so the dashboard and the alert sweep pay for it once an hour."""

import datetime

from django.core.cache import cache
from django.db.models import Count
from django.utils import timezone

from complaints.models import CaseContact, Channel
from servicedesk.rota.services import week_start

from . import forecast

FORECAST_CACHE_SECONDS = 3600
HISTORY_WEEKS = 8


def week_forecast(day, department=None, weeks=HISTORY_WEEKS):
    monday = week_start(day)
    key = f"workforce:forecast:{monday.isoformat()}:{department.pk if department else '-'}:{weeks}"
    arrivals = cache.get(key)
    if arrivals is None:
        fc = forecast.forecast_week(monday=monday, weeks=weeks, department=department)
        arrivals = {f"{d.isoformat()}|{s}|{c}": n for (d, s, c), n in fc.arrivals.items()}
        cache.set(key, arrivals, FORECAST_CACHE_SECONDS)
    result = {}
    for k, n in arrivals.items():
        d, s, c = k.split("|")
        result[(datetime.date.fromisoformat(d), int(s), c)] = n
    return result


def slot_of(moment):
    local = timezone.localtime(moment)
    return local.hour * 2 + local.minute // 30


def today_against_forecast(now=None, department=None):
    """[(channel label, contacts today so far, forecast so far, forecast for the whole day)],
    channels with either figure, busiest first. One grouped query (plus the cached forecast)."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    today = local.date()
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    contacts = CaseContact.objects.filter(received_at__gte=start, received_at__lte=now)
    if department is not None:
        contacts = contacts.filter(case__department=department)
    actual = dict(contacts.values_list("channel").annotate(n=Count("pk")).order_by())
    expected = week_forecast(today, department)
    slot = slot_of(now)
    # The current half hour counts pro rata.
    part = (local.minute % 30 * 60 + local.second) / 1800
    so_far, whole = {}, {}
    for (d, s, c), n in expected.items():
        if d != today:
            continue
        whole[c] = whole.get(c, 0) + n
        if s < slot:
            so_far[c] = so_far.get(c, 0) + n
        elif s == slot:
            so_far[c] = so_far.get(c, 0) + n * part
    labels = dict(Channel.choices)
    rows = [
        (
            str(labels.get(c, c)),
            actual.get(c, 0),
            round(so_far.get(c, 0), 1),
            round(whole.get(c, 0), 1),
        )
        for c in set(actual) | set(whole)
    ]
    return sorted(rows, key=lambda r: (-r[1], -r[3], r[0]))


def current_interval_volume(now=None, department=None):
    """(interval start, {channel: (contacts so far, forecast for the whole interval)})."""
    now = now or timezone.now()
    local = timezone.localtime(now)
    start = local.replace(minute=local.minute // 30 * 30, second=0, microsecond=0)
    contacts = CaseContact.objects.filter(received_at__gte=start, received_at__lte=now)
    if department is not None:
        contacts = contacts.filter(case__department=department)
    actual = dict(contacts.values_list("channel").annotate(n=Count("pk")).order_by())
    expected = week_forecast(local.date(), department)
    slot = slot_of(now)
    channels = set(actual) | {c for (d, s, c) in expected if d == local.date() and s == slot}
    return start, {
        c: (actual.get(c, 0), expected.get((local.date(), slot, c), 0.0)) for c in channels
    }
