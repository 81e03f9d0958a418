"""Replies to the customer (公开回复) and internal notes (内部备注), and the outbox that sends
the replies: e-mail with Message-ID / In-Reply-To / References and the case number in the
subject (so the customer's answer threads back), SMS through the pluggable backend, WeChat
through the customer-service message API.

A reply's row is claimed (attempts + 1, a lease in `next_attempt_at`) in its own transaction,
sent outside it, then marked sent or given a later attempt; after MESSAGING_MAX_ATTEMPTS it is
dead-lettered as failed with the reason, which the timeline shows.
"""

import datetime
import logging
import re
from email.utils import make_msgid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from complaints import services as case_services
from complaints.models import CaseEvent, EventKind

from . import webhooks
from .models import (
    DeliveryStatus,
    FailingAddress,
    InboundMessage,
    OutboundChannel,
    OutboundMessage,
    WeChatFollower,
    WeChatMessage,
)

log = logging.getLogger(__name__)
LEASE = datetime.timedelta(minutes=5)


class SendError(Exception):
    """A send that failed for a reason worth retrying (or telling, once dead-lettered)."""


def backoff(attempts):
    """1, 2, 4 … minutes after each failed attempt, at most an hour."""
    return datetime.timedelta(minutes=min(2 ** max(attempts - 1, 0), 60))


# --- choosing the channel ----------------------------------------------------------------------


def conversation(case):
    """(channel, to, extra) of the conversation: the customer's last message decides."""
    last_mail = InboundMessage.objects.filter(case=case).order_by("-received_at", "-pk").first()
    last_wechat = WeChatMessage.objects.filter(case=case).order_by("-received_at", "-pk").first()
    if last_wechat and (not last_mail or last_wechat.received_at >= last_mail.received_at):
        return OutboundChannel.WECHAT, last_wechat.openid, {"wechat_account": last_wechat.account}
    if last_mail:
        return OutboundChannel.EMAIL, last_mail.from_address, {"mailbox": last_mail.mailbox}
    customer = case.customer
    if customer.email:
        return OutboundChannel.EMAIL, customer.email, {}
    follower = WeChatFollower.objects.filter(customer=customer).select_related("account").first()
    if follower:
        return OutboundChannel.WECHAT, follower.openid, {"wechat_account": follower.account}
    if customer.phone:
        from callbacks.sms import sms_available

        if sms_available():
            return OutboundChannel.SMS, customer.phone, {}
    return None, "", {}


def _email_fields(case, to, mailbox):
    """Subject and threading headers of a reply e-mail on `case`."""
    previous = list(
        InboundMessage.objects.filter(case=case).order_by("-received_at", "-pk")
        .values_list("message_id", "subject")[:10]
    )  # fmt: skip
    ours = list(
        OutboundMessage.objects.filter(case=case, channel=OutboundChannel.EMAIL)
        .exclude(message_id="").order_by("-pk").values_list("message_id", flat=True)[:10]
    )  # fmt: skip
    topic = previous[0][1] if previous else case.subject
    topic = strip_subject(topic)
    subject = f"Re: {topic} [{case.number}]"
    sender = mailbox.address if mailbox else settings.DEFAULT_FROM_EMAIL
    domain = sender.rsplit("@", 1)[-1] or "localhost"
    references = " ".join(reversed([m for m, _s in previous] + ours))
    return {
        "subject": subject[:255],
        "message_id": make_msgid(idstring=case.number, domain=domain),
        "in_reply_to": previous[0][0] if previous else "",
        "references": references,
        "from_address": sender,
    }


def strip_subject(subject):
    """The subject without reply prefixes and our case number."""
    subject = re.sub(r"\[\d{6}-\d{5}\]", "", subject or "")
    subject = re.sub(r"^\s*((re|fw|fwd|回复|答复|转发)\s*[:：]\s*)+", "", subject, flags=re.I)
    return subject.strip()


def _render(channel, case, body):
    # The customer's language (004): the agent writes the reply, we add the frame around it.
    language = case.customer.language if case.customer_id else settings.LANGUAGE_CODE
    with override(language):
        if channel == OutboundChannel.SMS:
            signature = getattr(settings, "SMS_SIGNATURE", "") or _("Customer service")
            return f"【{signature}】{body} ({_('Case')} {case.number})"
        if channel == OutboundChannel.WECHAT:
            return body
        footer = _(
            "Case number: %(number)s. Reply to this e-mail to add to your case; please keep the "
            "case number in the subject."
        ) % {"number": case.number}
        return f"{body}\n\n--\n{footer}"


# --- the service -------------------------------------------------------------------------------


def reply_create(*, case, user, body, public, expected_version=None, now=None):
    """An agent's reply on `case`: public (sent to the customer through the conversation's
    channel; counts as first response / customer told) or an internal note (never sent).
    Returns (event, outbound message or None). Raises ValidationError with field errors."""
    body = (body or "").strip()
    if not body:
        raise ValidationError({"body": _("Write the reply.")})
    if "\x00" in body:
        raise ValidationError({"body": _("Null characters are not allowed.")})
    now = now or timezone.now()
    if not public:
        event = case_services.case_add_event(
            case=case, user=user, message=body, kind=EventKind.NOTE,
            expected_version=expected_version, now=now,
        )  # fmt: skip
        return event, None
    channel, to, extra = conversation(case)
    if channel is None:
        raise ValidationError(
            {
                "public": _(
                    "The customer has no e-mail, WeChat or (with SMS set up) phone to reply to."
                )
            }
        )
    if (
        channel == OutboundChannel.EMAIL
        and FailingAddress.objects.filter(address=to.lower()).exists()
    ):
        raise ValidationError(
            {
                "public": _("%(address)s bounced earlier; reach the customer another way.")
                % {"address": to}
            }
        )
    with transaction.atomic():
        event = case_services.case_add_event(
            case=case, user=user, message=body, kind=EventKind.REPLY,
            expected_version=expected_version, now=now,
        )  # fmt: skip
        fields = {}
        if channel == OutboundChannel.EMAIL:
            fields = _email_fields(case, to, extra.get("mailbox"))
        message = OutboundMessage.objects.create(
            case=case, event_id=event.pk, channel=channel, to=to,
            body=_render(channel, case, body), created_by=user, created_at=now,
            next_attempt_at=now, wechat_account=extra.get("wechat_account"), **fields,
        )  # fmt: skip
        transaction.on_commit(enqueue_send)
    return event, message


