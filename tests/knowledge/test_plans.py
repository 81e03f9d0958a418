"""Contingency plans: the revision lifecycle (four eyes, reject and resubmit, one published
revision even under concurrent approvals), history and diffs, which revision governs a case,
yearly review reminders, post-incident reviews and publish notifications."""

import datetime
import threading
from decimal import Decimal

import pytest
import time_machine
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from knowledge import services, tasks
from knowledge.diff import revision_diff
from knowledge.handbook import DEFAULT_PLAN_CODE, INITIAL_REASON, install_default_plan
from knowledge.models import (
    CASE_TYPE_CHOICES,
    CATEGORY_CHOICES,
    Plan,
    PlanRevision,
    PlanStage,
    PostIncidentReview,
    RevisionState,
    add_months,
)
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Notification

from .conftest import add_rows, make_plan

SHANGHAI_0900 = datetime.datetime(2026, 3, 10, 1, 0, tzinfo=datetime.UTC)


def draft_of(plan, user, reason="修订"):
    return services.plan_revision_create_draft(plan=plan, user=user, reason=reason)


def pending(plan, author, **changes):
    revision = draft_of(plan, author)
    if changes:
        services.plan_revision_update(revision=revision, user=author, **changes)
    return services.plan_revision_submit(revision=revision, user=author, reason="请审批")


# --- what ships ------------------------------------------------------------------------


def test_case_choices_mirror_the_complaints_app():
    from complaints.models import CaseType, Category

    assert [c for c, _ in CASE_TYPE_CHOICES] == list(CaseType.values)
    assert [c for c, _ in CATEGORY_CHOICES] == list(Category.values)


def test_the_default_plan_ships_with_the_handbook_values(db):
    plan = Plan.objects.get(code=DEFAULT_PLAN_CODE)
    assert plan.is_default and plan.name == "客户投诉处理预案"
    revision = plan.revisions.get()
    assert (revision.number, revision.state) == (1, RevisionState.PUBLISHED)
    assert revision.satisfaction_target_pct == 90
    assert (revision.urgency_high_hours, revision.urgency_medium_working_days) == (24, 3)
    stages = {
        s.code: (s.time_limit, s.unit, s.starts, s.responsible_role) for s in revision.stages.all()
    }
    assert stages == {
        "first_response": (Decimal(24), "hours", "received", "agent"),
        "investigation": (Decimal(48), "hours", "previous_stage", "handler"),
        "solution_to_customer": (Decimal(48), "hours", "previous_stage", "agent"),
        "satisfaction_followup": (Decimal(72), "hours", "resolved", "agent"),
        "tech_collaboration": (Decimal(2), "hours", "requested", "technical"),
    }
    kinds = set(revision.resources.values_list("kind", flat=True))
    assert kinds == {"people_shift", "technical_support", "spare_part", "tool", "system_access"}
    spare = revision.resources.get(kind="spare_part")
    assert spare.quantity and spare.location
    assert list(revision.history.values_list("history_change_reason", flat=True)) == [
        INITIAL_REASON
    ]
    assert PlanStage.history.filter(revision_id=revision.pk).count() == 5


def test_the_review_reminder_is_scheduled_daily_at_eight_in_shanghai(db):
    from django_celery_beat.models import PeriodicTask

    task = PeriodicTask.objects.select_related("crontab").get(name="knowledge.plan_reviews_remind")
    assert task.task == "knowledge.tasks.plan_reviews_remind" and task.enabled
    assert (task.crontab.minute, task.crontab.hour, task.crontab.day_of_week) == ("0", "8", "*")
    assert str(task.crontab.timezone) == "Asia/Shanghai"
    from servicedesk.celery import app

    assert task.task in app.tasks


# --- lifecycle ---------------------------------------------------------------------------


