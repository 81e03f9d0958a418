"""Plan and article workflows: the only place that changes plans, revisions and articles and
causes side effects (history with reasons, notifications).

Every entry point (admin, API, demo data, the daily task, the case side) calls these
functions. Each checks the permission, locks the rows it changes (always the plan before its
revisions, so two publishes of one plan queue instead of deadlocking), saves with the acting
user and reason in the history, and notifies staff.
"""

from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import TransitionNotAllowed
from simple_history.utils import bulk_create_with_history

from servicedesk.staff import roles
from servicedesk.staff.models import User
from servicedesk.staff.services import notify

from . import text
from .models import (
    REVIEW_INTERVAL_MONTHS,
    Article,
    ArticleFeedback,
    ArticleStatus,
    Plan,
    PlanResource,
    PlanRevision,
    PlanStage,
    PostIncidentReview,
    RevisionState,
    add_months,
)

# The content of a revision: copied into a new draft, editable while a draft, compared by diffs.
REVISION_CONTENT_FIELDS = [
    "objectives",
    "first_response_hours",
    "satisfaction_target_pct",
    "urgency_high_hours",
    "urgency_medium_working_days",
    "urgency_low_hours",
    "reporting_path",
    "risk_triggers",
]
REVISION_EDITABLE_FIELDS = [*REVISION_CONTENT_FIELDS, "change_summary"]
STAGE_FIELDS = ["order", "code", "name", "time_limit", "unit", "starts", "responsible_role",
                "description"]  # fmt: skip
RESOURCE_FIELDS = ["order", "kind", "name", "quantity", "location", "notes"]
REVIEW_REMINDER_DAYS = 30


class PlanPublishConflict(ValidationError):
    """Another revision of the plan was published at the same moment (the database refused
    a second published revision)."""


def _require(user, perm, message):
    if user is None or not user.has_perm(perm):
        raise PermissionDenied(message)


def _require_reason(reason, message=None):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": message or _("Give a reason: it is kept in the history.")})
    return reason


def _save(obj, user, reason, **kwargs):
    # simple-history reads these on the next save only if set for that save (they stay on the
    # instance otherwise): set them every time.
    obj._history_user = user
    obj._change_reason = reason
    obj.save(**kwargs)


def _lock_plan(plan_id):
    return Plan.objects.select_for_update().get(pk=plan_id)


def _lock_revision(revision_id):
    return PlanRevision.objects.select_for_update().select_related("plan").get(pk=revision_id)


def _state_error(revision, action):
    return TransitionNotAllowed(
        _("Revision %(number)s is “%(state)s”: it cannot be %(action)s now. Reload it.")
        % {"number": revision.number, "state": revision.get_state_display(), "action": action}
    )


def revision_admin_link(revision):
    return reverse("admin:knowledge_planrevision_change", args=[revision.pk])


def plan_admin_link(plan):
    return reverse("admin:knowledge_plan_change", args=[plan.pk])


# --- plan revisions ----------------------------------------------------------------------


def plan_revision_create_draft(*, plan, user, from_revision=None, reason=""):
    """A new draft revision of `plan`, numbered after the last one, pre-filled from
    `from_revision` or else from the published revision (objectives, targets, reporting
    path, risk triggers, stages and resources)."""
    _require(user, "knowledge.add_planrevision", _("You may not draft plan revisions."))
    with transaction.atomic():
        plan = _lock_plan(plan.pk)
        source = from_revision
        if source is None:
            source = plan.revisions.published().first()
        elif source.plan_id != plan.pk:
            raise ValidationError(_("The revision to copy belongs to another plan."))
        number = (plan.revisions.aggregate(n=Max("number"))["n"] or 0) + 1
        if not (reason or "").strip():
            reason = (
                _("New draft from revision %(number)s") % {"number": source.number}
                if source
                else _("New draft")
            )
        revision = PlanRevision(plan=plan, number=number, author=user)
        if source is not None:
            for field in REVISION_CONTENT_FIELDS:
                setattr(revision, field, getattr(source, field))
        _save(revision, user, reason)
        if source is not None:
            stages = [
                PlanStage(revision=revision, **{f: getattr(s, f) for f in STAGE_FIELDS})
                for s in source.stages.all()
            ]
            resources = [
                PlanResource(revision=revision, **{f: getattr(r, f) for f in RESOURCE_FIELDS})
                for r in source.resources.all()
            ]
            for model, rows in ((PlanStage, stages), (PlanResource, resources)):
                bulk_create_with_history(
                    rows, model, default_user=user, default_change_reason=reason
                )
    return revision


