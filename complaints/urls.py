"""Public pages of the complaints app (the web form)."""

from django.urls import path

from . import views

app_name = "complaints"

urlpatterns = [
    path("submit/", views.submit, name="submit"),
    path("submit/done/<str:token>/", views.submit_done, name="submit_done"),
]
