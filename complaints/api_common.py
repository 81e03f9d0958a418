"""What the case and technical-request viewsets share: service errors turned into API
answers (400 with nested field errors, 409 with the case's state and version), the error
responses of the schema, the pagination, and the technical-request queryset.

Moved out of complaints.api, which re-exports these names.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import status
from rest_framework.exceptions import APIException, ValidationError

from servicedesk.pagination import CappedCountPagination

from . import services
from .models import Case, TechnicalRequest
from .serializers import ConflictSerializer, ErrorSerializer, django_error_detail

# Customer fields the intake service may name in its errors; the API nests them under
# "customer" like the request does.
CUSTOMER_ERROR_FIELDS = {"name", "phone", "email", "member_no", "preferred_contact", "language",
                         "kind", "tier", "company", "industry"}  # fmt: skip


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = gettext_lazy("The case cannot change this way now.")
    default_code = "conflict"


def _conflict(case, message, code):
    """A 409 that tells the client the case's current state and version."""
    fresh = Case.objects.filter(pk=case.pk).values("state", "version").first() or {}
    exc = Conflict(message, code)
    # Set after construction: APIException would turn every value into a string.
    exc.detail = {
        "detail": exc.detail,
        "code": code,
        "state": fresh.get("state", case.state),
        "version": fresh.get("version", case.version),
    }
    return exc


def _nest(detail):
    """Nest the service's error keys like the request nests its fields: customer fields go
    under "customer", "return_request.reason" under "return_request"."""
    out = {}
    for key, messages in detail.items():
        if key in CUSTOMER_ERROR_FIELDS:
            out.setdefault("customer", {})[key] = messages
        elif "." in key:
            outer, inner = key.split(".", 1)
            out.setdefault(outer, {})[inner] = messages
        else:
            out[key] = messages
    return out


@contextmanager
def service_errors(case=None):
    """Turn what a service raises into API answers: 400 with field errors, 409 for a step
    not allowed now or a case changed underneath. PermissionDenied is left to DRF (403)."""
    try:
        yield
    except DjangoValidationError as exc:
        raise ValidationError(_nest(django_error_detail(exc))) from exc
    except services.CaseChanged as exc:
        raise _conflict(exc.case, str(exc), "case_changed") from exc
    except ConcurrentTransition as exc:
        raise _conflict(
            case,
            _("The case was changed by someone else. Reload it and try again."),
            "case_changed",
        ) from exc
    except TransitionNotAllowed as exc:
        message = str(exc) if exc.args else _("This step is not possible in the case's state.")
        raise _conflict(case, message, "not_allowed") from exc


class CasePagination(CappedCountPagination):
    """At a million cases a handler sees hundreds of thousands: counting stops at COUNT_CAP
    (`count_is_exact` false beyond it) and `next` follows from the rows, not the count."""


def technical_request_queryset():
    return TechnicalRequest.objects.select_related(
        "case", "department", "requested_by", "answered_by"
    )


ERRORS = {
    400: OpenApiResponse(OpenApiTypes.OBJECT, description="{field: [messages]}"),
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="No permission."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such case visible to you.")}
CONFLICT = {
    409: OpenApiResponse(
        ConflictSerializer,
        description="Not possible from the current state (code not_allowed), or the case "
        "changed since expected_version (code case_changed).",
    )
}