def test_publishing_supersedes_the_revision_in_force(published_plan, supervisor, manager):
    plan, first = published_plan
    draft = draft_of(plan, supervisor)
    assert (draft.number, draft.state, draft.author) == (2, RevisionState.DRAFT, supervisor)
    # The draft starts as a copy of the revision in force.
    assert [s.code for s in draft.stages.all()] == ["first_response", "investigation"]
    assert draft.resources.count() == 2
    services.plan_revision_update(revision=draft, user=supervisor, first_response_hours=12)
    submitted = services.plan_revision_submit(revision=draft, user=supervisor, reason="缩短响应")
    assert submitted.state == RevisionState.PENDING_APPROVAL
    assert submitted.submitted_by == supervisor and submitted.submitted_at

    with time_machine.travel(SHANGHAI_0900, tick=False):
        published = services.plan_revision_approve(revision=draft, user=manager, reason="同意")

    first.refresh_from_db()
    plan.refresh_from_db()
    assert published.state == RevisionState.PUBLISHED
    assert published.reviewer == manager and published.review_comment == "同意"
    assert published.published_at == SHANGHAI_0900
    assert first.state == RevisionState.SUPERSEDED and first.superseded_at == SHANGHAI_0900
    assert list(plan.revisions.published()) == [published]
    # The next yearly review: 12 months after publication.
    assert plan.next_review_on == datetime.date(2027, 3, 10)
    assert plan.last_reviewed_on == datetime.date(2026, 3, 10)


def test_four_eyes_the_author_or_submitter_cannot_review(published_plan, manager, manager2):
    plan, _ = published_plan
    own = pending(plan, manager)
    with pytest.raises(ValidationError) as exc:
        services.plan_revision_approve(revision=own, user=manager, reason="自己批准")
    assert exc.value.code == "four_eyes"
    assert "four-eyes" in exc.value.messages[0]
    with pytest.raises(ValidationError):
        services.plan_revision_reject(revision=own, user=manager, reason="x")
    own.refresh_from_db()
    assert own.state == RevisionState.PENDING_APPROVAL
    assert services.available_revision_actions(own, manager) == []
    # Another manager may.
    assert services.plan_revision_approve(revision=own, user=manager2, reason="同意").state == (
        RevisionState.PUBLISHED
    )


def test_four_eyes_covers_who_submitted_someone_elses_draft(published_plan, supervisor, manager,
                                                           manager2):  # fmt: skip
    plan, _ = published_plan
    draft = draft_of(plan, supervisor)
    services.plan_revision_submit(revision=draft, user=manager, reason="代为提交")
    with pytest.raises(ValidationError):
        services.plan_revision_approve(revision=draft, user=manager, reason="同意")
    services.plan_revision_approve(revision=draft, user=manager2, reason="同意")


def test_four_eyes_covers_whoever_edited_the_content(published_plan, supervisor, manager,
                                                      manager2):  # fmt: skip
    plan, _ = published_plan
    draft = draft_of(plan, supervisor)
    services.plan_revision_update(revision=draft, user=manager, objectives="经理改过的目标")
    services.plan_revision_submit(revision=draft, user=supervisor, reason="请审批")
    with pytest.raises(ValidationError) as exc:
        services.plan_revision_approve(revision=draft, user=manager, reason="同意")
    assert exc.value.code == "four_eyes"
    assert "four-eyes" in exc.value.messages[0]
    draft.refresh_from_db()
    assert draft.state == RevisionState.PENDING_APPROVAL
    assert services.available_revision_actions(draft, manager) == []
    services.plan_revision_approve(revision=draft, user=manager2, reason="同意")


def test_four_eyes_covers_whoever_edited_a_stage(published_plan, supervisor, manager, manager2):
    plan, _ = published_plan
    draft = draft_of(plan, supervisor)
    stage = draft.stages.first()
    stage.name = "经理改过的阶段"
    services.plan_revision_save_row(revision=draft, user=manager, row=stage)
    services.plan_revision_submit(revision=draft, user=supervisor, reason="请审批")
    with pytest.raises(ValidationError) as exc:
        services.plan_revision_approve(revision=draft, user=manager, reason="同意")
    assert exc.value.code == "four_eyes"


