"""Cases of someone on leave offered to their backup (B角), and taking them over."""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from complaints.models import ACTIVE_STATES, Case, CaseEvent, EventKind
from servicedesk.rota.models import Absence, Backup
from servicedesk.staff.services import notify_bulk

from .models import BackupOffer


def backup_offer_sweep(*, now=None):
    """Offer each active case of someone absent for longer than BACKUP_OFFER_AFTER_HOURS to
    their backup, once per (case, absence). Idempotent (unique constraint, notification key).
    Returns the number of offers made."""
    now = now or timezone.now()
    since = now - datetime.timedelta(hours=settings.BACKUP_OFFER_AFTER_HOURS)
    absences = list(Absence.objects.current(now).filter(starts_at__lte=since))
    if not absences:
        return 0
    backups = dict(
        Backup.objects.filter(user__in=[a.user_id for a in absences], backup__is_active=True)
        .exclude(backup__absences__in=Absence.objects.current(now))
        .values_list("user_id", "backup_id")
    )
    by_user = {a.user_id: a for a in absences if a.user_id in backups}
    if not by_user:
        return 0
    done = set(
        BackupOffer.objects.filter(absence__in=list(by_user.values())).values_list(
            "case_id", flat=True
        )
    )
    offers, events, notices = [], [], []
    cases = (
        Case.objects.filter(assignee_id__in=list(by_user), state__in=ACTIVE_STATES)
        .exclude(pk__in=done)
        .select_related("assignee")
    )
    from servicedesk.staff.models import User

    people = User.objects.in_bulk(set(backups.values()))
    for case in cases:
        absence = by_user[case.assignee_id]
        backup = people[backups[case.assignee_id]]
        offers.append(BackupOffer(
            case=case, absence=absence, absent_user_id=case.assignee_id, backup=backup,
            offered_at=now,
        ))  # fmt: skip
        message = _("%(absent)s is away: case offered to the backup %(backup)s.") % {
            "absent": case.assignee, "backup": backup,
        }  # fmt: skip
        events.append(CaseEvent(case=case, kind=EventKind.NOTE, message=message, created_at=now))
        notices.append((
            backup, f"backup:{case.number}:{absence.pk}",
            _("Case %(number)s offered to you as backup") % {"number": case.number},
            message, "/admin/workforce/backupoffer/",
        ))  # fmt: skip
    with transaction.atomic():
        BackupOffer.objects.bulk_create(offers, ignore_conflicts=True)
        CaseEvent.objects.bulk_create(events)
        notify_bulk(notices)
    return len(offers)


def backup_offer_take(*, offer, user, now=None):
    """The backup takes the case over: it is reassigned to them, on the timeline."""
    now = now or timezone.now()
    with transaction.atomic():
        offer = BackupOffer.objects.select_for_update().get(pk=offer.pk)
        if offer.backup_id != user.pk and not user.sees_all_departments:
            raise PermissionDenied(_("Only the backup can take this case over."))
        if offer.taken_at is not None:
            raise ValidationError(_("This case was already taken over."))
        case = Case.objects.select_for_update().get(pk=offer.case_id)
        if case.assignee_id != offer.absent_user_id or case.state not in ACTIVE_STATES:
            raise ValidationError(_("The case is no longer with the absent person."))
        backup = offer.backup
        case.assignee = backup
        case.version += 1
        case.save(update_fields=["assignee", "version", "updated_at"])
        CaseEvent.objects.create(
            case=case, kind=EventKind.CHANGE, author=user, created_at=now,
            message=_("Taken over by the backup %(backup)s.") % {"backup": backup},
            data={"assignee": [str(offer.absent_user), str(backup)]},
        )  # fmt: skip
        offer.taken_at = now
        offer.save(update_fields=["taken_at"])
    return case
