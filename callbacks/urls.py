"""Public pages of the follow-ups app: the survey page customers open from a link."""

from django.urls import path

from . import views

app_name = "callbacks"
urlpatterns = [
    path("s/<str:token>/", views.survey, name="survey"),
    path("s/<str:token>/thanks/", views.survey_thanks, name="survey_thanks"),
]
