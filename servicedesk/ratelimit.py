"""Per-address rate limits for the public pages (the web form, the survey page and its API).

A fixed window per client address, counted in the shared cache (database or Redis), so the
count holds across web processes. Rates are settings like "10/h", "30/minute", "5/day".
"""

import math
import time

from django.conf import settings
from django.core.cache import cache

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(value):
    """(count, seconds) from "10/h", "30/minute", "5/day" …"""
    count, _sep, unit = str(value).partition("/")
    return int(count), _UNITS[(unit.strip() or "h")[0].lower()]


def client_ip(request):
    """The address the rate limit counts. X-Forwarded-For only when a proxy we trust sets it
    (nginx in deploy/ replaces the header, so its first address is the client's)."""
    if settings.TRUST_X_FORWARDED_FOR:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
        if forwarded:
            return forwarded
    return request.META.get("REMOTE_ADDR") or "unknown"


def _key(request, scope, period):
    window = int(time.time() // period)
    return f"{scope}:{client_ip(request)}:{window}", (window + 1) * period


def retry_after(request, *, scope, rate):
    """Seconds until the next window when the address has used up `rate`, else 0."""
    limit, period = parse_rate(rate)
    key, window_end = _key(request, scope, period)
    if cache.get(key, 0) >= limit:
        return max(1, math.ceil(window_end - time.time()))
    return 0


def count(request, *, scope, rate):
    """Count one use by the request's address."""
    _limit, period = parse_rate(rate)
    key, _end = _key(request, scope, period)
    # get + set rather than incr: the database cache's incr would reset the expiry.
    cache.set(key, cache.get(key, 0) + 1, timeout=period)
