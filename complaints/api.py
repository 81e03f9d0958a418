"""REST API for cases (filled in by the API work)."""

urlpatterns = []