def test_a_reviewer_who_rejected_may_review_the_resubmission(published_plan, supervisor, manager):
    plan, _ = published_plan
    revision = pending(plan, supervisor)
    services.plan_revision_reject(revision=revision, user=manager, reason="请补充")
    services.plan_revision_update(revision=revision, user=supervisor, objectives="补充后的目标")
    services.plan_revision_submit(revision=revision, user=supervisor, reason="已补充")
    approved = services.plan_revision_approve(revision=revision, user=manager, reason="同意")
    assert approved.state == RevisionState.PUBLISHED


@pytest.mark.parametrize("role", [roles.AGENT, roles.HANDLER, roles.SUPERVISOR])
def test_only_managers_approve_or_reject(published_plan, supervisor, make_user, department, role):
    plan, _ = published_plan
    revision = pending(plan, supervisor)
    user = make_user("someone", role=role, departments=[department])
    for action in (services.plan_revision_approve, services.plan_revision_reject):
        with pytest.raises(PermissionDenied):
            action(revision=revision, user=user, reason="同意")
    revision.refresh_from_db()
    assert revision.state == RevisionState.PENDING_APPROVAL


def test_agents_cannot_draft_or_submit(published_plan, supervisor, agent):
    plan, _ = published_plan
    with pytest.raises(PermissionDenied):
        draft_of(plan, agent)
    draft = draft_of(plan, supervisor)
    with pytest.raises(PermissionDenied):
        services.plan_revision_submit(revision=draft, user=agent, reason="提交")


@pytest.mark.parametrize("reason", ["", "   "])
def test_submit_approve_and_reject_need_a_reason(published_plan, supervisor, manager, reason):
    plan, _ = published_plan
    draft = draft_of(plan, supervisor)
    with pytest.raises(ValidationError) as exc:
        services.plan_revision_submit(revision=draft, user=supervisor, reason=reason)
    assert "reason" in exc.value.message_dict
    services.plan_revision_submit(revision=draft, user=supervisor, reason="提交")
    for action in (services.plan_revision_approve, services.plan_revision_reject):
        with pytest.raises(ValidationError) as exc:
            action(revision=draft, user=manager, reason=reason)
        assert "reason" in exc.value.message_dict
    draft.refresh_from_db()
    assert draft.state == RevisionState.PENDING_APPROVAL


def test_reject_returns_the_revision_to_its_author_with_the_comment(published_plan, supervisor,
                                                                   manager):  # fmt: skip
    plan, first = published_plan
    revision = pending(plan, supervisor, risk_triggers="投诉明显增多")
    rejected = services.plan_revision_reject(
        revision=revision, user=manager, reason="“明显增多”请写明数量阈值"
    )
    assert rejected.state == RevisionState.REJECTED and rejected.is_editable
    assert rejected.review_comment == "“明显增多”请写明数量阈值"
    note = Notification.objects.get(
        recipient=supervisor, event_key__startswith="knowledge.plan_revision_rejected"
    )
    assert "数量阈值" in note.body
    # The author fixes it and resubmits; the comment stays visible until the next review.
    services.plan_revision_update(
        revision=rejected, user=supervisor, risk_triggers="24 小时内同类投诉达到 30 件"
    )
    services.plan_revision_submit(revision=rejected, user=supervisor, reason="已按意见修改")
    published = services.plan_revision_approve(revision=rejected, user=manager, reason="同意")
    assert published.state == RevisionState.PUBLISHED
    first.refresh_from_db()
    assert first.state == RevisionState.SUPERSEDED


def test_a_revision_cannot_be_approved_twice_or_submitted_when_published(published_plan,
                                                                        supervisor, manager):  # fmt: skip
    _, first = published_plan
    with pytest.raises(TransitionNotAllowed):
        services.plan_revision_approve(revision=first, user=manager, reason="再次")
    with pytest.raises(TransitionNotAllowed):
        services.plan_revision_submit(revision=first, user=supervisor, reason="再次")


