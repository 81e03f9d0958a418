"""Quality assurance (质检) workflows: publish a scorecard version, draw the monthly sample,
review, dispute once, settle; record a mystery shopper's result."""

import datetime
import math
import random
import secrets
from decimal import Decimal

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from callbacks import metrics
from callbacks.models import VersionStatus
from complaints.models import Case, State
from servicedesk.staff import roles
from servicedesk.staff.models import User
from servicedesk.staff.services import notify

from .models import MAX_POINTS, MysteryShop, QaReview, QaSample, ReviewStatus, ScorecardVersion


def scorecard_publish(*, version, now=None):
    """Publish `version` (retiring the one published before). A version needs items."""
    with transaction.atomic():
        version = ScorecardVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != VersionStatus.DRAFT:
            raise ValidationError(_("Only a draft can be published."))
        if not version.items.exists():
            raise ValidationError(_("Add the scorecard's items before publishing it."))
        ScorecardVersion.objects.filter(
            scorecard=version.scorecard, status=VersionStatus.PUBLISHED
        ).update(status=VersionStatus.RETIRED)
        version.status, version.published_at = VersionStatus.PUBLISHED, now or timezone.now()
        version.save(update_fields=["status", "published_at"])
    return version


def scorecard_new_draft(*, version):
    """A new draft of the scorecard with `version`'s items, to edit and publish."""
    with transaction.atomic():
        last = (
            ScorecardVersion.objects.select_for_update()
            .filter(scorecard=version.scorecard)
            .order_by("-number")
            .first()
        )
        draft = ScorecardVersion.objects.create(scorecard=version.scorecard, number=last.number + 1)
        for item in version.items.all():
            item.pk, item.version = None, draft
            item.save()
    return draft


def month_bounds(month):
    tz = timezone.get_current_timezone()
    first = month.replace(day=1)
    nxt = (first + datetime.timedelta(days=32)).replace(day=1)
    return (
        datetime.datetime.combine(first, datetime.time(), tzinfo=tz),
        datetime.datetime.combine(nxt, datetime.time(), tzinfo=tz),
    )


def sample_size(count, *, share, minimum, low_satisfaction, factor):
    """How many of an agent's `count` closed cases to review: the share (rounded up), at
    least `minimum`, times `factor` under the satisfaction target, never more than exist."""
    n = max(minimum, math.ceil(count * Decimal(share) / 100))
    if low_satisfaction:
        n *= factor
    return min(n, count)


def pick(case_ids, n, *, seed, agent_id):
    """`n` of `case_ids`, the same for the same seed and agent whatever the query order."""
    rng = random.Random(f"{seed}:{agent_id}")
    return sorted(rng.sample(sorted(case_ids), n))


def qa_sample_create(*, month, version, user=None, seed=None, share=5, minimum=3, factor=2):
    """Draw the month's sample of closed cases per agent into the reviewers' queue."""
    if version.status != VersionStatus.PUBLISHED:
        raise ValidationError({"version": _("Choose a published scorecard version.")})
    seed = secrets.randbits(48) if seed is None else int(seed)
    start, end = month_bounds(month)
    closed = Case.objects.filter(
        state=State.CLOSED, closed_at__gte=start, closed_at__lt=end, assignee__isnull=False
    )
    by_agent = {}
    for case_id, agent_id in closed.values_list("pk", "assignee_id"):
        by_agent.setdefault(agent_id, []).append(case_id)
    scores = {}
    for agent_id, score in closed.filter(feedback_score__isnull=False).values_list(
        "assignee_id", "feedback_score"
    ):
        scores.setdefault(agent_id, []).append(score)
    try:
        with transaction.atomic():
            sample = QaSample.objects.create(
                month=month.replace(day=1), seed=seed, version=version, share=share,
                minimum=minimum, low_satisfaction_factor=factor, created_by=user,
            )  # fmt: skip
            reviews = []
            for agent_id, ids in sorted(by_agent.items()):
                low = (
                    metrics.meets_target(metrics.satisfaction_rate(scores.get(agent_id, [])))
                    is False
                )
                n = sample_size(len(ids), share=share, minimum=minimum, low_satisfaction=low,
                                factor=factor)  # fmt: skip
                reviews += [
                    QaReview(sample=sample, case_id=c, agent_id=agent_id, version=version)
                    for c in pick(ids, n, seed=seed, agent_id=agent_id)
                ]
            QaReview.objects.bulk_create(reviews)
    except IntegrityError as exc:
        raise ValidationError({"month": _("This month already has a sample.")}) from exc
    return sample


