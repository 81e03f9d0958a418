"""The case list's rows are written directly (complaints/admin_list_rows.py) instead of by
Django's admin, ~30 % of the page's rendering: the table must stay Django's byte for byte —
every column, the row's link with the list's filters, masked and full phones, escalations,
finished cases."""

import pytest
from django.contrib.admin.templatetags.admin_list import results
from django.template import Context, Template

from complaints.admin_list_rows import rows

from .test_admin_list_queues import CHANGELIST, MONDAY_10, frozen, handler, queue  # noqa: F401

DJANGOS_TABLE = Template("{% load admin_list %}{% result_list cl %}")


def table(html):
    start = html.index('<table id="result_list">')
    return html[start : html.index("</table>", start) + len("</table>")]


@pytest.mark.parametrize(
    "who,params",
    [
        ("supervisor", {}),
        ("supervisor", {"state": "all"}),
        ("supervisor", {"state": "closed", "urgency__exact": "high"}),
        ("handler", {"scope": "mine"}),
        ("agent", {"q": "问题"}),
        ("agent", {"state": "all", "o": "2"}),
    ],
)
def test_the_case_list_table_is_djangos(client, request, queue, who, params):  # noqa: F811
    client.force_login(request.getfixturevalue(who))
    with frozen(MONDAY_10):
        response = client.get(CHANGELIST, params)
        cl = response.context["cl"]
        assert cl.result_list, "a list with rows"
        ours = [list(row) for row in rows(cl)]
        assert ours == [list(row) for row in results(cl)]
        # The page shows that table: what Django's own result_list tag renders.
        expected = DJANGOS_TABLE.render(Context({"cl": cl, "opts": cl.opts}))
    assert table(response.content.decode()) == table(expected)


def test_a_column_that_is_not_a_function_is_left_to_django(client, supervisor, queue):  # noqa: F811
    client.force_login(supervisor)
    cl = client.get(CHANGELIST, {"state": "all"}).context["cl"]
    cl.list_display = [*cl.list_display, "number"]  # a model field
    assert [list(row) for row in rows(cl)] == [list(row) for row in results(cl)]
    assert any("field-number" in cell for cell in rows(cl)[0])


def test_what_a_customer_wrote_is_escaped_in_every_cell(client, supervisor, department):
    from .helpers import intake

    subject = '<img src=x onerror="alert(1)">&订单'
    intake(
        department=department,
        subject=subject,
        customer={"name": "<b>王&伟</b>", "phone": "13912345678"},
    )
    client.force_login(supervisor)
    html = table(client.get(CHANGELIST).content.decode())
    assert "<img" not in html and "<b>" not in html
    escaped = "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;订单"
    assert f'<span class="sd-subject">{escaped}</span>' in html
    assert f'title="{escaped} · ' in html  # the tooltip, an attribute
    assert "&lt;b&gt;王&amp;伟&lt;/b&gt;" in html
