"""Per-address rate limits for the public pages (the web form, the survey page and its API).

A fixed window per client address, counted in the shared cache (database or Redis), so the
count holds across web processes. Rates are settings like "10/h", "30/minute", "5/day".

`take` counts and checks in one step (Redis INCR; a locked read-and-write on the database
cache), so 20 requests racing for a limit of 10 let exactly 10 through. A page that only
counts successes takes a slot first and gives it back (`give_back`) when nothing was saved.

The limiter fails open: a cache that cannot be reached (Redis down) lets the request through
with a warning in the log. A customer's complaint matters more than the flood protection,
and a request that saved its work must never answer with an error because of the counter.
"""

import dataclasses
import ipaddress
import logging
import math
import time

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction

logger = logging.getLogger(__name__)

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


def axes_client_ip(request):
    """The address django-axes records a login attempt under: `client_ip`, or None when that is
    not an IP address. Axes stores it in a GenericIPAddressField, which PostgreSQL refuses
    anything else for: a login with no REMOTE_ADDR (the test client's force_login, a unix
    socket) or a forged X-Forwarded-For must not turn into a 500."""
    address = client_ip(request)
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return None
    return address


@dataclasses.dataclass(frozen=True)
class Slot:
    """The outcome of `take`: `retry_after` is 0 when the request may go ahead."""

    key: str
    period: int
    retry_after: int
    counted: bool


def _redis_client():
    """The redis-py client behind Django's RedisCache, or None for other cache backends."""
    backend = caches["default"]  # the backend itself (`cache` is a proxy to it)
    if not isinstance(backend, RedisCache):
        return None
    return backend._cache.get_client(write=True)


def _increment(key, period):
    """Add one use to `key` and return the new count, atomically across processes."""
    client = _redis_client()
    if client is not None:
        full_key = cache.make_and_validate_key(key)
        pipe = client.pipeline()  # MULTI/EXEC: the count and its expiry together
        pipe.incr(full_key)
        pipe.expire(full_key, period, nx=True)
        return int(pipe.execute()[0])
    # The database cache: a read and a write in one transaction. SQLite takes the write lock
    # at BEGIN (transaction_mode IMMEDIATE), so concurrent requests queue here. (incr() would
    # reset the expiry to the cache's default timeout.)
    with transaction.atomic():
        value = cache.get(key, 0) + 1
        cache.set(key, value, timeout=period)
    return value


def take(request, *, scope, rate):
    """Count one use by the request's address and say whether it is within `rate`.

    Over the limit the use is not counted (`retry_after` > 0: seconds to the next window).
    With the cache unreachable the request is let through and a warning logged."""
    limit, period = parse_rate(rate)
    window = int(time.time() // period)
    key = f"{scope}:{client_ip(request)}:{window}"
    try:
        used = _increment(key, period)
    except Exception:
        logger.warning("Rate limit %s not checked: the cache is unavailable", scope, exc_info=True)
        return Slot(key, period, 0, counted=False)
    if used <= limit:
        return Slot(key, period, 0, counted=True)
    _decrement(key, period)
    return Slot(key, period, max(1, math.ceil((window + 1) * period - time.time())), counted=False)


def give_back(slot):
    """Undo a counted `take` (the request saved nothing, so it should not use the allowance)."""
    if slot.counted:
        try:
            _decrement(slot.key, slot.period)
        except Exception:
            logger.warning("Rate limit slot %s not given back: cache unavailable", slot.key)


def _decrement(key, period):
    client = _redis_client()
    if client is not None:
        client.decr(cache.make_and_validate_key(key))
        return
    with transaction.atomic():
        value = cache.get(key, 0)
        if value > 0:
            cache.set(key, value - 1, timeout=period)
