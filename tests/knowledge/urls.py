"""The project's URLs plus the knowledge API under /api/v1/, for tests until servicedesk.urls
includes knowledge.api itself (then this module changes nothing: the first match wins)."""

from django.urls import include, path

from servicedesk.urls import urlpatterns as project_urlpatterns

urlpatterns = [
    path("api/v1/", include(("knowledge.api", "knowledge_api"))),
    *project_urlpatterns,
]
