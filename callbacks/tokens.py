"""Survey link tokens.

The nonce is 128 random bits stored on the survey, unguessable on its own. Links sent to
customers carry it in 22 URL-safe characters (`short_token`), so a survey SMS fits one
70-character segment. Links sent before that carry `<nonce>.<signature>` (Django's signing
with SECRET_KEY and a salt), which still open: a tampered signed token is refused before any
database lookup. Expiry is the survey's `expires_at`, so it can follow the follow-up window
rather than a fixed age baked into the token.
"""

import base64
import binascii
import re
import secrets

from django.conf import settings
from django.core import signing

_SALT = "callbacks.survey-link"


def new_nonce():
    return secrets.token_hex(16)


def make_token(nonce):
    return signing.Signer(salt=_SALT, sep=".").sign(nonce)


_SHORT = re.compile(r"[A-Za-z0-9_-]{22}")


def short_token(nonce):
    """The nonce's 16 bytes in URL-safe base64, without padding: 22 characters."""
    return base64.urlsafe_b64encode(bytes.fromhex(nonce)).rstrip(b"=").decode()


def nonce_from_token(token):
    """The nonce, or None when the token is malformed or its signature does not match."""
    token = str(token)
    if _SHORT.fullmatch(token):
        try:
            nonce = base64.urlsafe_b64decode(token + "==").hex()
        except (binascii.Error, ValueError):
            return None
        # One spelling per nonce: the last character's unused bits must be zero.
        return nonce if short_token(nonce) == token else None
    try:
        return signing.Signer(salt=_SALT, sep=".").unsign(token)
    except signing.BadSignature:
        return None


def survey_url(survey):
    """The link. In the customer's language when it is not Chinese (the page then opens in it
    whatever the browser says); kept short for a one-segment SMS."""
    url = f"{settings.SITE_URL}/s/{short_token(survey.nonce)}/"
    language = survey.customer.language
    if language and language != settings.LANGUAGE_CODE:
        url += f"?lang={language}"
    return url
