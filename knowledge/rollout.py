"""Rolling out a published revision: acknowledgements by the staff of the plan's departments
(已阅读并理解), reminders to those who have not after PLAN_ACK_REMIND_AFTER_DAYS working days,
and drills (演练) recorded against a revision. The only place that writes these rows."""

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk import workdays
from servicedesk.calendar.services import load_calendar
from servicedesk.staff.models import User
from servicedesk.staff.services import notify

from .models import PlanAcknowledgement, PlanDrill, PlanRevision, RevisionState


def revision_audience(revision):
    """The active staff who must acknowledge `revision`: the members of its plan's departments,
    or — for a plan without departments (the default plan) — every member of a department."""
    departments = revision.plan.departments.all()
    users = User.objects.filter(is_active=True)
    if departments.exists():
        users = users.filter(memberships__department__in=departments)
    else:
        users = users.filter(memberships__isnull=False)
    return users.distinct().order_by("username")


def acknowledgement_status(revision):
    """(acknowledged: [(user, acknowledged_at)], missing: [user]) for a published revision;
    two queries."""
    done = {
        a.user_id: a
        for a in PlanAcknowledgement.objects.filter(revision=revision).select_related("user")
    }
    audience = list(revision_audience(revision))
    acknowledged = [(a.user, a.acknowledged_at) for a in done.values()]
    missing = [u for u in audience if u.pk not in done]
    return sorted(acknowledged, key=lambda pair: pair[1]), missing


def must_acknowledge(revision, user):
    return (
        revision.state == RevisionState.PUBLISHED
        and revision_audience(revision).filter(pk=user.pk).exists()
        and not PlanAcknowledgement.objects.filter(revision=revision, user=user).exists()
    )


def plan_revision_acknowledge(*, revision, user, now=None):
    """`user` has read and understood the revision in force; a second call changes nothing."""
    if revision.state != RevisionState.PUBLISHED:
        raise ValidationError(_("Only the revision in force can be acknowledged."))
    if not revision_audience(revision).filter(pk=user.pk).exists():
        raise PermissionDenied(_("This revision is not addressed to your departments."))
    try:
        with transaction.atomic():
            ack, _created = PlanAcknowledgement.objects.get_or_create(
                revision=revision, user=user, defaults={"acknowledged_at": now or timezone.now()}
            )
    except IntegrityError:  # a double click racing itself
        ack = PlanAcknowledgement.objects.get(revision=revision, user=user)
    return ack


def plan_acknowledgements_remind(*, now=None):
    """The daily sweep: for each revision in force published at least
    PLAN_ACK_REMIND_AFTER_DAYS working days ago, remind each member of its audience who has
    not acknowledged it — once per revision and person (notify's unique event key). Returns
    the number of reminders created."""
    from .services import revision_admin_link

    now = now or timezone.now()
    cal = load_calendar()
    days = settings.PLAN_ACK_REMIND_AFTER_DAYS
    sent = 0
    for revision in PlanRevision.objects.published().select_related("plan"):
        if workdays.add_working_days(revision.published_at, days, cal).at > now:
            continue
        _done, missing = acknowledgement_status(revision)
        sent += len(
            notify(
                recipients=missing,
                event_key=f"knowledge.plan_ack_reminder:{revision.pk}",
                subject=_("Please acknowledge plan “%(plan)s” revision %(number)s")
                % {"plan": revision.plan.name, "number": revision.number},
                body=_(
                    "This revision has been in force for %(days)s working days. Read it and "
                    "confirm on its page that you have read and understood it."
                )
                % {"days": days},
                link=revision_admin_link(revision),
            )
        )
    return sent


def drill_errors(*, revision, held_on, participants, findings, now=None):
    """{field: message} of what is wrong with a drill record (empty when it is fine)."""
    errors = {}
    if revision.published_at is None:
        errors["revision"] = _("Drills are recorded against a published revision.")
    today = timezone.localdate(now or timezone.now())
    if held_on is None:
        errors["held_on"] = _("Give the date of the drill.")
    elif held_on > today:
        errors["held_on"] = _("A drill is recorded after it was held: the date is in the future.")
    elif revision.published_at and held_on < timezone.localdate(revision.published_at):
        errors["held_on"] = _("The drill is before the revision was published.")
    if not (findings or "").strip():
        errors["findings"] = _("Write down what the drill found (even “nothing to change”).")
    if not list(participants or []):
        errors["participants"] = _("Name at least one participant.")
    return errors


def plan_drill_record(*, revision, user, held_on, participants, findings, now=None):
    """Record a drill or training held on a published (or since superseded) revision."""
    if user is None or not user.has_perm("knowledge.add_plandrill"):
        raise PermissionDenied(_("You may not record drills."))
    participants = list(participants or [])
    errors = drill_errors(
        revision=revision, held_on=held_on, participants=participants, findings=findings, now=now
    )
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        drill = PlanDrill.objects.create(
            revision=revision, held_on=held_on, findings=findings.strip(), recorded_by=user
        )
        drill.participants.set(participants)
    return drill
