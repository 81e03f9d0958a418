from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import views

api_v1 = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves its start-up script as a file: no inline script (CSP).
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include("complaints.api")),
    path("", include("knowledge.api")),
    path("", include("callbacks.api")),
    path("", include("servicedesk.reports.api")),
    path("", include("servicedesk.messaging.api")),
]

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False)),
    path("healthz", views.healthz, name="healthz"),
    path("favicon.ico", views.favicon),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_v1, "api"))),
    path("", include("complaints.urls")),
    path("", include("callbacks.urls")),
    path("", include("servicedesk.messaging.urls")),
]

# JSON instead of an HTML page on /api/ paths (the schema documents {"detail": …}).
handler404 = "servicedesk.views.not_found"
handler500 = "servicedesk.views.server_error"

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
