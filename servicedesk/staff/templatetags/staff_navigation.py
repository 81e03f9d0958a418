"""The admin's navigation sidebar, rendered once per app list and current page
(servicedesk.admin_site.navigation_html; admin/nav_sidebar.html)."""

from django import template

from servicedesk.admin_site import navigation_html

register = template.Library()


@register.simple_tag(takes_context=True)
def navigation_app_list(context):
    return navigation_html(context["request"], context["available_apps"])
