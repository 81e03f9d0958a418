"""E-mail in: poll a mailbox over IMAP and take each new message in once.

Each message is taken in inside one transaction keyed by (mailbox, Message-ID): a crash before
the commit leaves nothing behind and the next poll takes it in again; a crash after it (before
the message was flagged) finds the key and only flags it. Processed mail is flagged as read or
moved, never deleted. A message that cannot be read is quarantined with its raw source and the
rest of the batch goes on.
"""

import hashlib
import logging

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, InterfaceError, OperationalError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints import services as case_services
from complaints.models import Case, CaseType, Category, Channel, validate_attachment

from . import mailparse, webhooks
from .models import (
    FailingAddress,
    InboundMessage,
    InboundStatus,
    Mailbox,
    OutboundMessage,
    Security,
)

log = logging.getLogger(__name__)


def _connect(mailbox):
    from imap_tools import MailBox, MailBoxStartTls, MailBoxUnencrypted

    cls = {
        Security.SSL: MailBox,
        Security.STARTTLS: MailBoxStartTls,
        Security.NONE: MailBoxUnencrypted,
    }[mailbox.security]
    return cls(mailbox.host, port=mailbox.port, timeout=60).login(
        mailbox.username, mailbox.password(), initial_folder=mailbox.folder
    )


def mailbox_poll(*, mailbox, limit=200, now=None):
    """Take in the unread messages of `mailbox`; returns {status: count} of this poll."""
    from imap_tools import AND, MailMessageFlags

    counts = {}
    try:
        with _connect(mailbox) as mb:
            for uid in mb.uids(AND(seen=False))[:limit]:
                _typ, data = mb.client.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = next((d[1] for d in data if isinstance(d, tuple)), b"")
                record = inbound_take(mailbox=mailbox, raw=raw, now=now)
                counts[record.status] = counts.get(record.status, 0) + 1
                if mailbox.archive_folder:
                    mb.move(uid, mailbox.archive_folder)
                else:
                    mb.flag(uid, [MailMessageFlags.SEEN], True)
        error = ""
    except (OSError, *mb_errors()) as exc:
        log.warning("mailbox %s: %s", mailbox.pk, exc)
        error = str(exc)[:2000] or exc.__class__.__name__
    Mailbox.objects.filter(pk=mailbox.pk).update(last_polled_at=timezone.now(), last_error=error)
    return counts


def mb_errors():
    import imaplib

    from imap_tools.errors import ImapToolsError

    return (imaplib.IMAP4.error, ImapToolsError)


def mailboxes_poll():
    for mailbox in Mailbox.objects.filter(is_active=True):
        mailbox_poll(mailbox=mailbox)


def _quarantine(mailbox, raw, reason, message_id=""):
    key = message_id or f"<sha256-{hashlib.sha256(raw or b'').hexdigest()}@quarantine>"
    record, _created = InboundMessage.objects.get_or_create(
        mailbox=mailbox,
        message_id=key[:255],
        defaults={"status": InboundStatus.QUARANTINED, "reason": reason, "raw": raw or b""},
    )
    return record


def inbound_take(*, mailbox, raw, now=None):
    """Take one raw message in (once); returns its InboundMessage."""
    now = now or timezone.now()
    try:
        parsed = mailparse.parse(raw)
    except mailparse.Unreadable as exc:
        return _quarantine(mailbox, raw, str(exc))
    existing = InboundMessage.objects.filter(mailbox=mailbox, message_id=parsed.message_id).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            record = InboundMessage.objects.create(
                mailbox=mailbox, message_id=parsed.message_id, status=InboundStatus.PROCESSED,
                from_address=parsed.from_address[:254], subject=parsed.subject[:255],
                received_at=now,
            )  # fmt: skip
            _act(record, parsed, mailbox, now)
            record.save()
        return record
    except IntegrityError:
        # Another poll took it in meanwhile.
        found = InboundMessage.objects.filter(mailbox=mailbox, message_id=parsed.message_id)
        if found.exists():
            return found.get()
        raise
    except (OperationalError, InterfaceError):
        raise  # the database is away: the whole poll retries later
    except Exception as exc:  # one bad message must never block the mailbox
        log.exception("mailbox %s: cannot take in %s", mailbox.pk, parsed.message_id)
        return _quarantine(mailbox, raw, f"{exc.__class__.__name__}: {exc}", parsed.message_id)


