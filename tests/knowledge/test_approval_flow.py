"""Plan revision approvals as the people involved see them: who is notified on submission and
on the decision, the four-eyes refusal in Chinese, 提交审批 from a page with unsaved edits,
and diff and history pages that ignore line endings and show Chinese labels."""

import pytest
from django.urls import reverse

from knowledge import services
from knowledge.models import PlanRevision, PlanStage, RevisionState
from servicedesk.staff import roles
from servicedesk.staff.models import Notification

from .test_knowledge_admin import action_url, change_url, form_data

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
SUBMITTED = "knowledge.plan_revision_submitted"


@pytest.fixture(autouse=True)
def _chinese(settings):
    # These tests read what a zh-hans user sees (the folder's conftest defaults to English).
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def manager3(make_user, department):
    return make_user("manager3", role=roles.MANAGER, departments=[department])


def draft(plan, user, **changes):
    revision = services.plan_revision_create_draft(plan=plan, user=user, reason="修订")
    if changes:
        services.plan_revision_update(revision=revision, user=user, **changes)
    return revision


def notified(prefix, revision=None):
    rows = Notification.objects.filter(event_key__startswith=prefix)
    if revision is not None:
        rows = rows.filter(event_key__contains=f":{revision.pk}:")
    return sorted(rows.values_list("recipient__username", flat=True))


def messages_of(response):
    return [str(m) for m in response.context["messages"]]


# --- who is notified ---------------------------------------------------------------------


def test_submitting_notifies_the_managers_who_may_approve(published_plan, supervisor, manager,
                                                          manager2, manager3, agent):  # fmt: skip
    plan, _ = published_plan
    revision = draft(plan, supervisor, objectives="新目标")
    # manager3 changed a stage: the four-eyes rule bars them, so they are not asked.
    stage = revision.stages.get(code="investigation")
    stage.time_limit = 36
    services.plan_revision_save_row(revision=revision, user=manager3, row=stage)
    services.plan_revision_submit(revision=revision, user=supervisor, reason="请审批")

    assert notified(SUBMITTED, revision) == ["manager", "manager2"]
    note = Notification.objects.get(
        event_key__startswith=f"{SUBMITTED}:{revision.pk}:", recipient=manager
    )
    assert note.subject == f"待您审批的预案版本：{plan.name}，版本 2"
    assert "请审批" in note.body and note.link == change_url(revision)


def test_a_manager_who_submits_their_own_revision_is_not_asked_to_approve_it(
    published_plan, manager, manager2, supervisor
):
    plan, _ = published_plan
    own = draft(plan, manager, objectives="经理自拟")
    services.plan_revision_submit(revision=own, user=manager, reason="请审批")
    assert notified(SUBMITTED, own) == ["manager2"]


def test_administrators_are_asked_only_when_no_manager_can_approve(published_plan, supervisor,
                                                                  manager, make_user):  # fmt: skip
    plan, _ = published_plan
    make_user("it_admin", role=roles.ADMINISTRATOR)
    revision = draft(plan, supervisor, objectives="新目标")
    services.plan_revision_submit(revision=revision, user=supervisor, reason="请审批")
    assert notified(SUBMITTED, revision) == ["manager"]

    # The only manager wrote the next one: the administrator (who may approve) is asked.
    own = draft(plan, manager, objectives="经理自拟")
    services.plan_revision_submit(revision=own, user=manager, reason="请审批")
    assert notified(SUBMITTED, own) == ["it_admin"]


def test_the_decision_notifies_the_author_and_a_resubmission_asks_again(
    published_plan, supervisor, manager, manager2
):
    plan, _ = published_plan
    revision = draft(plan, supervisor, risk_triggers="投诉增多")
    services.plan_revision_submit(revision=revision, user=supervisor, reason="第一次")
    services.plan_revision_reject(revision=revision, user=manager, reason="请写明数量")
    (returned,) = Notification.objects.filter(
        recipient=supervisor,
        event_key__startswith=f"knowledge.plan_revision_rejected:{revision.pk}:",
    )
    assert returned.subject.startswith("预案版本被退回") and "请写明数量" in returned.body
    assert manager.username in returned.body or str(manager) in returned.body

    services.plan_revision_update(revision=revision, user=supervisor, risk_triggers="30 件")
    services.plan_revision_submit(revision=revision, user=supervisor, reason="第二次")
    # Each submission asks again (the reviewer who only rejected may review it again).
    assert Notification.objects.filter(
        recipient=manager2, event_key__startswith=f"{SUBMITTED}:{revision.pk}:"
    ).count() == 2  # fmt: skip

    services.plan_revision_approve(revision=revision, user=manager2, reason="同意")
    (approved,) = Notification.objects.filter(
        recipient=supervisor,
        event_key__startswith=f"knowledge.plan_revision_approved:{revision.pk}:",
    )
    assert approved.subject == f"预案版本已批准并生效：{plan.name}，版本 2"
    assert "同意" in approved.body and approved.link == change_url(revision)
    # The reviewer is not told about their own decision.
    assert not Notification.objects.filter(
        recipient=manager2, event_key__startswith="knowledge.plan_revision_approved"
    ).exists()


