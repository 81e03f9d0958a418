"""Questionnaires in the customer's language (004: multilingual service).

A questionnaire's wording is data written in Chinese; each question, choice, greeting and
closing may carry translations — `{"en": "…", "ja": "…", "ko": "…"}` — and is shown in the
survey's language, falling back to the Chinese when a translation is missing.
"""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from servicedesk import customer_language


def in_language(text, translations, language):
    """`text` in `language` from `translations`, else `text` itself (the Chinese)."""
    found = (translations or {}).get(customer_language.supported(language) or "")
    return found.strip() if isinstance(found, str) and found.strip() else text


def validate_translations(value):
    """A JSON object of language code → text, for the customer languages."""
    if value in (None, ""):
        return
    if not isinstance(value, dict):
        raise ValidationError(
            _('Write the translations as {"en": "…", "ja": "…", "ko": "…"}.'), code="invalid"
        )
    known = customer_language.codes()
    for code, text in value.items():
        if code not in known:
            raise ValidationError(
                _("“%(code)s” is not a customer language (use %(known)s)."),
                params={"code": code, "known": ", ".join(known)},
                code="unknown_language",
            )
        if not isinstance(text, str):
            raise ValidationError(
                _("The %(code)s translation must be text."), params={"code": code}, code="invalid"
            )
        if "\x00" in text:
            raise ValidationError(_("Null characters are not allowed."), code="null_characters")
        if len(text) > 2000:
            raise ValidationError(
                _("The %(code)s translation is too long (at most 2000 characters)."),
                params={"code": code},
                code="max_length",
            )
