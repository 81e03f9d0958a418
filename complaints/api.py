"""REST API for cases, under /api/v1/ (schema at /api/v1/schema/, docs at /api/v1/docs/).

    POST /api/v1/cases/                                  register a request (intake)
    GET  /api/v1/cases/                                  cases the user may see, filtered
    GET  /api/v1/cases/{number}/                         one case with timeline and contacts
    POST /api/v1/cases/{number}/transitions/{name}/      a lifecycle step
    POST /api/v1/cases/{number}/events/                  a progress update or internal note

Everything goes through complaints.services: intake answers 201 with the new case, or 200
with `"absorbed": true` when the request was added to an existing open case of the same
customer. Refusals are JSON in the request's language: 400 {field: [messages]}, 401/403
{"detail"}, 404, and 409 {"detail", "code", "state", "version"} when the step is not possible
from the case's current state or the case changed since `expected_version`.

List filters: state, urgency, channel, type, category (repeat a parameter for several
values), priority, priority_min, department (code or numeric id), assignee (username or
numeric id); `search=` looks in number, subject and customer name; `ordering=` created_at,
updated_at, priority, number (prefix "-" for descending); `page`, `page_size` (at most 200).

Authentication: a token (`Authorization: Token <key>`) or the admin session. A channel system
(CTI, web shop, social-media bot) uses the token of its own service user — an ordinary staff
account, never a superuser:

    1. In the admin (Staff members → Add), create e.g. `channel-weibo` with an unusable
       password, give it the 客服 Agent role (it may then register cases, see the cases it
       registered and its departments' cases, and see customers' contact details), and add
       it to the departments whose cases it should read, if any.
    2. manage.py drf_create_token channel-weibo        # prints the token, once
       manage.py drf_create_token -r channel-weibo     # replaces a leaked token

Phone numbers and e-mails in answers are masked (138****8000) for users without the
`complaints.view_personal_data` permission.
"""

from contextlib import contextmanager

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from django_fsm import ConcurrentTransition, TransitionNotAllowed
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, NotFound, ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from . import search, services
from .models import (
    TRANSITION_NAMES,
    Case,
    CaseContact,
    CaseEvent,
    CaseType,
    Category,
    Channel,
    State,
    Urgency,
)
from .serializers import (
    CaseDetailSerializer,
    CaseEventSerializer,
    CaseIntakeSerializer,
    CaseSerializer,
    ConflictSerializer,
    ErrorSerializer,
    EventInputSerializer,
    SuggestionsSerializer,
    TransitionInputSerializer,
    django_error_detail,
)

# Customer fields the intake service may name in its errors; the API nests them under
# "customer" like the request does.
CUSTOMER_ERROR_FIELDS = {"name", "phone", "email", "member_no", "preferred_contact", "kind",
                         "tier", "company", "industry"}  # fmt: skip


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


class CasePermission(permissions.BasePermission):
    """Model permission per action. Each lifecycle step has its own permission, checked by
    the service (403 there)."""

    required = {
        "list": "complaints.view_case",
        "retrieve": "complaints.view_case",
        "create": "complaints.add_case",
        "events": "complaints.add_caseevent",
        "transition": "complaints.view_case",
        "suggestions": "complaints.view_case",
    }

    def has_permission(self, request, view):
        perm = self.required.get(view.action)
        return perm is not None and request.user.has_perm(perm)


class CaseFilter(filters.FilterSet):
    state = filters.MultipleChoiceFilter(choices=State.choices)
    urgency = filters.MultipleChoiceFilter(choices=Urgency.choices)
    channel = filters.MultipleChoiceFilter(choices=Channel.choices)
    type = filters.MultipleChoiceFilter(choices=CaseType.choices)
    category = filters.MultipleChoiceFilter(choices=Category.choices)
    priority = filters.NumberFilter()
    priority_min = filters.NumberFilter(field_name="priority", lookup_expr="gte")
    department = filters.CharFilter(
        method="filter_department",
        help_text=gettext_lazy("Lead department: its code, or its numeric id."),
    )
    assignee = filters.CharFilter(
        method="filter_assignee",
        help_text=gettext_lazy("Person responsible: their username, or their numeric id."),
    )

    class Meta:
        model = Case
        fields = ["state", "urgency", "channel", "type", "category", "priority"]

    def filter_department(self, queryset, name, value: str):
        q = Q(department__code=value)
        if value.isdigit():
            q |= Q(department_id=int(value))
        return queryset.filter(q)

    def filter_assignee(self, queryset, name, value: str):
        q = Q(assignee__username=value)
        if value.isdigit():
            q |= Q(assignee_id=int(value))
        return queryset.filter(q)


class CasePagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


def detail_queryset():
    """Everything the detail answer shows, in a fixed number of queries."""
    return (
        Case.objects.for_list()
        .select_related("merged_into", "created_by", "return_request")
        .prefetch_related(
            "collaborating_departments",
            Prefetch("events", queryset=CaseEvent.objects.select_related("author")),
            Prefetch("contacts", queryset=CaseContact.objects.select_related("created_by")),
        )
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


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "number"
    lookup_value_regex = r"[0-9]{6}-[0-9]+"
    permission_classes = [permissions.IsAuthenticated, CasePermission]
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    search_fields = ["number", "subject", "customer__name"]
    ordering_fields = ["created_at", "updated_at", "priority", "number"]
    ordering = ["-created_at"]
    pagination_class = CasePagination

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Role checks (sees_all_departments) read the user's groups once per transition and
        # per visibility check; load them once per request.
        prefetch_related_objects([request.user], "groups")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):  # schema generation, no user
            return Case.objects.none()
        qs = detail_queryset() if self.action == "retrieve" else Case.objects.for_list()
        return qs.visible_to(self.request.user)

    def get_serializer_class(self):
        return CaseDetailSerializer if self.action == "retrieve" else CaseSerializer

    def _detail(self, case):
        case = detail_queryset().get(pk=case.pk)
        return CaseDetailSerializer(case, context=self.get_serializer_context()).data

    @extend_schema(
        summary="List cases",
        responses={200: CaseSerializer(many=True), **ERRORS},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One case with its timeline and contacts",
        responses={200: CaseDetailSerializer, **ERRORS, **NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Register a customer's request (intake)",
        request=CaseIntakeSerializer,
        responses={
            201: OpenApiResponse(CaseSerializer, description="A new case."),
            200: OpenApiResponse(
                CaseSerializer,
                description="Added to an existing open case of the same customer (absorbed: true).",
            ),
            **ERRORS,
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = CaseIntakeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with service_errors():
            result = services.case_intake(user=request.user, **serializer.validated_data)
        case = Case.objects.for_list().get(pk=result.case.pk)
        context = {**self.get_serializer_context(), "absorbed": result.absorbed}
        return Response(
            CaseSerializer(case, context=context).data,
            status=status.HTTP_200_OK if result.absorbed else status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Take a lifecycle step",
        description="Steps: " + ", ".join(TRANSITION_NAMES) + ". The detail answer's "
        "`transitions` lists the steps the user may take now and the input each needs.",
        request=TransitionInputSerializer,
        parameters=[
            OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=TRANSITION_NAMES)
        ],
        responses={200: CaseDetailSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"transitions/(?P<name>[a-z_]+)",
        url_name="transition",
    )
    def transition(self, request, number=None, name=None):
        if name not in TRANSITION_NAMES:
            raise NotFound(_("Unknown step “%(name)s”.") % {"name": name})
        case = self.get_object()
        serializer = TransitionInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with service_errors(case):
            case = services.case_transition(
                case=case,
                name=name,
                user=request.user,
                expected_version=data.get("expected_version"),
                note=data["note"],
                customer_notified=data["customer_notified"],
                **serializer.service_inputs(),
            )
        return Response(self._detail(case))

    @extend_schema(
        summary="Add a progress update or an internal note",
        request=EventInputSerializer,
        responses={201: CaseEventSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="events", url_name="events")
    def events(self, request, number=None):
        case = self.get_object()
        serializer = EventInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(case):
            event = services.case_add_event(
                case=case, user=request.user, **serializer.validated_data
            )
        return Response(CaseEventSerializer(event).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Similar published articles and resolved cases (5 each), with relevance",
        responses={200: SuggestionsSerializer, **NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="suggestions", url_name="suggestions")
    def suggestions(self, request, number=None):
        case = self.get_object()
        data = {
            "articles": search.suggested_articles(case),
            "cases": search.similar_resolved_cases(case, user=request.user),
        }
        return Response(SuggestionsSerializer(data).data)


router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")

urlpatterns = router.urls