def test_a_submitted_revision_can_no_longer_be_edited(published_plan, supervisor, manager):
    plan, first = published_plan
    revision = pending(plan, supervisor)
    for frozen in (revision, first):
        with pytest.raises(ValidationError) as exc:
            services.plan_revision_update(revision=frozen, user=supervisor, objectives="改")
        assert exc.value.code == "not_editable"
        row = PlanStage(order=9, code="extra", name="额外", time_limit=1, unit="hours",
                        starts="received", responsible_role="agent")  # fmt: skip
        with pytest.raises(ValidationError):
            services.plan_revision_save_row(revision=frozen, user=supervisor, row=row)
    assert revision.stages.count() == 2
    revision.refresh_from_db()
    assert revision.objectives == "目标"


def test_a_revision_needs_a_stage_before_submission(supervisor, manager):
    plan = Plan.objects.create(code="empty", name="空预案", categories=["other"])
    draft = draft_of(plan, supervisor)
    with pytest.raises(ValidationError):
        services.plan_revision_submit(revision=draft, user=supervisor, reason="提交")


def test_the_state_cannot_be_assigned_directly(published_plan):
    _, revision = published_plan
    with pytest.raises(AttributeError):
        revision.state = RevisionState.DRAFT


# --- exactly one published revision ------------------------------------------------------


def test_the_database_refuses_a_second_published_revision(published_plan, supervisor):
    plan, first = published_plan
    revision = pending(plan, supervisor)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanRevision.objects.filter(pk=revision.pk).update(state=RevisionState.PUBLISHED)
    assert list(plan.revisions.published()) == [first]


@pytest.mark.django_db(transaction=True)
def test_concurrent_approvals_leave_exactly_one_published_revision(make_user):
    department = Department.objects.create(code="kefu2", name="客服中心")
    # No e-mail addresses and a plan without departments: the notifications (approval
    # requests, decisions) are in-app only, so no e-mail task reaches the shared broker.
    author = make_user("author", role=roles.SUPERVISOR, departments=[department], email="")
    boss1 = make_user("boss1", role=roles.MANAGER, departments=[department], email="")
    boss2 = make_user("boss2", role=roles.MANAGER, departments=[department], email="")
    plan, first = make_plan(author, boss1, categories=["technical"])
    a = pending(plan, author, objectives="方案 A")
    b = pending(plan, author, objectives="方案 B")

    barrier = threading.Barrier(2)
    outcomes = {}

    def approve(revision, user):
        try:
            barrier.wait(timeout=10)
            services.plan_revision_approve(revision=revision, user=user, reason="同意")
            outcomes[revision.pk] = "published"
        except Exception as exc:  # reported below
            outcomes[revision.pk] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=approve, args=(a, boss1)),
        threading.Thread(target=approve, args=(b, boss2)),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    published = list(PlanRevision.objects.filter(plan=plan, state=RevisionState.PUBLISHED))
    assert len(published) == 1
    for outcome in outcomes.values():
        # Either both ran one after the other (the later one superseding the earlier), or the
        # loser got a clear conflict error; never a server error or two published revisions.
        assert outcome == "published" or isinstance(outcome, services.PlanPublishConflict), outcome
    states = dict(PlanRevision.objects.filter(plan=plan).values_list("number", "state"))
    assert states[1] == RevisionState.SUPERSEDED
    assert sorted([states[2], states[3]]) in (
        sorted([RevisionState.PUBLISHED, RevisionState.SUPERSEDED]),
        sorted([RevisionState.PUBLISHED, RevisionState.PENDING_APPROVAL]),
    )
    assert first.pk not in [p.pk for p in published]


# --- history and diffs -------------------------------------------------------------------


