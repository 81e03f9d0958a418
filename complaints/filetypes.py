"""Does an uploaded file's content match its name? Magic bytes per allowed extension.

A browser or a colleague's desktop trusts what a file says it is; an HTML page named
`photo.png` must not become evidence that later opens as a page. The first bytes of each
allowed type are well known (file(1)'s magic); text types must look like text, not markup.
"""

HEAD_BYTES = 4096
# Declared types a browser would run: never evidence, whatever the name says.
ACTIVE_CONTENT_TYPES = {
    "text/html", "application/xhtml+xml", "image/svg+xml", "text/javascript",
    "application/javascript", "application/x-javascript", "text/xml", "application/xml",
}  # fmt: skip

_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .doc .xls .ppt
_ZIP = (b"PK\x03\x04", b"PK\x05\x06")  # .zip and the Office Open XML formats
_MARKUP = (b"<!doctype", b"<html", b"<script", b"<svg", b"<?xml", b"<iframe", b"<body", b"<head")


def _starts(*prefixes):
    return lambda head: head.startswith(prefixes)


def _riff(kind):
    return lambda head: head[:4] == b"RIFF" and head[8:12] == kind


def _iso_media(head):
    # MP4, MOV, M4A, HEIC: an ISO base media box, `ftyp` first (QuickTime may open with
    # another top-level box).
    return head[4:8] in (b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")


def _mp3(head):
    return head.startswith(b"ID3") or (len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0)


def _pdf(head):
    # Some writers put a few bytes before the header; readers look in the first kilobyte.
    return b"%PDF-" in head[:1024]


def looks_like_text(head):
    if b"\x00" in head:
        return False
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if stripped.startswith(_MARKUP) or b"<script" in head.lower():
        return False
    for encoding in ("utf-8", "gb18030", "utf-16"):
        try:
            # The head may end in the middle of a character.
            head.decode(encoding) if len(head) < HEAD_BYTES else head[:-4].decode(encoding)
        except UnicodeDecodeError:
            continue
        return True
    return False


SIGNATURES = {
    ".jpg": _starts(b"\xff\xd8\xff"),
    ".jpeg": _starts(b"\xff\xd8\xff"),
    ".png": _starts(b"\x89PNG\r\n\x1a\n"),
    ".gif": _starts(b"GIF87a", b"GIF89a"),
    ".webp": _riff(b"WEBP"),
    ".heic": _iso_media,
    ".bmp": _starts(b"BM"),
    ".mp4": _iso_media,
    ".mov": _iso_media,
    ".m4a": _iso_media,
    ".avi": _riff(b"AVI "),
    ".wav": _riff(b"WAVE"),
    ".webm": _starts(b"\x1a\x45\xdf\xa3"),
    ".mp3": _mp3,
    ".amr": _starts(b"#!AMR"),
    ".pdf": _pdf,
    ".zip": _starts(*_ZIP),
    ".docx": _starts(*_ZIP),
    ".xlsx": _starts(*_ZIP),
    ".pptx": _starts(*_ZIP),
    ".doc": _starts(_OLE2),
    ".xls": _starts(_OLE2),
    ".ppt": _starts(_OLE2),
    ".txt": looks_like_text,
    ".log": looks_like_text,
    ".csv": looks_like_text,
    ".json": looks_like_text,
}


def read_head(file):
    """The first bytes of an uploaded (or stored) file, leaving it where it was."""
    try:
        position = file.tell()
    except (AttributeError, OSError, ValueError):
        position = None
    try:
        file.seek(0)
        head = file.read(HEAD_BYTES) or b""
    finally:
        if position is not None:
            file.seek(position)
    return head if isinstance(head, bytes) else head.encode()


def content_matches(ext, head):
    """True when `head` (the first bytes) is what a file ending in `ext` should start with.
    An empty file matches nothing but text."""
    check = SIGNATURES.get(ext)
    return bool(check and check(head))
