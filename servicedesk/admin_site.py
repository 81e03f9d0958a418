"""The staff workspace's admin site: product title, and an index ordered by the work."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.template.defaultfilters import urlencode
from django.template.loader import render_to_string
from django.urls import get_script_prefix
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext_lazy as _

# Django's own zh-hans wording, replaced by what an agent would write: our catalogue is read
# before Django's, so these msgids (used by Django's admin) take our translations. A list
# page is titled by what it lists ("工单", not "选择 工单 来修改").
DJANGO_MSGIDS_WE_TRANSLATE = (
    gettext_noop("Select %s to change"),
    gettext_noop("Select %s to view"),
    gettext_noop("email address"),
)

# Apps in the order staff use them; anything not named follows alphabetically.
APP_ORDER = [
    "complaints",
    "callbacks",
    "knowledge",
    "reports",
    "staff",
    "auth",
    "authtoken",
    "django_celery_beat",
]


# Within an app, the daily work first, configuration after.
MODEL_ORDER = [
    "case",
    "customer",
    "returnrequest",
    "routingrule",
    "urgencyrule",
    "followup",
    "survey",
    "response",
    "satisfactionsummary",
    "followupplan",
    "delivery",
    "sample",
    "questionnaire",
    "questionnaireversion",
    "question",
    "alert",
    "report",
    "export",
    "risk",
    "alertrule",
    "article",
    "plan",
    "planrevision",
    "postincidentreview",
    "notification",
    "user",
    "department",
]


# Built app lists by what they depend on (ServiceDeskAdminSite.get_app_list): a handful of
# roles × languages; emptied if it ever grows past this.
APP_LISTS_KEPT = 256
_app_lists = {}
# Rendered navigation sidebars (navigation_html): app lists × the page marked current, each
# 12–28 KB; emptied past this many (at most ~14 MB a process; a desk's few roles and the
# pages they open keep far fewer).
NAVIGATION_KEPT = 512
_navigation = {}


def app_list_key(request, app_label=None):
    """What the app list a user is shown depends on (ServiceDeskAdminSite.get_app_list)."""
    user = request.user
    return (
        get_language(), get_script_prefix(), app_label, user.is_active, user.is_staff,
        user.is_superuser, frozenset(user.get_all_permissions()),
    )  # fmt: skip


def navigation_html(request, apps):
    """The navigation sidebar's app list (admin/app_list.html, ~3 ms to render on every
    admin page), rendered once per app list and current page: besides the list, the HTML
    depends only on which of its links the page's path contains (the current app and model
    are marked)."""
    path = urlencode(request.path)
    current = tuple(
        url
        for app in apps
        for url in [app["app_url"], *(model.get("admin_url") for model in app["models"])]
        if url and url in path
    )
    key = (app_list_key(request), current)
    html = _navigation.get(key)
    if html is None:
        if len(_navigation) >= NAVIGATION_KEPT:
            _navigation.clear()
        html = _navigation[key] = render_to_string(
            "admin/app_list.html",
            {"app_list": apps, "show_changelinks": False, "request": request},
        )
    return html


class ServiceDeskAdminSite(admin.AdminSite):
    # The product name in the reader's language ("客户服务中心" in Chinese).
    site_header = _("Service Desk")
    site_title = _("Service Desk")
    index_title = _("Home")
    enable_nav_sidebar = True

    def get_app_list(self, request, app_label=None):
        """The apps and models the user may open, in the order of the work. Every admin page
        shows it (the navigation sidebar), and building it asks each of the ~70 registered
        pages for its four permissions: it is built once per set of permissions (and
        language, URL prefix, app) and kept for the life of the process. Exact, because every
        page's permission methods, asked without an object as here, read nothing but the
        user's permissions and is_active / is_staff; the registry does not change once the
        process is up."""
        key = app_list_key(request, app_label)
        apps = _app_lists.get(key)
        if apps is None:
            if len(_app_lists) >= APP_LISTS_KEPT:
                _app_lists.clear()
            apps = _app_lists[key] = self._ordered_app_list(request, app_label)
        return apps

    def _ordered_app_list(self, request, app_label):
        apps = super().get_app_list(request, app_label)
        rank = {label: i for i, label in enumerate(APP_ORDER)}
        model_rank = {name: i for i, name in enumerate(MODEL_ORDER)}
        for app in apps:
            app["models"].sort(
                key=lambda m: (model_rank.get(m["object_name"].lower(), len(model_rank)), m["name"])
            )
        return sorted(apps, key=lambda a: (rank.get(a["app_label"], len(rank)), a["name"]))

    def index(self, request, extra_context=None):
        # Supervisors and managers land on the dashboard; everyone else on the app list.
        from servicedesk.reports import dashboard

        extra_context = dict(extra_context or {})
        if dashboard.wants_dashboard(request.user):
            extra_context["dashboard"] = dashboard.dashboard_page(request.user)
        return super().index(request, extra_context)


class ServiceDeskAdminConfig(AdminConfig):
    default_site = "servicedesk.admin_site.ServiceDeskAdminSite"
