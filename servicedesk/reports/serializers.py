"""Serializers of the reports API: stored reports (with a download link for those allowed to
download) and early-warning alerts with the figures that triggered them. Read only."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework.reverse import reverse

from complaints.serializers import UserRefSerializer

from . import alerts
from .models import Alert, AlertRule, Report

DOWNLOAD = "reports.download_report"


def can_download(context):
    """Asked once per response and remembered in the (shared) serializer context."""
    if "can_download" not in context:
        request = context.get("request")
        user = getattr(request, "user", None)
        context["can_download"] = bool(user is not None and user.has_perm(DOWNLOAD))
    return context["can_download"]


class ReportSerializer(serializers.ModelSerializer):
    generated_by = UserRefSerializer(read_only=True, allow_null=True)
    download_url = serializers.SerializerMethodField(
        help_text="The workbook (.xlsx); null for users who may not download reports."
    )

    class Meta:
        model = Report
        fields = [
            "id", "kind", "period_start", "period_end", "language", "generated_at",
            "generated_by", "is_current", "size", "row_counts", "download_url",
        ]  # fmt: skip
        read_only_fields = fields

    @extend_schema_field(OpenApiTypes.URI)
    def get_download_url(self, report):
        if not report.file or not can_download(self.context):
            return None
        return reverse("api:report-download", args=[report.pk], request=self.context.get("request"))


class AlertRuleRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = AlertRule
        fields = ["id", "name", "indicator", "threshold", "window_days"]


class AlertSerializer(serializers.ModelSerializer):
    rule = AlertRuleRefSerializer(read_only=True)
    subject_display = serializers.SerializerMethodField(
        help_text="What the alert is about, for people: a category's name, a product, or the "
        "whole desk."
    )
    figures = serializers.JSONField(help_text="The measured figures that triggered the alert.")
    acknowledged_by = UserRefSerializer(read_only=True, allow_null=True)
    closed_by = UserRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = Alert
        fields = [
            "id", "rule", "subject", "subject_display", "status", "raised_at", "last_checked_at",
            "figures", "message", "cleared_at", "acknowledged_by", "acknowledged_at",
            "closed_by", "closed_at", "note",
        ]  # fmt: skip
        read_only_fields = fields

    def get_subject_display(self, alert) -> str:
        return alerts.subject_label(alert.rule.indicator, alert.subject)
