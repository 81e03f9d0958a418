"""Return instructions (004): when a return is approved and the "instructions sent" step is
taken, the customer is sent — not only told in the records — where to send the goods, who pays
the shipping and by when, from one template, through their channel: e-mail when we have an
address, else a text message to their mobile (through the SMS sender the follow-up app
registers: complaints does not import it). Sent after the step commits; a failure is logged and
the timeline keeps the text that was to be sent."""

import datetime
import logging

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .models import normalize_phone

logger = logging.getLogger(__name__)

# Registered by the follow-up app (callbacks.apps): send_sms(phone, body) -> None.
SMS_SENDERS = []


def instructions_text(*, case, return_request, today=None):
    today = today or timezone.localdate()
    deadline = today + datetime.timedelta(days=settings.RETURN_SHIP_WITHIN_DAYS)
    payer = (
        _("You pay the return shipping (a return for a personal reason).")
        if return_request.customer_pays_shipping
        else _("We pay the return shipping: send it freight collect (到付).")
    )
    return _(
        "Your return for case %(number)s (order %(order)s, %(product)s) is approved.\n"
        "Please send the goods to: %(address)s\n"
        "%(payer)s\n"
        "Please ship them by %(deadline)s and tell us the tracking number."
    ) % {
        "number": case.number,
        "order": return_request.order_no,
        "product": return_request.product,
        "address": settings.RETURN_ADDRESS or _("the address our agent gives you"),
        "payer": payer,
        "deadline": deadline.isoformat(),
    }


def return_instructions_send(*, case, return_request):
    """Queue the instructions to the customer after commit; returns what the timeline keeps:
    {"channel": "email" | "sms" | "none", "to": masked, "text": the message}."""
    customer = case.customer
    with translation.override(customer.language):  # the customer's language (004)
        text = instructions_text(case=case, return_request=return_request)
        subject = _("Return instructions for case %(number)s") % {"number": case.number}
    mobile = normalize_phone(customer.phone)
    if customer.email:
        message = mail.EmailMessage(
            subject,
            text,
            settings.DEFAULT_FROM_EMAIL,
            [customer.email],
        )
        transaction.on_commit(lambda: _quietly(message.send))
        return {"channel": "email", "to": customer.email_masked, "text": text}
    if mobile.startswith("1") and len(mobile) == 11 and SMS_SENDERS:
        transaction.on_commit(lambda: _quietly(lambda: SMS_SENDERS[0](mobile, text)))
        return {"channel": "sms", "to": customer.phone_masked, "text": text}
    return {"channel": "none", "to": "", "text": text}


def _quietly(send):
    try:
        send()
    except Exception:
        logger.warning("return instructions not sent", exc_info=True)
