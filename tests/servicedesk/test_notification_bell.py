"""The notification bell in the header of every admin page: the unread count, a dropdown of
the newest unread notifications, marking one or all read (POST with the CSRF token), the
notification list with unread first, one query per page, and no inline script or style."""

import datetime
import re

import pytest
import time_machine
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from servicedesk.staff import roles
from servicedesk.staff.models import Notification
from servicedesk.staff.services import notify

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
START = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


@pytest.fixture
def user(make_user, department):
    return make_user("handler", role=roles.HANDLER, departments=[department], email="")


def notes(user, n, *, start=START, prefix="通知"):
    """`n` notifications for `user`, one minute apart (the last is the newest)."""
    made = []
    for i in range(n):
        with time_machine.travel(start + datetime.timedelta(minutes=i), tick=False):
            made += notify(
                recipients=[user],
                event_key=f"test:{prefix}:{i}",
                subject=f"{prefix}{i}",
                link=f"/admin/knowledge/plan/?n={i}",
                email=False,
            )
    return made


def bell(html):
    """The bell's markup on a page ('' when there is none)."""
    match = re.search(r'<details class="sd-bell".*?</details>', html, re.S)
    return match.group(0) if match else ""


def page(client, url=None, **headers):
    response = client.get(url or reverse("admin:index"), **{**ZH, **headers})
    assert response.status_code == 200
    return response.content.decode()


def test_the_bell_shows_the_unread_count_and_the_newest_eight(client, user, make_user):
    notes(user, 10)
    Notification.objects.filter(subject="通知9").update(read_at=START)
    notes(make_user("other", role=roles.AGENT), 3, prefix="别人的")
    client.force_login(user)

    markup = bell(page(client))
    assert 'class="sd-bell-count" id="sd-bell-count" aria-hidden="true">9<' in markup
    assert "9 条未读通知" in markup
    shown = re.findall(r'title="打开并标为已读">([^<]+)<', markup)
    # Unread only, newest first, eight of them; nobody else's.
    assert shown == [f"通知{i}" for i in range(8, 0, -1)]
    assert "别人的" not in markup
    assert reverse("admin:staff_notification_changelist") in markup and "全部通知" in markup


def test_the_bell_is_on_every_admin_page_and_quiet_when_nothing_is_unread(client, user):
    client.force_login(user)
    for url in [
        reverse("admin:index"),
        reverse("admin:knowledge_plan_changelist"),
        reverse("admin:staff_notification_changelist"),
        reverse("admin:password_change"),
    ]:
        markup = bell(page(client, url))
        assert markup, url
        assert "sd-bell-count" not in markup and "没有未读通知。" in markup
    client.logout()
    assert not bell(page(client, reverse("admin:login")))


def test_the_bell_costs_one_query_whatever_the_count(client, user):
    client.force_login(user)
    url = reverse("admin:knowledge_plan_changelist")

    def bell_queries():
        page(client, url)  # warm up
        with CaptureQueriesContext(connection) as ctx:
            page(client, url)
        every = [q["sql"] for q in ctx.captured_queries]
        return len(every), [q for q in every if "staff_notification" in q]

    total_none, queries = bell_queries()
    assert len(queries) == 1
    notes(user, 30)
    total_many, queries = bell_queries()
    assert len(queries) == 1 and total_many == total_none


def test_opening_a_notification_marks_it_read_and_goes_to_its_link(client, user):
    first, second = notes(user, 2)
    client.force_login(user)
    url = reverse("admin:staff_notification_read", args=[first.pk])
    assert client.get(url).status_code == 405
    response = client.post(url, {"next": first.link})
    assert response.status_code == 302 and response["Location"] == first.link
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None and second.read_at is None
    markup = bell(page(client))
    assert ">1<" in markup and "通知0" not in markup and "通知1" in markup


def test_one_cannot_mark_someone_elses_notification(client, user, make_user):
    (theirs,) = notes(make_user("other", role=roles.AGENT), 1)
    client.force_login(user)
    response = client.post(reverse("admin:staff_notification_read", args=[theirs.pk]))
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_returns_to_the_page_and_never_to_another_site(client, user, make_user):
    notes(user, 3)
    (theirs,) = notes(make_user("other", role=roles.AGENT), 1)
    client.force_login(user)
    url = reverse("admin:staff_notification_read_all")
    back = reverse("admin:knowledge_plan_changelist")
    response = client.post(url, {"next": back}, follow=True, **ZH)
    assert response.redirect_chain[-1][0] == back
    assert "3 条通知已标为已读" in response.content.decode()
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert "sd-bell-count" not in bell(page(client))

    response = client.post(url, {"next": "https://evil.example.com/"})
    assert response["Location"] == reverse("admin:staff_notification_changelist")


def test_marking_read_needs_the_csrf_token(user):
    notes(user, 1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    url = reverse("admin:staff_notification_read_all")
    assert client.post(url).status_code == 403
    assert Notification.objects.filter(recipient=user, read_at__isnull=True).count() == 1
    # The bell's own form carries the token.
    markup = bell(page(client))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', markup).group(1)
    assert client.post(url, {"csrfmiddlewaretoken": token}).status_code == 302
    assert not Notification.objects.filter(recipient=user, read_at__isnull=True).exists()


def test_the_bell_needs_no_inline_script_or_style(client, user):
    notes(user, 2)
    client.force_login(user)
    response = client.get(reverse("admin:index"), **ZH)
    html = response.content.decode()
    markup = bell(html)
    assert "<style" not in markup and "<script" not in markup
    assert re.search(r'<script src="[^"]*notification_bell\.js" defer></script>', html)
    assert re.search(r'<link rel="stylesheet" href="[^"]*notification_bell\.css">', html)
    policy = response.headers["Content-Security-Policy"]
    assert (
        "script-src 'self'" in policy and "unsafe-inline" not in policy.split("style-src-attr")[0]
    )


def test_the_notification_list_shows_unread_first(client, user):
    newest = notes(user, 3)[-1]
    Notification.objects.filter(pk=newest.pk).update(read_at=START)
    client.force_login(user)
    response = client.get(reverse("admin:staff_notification_changelist"), **ZH)
    assert response.status_code == 200
    listed = [n.subject for n in response.context["cl"].result_list]
    assert listed == ["通知1", "通知0", "通知2"]
    html = response.content.decode()
    assert html.count("未读") >= 2 and 'href="/admin/knowledge/plan/?n=1"' in html
    # The filter reads 未读 / 已读.
    unread = client.get(reverse("admin:staff_notification_changelist"), {"read": "no"}, **ZH)
    assert [n.subject for n in unread.context["cl"].result_list] == ["通知1", "通知0"]
