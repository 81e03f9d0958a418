"""The satisfaction summary page in the admin (满意度统计): who sees it, the hand-computed
figures of metrics_helpers on it, its charts and tables, and a bounded number of queries."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from callbacks.services import satisfaction_version
from servicedesk.staff import roles

from .metrics_helpers import NOV_FROM, NOV_TO, more_answers, november

URL = "/admin/callbacks/satisfactionsummary/"
NOVEMBER = {"from": NOV_FROM, "to": NOV_TO}

pytestmark = pytest.mark.django_db


@pytest.fixture
def month(make_user, department):
    return november(make_user, department)


def client_for(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def figure(html, name):
    match = re.search(rf'data-figure="{name}">([^<]*)<', html)
    return match and match.group(1)


def test_supervisor_sees_the_hand_computed_figures(supervisor, month):
    response = client_for(supervisor).get(URL, NOVEMBER)
    assert response.status_code == 200
    html = response.content.decode()
    assert figure(html, "score") == "4.10"
    assert figure(html, "rate") == "70.0%"
    assert figure(html, "problem_incidence") == "25.0%"
    assert figure(html, "answers") == "10"
    assert figure(html, "improvement") == "+0.10"
    assert "Below the target" in html
    assert "2 of 8 customers surveyed reported a problem" in html
    assert "sdc-notok" in html  # the rate tile is red: 70 % < 90 %
    # the period compared with
    assert "2026-10-02" in html and "2026-10-31" in html


def test_charts_are_inline_svg_with_titles_and_tables(supervisor, month):
    html = client_for(supervisor).get(URL, {**NOVEMBER, "group_by": "department"}).content.decode()
    svgs = re.findall(r'<svg class="sdc-chart"[^>]*>', html)
    assert len(svgs) == 4  # trend, distribution, by department, opinions
    assert all('role="img"' in s and "aria-labelledby" in s for s in svgs)
    assert html.count("<title id=") == 4
    assert "<script" not in html.split('id="content-main"')[1].split("</svg>")[-1]
    assert "Target 90.0%" in html  # the target line's label
    # every chart's figures are in a table too
    assert re.search(r"<th scope=\"row\">客服中心</th>\s*<td class=\"sdc-num\">6</td>", html)
    assert re.search(r"<th scope=\"row\">技术部</th>\s*<td class=\"sdc-num\">3</td>", html)
    assert "4.17" in html and "4.67" in html
    assert "No department" in html
    # opinion concentration: three categories, 2 mentions each of 6
    assert html.count("33.3%") >= 3
    assert "价格" in html and "Product quality" in html and "Delivery" in html
    # score distribution 5…1: 5, 2, 2, 1, 0
    assert re.search(r"5 Very satisfied</th><td class=\"sdc-num\">5</td>", html)
    assert re.search(r"1 Very dissatisfied</th><td class=\"sdc-num\">0</td>", html)

    # the 12-month trend ends with the month of `to`, months cut at Beijing midnight:
    # October = 10-01 23:50 (1), 10-02 (5), 10-15 (3), 10-20 (4), 10-31 23:59 (4) → 3.40, 60 %;
    # November = the ten (12-01 00:10 is December although it is still 11-30 in UTC)
    def trend_row(month, answers, score, rate):
        cells = "".join(f'<td class="sdc-num">{v}</td>' for v in (answers, score, rate))
        return f'<th scope="row">{month}</th>{cells}'

    assert trend_row("2026-10", 5, "3.40", "60.0%") in html
    assert trend_row("2026-11", 10, "4.10", "70.0%") in html
    assert trend_row("2025-12", 0, "—", "—") in html
    assert "2026-12" not in html.split("sdc-details")[1]
    assert "/api/v1/metrics/satisfaction/?from=2026-11-01&amp;to=2026-11-30" in html


@pytest.mark.parametrize("group_by", ["period", "week", "day", "agent", "channel", "method"])
def test_every_grouping_renders(supervisor, month, group_by):
    response = client_for(supervisor).get(URL, {**NOVEMBER, "group_by": group_by})
    assert response.status_code == 200
    assert response.content.decode().count('<svg class="sdc-chart"') == 4


def test_manager_sees_it_and_the_index_links_it(make_user, month):
    manager = make_user("boss", role=roles.MANAGER)
    client = client_for(manager)
    assert client.get(URL, NOVEMBER).status_code == 200
    assert URL in client.get("/admin/").content.decode()
    assert URL in client.get("/admin/callbacks/").content.decode()


def test_without_permission_refused(make_user, client):
    assert client.get(URL).status_code == 302  # not logged in: to the login page
    nobody = make_user("nobody")  # staff, no role
    assert client_for(nobody).get(URL).status_code == 403
    assert URL not in client_for(nobody).get("/admin/").content.decode()


def test_read_only_no_add_change_or_delete(supervisor, month):
    client = client_for(supervisor)
    pk = month["responses"][0].pk
    assert client.get(URL + "add/").status_code == 404
    assert client.get(f"{URL}{pk}/change/").status_code == 404
    assert client.post(URL, NOVEMBER).status_code in (200, 405)


def test_bad_period_shows_field_errors(supervisor, month):
    response = client_for(supervisor).get(URL, {"from": "2026-11-30", "to": "2026-11-01"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "The end date is before the start date." in html
    assert 'data-figure="score"' not in html
    assert '<svg class="sdc-chart"' not in html


def test_defaults_and_an_empty_period(supervisor):
    response = client_for(supervisor).get(URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert figure(html, "score") == "—"
    assert figure(html, "answers") == "0"
    assert "No answers in this period." not in html  # months are listed even when empty
    assert "No problems or opinions were recorded in this period." in html


def test_queries_do_not_grow_with_the_data(supervisor, month):
    client = client_for(supervisor)
    client.get(URL, NOVEMBER)  # warm the session and the content types

    def count(group_by):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(URL, {**NOVEMBER, "group_by": group_by}).status_code == 200
        return len(ctx)

    before = {g: count(g) for g in ("period", "department", "agent")}
    more_answers(satisfaction_version(), 40)
    after = {g: count(g) for g in ("period", "department", "agent")}
    assert after == before
    # + the plan in force, the opinion categories and written suggestions, repeat purchase,
    # the notification bell in the header
    assert max(after.values()) <= 15
    if connection.vendor == "postgresql":
        # The two periods, the months and the 12-month trend are read in one statement; by
        # department or agent, one GROUP BY more.
        assert after["period"] <= 12
        assert max(after.values()) <= 14
