"""The case page offers a button only for a step that can succeed for this user now, one of
them primary (the next step forward); what a step still needs is said instead. Standard
replies (标准话术) can be inserted into a progress update, a solution or a result."""

import re

import pytest
from django.urls import reverse

from complaints.models import Case
from knowledge.models import Article, ArticleStatus
from servicedesk.staff import roles

from .helpers import intake, walk


@pytest.fixture(autouse=True)
def _english(settings):
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def handler(make_user, department):
    return make_user("handler", role=roles.HANDLER, departments=[department])


def case_page(client, user, case):
    client.force_login(user)
    response = client.get(reverse("admin:complaints_case_change", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def offered(html):
    """{step: primary?} of the buttons in the case page's action bar."""
    bar = html[html.index('id="case-actions"') : html.index('class="sd-layout"')]
    found = {}
    for tag in re.findall(r"<(?:a|button)[^>]*data-transition=[^>]*>", bar):
        name = re.search(r'data-transition="([a-z_]+)"', tag).group(1)
        found[name] = "data-primary" in tag
    return found


def resolved_case(department, handler, agent):
    case = intake(department=department, assignee=handler, user=agent).case
    return walk(case, handler, ("start_investigation", {}), ("resolve", {"result": "已换新机"}))


def test_a_resolved_case_without_feedback_offers_no_close_button_but_says_what_it_needs(
    client, department, handler, agent, supervisor
):
    case = resolved_case(department, handler, agent)
    html = case_page(client, handler, case)
    assert "close" not in offered(html)
    assert offered(html) == {"reopen": False}
    assert 'data-needs="close"' in html
    assert "Closing needs the customer&#x27;s satisfaction feedback" in html
    assert 'data-action="waive"' not in html  # a handler cannot waive

    # A supervisor may waive it: the page says so and offers the waiver, still no 结案.
    html = case_page(client, supervisor, case)
    assert "close" not in offered(html) and 'data-needs="close"' in html
    assert 'data-action="waive"' in html


def test_once_the_customer_answered_close_is_the_primary_button(client, department, handler, agent):
    case = resolved_case(department, handler, agent)
    Case.objects.filter(pk=case.pk).update(feedback_score=5)
    html = case_page(client, handler, case)
    assert offered(html) == {"close": True, "reopen": False}
    assert "data-needs" not in html


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        # The agent dispatches: 分派 is the way forward; spam and duplicates are secondary.
        (roles.AGENT, {"assign": True, "merge": False, "cancel": False}),
        # A handler cannot assign, merge or cancel: no button for those.
        (roles.HANDLER, {}),
        (roles.SUPERVISOR, {"assign": True, "merge": False, "cancel": False}),
    ],
)
def test_a_new_case_offers_each_role_only_what_it_may_do(
    client, department, make_user, role, expected
):
    case = intake(department=department).case  # routed, nobody assigned yet
    user = make_user("someone", role=role, departments=[department])
    assert offered(case_page(client, user, case)) == expected


def test_an_investigation_offers_the_solution_first_and_the_handler_works_it(
    client, department, handler, agent
):
    case = intake(department=department, assignee=handler, user=agent).case
    assert offered(case_page(client, handler, case)) == {"start_investigation": True}
    case = walk(case, handler, ("start_investigation", {}))
    assert offered(case_page(client, handler, case)) == {
        "propose_solution": True,
        "resolve": False,
    }
    case = walk(case, handler, ("propose_solution", {"solution": "上门检测"}))
    assert offered(case_page(client, handler, case)) == {
        "propose_solution": False,
        "resolve": True,
    }


def test_every_offered_step_succeeds_for_its_user(client, department, handler, agent):
    """What the page offers without a form really goes through when clicked."""
    case = resolved_case(department, handler, agent)
    Case.objects.filter(pk=case.pk).update(feedback_score=4)
    case.refresh_from_db()
    client.force_login(handler)
    response = client.post(
        reverse("admin:complaints_case_transition", args=[case.pk, "close"]),
        {"expected_version": case.version},
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "closed"


# --- canned replies -------------------------------------------------------------------


@pytest.fixture
def standard_reply(manager):
    article = Article(
        title="物流延迟的安抚话术",
        body="非常抱歉让您久等了，我们已联系仓库加急处理，今天内给您回复。",
        category="standard_reply",
        author=manager,
    )
    article.status = ArticleStatus.PUBLISHED
    article.save()
    draft = Article(title="草稿话术", body="未发布", category="standard_reply", author=manager)
    draft.save()
    faq = Article(title="退款多久到账", body="一般1-7个工作日", category="faq", author=manager)
    faq.status = ArticleStatus.PUBLISHED
    faq.save()
    return article


def canned_options(html, target):
    match = re.search(r'<select[^>]*data-sd-canned-target="' + target + r'"[^>]*>(.*?)</select>',
                      html, re.S)  # fmt: skip
    assert match, f"no standard replies for {target}"
    return re.findall(r'data-body="([^"]*)">([^<]*)</option>', match.group(1))


def test_standard_replies_can_be_inserted_into_a_progress_update(
    client, department, handler, agent, standard_reply
):
    case = intake(department=department, assignee=handler, user=agent).case
    html = case_page(client, handler, case)
    assert canned_options(html, "id_message") == [
        ("非常抱歉让您久等了，我们已联系仓库加急处理，今天内给您回复。", "物流延迟的安抚话术")
    ]
    assert "complaints/canned.js" in html


@pytest.mark.parametrize(
    ("step", "targets"),
    [("propose_solution", ["id_solution", "id_note"]), ("resolve", ["id_result", "id_note"])],
)
def test_standard_replies_can_be_inserted_into_a_solution_or_result(
    client, department, handler, agent, standard_reply, step, targets
):
    case = intake(department=department, assignee=handler, user=agent).case
    case = walk(case, handler, ("start_investigation", {}))
    client.force_login(handler)
    html = client.get(reverse("admin:complaints_case_transition", args=[case.pk, step])).content
    html = html.decode()
    for target in targets:
        assert [title for _body, title in canned_options(html, target)] == ["物流延迟的安抚话术"]
    assert "complaints/canned.js" in html


def test_standard_replies_are_read_in_one_query_however_many(
    client, department, handler, agent, manager, standard_reply, django_assert_max_num_queries
):
    """One query for the standard replies, shared by the progress update and the reply box,
    with one standard reply or with twenty-one."""
    case = intake(department=department, assignee=handler, user=agent).case
    client.force_login(handler)
    url = reverse("admin:complaints_case_change", args=[case.pk])

    def canned_queries():
        with django_assert_max_num_queries(80) as queries:
            html = client.get(url).content.decode()
        reads = [q for q in queries.captured_queries if '"knowledge_article"."body" AS' in q["sql"]]
        return len(reads), html

    assert canned_queries()[0] == 1
    for n in range(20):
        article = Article(title=f"话术{n}", body=f"内容{n}", category="standard_reply",
                          author=manager)  # fmt: skip
        article.status = ArticleStatus.PUBLISHED
        article.save()
    count, html = canned_queries()
    assert count == 1
    assert len(canned_options(html, "id_message")) == 21


def test_what_closing_needs_is_said_in_chinese(client, settings, department, handler, agent):
    settings.LANGUAGE_CODE = "zh-hans"
    case = resolved_case(department, handler, agent)
    client.force_login(handler)
    html = client.get(
        reverse("admin:complaints_case_change", args=[case.pk]), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "结案前需要客户的满意度回访结果：请先记录回访，或由主管豁免回访。" in html
    assert 'data-transition="close"' not in html
