"""The bounded text field and the promised-time validator the case models share."""

import datetime

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Free text a person typed (a description, a note, an answer): long enough for any real
# message, short enough that a 4 MB paste is a field error instead of a row nobody can open.
TEXT_MAX_LENGTH = 10_000


class BoundedTextField(models.TextField):
    """A TextField whose max_length (TEXT_MAX_LENGTH unless given) is checked like a
    CharField's: by forms, serializers and full_clean (the database does not limit it)."""

    def __init__(self, *args, max_length=TEXT_MAX_LENGTH, **kwargs):
        super().__init__(*args, max_length=max_length, **kwargs)
        self.validators.append(MaxLengthValidator(self.max_length))


# A time promised to a customer (next contact, expected resolution) lies at most this far ahead.
PROMISE_MAX_DAYS = 730


def validate_promised_time(value):
    """No promise further ahead than PROMISE_MAX_DAYS: the deadline engine adds working days
    and hours to it (the year 9999 would overflow), and nobody promises a call in 2031."""
    if value is not None and value > timezone.now() + datetime.timedelta(days=PROMISE_MAX_DAYS):
        raise ValidationError(
            _("This time is too far ahead (at most %(years)s years)."),
            params={"years": PROMISE_MAX_DAYS // 365},
            code="too_far_ahead",
        )