def test_the_notified_manager_finds_the_revision_from_the_bell(client, published_plan,
                                                               supervisor, manager):  # fmt: skip
    plan, _ = published_plan
    revision = draft(plan, supervisor, objectives="新目标")
    services.plan_revision_submit(revision=revision, user=supervisor, reason="请审批")
    client.force_login(manager)
    html = client.get(reverse("admin:index"), **ZH).content.decode()
    assert f"待您审批的预案版本：{plan.name}，版本 2" in html
    note = Notification.objects.get(
        recipient=manager, event_key__startswith=f"{SUBMITTED}:{revision.pk}:"
    )
    response = client.post(
        reverse("admin:staff_notification_read", args=[note.pk]), {"next": note.link}
    )
    assert response["Location"] == change_url(revision)
    page = client.get(response["Location"], **ZH).content.decode()
    assert action_url(revision, "approve") in page and "批准并发布" in page


# --- the four-eyes refusal ---------------------------------------------------------------


def test_the_four_eyes_refusal_names_the_rule_in_chinese(client, published_plan, supervisor,
                                                         manager):  # fmt: skip
    plan, _ = published_plan
    revision = draft(plan, supervisor)
    services.plan_revision_update(revision=revision, user=manager, objectives="经理改过")
    services.plan_revision_submit(revision=revision, user=supervisor, reason="请审批")
    client.force_login(manager)
    page = client.get(change_url(revision), **ZH).content.decode()
    assert action_url(revision, "approve") not in page
    response = client.post(action_url(revision, "approve"), {"reason": "同意"}, **ZH)
    assert response.status_code == 200
    assert "您修改过此版本（见其历史记录）：须由另一位经理审批（双人复核原则）。" in (
        response.content.decode()
    )
    revision.refresh_from_db()
    assert revision.state == RevisionState.PENDING_APPROVAL


# --- 提交审批 with unsaved edits ----------------------------------------------------------


@pytest.fixture
def editing(client, published_plan, supervisor):
    """The supervisor's draft page and the form data the browser would post, edited."""
    plan, _ = published_plan
    revision = draft(plan, supervisor)
    client.force_login(supervisor)
    page = client.get(change_url(revision), **ZH)
    data = form_data(page)
    data["objectives"] = "未保存的新目标"
    data["stages-1-time_limit"] = "36"
    return client, revision, page, data


def test_the_submit_button_is_part_of_the_draft_page(editing):
    _client, _revision, page, _data = editing
    html = page.content.decode()
    form = html[html.index('<form method="post" id="planrevision_form"') :]
    # Enter in a field still saves: the first submit button of the form is a plain save.
    first = form.index('<input type="submit" name="_save"')
    assert first < form.index('name="_submit_for_approval"')
    assert "给审批人的说明" in html and "会先保存您在本页的修改，再提交审批。" in html


def test_submit_saves_the_unsaved_edits_then_submits(editing, manager):
    client, revision, _page, data = editing
    data.update(_submit_for_approval="1", _submit_reason="目标已更新，请审批")
    response = client.post(change_url(revision), data, follow=True, **ZH)
    assert response.redirect_chain[-1][0] == change_url(revision)
    revision.refresh_from_db()
    assert revision.state == RevisionState.PENDING_APPROVAL
    assert revision.objectives == "未保存的新目标"
    assert revision.stages.get(code="investigation").time_limit == 36
    assert revision.history.first().history_change_reason == "目标已更新，请审批"
    assert messages_of(response) == [f"版本 2 已提交审批，已通知：{manager}。"]
    assert notified(SUBMITTED, revision) == ["manager"]


def test_submit_without_a_note_keeps_the_edits_and_asks_for_the_note(editing):
    client, revision, _page, data = editing
    data["_submit_for_approval"] = "1"
    response = client.post(change_url(revision), data, follow=True, **ZH)
    assert response.redirect_chain[-1][0] == action_url(revision, "submit")
    assert "您的修改已保存。请填写给审批人的说明，再提交审批。" in messages_of(response)
    revision.refresh_from_db()
    assert revision.state == RevisionState.DRAFT and revision.objectives == "未保存的新目标"
    # The note page submits it.
    client.post(action_url(revision, "submit"), {"reason": "请审批"})
    revision.refresh_from_db()
    assert revision.state == RevisionState.PENDING_APPROVAL


def test_a_refused_submission_still_keeps_the_edits(editing):
    client, revision, _page, data = editing
    data.update(_submit_for_approval="1", _submit_reason="请审批")
    data["stages-0-time_limit"] = "12"  # the first-response stage, but not the target (24 h)
    response = client.post(change_url(revision), data, follow=True, **ZH)
    assert messages_of(response) == [
        "您的修改已保存，但此版本未能提交审批：首次响应阶段的时限为 12 自然小时，"
        "而首次响应目标为 24 小时：请使两者一致。"
    ]
    revision.refresh_from_db()
    assert revision.state == RevisionState.DRAFT and revision.objectives == "未保存的新目标"
    assert revision.stages.get(code="first_response").time_limit == 12


