"""The "volume over forecast" alert rule (人员配置 live check): the current half hour's
contacts per channel against the staffing forecast (servicedesk.workforce.live).

Breached for each channel with at least `min_count` contacts so far in the current half hour
and more than the forecast for the whole half hour plus `threshold` %. The subject names the
interval and the channel, so each (interval, channel) raises one alert and notifies once
however often the sweep runs; the next half hour starts afresh (the old alert shows back to
normal), so a supervisor can call in the backup while it matters."""

from decimal import Decimal

from django.utils.translation import gettext as _

from complaints.models import Channel
from servicedesk.workforce import live

from .alerts import Breach, Evaluation, local_text, number, text


def measure_volume(rule, window, threshold):
    """`threshold`: the rule's % over the forecast (alert_rule_threshold; the plan holds none
    for this indicator, so it is the rule's own)."""
    start, volumes = live.current_interval_volume(window.end, rule.department)
    return volume_over_forecast(
        volumes, start=start, threshold=threshold, min_count=rule.min_count, window=window
    )


def volume_over_forecast(volumes, *, start, threshold, min_count, window):
    """`volumes`: {channel: (contacts so far, forecast for the interval)}."""
    if not volumes:
        # A quiet half hour with nothing forecast is normal: earlier alerts go back to normal.
        return Evaluation(measured=True)
    labels = dict(Channel.choices)
    breaches = []
    for channel, (actual, expected) in sorted(volumes.items()):
        limit = Decimal(str(expected)) * (1 + Decimal(threshold) / 100)
        if actual < min_count or actual <= limit:
            continue
        over = None if not expected else (Decimal(actual) / Decimal(str(expected)) - 1) * 100
        label = str(labels.get(channel, channel))
        figures = {
            "interval": local_text(start),
            "channel": label,
            "contacts": actual,
            "forecast": number(Decimal(str(expected))),
            "rise_percent": number(over),
            "threshold": number(threshold),
            "min_count": min_count,
        }
        if window.department:
            figures["department"] = window.department
        message = _(
            "%(channel)s: %(actual)s contacts since %(start)s, forecast %(expected)s for the "
            "half hour (over by more than %(threshold)s%%) — consider calling in the backup."
        ) % {"channel": label, "actual": actual, "start": local_text(start)[11:],
             "expected": text(Decimal(str(expected))), "threshold": text(threshold)}  # fmt: skip
        breaches.append(Breach(f"{local_text(start)} {channel}", figures, window.message(message)))
    return Evaluation(True, tuple(breaches))
