"""A supervisor submits a plan revision; the manager learns of it from the bell in the header
and approves it."""

import re

from playwright.sync_api import expect

from knowledge import services as plan_services
from knowledge.models import Plan, RevisionState


def bell(page):
    """The notification bell of the page header (titled 通知; it reads "通知：N 条未读")."""
    return page.locator("#header").get_by_title("通知", exact=True)


def test_manager_approves_a_revision_after_the_bell_tells_him(desk, team):
    plan = Plan.objects.get(is_default=True)
    draft = plan_services.plan_revision_create_draft(plan=plan, user=team.supervisor)
    revision_url = f"/admin/knowledge/planrevision/{draft.pk}/change/"

    supervisor = desk()
    supervisor.login("lizg")
    page = supervisor.goto(revision_url)
    # Submitted from the revision page itself, with a note for the reviewer.
    actions = page.locator("#revision-actions")
    actions.get_by_label("给审批人的说明").fill("首次响应时限按新服务承诺调整。")
    page = supervisor.click(actions.get_by_role("button", name="提交审批"))
    assert any(f"版本 {draft.number}" in m and "已提交审批" in m for m in supervisor.messages()), (
        supervisor.messages()
    )

    manager = desk()
    manager.login("wangjl")
    page = manager.page
    expect(bell(page)).to_contain_text("1 条未读")
    bell(page).click()
    notice = page.locator("#header").get_by_role("button", name=re.compile(f"版本 {draft.number}"))
    expect(notice).to_have_count(1)
    expect(notice).to_contain_text("审批")
    page = manager.click(notice)
    assert page.url.endswith(revision_url)
    actions = page.locator("#revision-actions")
    page = manager.click(actions.get_by_role("link", name=re.compile("批准并发布")))
    page.get_by_label("原因").fill("已核对，同意发布。")
    page = manager.click(page.get_by_role("button", name="批准并发布"))
    assert any("已发布" in m or "生效" in m for m in manager.messages()), manager.messages()
    draft.refresh_from_db()
    assert draft.state == RevisionState.PUBLISHED
    # The bell has nothing new for the manager now; the author hears of the approval.
    expect(bell(page)).not_to_contain_text("1 条未读")
    page = supervisor.goto("/admin/")
    expect(bell(page)).to_contain_text(re.compile(r"[1-9]\d* 条未读"))
    bell(page).click()
    approved = page.locator("#header").get_by_role("button", name=re.compile("批准"))
    expect(approved.first).to_be_visible()
