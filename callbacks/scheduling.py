"""When and how a satisfaction survey goes out: pure functions, `now` and settings passed in."""

import datetime
import re

_NON_DIGIT = re.compile(r"\D+")


def is_mobile(phone):
    """A mainland China mobile number (11 digits starting with 1, +86/0086 allowed): one an
    SMS can reach. Landlines and foreign numbers are not."""
    digits = _NON_DIGIT.sub("", phone or "")
    for prefix in ("0086", "86"):
        if len(digits) == 11 + len(prefix) and digits.startswith(prefix):
            digits = digits[len(prefix) :]
    return len(digits) == 11 and digits.startswith("1")


def choose_channel(*, preferred, email, phone, sms_available):
    """'email', 'sms' or 'phone' for a customer.

    The customer's preference first when it can be met; a stated preference for phone
    contact is met by an SMS link to their mobile (they answer when it suits them, and no
    agent time is spent); failing that, whatever reaches them (e-mail, then SMS); a phone
    callback only for customers with neither e-mail nor a mobile number we can text.
    """
    can_sms = sms_available and is_mobile(phone)
    if preferred == "email" and email:
        return "email"
    if preferred in ("sms", "wechat", "phone") and can_sms:
        return "sms"
    if email:
        return "email"
    if can_sms:
        return "sms"
    return "phone"


def send_time(*, resolved_at, window_ends_at, delay, send_from, send_until, tz):
    """The moment to send: `delay` after resolution (not in the first hours), moved into the
    daily sending hours [send_from, send_until) local time, and never after the window ends.
    When the window leaves no such moment, the latest allowed moment inside it."""
    earliest = (resolved_at + delay).astimezone(tz)
    at = earliest
    if at.time() < send_from:
        at = datetime.datetime.combine(at.date(), send_from, tzinfo=tz)
    elif at.time() >= send_until:
        at = datetime.datetime.combine(at.date() + datetime.timedelta(days=1), send_from, tzinfo=tz)
    if at <= window_ends_at:
        return at
    return max(resolved_at, min(earliest, window_ends_at))


def parse_hhmm(value):
    hours, _, minutes = str(value).partition(":")
    return datetime.time(int(hours), int(minutes or 0))
