"""REST API for technical collaboration requests: listing, reading and answering the
requests asked of the user's departments or on the cases the user sees.

Moved out of complaints.api, which registers the viewset on its router and re-exports
these names.
"""

from django.db.models import Q, prefetch_related_objects
from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from servicedesk.idempotency.api import PARAMETER as IDEMPOTENCY_KEY
from servicedesk.idempotency.api import idempotent

from . import services
from .api_common import (
    ERRORS,
    NOT_FOUND,
    CasePagination,
    service_errors,
    technical_request_queryset,
)
from .models import Case, TechnicalRequest
from .serializers import TechnicalAnswerInputSerializer, TechnicalRequestSerializer


class TechnicalRequestPermission(permissions.BasePermission):
    required = {
        "list": "complaints.view_technicalrequest",
        "retrieve": "complaints.view_technicalrequest",
        "answer": "complaints.change_technicalrequest",
    }

    def has_permission(self, request, view):
        perm = self.required.get(view.action)
        return perm is not None and request.user.has_perm(perm)


class TechnicalRequestFilter(filters.FilterSet):
    answered = filters.BooleanFilter(
        field_name="answered_at",
        lookup_expr="isnull",
        exclude=True,
        help_text=gettext_lazy("true: answered; false: still waiting for an answer."),
    )
    department = filters.CharFilter(
        method="filter_department",
        help_text=gettext_lazy("Asked department: its code, or its numeric id."),
    )

    class Meta:
        model = TechnicalRequest
        fields = ["answered", "department"]

    def filter_department(self, queryset, name, value: str):
        q = Q(department__code=value)
        if value.isdigit():
            q |= Q(department_id=int(value))
        return queryset.filter(q)


class TechnicalRequestViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Technical collaboration requests asked of the user's departments or on cases the user
    sees (everything for supervisors and managers)."""

    permission_classes = [permissions.IsAuthenticated, TechnicalRequestPermission]
    serializer_class = TechnicalRequestSerializer
    filterset_class = TechnicalRequestFilter
    ordering_fields = ["requested_at", "due_at"]
    ordering = ["-requested_at"]
    pagination_class = CasePagination

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        prefetch_related_objects([request.user], "groups")

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return TechnicalRequest.objects.none()
        user = self.request.user
        qs = technical_request_queryset()
        if user.sees_all_departments:
            return qs
        return qs.filter(
            Q(department__in=user.departments.all())
            | Q(case__in=Case.objects.visible_to(user).values("pk"))
        )

    @extend_schema(
        summary="List technical collaboration requests",
        responses={200: TechnicalRequestSerializer(many=True), **ERRORS},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One technical collaboration request",
        responses={200: TechnicalRequestSerializer, **ERRORS, **NOT_FOUND},
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Answer a technical collaboration request",
        description="For members of the asked department; a request is answered once.",
        request=TechnicalAnswerInputSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: TechnicalRequestSerializer, **ERRORS, **NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="answer", url_name="answer")
    @idempotent
    def answer(self, request, pk=None):
        tr = self.get_object()
        serializer = TechnicalAnswerInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            services.technical_request_answer(
                request=tr, answer=serializer.validated_data["answer"], user=request.user
            )
        tr = technical_request_queryset().get(pk=tr.pk)
        return Response(TechnicalRequestSerializer(tr, context=self.get_serializer_context()).data)
