"""Public pages of the complaints app (the web form)."""

urlpatterns = []