def _validated_points(version, points):
    items = list(version.items.all())
    clean, errors = {}, {}
    for item in items:
        value = points.get(str(item.pk), points.get(item.pk))
        try:
            value = int(value)
        except (TypeError, ValueError):
            value = None
        if value is None or not 0 <= value <= MAX_POINTS:
            errors[f"item_{item.pk}"] = _("Give 0 to %(max)s points.") % {"max": MAX_POINTS}
        else:
            clean[str(item.pk)] = value
    if errors:
        raise ValidationError(errors)
    return clean


def _link(review):
    return f"/admin/workforce/qareview/{review.pk}/change/"


def qa_review_submit(*, review, user, points, comment="", now=None):
    with transaction.atomic():
        review = QaReview.objects.select_for_update().get(pk=review.pk)
        if not user.has_perm("workforce.change_qareview") or user.pk == review.agent_id:
            raise PermissionDenied(_("You cannot review this case."))
        if review.status not in (ReviewStatus.PENDING, ReviewStatus.REVIEWED):
            raise ValidationError(_("A disputed review is settled by a supervisor."))
        review.points = _validated_points(review.version, points)
        review.score = review.version.score(review.points)
        review.comment, review.reviewer = comment.strip(), user
        review.status, review.reviewed_at = ReviewStatus.REVIEWED, now or timezone.now()
        review.save()
    transaction.on_commit(lambda: notify(
        recipients=[review.agent], event_key=f"qa:{review.pk}:reviewed",
        subject=_("Quality review of case %(number)s: %(score)s") % {
            "number": review.case.number, "score": review.score},
        body=review.comment, link=_link(review),
    ))  # fmt: skip
    return review


def qa_review_dispute(*, review, user, reason, now=None):
    """The agent disputes a review once, with a reason."""
    if not reason.strip():
        raise ValidationError({"dispute_reason": _("Give the reason.")})
    with transaction.atomic():
        review = QaReview.objects.select_for_update().get(pk=review.pk)
        if user.pk != review.agent_id:
            raise PermissionDenied(_("Only the reviewed agent can dispute a review."))
        if review.disputed_at is not None:
            raise ValidationError({"dispute_reason": _("A review can be disputed only once.")})
        if review.status != ReviewStatus.REVIEWED:
            raise ValidationError({"dispute_reason": _("Only a finished review can be disputed.")})
        review.dispute_reason, review.disputed_at = reason.strip(), now or timezone.now()
        review.status = ReviewStatus.DISPUTED
        review.save()
    supervisors = list(
        User.objects.in_role(roles.SUPERVISOR)
        .filter(memberships__department__in=review.agent.departments.all())
        .distinct()
    ) or list(User.objects.in_role(roles.SUPERVISOR))
    transaction.on_commit(lambda: notify(
        recipients=supervisors, event_key=f"qa:{review.pk}:disputed",
        subject=_("Quality review of case %(number)s disputed") % {"number": review.case.number},
        body=review.dispute_reason, link=_link(review),
    ))  # fmt: skip
    return review


def qa_review_settle(*, review, user, settlement, points=None, now=None):
    """A supervisor settles a dispute: the decision, and new points when the score changes."""
    if not settlement.strip():
        raise ValidationError({"settlement": _("Write the decision.")})
    with transaction.atomic():
        review = QaReview.objects.select_for_update().get(pk=review.pk)
        if not user.has_role(roles.SUPERVISOR, roles.MANAGER) or user.pk == review.agent_id:
            raise PermissionDenied(_("A supervisor settles disputes."))
        if review.status != ReviewStatus.DISPUTED:
            raise ValidationError({"settlement": _("Only a disputed review can be settled.")})
        if points:
            review.points = _validated_points(review.version, points)
            review.score = review.version.score(review.points)
        review.settlement, review.settled_by = settlement.strip(), user
        review.settled_at, review.status = now or timezone.now(), ReviewStatus.SETTLED
        review.save()
    transaction.on_commit(lambda: notify(
        recipients=[review.agent], event_key=f"qa:{review.pk}:settled",
        subject=_("Your dispute of case %(number)s was settled") % {"number": review.case.number},
        body=review.settlement, link=_link(review),
    ))  # fmt: skip
    return review


def mystery_shop_record(*, version, channel, shopped_at, shopper, scenario, points, user,
                        agent=None, comment=""):  # fmt: skip
    clean = _validated_points(version, points)
    return MysteryShop.objects.create(
        version=version, channel=channel, shopped_at=shopped_at, shopper=shopper,
        scenario=scenario, points=clean, score=version.score(clean), comment=comment,
        agent=agent, recorded_by=user,
    )  # fmt: skip
