"""The navigation every admin page shows (the sidebar) lists the pages each person may open,
in their language. It is built once per set of permissions, language and URL prefix and
reused (servicedesk.admin_site): reuse must never show one person another's pages."""

from django.contrib.auth.models import Permission
from django.urls import reverse

from servicedesk.staff import roles


def sidebar(client):
    page = client.get(reverse("admin:complaints_case_changelist"))
    assert page.status_code == 200
    return page.content.decode()


def test_the_navigation_lists_what_each_person_may_open(client, make_user):
    # Supervisors and managers only: it scores each agent.
    summary = f'href="{reverse("admin:callbacks_satisfactionsummary_changelist")}"'
    cases = f'href="{reverse("admin:complaints_case_changelist")}"'
    agent = make_user("agent_a", role=roles.AGENT)
    manager = make_user("manager_m", role=roles.MANAGER)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    for user, sees_summary in [(agent, False), (manager, True), (agent, False), (manager, True)]:
        client.force_login(user)
        page = sidebar(client)
        assert cases in page
        assert (summary in page) == sees_summary, user

    # Given the permission, the agent finds the page listed on the next page they open.
    agent.user_permissions.add(Permission.objects.get(codename="view_satisfactionsummary"))
    client.force_login(agent)
    assert summary in sidebar(client)


def test_the_navigation_speaks_each_readers_language(client, make_user):
    client.force_login(make_user("manager_m", role=roles.MANAGER))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    assert "分派规则" in sidebar(client)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    page = sidebar(client)
    assert "Routing rules" in page and "分派规则" not in page
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    assert "分派规则" in sidebar(client)


def test_the_kept_sidebar_marks_the_page_being_read_as_djangos_own_does(client, make_user):
    """The sidebar's HTML is rendered once per app list and current page and then reused:
    on every page it is what Django's own nav_sidebar.html renders, the current app and
    model marked, also on a page read a second time and after another page."""
    from pathlib import Path

    import django
    from django.template import engines

    own = (
        Path(django.__file__).parent / "contrib/admin/templates/admin/nav_sidebar.html"
    ).read_text()
    django_sidebar = engines["django"].from_string(own)
    client.force_login(make_user("manager_m", role=roles.MANAGER))
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    pages = [
        reverse("admin:complaints_case_changelist"),
        reverse("admin:complaints_customer_changelist"),
        reverse("admin:knowledge_article_changelist"),
        reverse("admin:staff_notification_changelist"),
        reverse("admin:complaints_case_changelist"),
    ]
    for url in pages:
        response = client.get(url)
        html = response.content.decode()
        start = html.index('<button class="sticky toggle-nav-sidebar"')
        end = html.index("</nav>", start) + len("</nav>")
        expected = django_sidebar.render(
            {"available_apps": response.context["available_apps"]}, response.wsgi_request
        )
        assert html[start:end] == expected.strip(), url
        assert html[start:end].count("current-model") == 1, url
