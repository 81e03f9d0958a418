"""GET /api/v1/metrics/satisfaction/ (placeholder: being built)."""

from rest_framework.views import APIView


class SatisfactionMetricsView(APIView):
    pass
