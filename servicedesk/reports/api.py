"""REST API for reports and early warning, under /api/v1/:

    GET /api/v1/reports/                  stored reports (reports.view_report); ?kind=, ?current=
    GET /api/v1/reports/{id}/             one report
    GET /api/v1/reports/{id}/download/    the workbook (.xlsx), for managers only (403 otherwise)
    GET /api/v1/alerts/                   early-warning alerts (reports.view_alert); ?status=
                                          (repeat for several), ?indicator=, ?back_to_normal=
    GET /api/v1/alerts/{id}/              one alert

Read only: acknowledging and closing alerts happen in the admin. Authentication as for the
cases API (token or admin session); `download_url` is null for users who may not download.
"""

from django.utils.translation import gettext_lazy
from django_filters import rest_framework as filters
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.pagination import PageNumberPagination
from rest_framework.routers import SimpleRouter

from complaints.serializers import ErrorSerializer

from .downloads import XLSX, file_download
from .models import Alert, AlertStatus, Indicator, Report, ReportKind
from .serializers import DOWNLOAD, AlertSerializer, ReportSerializer

ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated."),
    403: OpenApiResponse(ErrorSerializer, description="No permission."),
}
NOT_FOUND = {404: OpenApiResponse(ErrorSerializer, description="No such report or alert.")}


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 200


class ActionPermission(permissions.BasePermission):
    """The model permission each action needs (`required` on the view)."""

    def has_permission(self, request, view):
        perm = view.required.get(view.action)
        return perm is not None and request.user.has_perm(perm)


class ReportFilter(filters.FilterSet):
    kind = filters.ChoiceFilter(choices=ReportKind.choices)
    current = filters.BooleanFilter(
        field_name="is_current",
        help_text=gettext_lazy("true: only the current report of each period."),
    )

    class Meta:
        model = Report
        fields = ["kind", "current"]


class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, ActionPermission]
    required = {
        "list": "reports.view_report",
        "retrieve": "reports.view_report",
        "download": DOWNLOAD,
    }
    queryset = Report.objects.select_related("generated_by")
    serializer_class = ReportSerializer
    filterset_class = ReportFilter
    ordering_fields = ["period_start", "generated_at"]
    ordering = ["-period_start", "-generated_at"]
    pagination_class = Pagination

    @extend_schema(
        summary="List stored reports", responses={200: ReportSerializer(many=True), **ERRORS}
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One stored report", responses={200: ReportSerializer, **ERRORS, **NOT_FOUND}
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)

    @extend_schema(
        summary="Download a report's workbook",
        description="For managers (the reports.download_report permission).",
        responses={
            (200, XLSX): OpenApiResponse(OpenApiTypes.BINARY, description="The .xlsx file."),
            **ERRORS,
            **NOT_FOUND,
        },
    )
    @action(detail=True, methods=["get"], url_path="download", url_name="download")
    def download(self, request, pk=None):
        return file_download(self.get_object().file)


class AlertFilter(filters.FilterSet):
    status = filters.MultipleChoiceFilter(choices=AlertStatus.choices)
    indicator = filters.MultipleChoiceFilter(
        field_name="rule__indicator", choices=Indicator.choices
    )
    back_to_normal = filters.BooleanFilter(
        field_name="cleared_at",
        lookup_expr="isnull",
        exclude=True,
        help_text=gettext_lazy("true: the indicator is back inside the threshold."),
    )

    class Meta:
        model = Alert
        fields = ["status", "indicator", "back_to_normal"]


class AlertViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [permissions.IsAuthenticated, ActionPermission]
    required = {"list": "reports.view_alert", "retrieve": "reports.view_alert"}
    queryset = Alert.objects.select_related("rule", "acknowledged_by", "closed_by")
    serializer_class = AlertSerializer
    filterset_class = AlertFilter
    search_fields = ["message", "subject"]
    ordering_fields = ["raised_at", "last_checked_at"]
    ordering = ["-raised_at"]
    pagination_class = Pagination

    @extend_schema(
        summary="List early-warning alerts", responses={200: AlertSerializer(many=True), **ERRORS}
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(
        summary="One early-warning alert", responses={200: AlertSerializer, **ERRORS, **NOT_FOUND}
    )
    def retrieve(self, request, *args, **kwargs):
        return super().retrieve(request, *args, **kwargs)


router = SimpleRouter()
router.register("reports", ReportViewSet, basename="report")
router.register("alerts", AlertViewSet, basename="alert")

urlpatterns = router.urls