def plan_revision_lock_for_edit(*, revision, user):
    """Lock `revision` for an edit inside the caller's transaction; refuse once submitted.

    The admin calls this before saving a revision's form and its stage and resource rows, so
    a revision submitted meanwhile is not changed behind the reviewer's back."""
    _require(user, "knowledge.change_planrevision", _("You may not change plan revisions."))
    # The plan first, as everywhere: the admin may go on to submit in the same transaction.
    _lock_plan(revision.plan_id)
    locked = _lock_revision(revision.pk)
    if not locked.is_editable:
        raise ValidationError(
            _(
                "Revision %(number)s is “%(state)s” and can no longer be changed. "
                "Start a new draft revision instead."
            )
            % {"number": locked.number, "state": locked.get_state_display()},
            code="not_editable",
        )
    return locked


def plan_revision_update(*, revision, user, reason="", **changes):
    """Change a draft (or rejected) revision's content; refused once it is submitted."""
    unknown = set(changes) - set(REVISION_EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable: {', '.join(sorted(unknown))}")
    changes = {f: text.normalise_newlines(v) for f, v in changes.items()}
    with transaction.atomic():
        locked = plan_revision_lock_for_edit(revision=revision, user=user)
        changed = [f for f, v in changes.items() if getattr(locked, f) != v]
        if not changed:
            return locked
        for field in changed:
            setattr(locked, field, changes[field])
        locked.full_clean(exclude=["plan", "number", "state"])
        _save(locked, user, (reason or "").strip() or _("Edited"))
        if "first_response_hours" in changed:
            # One limit: the first-response stage row follows the target.
            for stage in locked.stages.filter(code="first_response"):
                stage.time_limit, stage.unit = locked.first_response_hours, "hours"
                _save(stage, user, (reason or "").strip() or _("Edited"))
    return locked


def plan_revision_save_row(*, revision, user, row, reason=""):
    """Add or change one stage or resource row of a draft (or rejected) revision."""
    if not isinstance(row, PlanStage | PlanResource):
        raise TypeError(row)
    with transaction.atomic():
        locked = plan_revision_lock_for_edit(revision=revision, user=user)
        row.revision = locked
        row.full_clean()
        _save(row, user, (reason or "").strip() or _("Edited"))
    return row


def plan_revision_submit(*, revision, user, reason):
    """Submit a draft (or rejected) revision for approval; it is frozen from now on."""
    _require(user, "knowledge.submit_planrevision", _("You may not submit plan revisions."))
    reason = _require_reason(reason)
    with transaction.atomic():
        _lock_plan(revision.plan_id)
        locked = _lock_revision(revision.pk)
        if not locked.is_editable:
            raise _state_error(locked, _("submitted"))
        if not locked.stages.exists():
            raise ValidationError(
                _("A plan revision needs at least one stage before it can be submitted.")
            )
        _check_first_response_stage(locked)
        locked.submit(user=user, now=timezone.now())
        _save(locked, user, reason)
        _notify_approvers(locked, reason)
    return locked


def revision_approvers(revision):
    """Whom to ask to approve or reject `revision` now, ordered by username: the active staff
    who hold the approve permission (through a role or in person) and neither wrote, submitted
    nor edited it (four eyes) — those in the manager role among them; when there are none,
    any other holder (an administrator); when there is nobody, the superusers."""
    perm = Permission.objects.get(
        content_type__app_label="knowledge", codename="approve_planrevision"
    )
    barred = {revision.author_id, revision.submitted_by_id, *revision.editor_ids()}
    allowed = User.objects.filter(is_active=True).exclude(pk__in=[pk for pk in barred if pk])
    holders = allowed.filter(Q(groups__permissions=perm) | Q(user_permissions=perm)).distinct()
    for candidates in (
        holders.filter(pk__in=User.objects.in_role(roles.MANAGER).values("pk")),
        holders,
        allowed.filter(is_superuser=True),
    ):
        found = list(candidates.order_by("username"))
        if found:
            return found
    return []


def _notify_approvers(revision, reason):
    # Each submission is its own event: a revision rejected and submitted again notifies again.
    notify(
        recipients=revision_approvers(revision),
        event_key=f"knowledge.plan_revision_submitted:{revision.pk}:"
        f"{revision.submitted_at:%Y%m%d%H%M%S%f}",
        subject=_("Plan revision to approve: %(revision)s") % {"revision": revision},
        body=_("Submitted by %(user)s: %(reason)s")
        % {"user": revision.submitted_by, "reason": reason},
        link=revision_admin_link(revision),
    )


def _check_first_response_stage(revision):
    """The first-response stage row and the revision's first-response target are one limit:
    refuse a revision where they disagree rather than guess which one counts."""
    stage = revision.stages.filter(code="first_response").first()
    if stage is None:
        return
    if stage.unit != "hours" or stage.time_limit != revision.first_response_hours:
        raise ValidationError(
            {
                "first_response_hours": _(
                    "The first-response stage says %(limit)s %(unit)s but the first-response "
                    "target is %(hours)s hours: make them equal."
                )
                % {
                    "limit": f"{stage.time_limit.normalize():f}",
                    "unit": stage.get_unit_display(),
                    "hours": revision.first_response_hours,
                }
            },
            code="first_response_mismatch",
        )


def _check_reviewer(revision, user):
    _require(
        user,
        "knowledge.approve_planrevision",
        _("Only a manager may approve or reject plan revisions."),
    )
    if user.pk in (revision.author_id, revision.submitted_by_id):
        raise ValidationError(
            _(
                "You wrote or submitted this revision: another manager must review it "
                "(four-eyes rule)."
            ),
            code="four_eyes",
        )
    if user.pk in revision.editor_ids():
        raise ValidationError(
            _(
                "You edited this revision (see its history): another manager must review it "
                "(four-eyes rule)."
            ),
            code="four_eyes",
        )


def plan_revision_approve(*, revision, user, reason):
    """Approve a pending revision: it is published and the revision in force until now is
    superseded, in one transaction. Sets the plan's next review to 12 months from today and
    notifies the staff of the plan's departments.

    The plan row is locked first, so concurrent approvals of one plan run one after the other;
    the partial unique constraint on published revisions is the guarantee behind the lock.
    """
    _check_reviewer(revision, user)
    reason = _require_reason(reason)
    try:
        with transaction.atomic():
            plan = _lock_plan(revision.plan_id)
            locked = _lock_revision(revision.pk)
            if locked.state != RevisionState.PENDING_APPROVAL:
                raise _state_error(locked, _("approved"))
            _check_reviewer(locked, user)
            now = timezone.now()
            previous = plan.revisions.select_for_update().filter(state=RevisionState.PUBLISHED)
            for old in previous:
                old.supersede(now=now)
                _save(old, user, _("Superseded by revision %(number)s") % {"number": locked.number})
            locked.approve(user=user, comment=reason, now=now)
            _save(locked, user, reason)
            today = timezone.localdate(now)
            plan.last_reviewed_on = today
            plan.next_review_on = add_months(today, REVIEW_INTERVAL_MONTHS)
            _save(plan, user, _("Revision %(number)s published") % {"number": locked.number})
            _notify_published(plan, locked)
            _notify_reviewed(locked, user, approved=True)
    except IntegrityError as exc:
        raise PlanPublishConflict(
            _(
                "Another revision of this plan was published at the same moment. Reload and try again."
            ),
            code="publish_conflict",
        ) from exc
    return locked


def plan_revision_reject(*, revision, user, reason):
    """Send a pending revision back to its author with the reviewer's comment; it becomes
    editable again and can be resubmitted."""
    _check_reviewer(revision, user)
    reason = _require_reason(reason, _("Tell the author what to change."))
    with transaction.atomic():
        _lock_plan(revision.plan_id)
        locked = _lock_revision(revision.pk)
        if locked.state != RevisionState.PENDING_APPROVAL:
            raise _state_error(locked, _("rejected"))
        _check_reviewer(locked, user)
        locked.reject(user=user, comment=reason, now=timezone.now())
        _save(locked, user, reason)
        _notify_reviewed(locked, user, approved=False)
    return locked


def _notify_reviewed(revision, reviewer, *, approved):
    """Tell the author (and whoever submitted it for them) what the reviewer decided."""
    recipients = [u for u in (revision.author, revision.submitted_by)
                  if u is not None and u.pk != reviewer.pk]  # fmt: skip
    kind = "approved" if approved else "rejected"
    if approved:
        subject = _("Plan revision approved and in force: %(revision)s")
    else:
        subject = _("Plan revision returned: %(revision)s")
    notify(
        recipients=recipients,
        event_key=f"knowledge.plan_revision_{kind}:{revision.pk}:"
        f"{revision.reviewed_at:%Y%m%d%H%M%S%f}",
        subject=subject % {"revision": revision},
        body=_("%(reviewer)s: %(comment)s")
        % {"reviewer": reviewer, "comment": revision.review_comment},
        link=revision_admin_link(revision),
    )


def available_revision_actions(revision, user):
    """The workflow buttons `user` may use on `revision` now: [(name, label)]."""
    actions = []
    if revision.is_editable and user.has_perm("knowledge.submit_planrevision"):
        actions.append(("submit", _("Submit for approval")))
    if (
        revision.state == RevisionState.PENDING_APPROVAL
        and user.has_perm("knowledge.approve_planrevision")
        and user.pk not in (revision.author_id, revision.submitted_by_id)
        and user.pk not in revision.editor_ids()
    ):
        actions += [("approve", _("Approve and publish")), ("reject", _("Reject"))]
    return actions


def _notify_published(plan, revision):
    recipients = list(
        User.objects.filter(
            memberships__department__in=plan.departments.all(), is_active=True
        ).distinct()
    )
    if plan.owner_id:
        recipients.append(plan.owner)
    stages = "\n".join(
        f"- {s.name}: ≤ {s.time_limit.normalize():f} {s.get_unit_display()}"
        for s in revision.stages.all()
    )
    notify(
        recipients=recipients,
        event_key=f"knowledge.plan_revision_published:{revision.pk}",
        subject=_("Plan “%(plan)s” revision %(number)s is now in force")
        % {"plan": plan.name, "number": revision.number},
        body="\n\n".join(x for x in [revision.change_summary, stages] if x),
        link=revision_admin_link(revision),
    )


# --- which plan governs a case -----------------------------------------------------------


def plan_governing_revision(*, case_type, category, at=None):
    """The published revision that governs a case of this type and category at `at` (default
    now): that of the most specific plan whose scope covers it, else the default plan's.
    None when no plan has a revision in force. Stages come prefetched (`revision.stage(code)`).
    """
    revisions = PlanRevision.objects.select_related("plan").prefetch_related("stages")
    revisions = revisions.published() if at is None else revisions.in_force_at(at)
    return governing_revision(list(revisions), case_type=case_type, category=category)


def published_revisions():
    """Every published revision, with its plan and stages: what governing_revision chooses
    from for a case opened now."""
    return list(PlanRevision.objects.published().select_related("plan").prefetch_related("stages"))


def governing_revision(revisions, *, case_type, category):
    """Of `revisions` (one per plan, with their plans), the one governing a case of this type
    and category: see plan_governing_revision."""
    matching = [r for r in revisions if r.plan.governs(case_type, category)]
    if matching:
        return max(
            matching, key=lambda r: (r.plan.specificity(), not r.plan.is_default, -r.plan.pk)
        )
    return next((r for r in revisions if r.plan.is_default), None)


# --- reviews -----------------------------------------------------------------------------


def plan_review_record(*, plan, user, note, today=None):
    """Record a full review that changed nothing: the next one falls due in 12 months."""
    _require(user, "knowledge.change_plan", _("You may not record plan reviews."))
    note = _require_reason(note, _("Summarise the review: it is kept in the history."))
    today = today or timezone.localdate()
    with transaction.atomic():
        locked = _lock_plan(plan.pk)
        locked.last_reviewed_on = today
        locked.next_review_on = add_months(today, REVIEW_INTERVAL_MONTHS)
        _save(locked, user, note)
    return locked


def plan_reviews_remind(*, today):
    """The daily sweep: remind owners of reviews due within 30 days, once per plan and due
    date, and owners of overdue reviews, once per plan and due date. Plans without an owner
    remind the managers. Safe to run twice: `notify` sends each event once per recipient.
    Returns the codes of the plans due and overdue."""
    managers = None
    due, overdue = [], []
    plans = Plan.objects.filter(next_review_on__isnull=False).select_related("owner")
    due_plans = plans.review_due(today, REVIEW_REMINDER_DAYS)
    overdue_plans = plans.review_overdue(today)
    for kind, queryset in (("due", due_plans), ("overdue", overdue_plans)):
        for plan in queryset:
            if plan.owner_id and plan.owner.is_active:
                recipients = [plan.owner]
            else:
                if managers is None:
                    managers = list(User.objects.in_role(roles.MANAGER))
                recipients = managers
            date = plan.next_review_on
            if kind == "due":
                subject = _("Review of plan “%(plan)s” due on %(date)s") % {
                    "plan": plan.name,
                    "date": date.isoformat(),
                }
                body = _(
                    "The yearly review of this plan falls due within %(days)s days. Review it "
                    "and publish a new revision or record the review."
                ) % {"days": REVIEW_REMINDER_DAYS}
                due.append(plan.code)
            else:
                subject = _("Review of plan “%(plan)s” is overdue (due %(date)s)") % {
                    "plan": plan.name,
                    "date": date.isoformat(),
                }
                body = _("The yearly review of this plan is overdue.")
                overdue.append(plan.code)
            notify(
                recipients=recipients,
                event_key=f"knowledge.plan_review_{kind}:{plan.pk}:{date.isoformat()}",
                subject=subject,
                body=body,
                link=plan_admin_link(plan),
            )
    return {"due": due, "overdue": overdue}


def post_incident_review_record(*, review, user):
    """Save a new post-incident review (复盘), remembering the revision that was in force."""
    _require(user, "knowledge.add_postincidentreview", _("You may not record incident reviews."))
    with transaction.atomic():
        review.created_by = user
        review.revision_in_force = review.plan.revisions.published().first()
        review.full_clean()
        _save(review, user, _("Recorded"))
    return review


def post_incident_review_start_draft(*, review, user):
    """Start the plan's next draft revision from a post-incident review, pre-filled from the
    published revision with the review's proposed changes as its change summary. Starting
    again while that draft is still open returns the same draft."""
    with transaction.atomic():
        locked = PostIncidentReview.objects.select_for_update().get(pk=review.pk)
        existing = locked.resulting_revision
        if existing is not None and existing.is_editable:
            return existing
        reason = _("Post-incident review: %(event)s") % {"event": locked.event}
        revision = plan_revision_create_draft(plan=locked.plan, user=user, reason=reason)
        summary = _("Changes proposed by the post-incident review “%(event)s”:") % {
            "event": locked.event
        }
        revision.change_summary = f"{summary}\n{locked.proposed_changes}".strip()
        _save(revision, user, reason)
        locked.resulting_revision = revision
        _save(locked, user, reason)
    return revision


# --- articles ----------------------------------------------------------------------------


def article_save(*, article, user, reason=""):
    """Validate and save a new or changed article for `user`. Publishing or archiving needs
    the `knowledge.publish_article` permission (managers); the author is who created it."""
    creating = article._state.adding
    _require(
        user,
        "knowledge.add_article" if creating else "knowledge.change_article",
        _("You may not write articles."),
    )
    with transaction.atomic():
        before = None
        if not creating:
            before = Article.objects.select_for_update().filter(pk=article.pk).first()
        old_status = before.status if before else ArticleStatus.DRAFT
        if article.status != old_status and not user.has_perm("knowledge.publish_article"):
            raise ValidationError({"status": _("Only a manager may publish or archive articles.")})
        if creating:
            article.author = user
        if article.status == ArticleStatus.PUBLISHED and article.published_at is None:
            article.published_at = timezone.now()
        article.full_clean()
        _save(article, user, (reason or "").strip() or (_("Created") if creating else _("Edited")))
    return article


def article_create(*, user, title, body, category, summary="", tags="",
                   status=ArticleStatus.DRAFT, reason=""):  # fmt: skip
    """A new article, e.g. from a resolved case (the case side then links it to the case)."""
    if isinstance(tags, list | tuple):
        tags = ", ".join(tags)
    article = Article(
        title=title, body=body, category=category, summary=summary, tags=tags, status=status
    )
    return article_save(article=article, user=user, reason=reason)


def article_update(*, article, user, reason="", **changes):
    for field, value in changes.items():
        setattr(article, field, value)
    return article_save(article=article, user=user, reason=reason)


def article_record_feedback(*, article, user, helpful):
    """Record `user`'s "was this helpful?" answer (one per user; a new answer replaces the
    old) and refresh the article's counts. Returns the article with fresh counts."""
    _require(user, "knowledge.view_article", _("You may not read articles."))
    with transaction.atomic():
        Article.objects.select_for_update().filter(pk=article.pk).exists()
        ArticleFeedback.objects.update_or_create(
            article=article, user=user, defaults={"helpful": bool(helpful)}
        )
        counts = ArticleFeedback.objects.filter(article=article).aggregate(
            yes=Count("pk", filter=Q(helpful=True)), no=Count("pk", filter=Q(helpful=False))
        )
        Article.objects.filter(pk=article.pk).update(
            helpful_count=counts["yes"], not_helpful_count=counts["no"]
        )
    article.helpful_count, article.not_helpful_count = counts["yes"], counts["no"]
    return article