def test_a_form_error_loses_nothing_typed(editing):
    client, revision, _page, data = editing
    data.update(_submit_for_approval="1", _submit_reason="请审批", first_response_hours="0")
    response = client.post(change_url(revision), data, **ZH)
    assert response.status_code == 200  # the page again, with the error and what was typed
    html = response.content.decode()
    assert "未保存的新目标" in html and "请审批</textarea>" in html
    revision.refresh_from_db()
    assert revision.state == RevisionState.DRAFT and revision.objectives != "未保存的新目标"


# --- line endings, diff and history ------------------------------------------------------


def test_resaving_an_unchanged_page_is_no_edit(client, published_plan, supervisor, manager):
    plan, _ = published_plan
    revision = draft(plan, supervisor, objectives="第一行\n第二行", reporting_path="客服→主管")
    services.plan_revision_save_row(
        revision=revision,
        user=supervisor,
        row=PlanStage(order=3, code="note", name="备注", time_limit=1, unit="hours",
                      starts="received", responsible_role="agent", description="甲\n乙"),
    )  # fmt: skip
    client.force_login(manager)
    data = form_data(client.get(change_url(revision)))
    # What a browser sends back: every textarea's lines end in \r\n.
    data = {k: v.replace("\n", "\r\n") if isinstance(v, str) else v for k, v in data.items()}
    before = (revision.history.count(), PlanStage.history.filter(revision_id=revision.pk).count())
    assert client.post(change_url(revision), data).status_code == 302
    after = (revision.history.count(), PlanStage.history.filter(revision_id=revision.pk).count())
    assert after[1] == before[1]  # no stage saved
    revision.refresh_from_db()
    assert revision.objectives == "第一行\n第二行"
    # The manager changed nothing, so the four-eyes rule lets them approve it.
    assert manager.pk not in revision.editor_ids()
    services.plan_revision_submit(revision=revision, user=supervisor, reason="请审批")
    assert "manager" in notified(SUBMITTED, revision)
    services.plan_revision_approve(revision=revision, user=manager, reason="同意")


def test_text_is_stored_with_plain_line_endings(published_plan, supervisor):
    plan, _ = published_plan
    revision = draft(plan, supervisor, objectives="一\r\n二\r三")
    revision.refresh_from_db()
    assert revision.objectives == "一\n二\n三"


def test_the_diff_ignores_line_endings_and_speaks_chinese(client, published_plan, supervisor,
                                                          manager):  # fmt: skip
    plan, first = published_plan
    revision = draft(plan, supervisor)
    # An old row saved before line endings were normalised.
    PlanRevision.objects.filter(pk=first.pk).update(objectives="目标\r\n细则")
    PlanRevision.objects.filter(pk=revision.pk).update(objectives="目标\n细则")
    services.plan_revision_submit(revision=revision, user=supervisor, reason="请审批")
    client.force_login(manager)
    url = reverse("admin:knowledge_plan_diff", args=[plan.pk])
    html = client.get(url, {"old": 1, "new": 2}, **ZH).content.decode()
    assert "没有差异。" in html
    assert "已发布" in html and "待审批" in html and "pending_approval" not in html

    services.plan_revision_reject(revision=revision, user=manager, reason="请补充")
    services.plan_revision_update(revision=revision, user=supervisor, urgency_high_hours=12)
    html = client.get(url, {"old": 1, "new": 2}, **ZH).content.decode()
    assert "高紧急度：解决时限（小时）" in html or "<ins>12</ins>" in html
    assert "目标" not in html.split('id="diff-fields"')[1].split("</table>")[0]


def test_the_history_page_shows_labels_and_whole_texts(client, published_plan, supervisor,
                                                       manager):  # fmt: skip
    plan, _ = published_plan
    long_text = (
        "客户投诉在 24 小时内集中出现三十件以上，或者出现媒体曝光、律师函、12315 投诉时，" * 2
    )
    revision = draft(plan, supervisor)
    services.plan_revision_update(revision=revision, user=supervisor, risk_triggers=long_text)
    services.plan_revision_submit(revision=revision, user=supervisor, reason="请审批")
    client.force_login(manager)
    response = client.get(reverse("admin:knowledge_planrevision_history", args=[revision.pk]), **ZH)
    html = response.content.decode()
    assert response.status_code == 200
    assert "变更内容" in html and "Changes" not in html and "CHANGES" not in html
    assert "<strong>状态</strong>：<del>草稿</del> → <ins>待审批</ins>" in html
    assert "pending_approval" not in html and "draft" not in html.split("<tbody>")[1]
    assert long_text in html and "chars]" not in html
    assert "请审批" in html and "修改原因" in html
