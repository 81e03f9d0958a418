"""REST API for cases, under /api/v1/ (schema at /api/v1/schema/, docs at /api/v1/docs/).

    POST /api/v1/cases/                                  register a request (intake)
    GET  /api/v1/cases/                                  cases the user may see, filtered
    GET  /api/v1/cases/{number}/                         one case with timeline and contacts
    POST /api/v1/cases/{number}/transitions/{name}/      a lifecycle step
    POST /api/v1/cases/{number}/events/                  a progress update or internal note
    POST /api/v1/cases/{number}/technical-requests/      ask another department for help
    GET  /api/v1/technical-requests/                     requests to my departments or on my cases
    GET  /api/v1/technical-requests/{id}/                one request
    POST /api/v1/technical-requests/{id}/answer/         the asked department answers

Everything goes through complaints.services: intake answers 201 with the new case, or 200
with `"absorbed": true` when the request was added to an existing open case of the same
customer. Refusals are JSON in the request's language: 400 {field: [messages]}, 401/403
{"detail"}, 404, and 409 {"detail", "code", "state", "version"} when the step is not possible
from the case's current state or the case changed since `expected_version`.

List filters: state, urgency, channel, type, category (repeat a parameter for several
values), priority, priority_min, department (code or numeric id), assignee (username or
numeric id), `overdue=true|false` (open and past the current deadline, or not),
`due_within_hours=N` (open, current deadline in the next N hours, not yet past);
`search=` looks in number, subject and customer name; `ordering=` created_at, updated_at,
priority, number, current_due (prefix "-" for descending); `page`, `page_size` (at most 200).
Pages answer {count, count_is_exact, next, previous, results}: counting stops at 10,000 cases
(`count_is_exact` false, `count` then a lower bound), and `next` is there whenever more cases
follow, past the cap too (servicedesk.pagination).

Deadlines (时限): every case answer carries `deadlines` — {stage: {due, done_at, met, overdue}}
for first_response, investigation, solution_to_customer, next_contact and
satisfaction_followup — plus `current_stage`/`current_due` (the earliest deadline not yet met),
`overdue`, `escalation_level` (0–2) and `deadlines_provisional` (a deadline falls in a year
whose holiday schedule is not loaded yet). The detail adds `breaches` (the escalation history)
and `technical_requests`.

Technical collaboration requests live at their own address, /api/v1/technical-requests/, not
under the case: the asked department answers them, and its members need not be able to see
the whole case (case visibility follows the lead department). They are created from the case
(POST .../cases/{number}/technical-requests/ {department: code or id, question} → 201), are
due by the plan's limit (2 h by default) and escalate like the case's own deadlines; answering
(POST .../technical-requests/{id}/answer/ {answer} → 200) is for members of the asked
department (403 for others, 400 when already answered).

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

from django.db.models import Prefetch, Q, prefetch_related_objects
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from servicedesk.idempotency.api import PARAMETER as IDEMPOTENCY_KEY
from servicedesk.idempotency.api import idempotent

from . import search, services

# The shared helpers and the technical-request viewset live in api_common and api_technical;
# their names are re-exported (servicedesk.messaging.api imports service_errors from here).
from .api_common import (  # noqa: F401 (re-exported)
    CONFLICT,
    CUSTOMER_ERROR_FIELDS,
    ERRORS,
    NOT_FOUND,
    CasePagination,
    Conflict,
    _conflict,
    _nest,
    service_errors,
    technical_request_queryset,
)
from .api_technical import (  # noqa: F401 (re-exported)
    TechnicalRequestFilter,
    TechnicalRequestPermission,
    TechnicalRequestViewSet,
)
from .case_answer import case_data
from .models import (
    RETURN_STEP_NAMES,
    TRANSITION_NAMES,
    Case,
    CaseContact,
    CaseEvent,
    CaseType,
    Category,
    Channel,
    ReturnRequest,
    SlaBreach,
    State,
    Urgency,
)
from .serializers import (
    CaseDetailSerializer,
    CaseEventSerializer,
    CaseIntakeSerializer,
    CaseSerializer,
    EventInputSerializer,
    ReturnStateSerializer,
    ReturnStepInputSerializer,
    SuggestionsSerializer,
    TechnicalRequestInputSerializer,
    TechnicalRequestSerializer,
    TransitionInputSerializer,
)


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
        "technical_requests": "complaints.add_technicalrequest",
        "return_request": "complaints.view_returnrequest",
        "return_step": "complaints.view_returnrequest",
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
    overdue = filters.BooleanFilter(
        method="filter_overdue",
        help_text=gettext_lazy(
            "true: open cases past their current deadline; false: every other case."
        ),
    )
    due_within_hours = filters.NumberFilter(
        method="filter_due_within",
        min_value=0,
        max_value=24 * 366,
        help_text=gettext_lazy(
            "Open cases whose current deadline falls within this many hours (not yet past)."
        ),
    )

    class Meta:
        model = Case
        fields = ["state", "urgency", "channel", "type", "category", "priority"]

    def filter_overdue(self, queryset, name, value: bool):
        overdue = Case.objects.overdue(timezone.now()).values("pk")
        return queryset.filter(pk__in=overdue) if value else queryset.exclude(pk__in=overdue)

    def filter_due_within(self, queryset, name, value):
        return queryset.filter(
            pk__in=Case.objects.due_within(timezone.now(), float(value)).values("pk")
        )

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


def detail_queryset():
    """Everything the detail answer shows, in a fixed number of queries."""
    return (
        Case.objects.for_list()
        .select_related("merged_into", "created_by", "return_request")
        .prefetch_related(
            "collaborating_departments",
            Prefetch("events", queryset=CaseEvent.objects.select_related("author")),
            Prefetch("contacts", queryset=CaseContact.objects.select_related("created_by")),
            Prefetch(
                "breaches",
                queryset=SlaBreach.objects.select_related("department").order_by(
                    "-escalated_at", "-level", "-pk"
                ),
            ),
            Prefetch("technical_requests", queryset=technical_request_queryset()),
        )
    )


class CaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    lookup_field = "number"
    lookup_value_regex = r"[0-9]{6}-[0-9]+"
    permission_classes = [permissions.IsAuthenticated, CasePermission]
    serializer_class = CaseSerializer
    filterset_class = CaseFilter
    search_fields = ["number", "subject", "customer__name"]
    ordering_fields = ["created_at", "updated_at", "priority", "number", "current_due"]
    ordering = ["-created_at"]
    pagination_class = CasePagination

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        # Role checks (sees_all_departments) read the user's groups once per transition and
        # per visibility check; load them once per request. Intake checks no role.
        if self.action != "create":
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
        parameters=[IDEMPOTENCY_KEY],
        responses={
            201: OpenApiResponse(CaseSerializer, description="A new case."),
            200: OpenApiResponse(
                CaseSerializer,
                description="Added to an existing open case of the same customer (absorbed: true).",
            ),
            **ERRORS,
        },
    )
    @idempotent
    def create(self, request, *args, **kwargs):
        serializer = CaseIntakeSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        with service_errors():
            result = services.case_intake(user=request.user, **serializer.validated_data)
        # A new case holds its customer, department and assignee; an absorbing one was read
        # with them (Case.objects.for_list()).
        case = result.case
        context = {**self.get_serializer_context(), "absorbed": result.absorbed}
        return Response(
            case_data(case, context),  # = CaseSerializer(case, context=context).data
            status=status.HTTP_200_OK if result.absorbed else status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Take a lifecycle step",
        description="Steps: " + ", ".join(TRANSITION_NAMES) + ". The detail answer's "
        "`transitions` lists the steps the user may take now and the input each needs.",
        request=TransitionInputSerializer,
        parameters=[
            OpenApiParameter(
                "name", OpenApiTypes.STR, OpenApiParameter.PATH, enum=TRANSITION_NAMES
            ),
            IDEMPOTENCY_KEY,
        ],
        responses={200: CaseDetailSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"transitions/(?P<name>[a-z_]+)",
        url_name="transition",
    )
    @idempotent
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
        summary="The case's return / exchange request and the steps the caller may take now",
        responses={200: ReturnStateSerializer, **ERRORS, **NOT_FOUND},
    )
    @action(detail=True, methods=["get"], url_path="return", url_name="return")
    def return_request(self, request, number=None):
        case = self.get_object()
        return Response(self._return_state(case))

    def _return_state(self, case):
        rr = ReturnRequest.objects.select_related("case").filter(case=case).first()
        if rr is None:
            raise NotFound(_("This case has no return / exchange request."))
        steps = services.available_return_steps(rr, self.request.user)
        return ReturnStateSerializer(
            {
                "return_request": rr,
                "steps": [
                    {
                        "name": n,
                        "label": str(label),
                        "inputs": [i for i, _r in inputs],
                        "required": [i for i, r in inputs if r],
                    }
                    for n, label, inputs in steps
                ],
                "version": case.version,
            }
        ).data

    @extend_schema(
        summary="Take one return / exchange step (approve, reject, notify_customer, ship_back, "
        "inspect, refund, exchange)",
        request=ReturnStepInputSerializer,
        parameters=[
            OpenApiParameter(
                "step", OpenApiTypes.STR, OpenApiParameter.PATH, enum=RETURN_STEP_NAMES
            )
        ],
        responses={200: ReturnStateSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"return/(?P<step>[a-z_]+)",
        url_name="return-step",
    )
    def return_step(self, request, number=None, step=None):
        if step not in RETURN_STEP_NAMES:
            raise NotFound(_("Unknown step “%(name)s”.") % {"name": step})
        case = self.get_object()
        serializer = ReturnStepInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        expected = data.pop("expected_version", None)
        with service_errors(case):
            services.return_request_step(
                case=case, step=step, user=request.user, expected_version=expected, **data
            )
        case.refresh_from_db()
        return Response(self._return_state(case))

    @extend_schema(
        summary="Add a progress update or an internal note",
        request=EventInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: CaseEventSerializer, **ERRORS, **NOT_FOUND, **CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path="events", url_name="events")
    @idempotent
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

    @extend_schema(
        summary="Ask another department for help (technical collaboration request)",
        description="The answer is due within the plan's limit (2 h by default) and escalates "
        "like the case's own deadlines. Answered at /api/v1/technical-requests/{id}/answer/.",
        request=TechnicalRequestInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: TechnicalRequestSerializer, **ERRORS, **NOT_FOUND},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path="technical-requests",
        url_name="technical-requests",
    )
    @idempotent
    def technical_requests(self, request, number=None):
        case = self.get_object()
        serializer = TechnicalRequestInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors(case):
            tr = services.technical_request_create(
                case=case, user=request.user, **serializer.validated_data
            )
        tr = technical_request_queryset().get(pk=tr.pk)
        return Response(
            TechnicalRequestSerializer(tr, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )


router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("technical-requests", TechnicalRequestViewSet, basename="technical-request")

urlpatterns = router.urls
