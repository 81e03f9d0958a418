"""Survey link tokens: `<nonce>.<signature>`.

The nonce is 128 random bits stored on the survey (unguessable on its own); the signature
(Django's signing with SECRET_KEY and a salt) lets a tampered or made-up token be refused
before any database lookup. Expiry is the survey's `expires_at`, so it can follow the
follow-up window rather than a fixed age baked into the token.
"""

import secrets

from django.conf import settings
from django.core import signing

_SALT = "callbacks.survey-link"


def new_nonce():
    return secrets.token_hex(16)


def make_token(nonce):
    return signing.Signer(salt=_SALT, sep=".").sign(nonce)


def nonce_from_token(token):
    """The nonce, or None when the token is malformed or its signature does not match."""
    try:
        return signing.Signer(salt=_SALT, sep=".").unsign(str(token))
    except signing.BadSignature:
        return None


def survey_url(survey):
    """The link, in the customer's language (the page opens in it whatever the browser says)."""
    return f"{settings.SITE_URL}/s/{make_token(survey.nonce)}/?lang={survey.customer.language}"
