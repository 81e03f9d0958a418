"""The follow-up report's workflow (回访报告, 003): create (findings filled in from the period's
follow-ups), submit, approve or reject (a manager who did not write it), and close its action
items with their outcome. The only place that changes these rows' state."""

import datetime
from collections import Counter

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.staff.services import notify

from .followup_report import ActionItem, ActionStatus, FollowUpReport, ReportState
from .models import ProblemCategory, ProblemReport, Response

SUGGESTIONS_LISTED = 30


def _day_start(day):
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def findings_for(period_start, period_end):
    """The problems (per class) and the suggestions the follow-ups of the period found."""
    start, end = _day_start(period_start), _day_start(period_end + datetime.timedelta(days=1))
    problems = Counter(
        ProblemReport.objects.filter(
            response__answered_at__gte=start, response__answered_at__lt=end
        ).values_list("category", flat=True)
    )
    suggestions = list(
        Response.objects.filter(answered_at__gte=start, answered_at__lt=end)
        .exclude(suggestions="")
        .order_by("answered_at")
        .values_list("suggestions", flat=True)[:SUGGESTIONS_LISTED]
    )
    lines = [_("Problems found:")]
    labels = dict(ProblemCategory.choices)
    lines += [f"- {labels.get(c, c)}: {n}" for c, n in problems.most_common()] or ["- —"]
    lines.append(_("Suggestions:"))
    lines += [f"- {s.strip()}" for s in suggestions] or ["- —"]
    return "\n".join(lines)


def followup_report_create(*, user, period_start, period_end):
    if period_end < period_start:
        raise ValidationError({"period_end": _("The end of the period is before its start.")})
    return FollowUpReport.objects.create(
        period_start=period_start,
        period_end=period_end,
        findings=findings_for(period_start, period_end),
        author=user,
    )


def _locked(report):
    return FollowUpReport.objects.select_for_update().get(pk=report.pk)


def followup_report_submit(*, report, user, now=None):
    with transaction.atomic():
        locked = _locked(report)
        if not locked.is_editable:
            raise ValidationError(_("This report has already been submitted."))
        if not locked.actions.exists():
            raise ValidationError(
                _("Turn the findings into at least one action item before submitting.")
            )
        locked.state, locked.submitted_at = ReportState.SUBMITTED, now or timezone.now()
        locked.save(update_fields=["state", "submitted_at"])
    return locked


def followup_report_review(*, report, user, approve, comment="", now=None):
    """Approve or reject a submitted report: a manager who is not its author."""
    if user is None or not user.has_perm("callbacks.approve_followupreport"):
        raise PermissionDenied(_("Only a manager may approve follow-up reports."))
    with transaction.atomic():
        locked = _locked(report)
        if locked.state != ReportState.SUBMITTED:
            raise ValidationError(_("Only a submitted report can be approved or rejected."))
        if locked.author_id == user.pk:
            raise ValidationError(_("You wrote this report: another manager must review it."))
        if not approve and not (comment or "").strip():
            raise ValidationError({"review_comment": _("Tell the author what to change.")})
        locked.state = ReportState.APPROVED if approve else ReportState.REJECTED
        locked.reviewer, locked.reviewed_at = user, now or timezone.now()
        locked.review_comment = (comment or "").strip()
        locked.save(update_fields=["state", "reviewer", "reviewed_at", "review_comment"])
        if not approve:
            _notify_rejected(locked)
    return locked


def report_admin_link(report):
    return reverse("admin:callbacks_followupreport_change", args=[report.pk])


def _notify_rejected(report):
    """Tell the author why the report came back (once per rejection)."""
    notify(
        recipients=[report.author],
        event_key=f"callbacks.followup_report_rejected:{report.pk}:{report.reviewed_at.isoformat()}",
        subject=_("Your follow-up report %(report)s was rejected") % {"report": report},
        body=_("%(reviewer)s returned it to you: %(comment)s")
        % {"reviewer": report.reviewer, "comment": report.review_comment},
        link=report_admin_link(report),
    )


def action_item_close(*, item, user, outcome, now=None):
    """Close an action item of an approved report with what was done."""
    if not (outcome or "").strip():
        raise ValidationError({"outcome": _("Write what was done before closing the item.")})
    with transaction.atomic():
        locked = ActionItem.objects.select_for_update().select_related("report").get(pk=item.pk)
        if locked.report.state != ReportState.APPROVED:
            raise ValidationError(_("The report must be approved before its items are closed."))
        if locked.status == ActionStatus.DONE:
            return locked
        locked.status, locked.outcome = ActionStatus.DONE, outcome.strip()
        locked.closed_at, locked.closed_by = now or timezone.now(), user
        locked.save(update_fields=["status", "outcome", "closed_at", "closed_by"])
    return locked
