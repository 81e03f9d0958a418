"""Pluggable SMS sending, in the manner of Django's e-mail backends.

settings.SMS_BACKEND names a BaseBackend subclass; `send_messages` returns how many were
accepted and raises OSError (retried later) when the gateway cannot be reached. Empty
SMS_BACKEND means the site has no SMS: `sms_available()` is False and surveys choose
another channel.
"""

import itertools
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)


# One SMS segment holds 70 characters of Chinese text (UCS-2); longer texts are sent and
# billed as several segments, which some phones show out of order.
SEGMENT = 70


def signed(body):
    """The text as gateways in China require it: the registered 【签名】 first (SMS_SIGNATURE,
    the same one replies by SMS carry)."""
    signature = getattr(settings, "SMS_SIGNATURE", "") or _("Customer service")
    return f"【{signature}】{body}"


def fitting(*bodies):
    """The first of the signed texts that fits one segment; the last (shortest) otherwise."""
    texts = [signed(body) for body in bodies]
    return next((text for text in texts if len(text) <= SEGMENT), texts[-1])


@dataclass(frozen=True)
class SmsMessage:
    to: str
    body: str


class BaseBackend:
    def send_messages(self, messages):
        raise NotImplementedError


class ConsoleBackend(BaseBackend):
    """Logs each message (development, or a site checking its set-up)."""

    def send_messages(self, messages):
        for m in messages:
            logger.info("SMS to %s: %s", m.to, m.body)
        return len(messages)


class FileBackend(BaseBackend):
    """Writes each message to a file under settings.SMS_FILE_PATH (like Django's file
    e-mail backend): what `make run` uses, so a developer can open the survey link."""

    _counter = itertools.count()

    def send_messages(self, messages):
        folder = Path(settings.SMS_FILE_PATH)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        for m in messages:
            name = folder / f"{stamp}-{next(self._counter)}.txt"
            name.write_text(f"To: {m.to}\n\n{m.body}\n", encoding="utf-8")
        return len(messages)


class LocmemBackend(BaseBackend):
    """Keeps messages in `LocmemBackend.outbox` (tests)."""

    outbox = []
    _lock = threading.Lock()

    def send_messages(self, messages):
        with self._lock:
            self.outbox.extend(messages)
        return len(messages)


def sms_available():
    return bool(settings.SMS_BACKEND)


def get_backend():
    return import_string(settings.SMS_BACKEND)()


def send_one(to, body):
    """One message now, when a backend is configured (return instructions); False if none."""
    if not sms_available():
        return False
    body = body if body.startswith("【") else signed(body)
    get_backend().send_messages([SmsMessage(to=to, body=body)])
    return True
