"""The follow-ups API: survey answers for channel apps, satisfaction metrics."""

from django.urls import path

from . import metrics_api, survey_api

urlpatterns = [
    path("surveys/<str:token>/", survey_api.SurveyView.as_view(), name="survey"),
    path(
        "metrics/satisfaction/",
        metrics_api.SatisfactionMetricsView.as_view(),
        name="metrics-satisfaction",
    ),
]
