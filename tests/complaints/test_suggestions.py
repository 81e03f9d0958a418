"""Cases and the knowledge base: the plan revision a case is opened under, similar articles
and resolved cases while working a case, and the article-from-case action."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from complaints import search, services
from complaints.models import State
from knowledge.models import Article, ArticleStatus, PlanRevision
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake, resolved


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def handler(make_user, tech):
    return make_user("handler", role=roles.HANDLER, departments=[tech])


@pytest.fixture
def articles(manager):
    def article(title, body, status=ArticleStatus.PUBLISHED):
        a = Article(title=title, body=body, category="faq", status=status, author=manager)
        a.save()
        return a

    return {
        "export": article("账号无法导出月度数据", "导出按钮灰色时，请先确认账号权限……"),
        "refund": article("退款多久到账", "原路退回一般1-7个工作日到账。"),
        "draft": article("导出报表失败的内部排查", "草稿", status=ArticleStatus.DRAFT),
    }


def test_a_case_remembers_the_plan_revision_it_was_opened_under(db):
    published = PlanRevision.objects.get(plan__is_default=True, state="published")
    case = intake().case
    assert case.plan_revision == published
    assert case.plan_revision.stage("first_response").time_limit == 24


def test_suggestions_rank_articles_and_resolved_cases(agent, handler, tech, articles):
    same = resolved(
        agent, handler, tech, subject="后台无法导出月度数据", result="为账号开通导出权限"
    )
    resolved(agent, handler, tech, subject="发票抬头开错了", result="重开发票")
    open_like = intake(subject="导出月度数据一直失败").case  # open: never suggested as "resolved"
    current = intake(
        subject="账号无法导出月度数据，急用", customer={"name": "吴", "phone": "13655550000"}
    ).case
    client = APIClient()
    client.force_authenticate(handler)  # sees tech's cases, once the current one is there too
    services.case_transition(
        case=current, name="assign", user=agent, department=tech, assignee=handler
    )
    response = client.get(f"/api/v1/cases/{current.number}/suggestions/")
    assert response.status_code == 200
    body = response.json()
    titles = [a["title"] for a in body["articles"]]
    assert titles[0] == "账号无法导出月度数据"
    assert "导出报表失败的内部排查" not in titles  # drafts are not suggested
    assert all(isinstance(a["relevance"], float) for a in body["articles"])
    numbers = [c["number"] for c in body["cases"]]
    assert numbers[0] == same.number and open_like.number not in numbers
    assert body["cases"][0]["result"] == "为账号开通导出权限"
    scores = [c["relevance"] for c in body["cases"]]
    assert scores == sorted(scores, reverse=True)


def test_suggestions_query_count_does_not_grow(
    agent, supervisor, handler, tech, articles, django_assert_max_num_queries
):
    for i in range(6):
        resolved(agent, handler, tech, subject=f"无法导出月度数据{i}", result=f"处理{i}")
    current = intake(subject="无法导出月度数据").case
    client = APIClient()
    client.force_authenticate(supervisor)  # sees every department's resolved cases
    with django_assert_max_num_queries(12):
        response = client.get(f"/api/v1/cases/{current.number}/suggestions/")
    assert len(response.json()["cases"]) == 5


def test_suggestions_show_only_resolved_cases_the_reader_may_see(
    agent, handler, tech, make_user, articles
):
    logistics = Department.objects.create(code="logistics", name="物流部")
    courier = make_user("courier", role=roles.HANDLER, departments=[logistics])
    mine = resolved(agent, handler, tech, subject="后台无法导出月度数据", result="开通导出权限")
    theirs = resolved(
        agent, courier, logistics, subject="后台无法导出月度数据报表", result="物流部的处理"
    )
    current = intake(subject="无法导出月度数据").case
    services.case_transition(
        case=current, name="assign", user=agent, department=tech, assignee=handler
    )
    client = APIClient()
    client.force_authenticate(handler)
    response = client.get(f"/api/v1/cases/{current.number}/suggestions/")
    numbers = [c["number"] for c in response.json()["cases"]]
    assert mine.number in numbers and theirs.number not in numbers
    # The other department's handler is offered its own answer, not tech's.
    offered = [c.number for c in search.similar_resolved_cases(current, user=courier)]
    assert theirs.number in offered and mine.number not in offered


def test_a_resolved_case_becomes_a_draft_article_in_one_step(
    client, agent, handler, tech, articles
):
    case = resolved(
        agent, handler, tech, subject="APP登录提示密码错误", result="重置密码后可正常登录"
    )
    open_case = intake(subject="另一个问题").case
    with pytest.raises(Exception):  # noqa: B017 - ValidationError: not resolved
        services.case_create_article(case=open_case, user=agent)
    client.force_login(handler)
    page = client.get(reverse("admin:complaints_case_change", args=[case.pk])).content.decode()
    assert reverse("admin:complaints_case_article", args=[case.pk]) in page
    response = client.post(reverse("admin:complaints_case_article", args=[case.pk]))
    article = Article.objects.get(title="APP登录提示密码错误")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:knowledge_article_change", args=[article.pk])
    assert article.status == ArticleStatus.DRAFT and article.author == handler
    assert "重置密码后可正常登录" in article.body and "## " in article.body
    assert list(article.source_cases.all()) == [case]
    assert case.events.filter(data__article=article.pk).exists()
    assert case.state == State.RESOLVED
