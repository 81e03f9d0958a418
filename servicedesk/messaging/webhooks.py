"""Webhooks out (事件推送): events written to an outbox in the transaction that caused them,
delivered by the worker as signed JSON, retried with exponential backoff for
WEBHOOK_RETRY_HOURS, then dead-lettered; the subscription is paused and its owner told.

Signature: X-Signature = hex HMAC-SHA256(secret, f"{timestamp}.{body}") with X-Timestamp the
Unix time of the attempt; X-Event-Id is the event id (receivers de-duplicate by it).
"""

import datetime
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from urllib.parse import urlsplit

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import DeliveryStatus, WebhookDelivery, WebhookEvent, WebhookSubscription

log = logging.getLogger(__name__)
LEASE = datetime.timedelta(minutes=2)


class TargetRefused(Exception):
    pass


def check_target(url):
    """Refuse URLs that are not http(s) or that resolve to a private, loopback, link-local or
    reserved address (SSRF), unless WEBHOOK_ALLOW_PRIVATE_TARGETS is on. Returns the URL."""
    parts = urlsplit(url or "")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise TargetRefused(_("Only http:// and https:// URLs can receive webhooks."))
    if settings.WEBHOOK_ALLOW_PRIVATE_TARGETS:
        return url
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, proto=socket.IPPROTO_TCP)
    except OSError as exc:
        raise TargetRefused(_("The host name does not resolve.")) from exc
    for info in infos:
        ip = ipaddress.ip_address(info[4][0].split("%")[0])
        if not ip.is_global or ip.is_multicast:
            raise TargetRefused(
                _("Webhooks cannot go to a private or local network address (%(ip)s).") % {"ip": ip}
            )
    return url


def sign(secret, timestamp, body: bytes):
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


# --- events ------------------------------------------------------------------------------------


def case_summary(case, assignee=None):
    if assignee is None and case.assignee_id:
        assignee = case.assignee.username
    return {
        "number": case.number,
        "state": case.state,
        "subject": case.subject,
        "channel": case.channel,
        "type": case.type,
        "category": case.category,
        "urgency": case.urgency,
        "department": case.department.code if case.department_id else None,
        "assignee": assignee,
        "url": f"{settings.SITE_URL}/admin/complaints/case/{case.pk}/change/",
    }


# Every timeline entry asks who subscribes; the answer is kept in the process for a few
# seconds so case writes pay no extra query. Saving a subscription clears it at once in this
# process; other processes see a new subscription within SUBSCRIBERS_TTL seconds.
SUBSCRIBERS_TTL = 10.0
_subscribers_cache = {"at": None, "rows": ()}


def subscriptions_changed(**kwargs):
    _subscribers_cache["at"] = None


def _subscribers(type):
    cached_at = _subscribers_cache["at"]
    if cached_at is None or time.monotonic() - cached_at > SUBSCRIBERS_TTL:
        # A paused subscription keeps collecting: its deliveries wait until it is resumed.
        _subscribers_cache["rows"] = tuple(
            WebhookSubscription.objects.filter(
                Q(is_active=True) | Q(paused_at__isnull=False)
            ).values_list("pk", "events")
        )
        _subscribers_cache["at"] = time.monotonic()
    return [pk for pk, events in _subscribers_cache["rows"] if type in (events or [])]


def has_subscribers(type):
    return bool(_subscribers(type))


def events_emit_many(*, type, items, now=None):
    """Many events of one type at once (the escalation sweep): `items` is a list of (case,
    data). A few queries whatever the count; none but one when nobody subscribes."""
    subs = _subscribers(type)
    if not subs or not items:
        return 0
    from servicedesk.staff.models import User

    now = now or timezone.now()
    names = dict(
        User.objects.filter(pk__in={c.assignee_id for c, _d in items if c.assignee_id}).values_list(
            "pk", "username"
        )
    )
    events = []
    for case, data in items:
        summary = case_summary(case, assignee=names.get(case.assignee_id))
        events.append(WebhookEvent(type=type, payload={**data, "case": summary}, created_at=now))
    WebhookEvent.objects.bulk_create(events, batch_size=500)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription_id=pk, event=e, created_at=now, next_attempt_at=now)
            for e in events
            for pk in subs
        ],
        batch_size=500,
    )
    transaction.on_commit(enqueue_deliver)
    return len(events)


def event_emit(*, type, data=None, case=None, now=None):
    """Record an event and a delivery for each active subscription that wants it, inside the
    caller's transaction; the worker is woken after commit. Returns the event or None."""
    subs = _subscribers(type)
    if not subs:
        return None
    now = now or timezone.now()
    payload = dict(data or {})
    if case is not None:
        payload["case"] = case_summary(case)
    event = WebhookEvent.objects.create(type=type, payload=payload, created_at=now)
    WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(subscription_id=pk, event=event, created_at=now, next_attempt_at=now)
            for pk in subs
        ]
    )
    transaction.on_commit(enqueue_deliver)
    return event


