"""An e-mail backend whose server is down (what a real SMTP outage looks like to Django)."""

import smtplib

from django.core.mail.backends.base import BaseEmailBackend


class Backend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("SMTP down")