def test_history_records_who_changed_what_and_why(published_plan, supervisor, manager):
    plan, first = published_plan
    draft = draft_of(plan, supervisor, reason="组织架构调整")
    services.plan_revision_update(
        revision=draft, user=supervisor, reporting_path="客服 → 主管", reason="汇报路径调整"
    )
    services.plan_revision_submit(revision=draft, user=supervisor, reason="请经理审批")
    services.plan_revision_approve(revision=draft, user=manager, reason="同意发布")

    rows = list(draft.history.order_by("history_date", "history_id"))
    assert [r.history_change_reason for r in rows] == [
        "组织架构调整", "汇报路径调整", "请经理审批", "同意发布",
    ]  # fmt: skip
    assert [r.history_user for r in rows] == [supervisor, supervisor, supervisor, manager]
    assert [r.state for r in rows] == ["draft", "draft", "pending_approval", "published"]
    changed = rows[1].diff_against(rows[0])
    assert changed.changed_fields == ["reporting_path"]
    assert changed.changes[0].new == "客服 → 主管"

    superseded = first.history.order_by("-history_date", "-history_id").first()
    assert superseded.state == "superseded" and superseded.history_user == manager
    assert superseded.history_change_reason == "Superseded by revision 2"
    # The stage and resource rows copied into the draft have their own history.
    stage_rows = PlanStage.history.filter(revision_id=draft.pk)
    assert stage_rows.count() == 2
    assert set(stage_rows.values_list("history_change_reason", flat=True)) == {"组织架构调整"}
    assert set(stage_rows.values_list("history_user", flat=True)) == {supervisor.pk}
    plan_row = plan.history.order_by("-history_date", "-history_id").first()
    assert plan_row.history_change_reason == "Revision 2 published"


def test_diff_between_two_revisions_lists_fields_and_rows(published_plan, supervisor):
    plan, first = published_plan
    draft = draft_of(plan, supervisor)
    draft = services.plan_revision_update(
        revision=draft, user=supervisor, first_response_hours=12, satisfaction_target_pct=95
    )
    stage = draft.stages.get(code="investigation")
    stage.time_limit = Decimal(36)
    services.plan_revision_save_row(revision=draft, user=supervisor, row=stage)
    draft.stages.get(code="first_response").delete()
    add_rows(draft, supervisor, resources=[("people_shift", "夜班客服", 3, "客服中心")])

    diff = revision_diff(first, draft)
    fields = {c.name: (c.old, c.new) for c in diff.fields}
    assert fields == {"first_response_hours": ("24", "12"), "satisfaction_target_pct": ("90", "95")}
    stages = {(r.key, r.status): [(c.name, c.old, c.new) for c in r.changes] for r in diff.stages}
    assert stages == {
        ("investigation", "changed"): [("time_limit", "48", "36")],
        ("first_response", "removed"): [],
    }
    added = [r for r in diff.resources if r.status == "added"]
    assert [r.label for r in added] == ["People and shifts: 夜班客服"]
    assert ("quantity", "—", "3") in [(c.name, c.old, c.new) for c in added[0].changes]
    assert not revision_diff(first, first).has_changes


# --- which revision governs a case -------------------------------------------------------


def test_the_most_specific_plan_governs_else_the_default(published_plan, supervisor, manager):
    default = Plan.objects.get(code=DEFAULT_PLAN_CODE).revisions.get(state="published")
    _, technical = published_plan
    _, complaint_technical = make_plan(
        supervisor, manager, case_types=["complaint"], categories=["technical"]
    )
    assert services.plan_governing_revision(case_type="complaint", category="product") == default
    assert services.plan_governing_revision(case_type="consultation", category="technical") == (
        technical
    )
    assert services.plan_governing_revision(case_type="complaint", category="technical") == (
        complaint_technical
    )
    governing = services.plan_governing_revision(case_type="consultation", category="technical")
    # Stages come prefetched for the deadline engine.
    assert governing.stage("first_response").time_limit == Decimal(24)
    assert governing.stage("nonexistent") is None


def test_the_revision_in_force_at_a_past_moment(published_plan, supervisor, manager):
    plan, first = published_plan
    before = timezone.now()
    with time_machine.travel(before + datetime.timedelta(hours=1)):
        second = pending(plan, supervisor)
        services.plan_revision_approve(revision=second, user=manager, reason="同意")
    assert (
        services.plan_governing_revision(case_type="other", category="technical", at=before)
        == first
    )
    assert services.plan_governing_revision(case_type="other", category="technical") == second