def enqueue_send():
    from .tasks import send_outbound

    try:
        send_outbound.delay()
    except Exception:  # the broker is down: the sweep (every minute) sends it later
        log.warning("could not enqueue send_outbound; the sweep will pick it up", exc_info=True)


# --- the outbox --------------------------------------------------------------------------------


def _claim(now):
    with transaction.atomic():
        qs = OutboundMessage.objects.due(now).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            qs = qs.select_for_update(skip_locked=True)
        else:
            qs = qs.select_for_update()
        message = qs.first()
        if message is None:
            return None
        message.attempts += 1
        message.next_attempt_at = now + LEASE  # a crashed worker's claim expires
        message.save(update_fields=["attempts", "next_attempt_at"])
    return message


def outbound_send_due(*, now=None, limit=100):
    """Send the replies that are due, one claim at a time; returns how many were sent."""
    sent = 0
    for _i in range(limit):
        current = now or timezone.now()
        message = _claim(current)
        if message is None:
            break
        try:
            _send(message)
        except Exception as exc:  # every failure is recorded; the row decides retry or dead-letter
            _failed_attempt(message, f"{exc.__class__.__name__}: {exc}"[:2000], current)
            continue
        _mark_sent(message, now or timezone.now())
        sent += 1
    return sent


def _send(message):
    if message.channel == OutboundChannel.EMAIL:
        from django.core.mail import EmailMessage

        headers = {"Message-ID": message.message_id}
        if message.in_reply_to:
            headers["In-Reply-To"] = message.in_reply_to
        if message.references:
            headers["References"] = message.references
        EmailMessage(
            message.subject, message.body, message.from_address or None, [message.to],
            headers=headers,
        ).send()  # fmt: skip
    elif message.channel == OutboundChannel.SMS:
        from callbacks.sms import SmsMessage, get_backend

        if get_backend().send_messages([SmsMessage(to=message.to, body=message.body)]) != 1:
            raise SendError(_("The SMS backend did not accept the message."))
    elif message.channel == OutboundChannel.WECHAT:
        from .wechat import send_text

        send_text(account=message.wechat_account, openid=message.to, text=message.body)


def _mark_sent(message, now):
    with transaction.atomic():
        updated = OutboundMessage.objects.filter(
            pk=message.pk, status=DeliveryStatus.QUEUED
        ).update(status=DeliveryStatus.SENT, sent_at=now, last_error="")
        if not updated:
            return
        CaseEvent.objects.create(
            case_id=message.case_id, kind=EventKind.DELIVERY, created_at=now,
            message=_("Reply sent to %(to)s via %(channel)s.")
            % {"to": _masked(message), "channel": message.get_channel_display()},
            data={"outbound": message.pk, "event": message.event_id, "status": "sent"},
        )  # fmt: skip
        webhooks.event_emit(
            type="case.reply_sent", case=message.case, now=now,
            data={"channel": message.channel, "reply_event": message.event_id},
        )  # fmt: skip


def _failed_attempt(message, reason, now):
    if message.attempts >= settings.MESSAGING_MAX_ATTEMPTS:
        outbound_mark_failed(message=message, reason=reason, now=now)
        return
    OutboundMessage.objects.filter(pk=message.pk, status=DeliveryStatus.QUEUED).update(
        last_error=reason, next_attempt_at=now + backoff(message.attempts)
    )


def outbound_mark_failed(*, message, reason, now=None):
    """Dead-letter a reply (or mark a sent one bounced) and say so on the timeline."""
    now = now or timezone.now()
    with transaction.atomic():
        updated = (
            OutboundMessage.objects.filter(pk=message.pk)
            .exclude(status=DeliveryStatus.FAILED)
            .update(status=DeliveryStatus.FAILED, last_error=reason)
        )
        if not updated:
            return
        CaseEvent.objects.create(
            case_id=message.case_id, kind=EventKind.DELIVERY, created_at=now,
            message=_("Reply to %(to)s failed: %(reason)s")
            % {"to": _masked(message), "reason": reason},
            data={"outbound": message.pk, "event": message.event_id, "status": "failed"},
        )  # fmt: skip


def outbound_requeue(*, message, now=None):
    """Try a failed reply again (admin action)."""
    return OutboundMessage.objects.filter(pk=message.pk, status=DeliveryStatus.FAILED).update(
        status=DeliveryStatus.QUEUED, attempts=0, next_attempt_at=now or timezone.now()
    )


def _masked(message):
    from complaints.models import mask_email, mask_phone

    if message.channel == OutboundChannel.EMAIL:
        return mask_email(message.to)
    if message.channel == OutboundChannel.SMS:
        return mask_phone(message.to)
    return _("the follower")


def reply_saved_message(kind):
    if kind == "public":
        return _("Reply queued for sending to the customer.")
    return _("Internal note added.")