def inbound_retake(*, record, now=None):
    """Take a quarantined message in again (after a fix): the quarantine row gives way to the
    new outcome, which may be quarantine again with the new error."""
    if record.status != InboundStatus.QUARANTINED:
        return record
    raw = bytes(record.raw or b"")
    with transaction.atomic():
        InboundMessage.objects.filter(pk=record.pk).delete()
        return inbound_take(mailbox=record.mailbox, raw=raw, now=now)


def _own_addresses():
    own = {a.lower() for a in Mailbox.objects.values_list("address", flat=True)}
    own |= {settings.DEFAULT_FROM_EMAIL.lower(), settings.SERVER_EMAIL.lower()}
    return own


def _act(record, parsed, mailbox, now):
    if parsed.from_address in _own_addresses():
        record.status, record.reason = InboundStatus.IGNORED, "our own address"
        return
    if parsed.bounced_addresses:
        record.status = InboundStatus.BOUNCE
        record.reason = ", ".join(parsed.bounced_addresses)
        _record_bounce(parsed, now)
        return
    if parsed.auto_reason:
        record.status, record.reason = InboundStatus.IGNORED, parsed.auto_reason
        return
    files, refused = _attachments(parsed)
    text = parsed.text
    if refused:
        text += "\n\n" + _("Attachments not kept: %(files)s") % {"files": "; ".join(refused)}
    case = _thread_case(parsed)
    if case is not None and case_services.case_accepts_contact(case):
        case, _contact = case_services.case_add_contact(
            case=case, channel=Channel.EMAIL, subject=parsed.subject or case.subject,
            text=text, attachments=files, now=now,
        )  # fmt: skip
        webhooks.event_emit(
            type="case.reply_received", case=case, data={"channel": "email"}, now=now
        )
    else:
        result = case_services.case_intake(
            channel=Channel.EMAIL,
            customer={
                "name": (parsed.from_name or parsed.from_address.split("@")[0])[:100],
                "email": parsed.from_address,
                "preferred_contact": "email",
            },
            subject=(parsed.subject or _("(no subject)"))[:200],
            description=text or parsed.subject or _("(empty message)"),
            customer_words=text,
            type=CaseType.OTHER,
            category=Category.OTHER,
            attachments=files,
            now=now,
        )
        case = result.case
        if result.absorbed:
            webhooks.event_emit(
                type="case.reply_received", case=case, data={"channel": "email"}, now=now
            )
    record.case = case


def _attachments(parsed):
    """(files to store, descriptions of refused ones) under the evidence limits."""
    files, refused = [], []
    for att in parsed.attachments:
        f = ContentFile(att.data, name=att.name)
        try:
            validate_attachment(f)
        except ValidationError as exc:
            refused.append(f"{att.name} ({' '.join(exc.messages)})")
            continue
        files.append(f)
    return files, refused


def _thread_case(parsed):
    """The case this mail answers: our Message-ID in In-Reply-To/References first, then the
    customer's earlier mail, then [case number] in the subject (only from the case's own
    customer, so a stranger cannot write into someone's case by quoting its number)."""
    refs = parsed.references
    if refs:
        case_id = (
            OutboundMessage.objects.filter(message_id__in=refs)
            .order_by("-pk")
            .values_list("case_id", flat=True)
            .first()
        ) or (
            InboundMessage.objects.filter(message_id__in=refs, case__isnull=False)
            .order_by("-pk")
            .values_list("case_id", flat=True)
            .first()
        )
        if case_id:
            return Case.objects.get(pk=case_id)
    if parsed.case_number:
        return Case.objects.filter(
            number=parsed.case_number, customer__email_normalized=parsed.from_address
        ).first()
    return None


def _record_bounce(parsed, now):
    for address in parsed.bounced_addresses:
        row, created = FailingAddress.objects.get_or_create(
            address=address[:254], defaults={"reason": parsed.text[:2000], "last_bounced_at": now}
        )
        if not created:
            row.bounces += 1
            row.reason = parsed.text[:2000]
            row.last_bounced_at = now
            row.save()
    if parsed.bounced_message_ids:
        from .outbound import outbound_mark_failed

        for msg in OutboundMessage.objects.filter(message_id__in=parsed.bounced_message_ids):
            outbound_mark_failed(message=msg, reason=_("The address bounced."), now=now)