def test_intake_reads_the_plans_from_memory_until_a_revision_is_published(
    published_plan, supervisor, manager
):
    """Intake keeps the published revisions in process memory (with the intake rules): a
    later intake reads no plan, and a revision published since governs the next case."""
    from tests.complaints.helpers import intake

    plan, first = published_plan
    assert intake(category="technical").case.plan_revision == first
    with CaptureQueriesContext(connection) as queries:
        case = intake(category="technical").case
    assert case.plan_revision == first
    assert not [q for q in queries.captured_queries if "knowledge_plan" in q["sql"]]

    second = pending(plan, supervisor, first_response_hours=4)
    services.plan_revision_approve(revision=second, user=manager, reason="同意")
    case = intake(category="technical").case
    assert case.plan_revision == second
    assert case.plan_revision.first_response_hours == 4
    # A narrower plan, published: it governs the next case of its scope at once.
    _, narrower = make_plan(supervisor, manager, case_types=["complaint"], categories=["technical"])
    assert intake(category="technical", type="complaint").case.plan_revision == narrower
    assert intake(category="technical", type="consultation").case.plan_revision == second


def test_without_a_default_plan_uncovered_cases_get_none(db):
    Plan.objects.filter(is_default=True).update(is_default=False)
    assert services.plan_governing_revision(case_type="complaint", category="product") is None


def test_install_default_plan_is_idempotent(db):
    first = install_default_plan(apps)
    assert install_default_plan(apps) == first
    assert Plan.objects.filter(code=DEFAULT_PLAN_CODE).count() == 1


# --- reviews -----------------------------------------------------------------------------


def test_review_reminders_once_per_due_date_and_overdue_flagged(published_plan, make_user,
                                                               manager, supervisor):  # fmt: skip
    plan, _ = published_plan
    owner = make_user("owner", role=roles.SUPERVISOR)
    soon = make_plan(supervisor, manager, categories=["logistics"])[0]
    later = make_plan(supervisor, manager, categories=["service"])[0]
    late = make_plan(supervisor, manager, categories=["process"])[0]
    Plan.objects.filter(pk__in=[soon.pk, later.pk, late.pk, plan.pk]).update(owner=owner)
    Plan.objects.filter(pk=soon.pk).update(next_review_on=datetime.date(2026, 4, 5))
    Plan.objects.filter(pk=later.pk).update(next_review_on=datetime.date(2026, 5, 20))
    Plan.objects.filter(pk=late.pk).update(next_review_on=datetime.date(2026, 3, 1))
    Plan.objects.filter(pk=plan.pk).update(next_review_on=datetime.date(2027, 3, 1))
    Plan.objects.filter(code=DEFAULT_PLAN_CODE).update(next_review_on=datetime.date(2027, 1, 1))

    # The daily task at 08:00 Shanghai, which is 00:00 UTC: "today" is Shanghai's date.
    with time_machine.travel(datetime.datetime(2026, 3, 10, 0, 0, tzinfo=datetime.UTC), tick=False):
        result = tasks.plan_reviews_remind()
        again = tasks.plan_reviews_remind()

    assert result == {"due": [soon.code], "overdue": [late.code]} == again
    notes = Notification.objects.filter(recipient=owner).order_by("event_key")
    assert [n.event_key for n in notes] == [
        f"knowledge.plan_review_due:{soon.pk}:2026-04-05",
        f"knowledge.plan_review_overdue:{late.pk}:2026-03-01",
    ]
    assert "2026-04-05" in notes[0].subject
    assert list(Plan.objects.review_overdue(datetime.date(2026, 3, 10))) == [late]
    assert late.__class__.objects.get(pk=late.pk).review_is_overdue(datetime.date(2026, 3, 10))

    # A new due date is a new reminder.
    Plan.objects.filter(pk=soon.pk).update(next_review_on=datetime.date(2026, 4, 6))
    services.plan_reviews_remind(today=datetime.date(2026, 3, 11))
    assert (
        Notification.objects.filter(recipient=owner, event_key__contains=f":{soon.pk}:").count()
        == 2
    )


def test_plans_without_an_owner_remind_the_managers(published_plan, manager):
    plan, _ = published_plan
    Plan.objects.exclude(pk=plan.pk).update(next_review_on=None)
    Plan.objects.filter(pk=plan.pk).update(owner=None, next_review_on=datetime.date(2026, 3, 20))
    services.plan_reviews_remind(today=datetime.date(2026, 3, 10))
    assert Notification.objects.filter(
        recipient=manager, event_key=f"knowledge.plan_review_due:{plan.pk}:2026-03-20"
    ).exists()


