"""The admin banner asking administrators to load a year missing from the calendar."""

from django.urls import reverse

from . import services


def calendar_warning(request):
    """`calendar_missing_years` (and `calendar_import_url`) on the admin index and the calendar
    pages, for users who may import a year: the current year, and from October the next one,
    when not loaded. Costs no query while the calendar is cached."""
    match = getattr(request, "resolver_match", None)
    user = getattr(request, "user", None)
    if (
        match is None
        or match.namespace != "admin"
        or not (match.url_name == "index" or (match.url_name or "").startswith("workcalendar_"))
        or user is None
        or not user.is_active
        or not user.is_staff
        or not user.has_perm("workcalendar.add_calendaryear")
    ):
        return {}
    missing = services.missing_years_to_warn()
    if not missing:
        return {}
    return {
        "calendar_missing_years": missing,
        "calendar_import_url": reverse("admin:workcalendar_calendaryear_import")
        + f"?year={missing[0]}",
    }
