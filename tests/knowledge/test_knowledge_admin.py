"""The knowledge admin end to end through the test client: plan and revision pages, the
approval workflow buttons, drafts editable and submitted revisions frozen, the diff and
history pages, post-incident reviews, articles with search and preview, query counts."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from knowledge import services
from knowledge.models import (
    Article,
    ArticleStatus,
    Plan,
    PlanRevision,
    PostIncidentReview,
    RevisionState,
)

from .conftest import make_plan


def change_url(obj):
    return reverse(f"admin:knowledge_{obj._meta.model_name}_change", args=[obj.pk])


def action_url(revision, name):
    return reverse("admin:knowledge_planrevision_action", args=[revision.pk, name])


def logged_in(client, user):
    client.force_login(user)
    return client


def form_data(response):
    """The POST data of an admin change form as the browser would send it unchanged."""
    data = {}

    def put(form):
        for name in form.fields:
            value = form[name].value()
            if value is None or value is False:
                continue
            key = form.add_prefix(name)
            if isinstance(value, list | tuple):
                data[key] = [str(v) for v in value]
            else:
                data[key] = "on" if value is True else str(value)

    put(response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(formset.management_form)
        for form in formset.forms:
            put(form)
    return data


@pytest.fixture
def pending_revision(published_plan, supervisor):
    plan, _ = published_plan
    revision = services.plan_revision_create_draft(plan=plan, user=supervisor, reason="修订")
    services.plan_revision_update(revision=revision, user=supervisor, first_response_hours=12)
    return services.plan_revision_submit(revision=revision, user=supervisor, reason="请审批")


# --- pages render ------------------------------------------------------------------------


def test_plan_page_lists_revisions_and_offers_the_workflow(client, published_plan, manager):
    plan, revision = published_plan
    response = logged_in(client, manager).get(change_url(plan))
    assert response.status_code == 200
    html = response.content.decode()
    assert reverse("admin:knowledge_plan_new_draft", args=[plan.pk]) in html
    assert reverse("admin:knowledge_plan_diff", args=[plan.pk]) in html
    assert change_url(revision) in html and "Published" in html


def test_published_revision_page_is_read_only(client, published_plan, manager):
    _, revision = published_plan
    response = logged_in(client, manager).get(change_url(revision))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'name="objectives"' not in html and 'name="stages-0-time_limit"' not in html
    assert "首次响应" in html and "替换零件" in html
    assert "This revision is frozen" in html
    # Posting anyway is refused.
    assert client.post(change_url(revision), {"objectives": "改"}).status_code == 403
    revision.refresh_from_db()
    assert revision.objectives == "目标"


def test_a_draft_is_edited_in_the_admin_then_frozen_once_submitted(client, published_plan,
                                                                  supervisor):  # fmt: skip
    plan, _ = published_plan
    client = logged_in(client, supervisor)
    response = client.post(reverse("admin:knowledge_plan_new_draft", args=[plan.pk]),
                           {"reason": "组织调整"})  # fmt: skip
    draft = plan.revisions.get(number=2)
    assert response.status_code == 302 and response["Location"] == change_url(draft)

    page = client.get(change_url(draft))
    assert 'name="objectives"' in page.content.decode()
    data = form_data(page)
    data["objectives"] = "新的目标"
    data["stages-1-time_limit"] = "36"
    response = client.post(change_url(draft), data)
    assert response.status_code == 302, response.context["errors"] if response.context else ""
    draft.refresh_from_db()
    assert draft.objectives == "新的目标"
    assert draft.stages.get(code="investigation").time_limit == 36
    assert draft.history.first().history_user == supervisor

    response = client.post(action_url(draft, "submit"), {"reason": "请审批"})
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.state == RevisionState.PENDING_APPROVAL
    assert 'name="objectives"' not in client.get(change_url(draft)).content.decode()
    assert client.post(change_url(draft), data).status_code == 403


def test_a_manager_approves_from_the_admin(client, pending_revision, manager):
    client = logged_in(client, manager)
    page = client.get(change_url(pending_revision)).content.decode()
    assert action_url(pending_revision, "approve") in page
    assert action_url(pending_revision, "reject") in page
    # The reason is required: nothing changes without it.
    response = client.post(action_url(pending_revision, "approve"), {"reason": ""})
    assert response.status_code == 200 and response.context["form"].errors
    response = client.post(
        action_url(pending_revision, "approve"), {"reason": "同意发布"}, follow=True
    )
    assert "is published and in force" in response.content.decode()
    pending_revision.refresh_from_db()
    assert pending_revision.state == RevisionState.PUBLISHED
    assert pending_revision.reviewer == manager


def test_an_agent_cannot_approve_from_the_admin(client, pending_revision, agent):
    client = logged_in(client, agent)
    page = client.get(change_url(pending_revision))
    assert page.status_code == 200  # agents may read plans
    assert action_url(pending_revision, "approve") not in page.content.decode()
    response = client.get(action_url(pending_revision, "approve"), follow=True)
    assert "not available to you" in response.content.decode()
    response = client.post(action_url(pending_revision, "approve"), {"reason": "同意"}, follow=True)
    assert "Only a manager may approve" in response.content.decode()
    pending_revision.refresh_from_db()
    assert pending_revision.state == RevisionState.PENDING_APPROVAL


def test_the_author_cannot_approve_in_the_admin(client, published_plan, manager):
    plan, _ = published_plan
    own = services.plan_revision_create_draft(plan=plan, user=manager, reason="修订")
    services.plan_revision_submit(revision=own, user=manager, reason="提交")
    client = logged_in(client, manager)
    assert action_url(own, "approve") not in client.get(change_url(own)).content.decode()
    response = client.post(action_url(own, "approve"), {"reason": "同意"})
    assert response.status_code == 200
    assert "four-eyes" in response.content.decode()
    own.refresh_from_db()
    assert own.state == RevisionState.PENDING_APPROVAL


def test_reject_from_the_admin_shows_the_comment_on_the_revision(client, pending_revision,
                                                                manager, supervisor):  # fmt: skip
    response = logged_in(client, manager).post(
        action_url(pending_revision, "reject"), {"reason": "请写明阈值"}
    )
    assert response.status_code == 302
    page = logged_in(client, supervisor).get(change_url(pending_revision)).content.decode()
    assert "请写明阈值" in page and 'name="objectives"' in page


def test_diff_page_compares_any_two_revisions(client, pending_revision, manager):
    plan = pending_revision.plan
    url = reverse("admin:knowledge_plan_diff", args=[plan.pk])
    response = logged_in(client, manager).get(url, {"old": 1, "new": 2})
    assert response.status_code == 200
    diff = response.context["diff"]
    assert [(c.name, c.old, c.new) for c in diff.fields] == [("first_response_hours", "24", "12")]
    html = response.content.decode()
    assert "first response target (hours)" in html and "<ins>12</ins>" in html
    # Defaults: the newest revision against the one in force; same revision: no differences.
    assert client.get(url).context["diff"].new == pending_revision
    assert "No differences" in client.get(url, {"old": 2, "new": 2}).content.decode()


def test_history_pages_show_reasons_and_revert_is_refused(client, pending_revision, manager):
    client = logged_in(client, manager)
    history = client.get(reverse("admin:knowledge_planrevision_history",
                                 args=[pending_revision.pk]))  # fmt: skip
    html = history.content.decode()
    assert history.status_code == 200 and "请审批" in html and "修订" in html
    assert "Changes to stages and resources" in html and "首次响应" in html
    record = pending_revision.history.order_by("history_date").first()
    url = reverse("admin:knowledge_planrevision_simple_history", args=[pending_revision.pk,
                                                                       record.pk])  # fmt: skip
    assert client.get(url).status_code == 200
    response = client.post(url, {"objectives": "回滚", "first_response_hours": "24"}, follow=True)
    assert "are not reverted from their history" in response.content.decode()
    pending_revision.refresh_from_db()
    assert pending_revision.state == RevisionState.PENDING_APPROVAL
    assert pending_revision.first_response_hours == 12


def test_record_a_review_without_changes(client, published_plan, manager):
    plan, _ = published_plan
    response = logged_in(client, manager).post(
        reverse("admin:knowledge_plan_review", args=[plan.pk]), {"reason": "年度评审，无修改"}
    )
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.last_reviewed_on is not None
    assert plan.next_review_on.year == plan.last_reviewed_on.year + 1


def test_post_incident_review_in_the_admin_starts_a_draft(client, published_plan, supervisor):
    plan, published = published_plan
    client = logged_in(client, supervisor)
    response = client.post(
        reverse("admin:knowledge_postincidentreview_add"),
        {
            "plan": plan.pk, "event": "支付系统宕机", "occurred_on": "2026-01-05",
            "what_happened": "宕机 3 小时", "plan_performance": "响应超时",
            "lessons": "需值班", "proposed_changes": "增加技术值班",
        },
    )  # fmt: skip
    assert response.status_code == 302
    review = PostIncidentReview.objects.get()
    assert review.created_by == supervisor and review.revision_in_force == published
    page = client.get(change_url(review)).content.decode()
    start = reverse("admin:knowledge_postincidentreview_start_draft", args=[review.pk])
    assert start in page
    response = client.post(start)
    draft = plan.revisions.get(number=2)
    assert response["Location"] == change_url(draft)
    assert "增加技术值班" in draft.change_summary


# --- articles ----------------------------------------------------------------------------


def test_agents_write_drafts_and_managers_publish(client, agent, manager):
    client = logged_in(client, agent)
    add = reverse("admin:knowledge_article_add")
    assert 'name="status"' not in client.get(add).content.decode()
    response = client.post(add, {"title": "发票重开", "category": "faq", "tags": "发票",
                                 "summary": "", "body": "红冲后重开。"})  # fmt: skip
    assert response.status_code == 302
    article = Article.objects.get()
    assert (article.status, article.author) == (ArticleStatus.DRAFT, agent)

    client = logged_in(client, manager)
    changelist = reverse("admin:knowledge_article_changelist")
    client.post(changelist, {"action": "publish", "_selected_action": [article.pk]})
    article.refresh_from_db()
    assert article.status == ArticleStatus.PUBLISHED and article.published_at


def test_article_page_previews_sanitised_markdown(client, manager):
    article = services.article_create(
        user=manager, title="步骤", category="troubleshooting",
        body="## 第一步\n<script>alert(1)</script>\n**重启**",
    )  # fmt: skip
    html = logged_in(client, manager).get(change_url(article)).content.decode()
    assert "<h2>第一步</h2>" in html and "<strong>重启</strong>" in html
    assert "<script>alert(1)</script>" not in html


def test_article_changelist_search_is_ranked(client, manager):
    # Created best match first: newest-first order would put it last.
    for title, body in [("账号无法导出月度数据", "步骤。"), ("月度报表说明", "报表可以导出。" * 3),
                        ("电子发票", "开票。")]:  # fmt: skip
        services.article_create(user=manager, title=title, body=body, category="faq")
    response = logged_in(client, manager).get(
        reverse("admin:knowledge_article_changelist"), {"q": "无法导出"}
    )
    assert response.status_code == 200
    titles = [a.title for a in response.context["cl"].result_list]
    assert titles == ["账号无法导出月度数据", "月度报表说明"]
    # Sorting by a column still works while searching.
    response = client.get(
        reverse("admin:knowledge_article_changelist"), {"q": "无法导出", "o": "1"}
    )
    assert [a.title for a in response.context["cl"].result_list] == [
        "月度报表说明",
        "账号无法导出月度数据",
    ]


# --- query counts ------------------------------------------------------------------------


def _count(client, url):
    client.get(url)  # warm up caches (permissions, content types)
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _more_of_everything(supervisor, manager, n):
    for i in range(n):
        plan, _ = make_plan(supervisor, manager, categories=["logistics"])
        services.post_incident_review_record(
            review=PostIncidentReview(
                plan=plan, event=f"事件{i}", occurred_on=datetime.date(2026, 1, 1),
                what_happened="…", plan_performance="…",
            ),
            user=supervisor,
        )  # fmt: skip
        services.article_create(user=manager, title=f"文章{i}", body="正文", category="faq")


@pytest.mark.parametrize("model", ["plan", "planrevision", "postincidentreview", "article"])
def test_changelist_queries_do_not_grow_with_rows(client, supervisor, manager, model):
    client = logged_in(client, manager)
    url = reverse(f"admin:knowledge_{model}_changelist")
    _more_of_everything(supervisor, manager, 2)
    few = _count(client, url)
    _more_of_everything(supervisor, manager, 5)
    assert _count(client, url) == few
    assert Plan.objects.count() >= 8 and PlanRevision.objects.count() >= 8