def test_recording_a_review_moves_the_next_one_a_year_on(published_plan, manager, agent):
    plan, _ = published_plan
    with pytest.raises(PermissionDenied):
        services.plan_review_record(plan=plan, user=agent, note="看过了")
    with pytest.raises(ValidationError):
        services.plan_review_record(plan=plan, user=manager, note="")
    reviewed = services.plan_review_record(
        plan=plan, user=manager, note="年度评审：无需修改", today=datetime.date(2026, 2, 28)
    )
    assert reviewed.next_review_on == datetime.date(2027, 2, 28)
    assert reviewed.history.first().history_change_reason == "年度评审：无需修改"
    assert add_months(datetime.date(2024, 2, 29), 12) == datetime.date(2025, 2, 28)


def test_post_incident_review_starts_a_prefilled_draft(published_plan, supervisor):
    plan, published = published_plan
    review = PostIncidentReview(
        plan=plan, event="系统大面积故障", occurred_on=datetime.date(2026, 1, 5),
        what_happened="支付系统宕机 3 小时", plan_performance="技术响应超时",
        lessons="需要值班工程师", proposed_changes="增加 7×24 技术值班",
    )  # fmt: skip
    services.post_incident_review_record(review=review, user=supervisor)
    assert review.revision_in_force == published and review.created_by == supervisor

    draft = services.post_incident_review_start_draft(review=review, user=supervisor)
    assert draft.state == RevisionState.DRAFT and draft.number == 2
    assert "增加 7×24 技术值班" in draft.change_summary
    for field in services.REVISION_CONTENT_FIELDS:
        assert getattr(draft, field) == getattr(published, field)

    def rows(revision):
        return (
            list(revision.stages.values_list(*services.STAGE_FIELDS)),
            list(revision.resources.values_list(*services.RESOURCE_FIELDS)),
        )

    assert rows(draft) == rows(published)
    review.refresh_from_db()
    assert review.resulting_revision == draft
    # Starting again while that draft is open gives the same draft, not a second one.
    assert services.post_incident_review_start_draft(review=review, user=supervisor) == draft
    assert plan.revisions.count() == 2
    assert draft.history.first().history_change_reason == "Post-incident review: 系统大面积故障"


def test_publishing_notifies_the_plans_departments(published_plan, supervisor, manager,
                                                   make_user, department,
                                                   django_capture_on_commit_callbacks):  # fmt: skip
    plan, _ = published_plan
    member = make_user("member", role=roles.AGENT, departments=[department])
    other_dept = Department.objects.create(code="logistics", name="物流部")
    outsider = make_user("outsider", role=roles.AGENT, departments=[other_dept])
    revision = pending(plan, supervisor)
    with django_capture_on_commit_callbacks() as callbacks:
        services.plan_revision_approve(revision=revision, user=manager, reason="同意")
    key = f"knowledge.plan_revision_published:{revision.pk}"
    notified = set(
        Notification.objects.filter(event_key=key).values_list("recipient__username", flat=True)
    )
    assert {"member", "supervisor", "manager"} <= notified
    assert "outsider" not in notified
    note = Notification.objects.get(event_key=key, recipient=member)
    assert plan.name in note.subject and "revision 2" in note.subject
    assert "首次响应" in note.body and note.email_wanted
    # E-mails are sent by a task enqueued after commit: one mail per recipient.
    from django.core import mail

    from servicedesk.staff.services import notification_send_pending

    # (Besides the intake rules' reload, which publishing a revision also asks for.)
    assert [c.__name__ for c in callbacks].count("_enqueue_pending") == 1
    notification_send_pending()
    assert not Notification.objects.filter(event_key=key, emailed_at__isnull=True).exists()
    published_mail = [m.to[0] for m in mail.outbox if m.subject == note.subject]
    assert sorted(published_mail) == sorted(f"{u}@example.com" for u in notified)
    assert outsider.notifications.count() == 0
