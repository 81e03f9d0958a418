"""Messages from WeChat followers: each becomes a case, or a contact on the follower's open
case. Taken in once per (account, MsgId): WeChat retries a callback three times within 15 s."""

import re

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import services as case_services
from complaints.models import ACTIVE_STATES, Case, CaseType, Category, Channel

from . import webhooks
from .models import WeChatFollower, WeChatMessage

MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d{9})(?!\d)")


def _text(fields):
    kind = fields.get("MsgType", "")
    if kind == "text":
        return fields.get("Content", "").strip()
    if kind == "image":
        return _("[Picture] %(url)s") % {"url": fields.get("PicUrl", "")}
    if kind == "voice":
        words = fields.get("Recognition", "").strip()
        return _("[Voice message] %(words)s") % {"words": words or fields.get("MediaId", "")}
    return ""


def _customer_data(account, openid, text):
    """Customer fields for intake: the follower's known customer, a phone they gave, or (a new
    follower without phone) their OpenID as member number, so they are recognised next time."""
    phone = MOBILE_RE.search(text or "")
    follower = (
        WeChatFollower.objects.filter(account=account, openid=openid)
        .select_related("customer")
        .first()
    )
    if follower:
        c = follower.customer
        data = {"name": c.name, "phone": c.phone, "email": c.email, "member_no": c.member_no}
        if phone and not c.phone:
            data["phone"] = phone.group(1)
        return data
    data = {"name": _("WeChat follower"), "preferred_contact": "wechat"}
    if phone:
        data["phone"] = phone.group(1)
    else:
        data["member_no"] = f"WX-{openid}"[:40]
    return data


def wechat_message_take(*, account, fields, now=None):
    """Take in one decrypted callback message; returns the WeChatMessage, or None for events
    and message types we do not handle, or a repeat of a MsgId already taken in."""
    now = now or timezone.now()
    text = _text(fields)
    openid = fields.get("FromUserName", "")
    msg_id = fields.get("MsgId") or ""
    if not text or not openid or not msg_id:
        return None
    try:
        with transaction.atomic():
            record = WeChatMessage.objects.create(
                account=account, msg_id=msg_id[:64], openid=openid[:64],
                msg_type=fields.get("MsgType", "")[:20], content=text, received_at=now,
            )  # fmt: skip
            record.case = _file(account, openid, text, now)
            record.save(update_fields=["case"])
    except IntegrityError:
        return None  # WeChat's retry of a message already taken in
    return record


def _file(account, openid, text, now):
    open_case = (
        Case.objects.filter(
            pk__in=WeChatMessage.objects.filter(account=account, openid=openid).values("case_id"),
            state__in=ACTIVE_STATES,
        )
        .order_by("-created_at")
        .first()
    )
    subject = text.splitlines()[0][:60] if text else _("WeChat message")
    if open_case is not None:
        case, _contact = case_services.case_add_contact(
            case=open_case, channel=Channel.WECHAT, subject=subject, text=text, now=now
        )
        webhooks.event_emit(
            type="case.reply_received", case=case, data={"channel": "wechat"}, now=now
        )
        return case
    result = case_services.case_intake(
        channel=Channel.WECHAT,
        customer=_customer_data(account, openid, text),
        subject=subject,
        description=text,
        customer_words=text,
        type=CaseType.OTHER,
        category=Category.OTHER,
        now=now,
    )
    WeChatFollower.objects.get_or_create(
        account=account, openid=openid, defaults={"customer": result.case.customer}
    )
    return result.case
