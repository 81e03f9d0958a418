"""`Idempotency-Key` on the API's POSTs (Stripe's contract): a client that retries after a
network error or a 500 sends the same key, and gets the answer the first request got instead
of recording the step twice.

- Keys are per user, up to 255 characters, remembered for IDEMPOTENCY_KEY_HOURS (24).
- The key is stored in the same database transaction as the work, with the answer: either
  both are saved or neither is. A request that failed (4xx refusal, 5xx error) saved nothing
  and stores no answer, so retrying it runs it again.
- The same key with a different request (method, path or body) is refused with 400.
- Two requests racing with one key: the second waits for the first and replays its answer.
"""

import datetime
import functools
import hashlib
import json

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from .models import IdempotencyKey

HEADER = "Idempotency-Key"

#: For the endpoint's @extend_schema(parameters=[...]).
PARAMETER = OpenApiParameter(
    HEADER,
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Any unique string (a UUID) per intended request, at most 255 characters. "
    "A retry with the same key gets the first answer again instead of repeating the step "
    "(header Idempotent-Replayed: true).",
)


def _fingerprint(request):
    data = request.data
    if hasattr(data, "lists"):  # a QueryDict (form or multipart)
        data = {k: [str(v) for v in values] for k, values in data.lists()}
    raw = json.dumps([request.method, request.path, data], sort_keys=True, default=str)
    return hashlib.sha256(raw.encode()).hexdigest()


def _replay(record):
    response = Response(record.body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def idempotent(view):
    """Decorate a DRF view method (a POST) to honour the Idempotency-Key header."""

    @functools.wraps(view)
    def wrapper(self, request, *args, **kwargs):
        key = request.headers.get(HEADER, "").strip()
        if not key:
            return view(self, request, *args, **kwargs)
        if len(key) > 255:
            raise ValidationError({HEADER: [_("At most 255 characters.")]})
        fingerprint = _fingerprint(request)
        expired = timezone.now() - datetime.timedelta(hours=settings.IDEMPOTENCY_KEY_HOURS)
        with transaction.atomic():
            IdempotencyKey.objects.filter(
                user=request.user, key=key, created_at__lt=expired
            ).delete()
            try:
                with transaction.atomic():
                    record = IdempotencyKey.objects.create(
                        user=request.user, key=key, fingerprint=fingerprint
                    )
            except IntegrityError:
                # Used before (or being used right now: the insert waited for that request's
                # transaction to end, so its answer is there).
                record = IdempotencyKey.objects.get(user=request.user, key=key)
                if record.fingerprint != fingerprint:
                    raise ValidationError(
                        {HEADER: [_("This key was already used for a different request.")]}
                    ) from None
                return _replay(record)
            response = view(self, request, *args, **kwargs)
            if response.status_code >= 400:
                transaction.set_rollback(True)
                return response
            record.status_code = response.status_code
            record.body = json.loads(JSONRenderer().render(response.data) or "null")
            record.save(update_fields=["status_code", "body"])
        return response

    return wrapper
