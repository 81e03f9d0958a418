"""Reading customer e-mail as it really arrives (pure functions, no database).

Chinese mail is often labelled GB2312 while it holds GBK or GB18030 characters: every GB
label is decoded as GB18030, its superset. Subjects and file names may be RFC 2047
encoded-words or RFC 2231 parameters. HTML-only mail becomes plain text; quoted history and
signatures are cut off so the case shows what the customer wrote this time.
"""

import email
import email.utils
import hashlib
import re
from dataclasses import dataclass, field
from email.header import decode_header

GB_CHARSETS = {"gb2312", "gbk", "x-gbk", "gb_2312-80", "gb18030", "euc-cn", "cp936", "hz-gb-2312"}
CASE_NUMBER_RE = re.compile(r"\[(\d{6}-\d{5})\]")
MSGID_RE = re.compile(r"<[^<>\s]+>")

# A line that starts quoted history (QQ Mail, Foxmail, Outlook, NetEase, Gmail, Apple Mail).
QUOTE_START = re.compile(
    r"^\s*("
    r"-{2,}\s*(原始邮件|Original Message|Forwarded message|转发的邮件)\s*-{2,}"
    r"|(发件人|From)\s*[:：].+"
    r"|On .{4,200} wrote:\s*"
    r"|在\s?.{4,200}写道\s*[:：]\s*"
    r"|.{0,80}于\s?.{4,80}写道\s*[:：]\s*"
    r")$",
    re.IGNORECASE,
)
SIGNATURE_START = re.compile(
    r"^\s*(-- ?|—— ?|发自我的.{1,20}|Sent from my .{1,30}|来自.{1,20}邮箱|Get Outlook for .*)\s*$"
)


class Unreadable(Exception):
    """The message cannot be parsed; it goes to quarantine with this reason."""


@dataclass
class Attachment:
    name: str
    content_type: str
    data: bytes


@dataclass
class ParsedMail:
    message_id: str
    from_name: str
    from_address: str
    subject: str
    text: str
    references: list = field(default_factory=list)
    attachments: list = field(default_factory=list)
    auto_reason: str = ""  # why this is an auto-reply / bulk mail, else ""
    bounced_addresses: list = field(default_factory=list)  # a DSN: the addresses that failed
    bounced_message_ids: list = field(default_factory=list)
    case_number: str = ""


def codec(charset):
    charset = (charset or "").strip().strip('"').lower()
    if charset in GB_CHARSETS:
        return "gb18030"
    if charset in ("", "us-ascii", "ascii", "unknown-8bit", "x-unknown"):
        return "utf-8"
    try:
        "".encode(charset)
    except LookupError:
        return "gb18030"
    return charset


def decode_bytes(data, charset):
    name = codec(charset)
    try:
        return data.decode(name)
    except UnicodeDecodeError:
        # Mislabelled mail: try the usual suspects before replacing characters.
        for fallback in ("utf-8", "gb18030"):
            try:
                return data.decode(fallback)
            except UnicodeDecodeError:
                continue
        return data.decode(name, errors="replace")


def decode_words(value):
    """An RFC 2047 header (subject, display name, file name) as text."""
    if value is None:
        return ""
    if not isinstance(value, str):
        value = str(value)
    parts = []
    for chunk, charset in decode_header(value):
        if isinstance(chunk, bytes):
            parts.append(decode_bytes(chunk, charset))
        else:
            parts.append(chunk)
    # Adjacent encoded-words are joined without the folding whitespace between them.
    return re.sub(r"\s+", " ", "".join(parts)).strip()


def html_to_text(html):
    """Clean text from an HTML body: scripts, styles and quoted blocks dropped, block elements
    on their own lines."""
    import lxml.html

    try:
        doc = lxml.html.fromstring(html)
    except Exception:  # lxml raises several types for empty or odd documents
        return re.sub(r"<[^>]+>", " ", html)
    for bad in doc.xpath(
        "//script|//style|//head|//blockquote|//*[@id='divRplyFwdMsg']|//*[contains(@class,'gmail_quote')]"
    ):
        bad.drop_tree()
    for br in doc.xpath("//br"):
        br.tail = "\n" + (br.tail or "")
    for block in doc.xpath("//p|//div|//tr|//li|//h1|//h2|//h3|//h4|//table"):
        block.tail = "\n" + (block.tail or "")
    text = doc.text_content()
    text = text.replace("\xa0", " ")
    lines = [re.sub(r"[ \t]+", " ", line).strip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def trim_reply(text):
    """What the customer wrote this time: quoted history ('> …', '-----原始邮件-----',
    'On … wrote:', '在…写道：') and the signature cut off."""
    out = []
    for line in text.replace("\r\n", "\n").split("\n"):
        if QUOTE_START.match(line) and out:
            break
        if line.lstrip().startswith(">"):
            continue
        if SIGNATURE_START.match(line) and out:
            break
        out.append(line.rstrip())
    trimmed = "\n".join(out).strip()
    return re.sub(r"\n{3,}", "\n\n", trimmed) or text.strip()


def message_ids(value):
    return MSGID_RE.findall(value or "")


def auto_reason(msg):
    """Why `msg` is machine-sent (an auto-reply, a list, bulk mail), or ""."""
    auto = (msg.get("Auto-Submitted") or "").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto}"
    precedence = (msg.get("Precedence") or "").strip().lower()
    if precedence in ("bulk", "auto_reply", "list", "junk"):
        return f"Precedence: {precedence}"
    for header in ("X-Autoreply", "X-Autorespond", "X-Auto-Response-Suppress", "List-Id"):
        if msg.get(header):
            return f"{header}: {msg.get(header)}"
    return ""


