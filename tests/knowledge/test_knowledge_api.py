"""The knowledge API end to end: article search and detail, helpful votes, published plans."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from knowledge import services
from knowledge.handbook import DEFAULT_PLAN_CODE
from knowledge.models import Article, ArticleStatus

from .conftest import make_plan

pytestmark = pytest.mark.urls("tests.knowledge.urls")

ARTICLES = "/api/v1/knowledge/articles/"
PLANS = "/api/v1/plans/"


def client_for(user):
    client = APIClient()
    client.force_authenticate(user)
    return client


def article(user, title, body="正文。", status=ArticleStatus.PUBLISHED, **extra):
    return services.article_create(
        user=user, title=title, body=body, category=extra.pop("category", "faq"), status=status,
        **extra,
    )  # fmt: skip


@pytest.fixture
def library(manager):
    return {
        "export": article(
            manager, "账号无法导出月度数据", "点击导出按钮没有反应。", tags="账号,导出"
        ),
        "report": article(manager, "月度报表说明", "报表可以导出为表格文件，每月一日生成。" * 2),
        "invoice": article(manager, "电子发票开具流程", "订单确认收货后申请。", category="policy"),
        "draft": article(
            manager, "导出功能改版说明（草稿）", "无法导出", status=ArticleStatus.DRAFT
        ),
    }


def test_search_ranks_by_relevance_and_hides_drafts_from_agents(library, agent):
    response = client_for(agent).get(ARTICLES, {"search": "无法导出"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["title"] for r in results] == ["账号无法导出月度数据", "月度报表说明"]
    assert results[0]["relevance"] > results[1]["relevance"] > 0
    assert results[0]["tags"] == ["账号", "导出"]


def test_managers_also_see_drafts_and_can_filter_by_status(library, manager):
    client = client_for(manager)
    titles = [r["title"] for r in client.get(ARTICLES, {"search": "无法导出"}).json()["results"]]
    assert "导出功能改版说明（草稿）" in titles
    drafts = client.get(ARTICLES, {"status": "draft"}).json()["results"]
    assert [r["title"] for r in drafts] == ["导出功能改版说明（草稿）"]


def test_list_without_search_is_newest_first_and_filters_by_category(library, agent):
    client = client_for(agent)
    results = client.get(ARTICLES).json()["results"]
    assert [r["title"] for r in results] == [
        "电子发票开具流程",
        "月度报表说明",
        "账号无法导出月度数据",
    ]
    assert all(r["relevance"] is None for r in results)
    policies = client.get(ARTICLES, {"category": "policy"}).json()["results"]
    assert [r["title"] for r in policies] == ["电子发票开具流程"]


def test_detail_renders_markdown_safely(manager, agent):
    a = article(
        manager,
        "排查步骤",
        "## 步骤\n1. 重启\n2. **清缓存**\n\n<script>alert(1)</script>\n\n"
        '[点我](javascript:alert(1)) <img src=x onerror="alert(2)">',
    )
    response = client_for(agent).get(f"{ARTICLES}{a.pk}/")
    assert response.status_code == 200
    data = response.json()
    assert data["body"].startswith("## 步骤")
    html = data["body_html"]
    assert "<h2>步骤</h2>" in html and "<strong>清缓存</strong>" in html and "<ol>" in html
    assert "<script" not in html and "javascript:" not in html and "onerror" not in html
    assert data["source_cases"] == [] or isinstance(data["source_cases"], list)


def test_agents_get_404_for_drafts(library, agent, manager):
    assert client_for(agent).get(f"{ARTICLES}{library['draft'].pk}/").status_code == 404
    assert client_for(manager).get(f"{ARTICLES}{library['draft'].pk}/").status_code == 200


def test_anonymous_users_are_refused(library):
    assert APIClient().get(ARTICLES).status_code in (401, 403)
    assert APIClient().get(PLANS).status_code in (401, 403)


def test_users_without_knowledge_permissions_are_refused(library, make_user):
    nobody = make_user("nobody")
    assert client_for(nobody).get(ARTICLES).status_code == 403
    assert client_for(nobody).get(PLANS).status_code == 403


def test_helpful_feedback_counts_once_per_user(library, agent, supervisor):
    url = f"{ARTICLES}{library['export'].pk}/feedback/"
    assert (
        client_for(agent).post(url, {"helpful": True}, format="json").json()["helpful_count"] == 1
    )
    # Changing one's mind replaces the earlier answer.
    data = client_for(agent).post(url, {"helpful": False}, format="json").json()
    assert (data["helpful_count"], data["not_helpful_count"]) == (0, 1)
    data = client_for(supervisor).post(url, {"helpful": True}, format="json").json()
    assert (data["helpful_count"], data["not_helpful_count"]) == (1, 1)
    assert client_for(agent).post(url, {}, format="json").status_code == 400
    draft_url = f"{ARTICLES}{library['draft'].pk}/feedback/"
    assert client_for(agent).post(draft_url, {"helpful": True}, format="json").status_code == 404


def test_plans_lists_published_revisions_with_ordered_stages(published_plan, supervisor, agent):
    plan, _ = published_plan
    # A pending draft is not listed.
    draft = services.plan_revision_create_draft(plan=plan, user=supervisor, reason="修订")
    services.plan_revision_submit(revision=draft, user=supervisor, reason="提交")
    response = client_for(agent).get(PLANS)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["plan"]["code"], r["revision"]) for r in results] == [
        (DEFAULT_PLAN_CODE, 1),
        (plan.code, 1),
    ]
    default = results[0]
    assert default["plan"]["is_default"] and default["satisfaction_target_pct"] == 90
    assert [s["code"] for s in default["stages"]] == [
        "first_response", "investigation", "solution_to_customer", "satisfaction_followup",
        "tech_collaboration",
    ]  # fmt: skip
    assert default["stages"][0] == {
        "order": 1, "code": "first_response", "name": "首次响应", "time_limit": 24.0,
        "unit": "hours", "starts": "received", "responsible_role": "agent",
        "description": default["stages"][0]["description"],
    }  # fmt: skip
    spare = next(r for r in default["resources"] if r["kind"] == "spare_part")
    assert spare["quantity"] == 50 and spare["location"]
    mine = results[1]
    assert mine["plan"]["categories"] == ["technical"]
    assert mine["plan"]["departments"] == ["kefu"]


def test_plans_answers_which_revision_governs_a_case(published_plan, agent):
    _, revision = published_plan
    client = client_for(agent)
    technical = client.get(PLANS, {"case_type": "complaint", "category": "technical"}).json()
    assert [r["id"] for r in technical["results"]] == [revision.pk]
    product = client.get(PLANS, {"category": "product"}).json()
    assert [r["plan"]["code"] for r in product["results"]] == [DEFAULT_PLAN_CODE]


def _queries(client, url, params=None):
    client.get(url, params or {})  # warm up: the user's permissions are cached after this
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url, params or {}).status_code == 200
    return len(ctx.captured_queries)


def test_article_list_queries_do_not_grow_with_rows(manager, agent):
    client = client_for(agent)
    for i in range(3):
        article(manager, f"无法导出问题{i}")
    few = _queries(client, ARTICLES, {"search": "无法导出"})
    few_plain = _queries(client, ARTICLES)
    for i in range(12):
        article(manager, f"无法导出问题{i + 3}")
    assert _queries(client, ARTICLES, {"search": "无法导出"}) == few
    assert _queries(client, ARTICLES) == few_plain
    assert Article.objects.count() == 15


def test_plan_list_queries_do_not_grow_with_plans(supervisor, manager, agent):
    client = client_for(agent)
    make_plan(supervisor, manager, categories=["technical"])
    few = _queries(client, PLANS)
    for category in ("logistics", "service", "process"):
        make_plan(supervisor, manager, categories=[category])
    assert _queries(client, PLANS) == few
