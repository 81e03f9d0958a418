"""GET/POST /api/v1/surveys/<token>/ (placeholder: being built)."""

from rest_framework.views import APIView


class SurveyView(APIView):
    pass