def _dsn(msg):
    """(failed addresses, original Message-IDs) of a delivery-status report, else ([], [])."""
    if msg.get_content_type() != "multipart/report":
        return [], []
    if (msg.get_param("report-type") or "").lower() != "delivery-status":
        return [], []
    failed, originals = [], []
    for part in msg.walk():
        ctype = part.get_content_type()
        if ctype == "message/delivery-status":
            blocks = part.get_payload()
            blocks = blocks if isinstance(blocks, list) else [blocks]
            for block in blocks:
                text = block.as_string() if hasattr(block, "as_string") else str(block)
                action = re.search(r"^Action:\s*(\S+)", text, re.M | re.I)
                recipient = re.search(r"^Final-Recipient:\s*[^;]*;\s*(\S+)", text, re.M | re.I)
                if recipient and (not action or action.group(1).lower() == "failed"):
                    failed.append(recipient.group(1).strip("<>").lower())
        elif ctype in ("message/rfc822", "text/rfc822-headers"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else None
            if inner is None and isinstance(payload, str):
                inner = email.message_from_string(payload)
            if inner is not None:
                originals += message_ids(inner.get("Message-ID"))
    return failed, originals


def _filename(part, index):
    name = part.get_filename()
    name = decode_words(name) if name else ""
    name = name.replace("/", "_").replace("\\", "_").strip()
    if not name:
        ext = {
            "image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif",
            "image/webp": ".webp", "application/pdf": ".pdf",
        }.get(part.get_content_type(), ".bin")  # fmt: skip
        name = f"attachment-{index}{ext}"
    return name[:200]


def parse(raw: bytes) -> ParsedMail:
    """Read one message. Raises Unreadable when it cannot be made sense of."""
    if not raw or not raw.strip():
        raise Unreadable("empty message")
    try:
        msg = email.message_from_bytes(raw)
    except Exception as exc:  # the parser is lenient; anything raised here is fatal
        raise Unreadable(f"cannot parse: {exc}") from exc
    if not msg.keys() or (msg.defects and not msg.get("From")):
        raise Unreadable("no headers")
    from_name, from_address = email.utils.parseaddr(decode_words(msg.get("From")))
    if "@" not in from_address:
        raise Unreadable(f"no sender address in From: {msg.get('From')!r}")

    plain, html, attachments = [], [], []
    try:
        for index, part in enumerate(msg.walk()):
            if part.is_multipart():
                continue
            ctype = part.get_content_type()
            disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
            named = part.get_filename() is not None
            if ctype in ("message/delivery-status", "text/rfc822-headers"):
                continue
            if (
                disposition == "attachment"
                or named
                or (part.get("Content-ID") and ctype.startswith("image/"))
            ):
                data = part.get_payload(decode=True) or b""
                attachments.append(Attachment(_filename(part, index), ctype, data))
                continue
            if ctype == "text/plain":
                plain.append(
                    decode_bytes(part.get_payload(decode=True) or b"", part.get_content_charset())
                )
            elif ctype == "text/html":
                html.append(
                    decode_bytes(part.get_payload(decode=True) or b"", part.get_content_charset())
                )
    except (LookupError, ValueError, TypeError, AssertionError) as exc:
        raise Unreadable(f"cannot read the body: {exc}") from exc

    body = "\n".join(plain).strip() or html_to_text("\n".join(html))
    subject = decode_words(msg.get("Subject"))
    message_id = (message_ids(msg.get("Message-ID")) or [""])[0]
    if not message_id:
        # No Message-ID (some gateways): the content's digest keeps it processed once.
        message_id = f"<sha256-{hashlib.sha256(raw).hexdigest()}@no-message-id>"
    refs = message_ids(msg.get("In-Reply-To")) + message_ids(msg.get("References"))
    failed, originals = _dsn(msg)
    number = CASE_NUMBER_RE.search(subject)
    return ParsedMail(
        message_id=message_id[:255],
        from_name=from_name.strip(),
        from_address=from_address.strip().lower(),
        subject=subject,
        text=trim_reply(body),
        references=refs,
        attachments=attachments,
        auto_reason=auto_reason(msg),
        bounced_addresses=failed,
        bounced_message_ids=originals,
        case_number=number.group(1) if number else "",
    )
