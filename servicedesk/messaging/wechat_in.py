"""Messages from WeChat followers: each becomes a case, or a contact on the follower's open
case. Taken in once per (account, MsgId): WeChat retries a callback three times within 15 s."""

import logging
import re

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import services as case_services
from complaints.models import ACTIVE_STATES, Case, CaseType, Category, Channel

from . import webhooks, wechat
from .models import WeChatFollower, WeChatMessage

log = logging.getLogger(__name__)
MEDIA_ATTEMPTS = 5
MEDIA_EXTENSIONS = {
    "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp",
    "audio/amr": ".amr", "audio/x-amr": ".amr", "audio/mpeg": ".mp3", "audio/mp3": ".mp3",
}  # fmt: skip

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
                media_id=fields.get("MediaId", "")[:128]
                if fields.get("MsgType") in ("image", "voice") else "",
            )  # fmt: skip
            record.case = _file(account, openid, text, now)
            record.save(update_fields=["case"])
            if record.media_id:
                transaction.on_commit(lambda: _enqueue_media(record.pk))
    except IntegrityError:
        return None  # WeChat's retry of a message already taken in
    return record


def _enqueue_media(pk):
    from .tasks import fetch_wechat_media

    try:
        fetch_wechat_media.delay(pk)
    except Exception:  # the broker is down: the every-minute sweep fetches it
        log.warning("could not enqueue fetch_wechat_media; the sweep will", exc_info=True)


def wechat_media_fetch(*, message, now=None):
    """Store a picture or voice message's file on its case as evidence, once. Returns True
    when stored. Failures are recorded and retried by the sweep up to MEDIA_ATTEMPTS times."""
    claimed = WeChatMessage.objects.filter(
        pk=message.pk, media_saved_at__isnull=True, media_attempts__lt=MEDIA_ATTEMPTS,
        case__isnull=False,
    ).exclude(media_id="").update(media_attempts=F("media_attempts") + 1)  # fmt: skip
    if not claimed:
        return False
    message = WeChatMessage.objects.select_related("account", "case").get(pk=message.pk)
    try:
        data, content_type = wechat.media_get(account=message.account, media_id=message.media_id)
    except (OSError, ValueError, wechat.WeChatAPIError) as exc:
        WeChatMessage.objects.filter(pk=message.pk).update(media_error=str(exc)[:2000])
        return False
    ext = MEDIA_EXTENSIONS.get(content_type) or (".amr" if message.msg_type == "voice" else ".jpg")
    with transaction.atomic():
        locked = WeChatMessage.objects.select_for_update().get(pk=message.pk)
        if locked.media_saved_at is not None:
            return False
        locked.media_saved_at = now or timezone.now()
        try:
            with transaction.atomic():
                case_services.case_add_attachment(
                    case=message.case, user=None,
                    file=ContentFile(data, name=f"wechat-{message.msg_id}{ext}"),
                    description=_("Sent on WeChat"),
                )  # fmt: skip
        except ValidationError as exc:  # over the size limit: keep the reason, stop trying
            locked.media_error = " ".join(exc.messages)[:2000]
        locked.save(update_fields=["media_saved_at", "media_error"])
    return not locked.media_error


def wechat_media_fetch_pending(*, limit=50):
    pending = WeChatMessage.objects.filter(
        media_saved_at__isnull=True, media_attempts__lt=MEDIA_ATTEMPTS, case__isnull=False
    ).exclude(media_id="")
    return sum(wechat_media_fetch(message=m) for m in pending.order_by("pk")[:limit])


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
