"""Cross-cutting views: the health check, and error pages that answer JSON on API paths."""

from django.conf import settings
from django.db import connection
from django.http import HttpResponsePermanentRedirect, JsonResponse
from django.templatetags.static import static
from django.utils.translation import gettext as _
from django.views import defaults
from django.views.decorators.cache import never_cache
from kombu import Connection


def _check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _check_broker():
    # A fresh connection from settings, so the answer reflects the broker now, not a pooled
    # connection that may have been fine a minute ago.
    with Connection(
        settings.CELERY_BROKER_URL,
        transport_options=settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        connect_timeout=3,
    ) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, timeout=3)


@never_cache
def healthz(request):
    """200 when the database and the broker answer; 503 naming the part that failed."""
    checks = {}
    for name, check in (("database", _check_database), ("broker", _check_broker)):
        try:
            check()
            checks[name] = "ok"
        except Exception as exc:
            checks[name] = f"error: {exc.__class__.__name__}: {exc}"[:300]
    healthy = all(v == "ok" for v in checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "fail", **checks}, status=200 if healthy else 503
    )


def _is_api(request):
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """404: JSON on API paths (clients parse the answer), Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    """500: JSON on API paths, Django's page elsewhere."""
    if _is_api(request):
        return JsonResponse(
            {"detail": _("Server error: the request was not completed.")}, status=500
        )
    return defaults.server_error(request)


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links to: answer with our icon."""
    return HttpResponsePermanentRedirect(static("servicedesk/favicon.svg"))