def enqueue_deliver():
    from .tasks import deliver_webhooks

    try:
        deliver_webhooks.delay()
    except Exception:  # the broker is down: the sweep (every minute) delivers later
        log.warning("could not enqueue deliver_webhooks; the sweep will pick it up", exc_info=True)


def body_of(event):
    return json.dumps(
        {
            "id": str(event.id),
            "type": event.type,
            "created_at": event.created_at.isoformat(),
            "data": event.payload,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        sort_keys=True,
    ).encode()


# --- delivery ----------------------------------------------------------------------------------


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a redirect could lead to a private address


def _post(url, body, headers, timeout):
    opener = urllib.request.build_opener(_NoRedirect)
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with opener.open(request, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _claim(now):
    with transaction.atomic():
        qs = (
            WebhookDelivery.objects.due(now)
            .filter(subscription__is_active=True)
            .order_by("next_attempt_at", "pk")
        )
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True, of=("self",))
        else:
            qs = qs.select_for_update()
        delivery = qs.select_related("subscription", "event").first()
        if delivery is None:
            return None
        delivery.attempts += 1
        delivery.next_attempt_at = now + LEASE
        delivery.save(update_fields=["attempts", "next_attempt_at"])
    return delivery


def deliveries_send_due(*, now=None, limit=200):
    """Deliver what is due, one claimed row at a time; returns how many were delivered."""
    delivered = 0
    for _i in range(limit):
        current = now or timezone.now()
        delivery = _claim(current)
        if delivery is None:
            break
        delivered += delivery_attempt(delivery=delivery, now=current)
    return delivered


def delivery_attempt(*, delivery, now):
    """One POST of a claimed delivery; records the outcome. Returns 1 when delivered."""
    sub, event = delivery.subscription, delivery.event
    body = body_of(event)
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "servicedesk-webhooks/1",
        "X-Event-Id": str(event.id),
        "X-Event-Type": event.type,
        "X-Timestamp": timestamp,
        "X-Signature": sign(sub.secret, timestamp, body),
    }
    started = time.monotonic()
    code, error = None, ""
    try:
        check_target(sub.target_url)
        code = _post(sub.target_url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
        if not 200 <= code < 300:
            error = f"HTTP {code}"
    except TargetRefused as exc:
        error = str(exc)
    except (OSError, ValueError) as exc:
        error = f"{exc.__class__.__name__}: {exc}"
    duration = int((time.monotonic() - started) * 1000)
    if not error:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.SENT, response_code=code, duration_ms=duration,
            delivered_at=now, last_error="",
        )  # fmt: skip
        return 1
    give_up = now - delivery.created_at >= datetime.timedelta(hours=settings.WEBHOOK_RETRY_HOURS)
    if give_up:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, response_code=code, duration_ms=duration,
            last_error=error[:2000],
        )  # fmt: skip
        subscription_pause(subscription=sub, reason=error, now=now)
    else:
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            response_code=code, duration_ms=duration, last_error=error[:2000],
            next_attempt_at=now + backoff(delivery.attempts),
        )  # fmt: skip
    return 0


def backoff(attempts):
    """30 s, 1, 2, 4 … minutes after each failed attempt, at most 2 hours between tries."""
    return datetime.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 7200))


def subscription_pause(*, subscription, reason, now=None):
    """Stop delivering to a subscription that kept failing for the whole retry period, and
    tell its owner. Its queued deliveries wait until it is resumed."""
    from servicedesk.staff.services import notify

    with transaction.atomic():
        paused = WebhookSubscription.objects.filter(pk=subscription.pk, is_active=True).update(
            is_active=False, paused_at=now or timezone.now(), paused_reason=reason[:2000]
        )
        if paused:
            transaction.on_commit(subscriptions_changed)
            notify(
                recipients=[subscription.owner],
                event_key=f"webhook:{subscription.pk}:paused:{(now or timezone.now()).isoformat()}",
                subject=_("Webhook “%(name)s” paused: its receiver kept failing")
                % {"name": subscription.name},
                body=_("Last error: %(error)s. Fix the receiver, then resume the subscription.")
                % {"error": reason},
                link=f"/admin/messaging/webhooksubscription/{subscription.pk}/change/",
            )
    return bool(paused)


def subscription_resume(*, subscription, now=None):
    """Deliver again; what waited while paused is due now."""
    now = now or timezone.now()
    with transaction.atomic():
        WebhookSubscription.objects.filter(pk=subscription.pk).update(
            is_active=True, paused_at=None, paused_reason=""
        )
        transaction.on_commit(subscriptions_changed)
        WebhookDelivery.objects.filter(
            subscription=subscription, status=DeliveryStatus.QUEUED
        ).update(next_attempt_at=now)
        transaction.on_commit(enqueue_deliver)


def delivery_redeliver(*, delivery, now=None):
    """Send an event to the subscription once more (the log's redeliver button): a new
    delivery row, so the log keeps what happened before."""
    now = now or timezone.now()
    with transaction.atomic():
        new = WebhookDelivery.objects.create(
            subscription=delivery.subscription, event=delivery.event, created_at=now,
            next_attempt_at=now,
        )  # fmt: skip
        transaction.on_commit(enqueue_deliver)
    return new
