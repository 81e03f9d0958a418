"""The staff workspace's admin site: product title, and an index ordered by the work."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig

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


class ServiceDeskAdminSite(admin.AdminSite):
    # A bilingual product name, shown as is in every language.
    site_header = "客户服务中心 Service Desk"
    site_title = "客户服务中心 Service Desk"
    index_title = "客户服务中心 Service Desk"
    enable_nav_sidebar = True

    def get_app_list(self, request, app_label=None):
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
