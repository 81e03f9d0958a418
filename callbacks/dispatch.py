"""Sending satisfaction surveys: the survey outbox (the claim → send → mark pattern of
servicedesk.outbox), reminders, expiry, and the survey admin's resend / phone actions.

Each run claims a small group of due surveys (a conditional UPDATE to *sending*), sends them
one at a time and marks each *sent* as soon as it is out. A worker killed mid-group leaves
the rest *sending*; once the claim's lease (OUTBOX_LEASE_SECONDS) has passed they are due
again, so nothing is dropped and at most the one survey in flight goes out twice.

The plan's follow-up window and the sending hours are checked when sending, not only when
scheduling: nothing goes out outside SURVEY_SEND_FROM–SURVEY_SEND_UNTIL local time (the
surveys wait for the morning), and a survey whose window has passed becomes a phone
follow-up in the agents' queue instead of a late link.
"""

import contextlib
import datetime
import logging
import smtplib
import uuid

from django.conf import settings
from django.core import mail
from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from complaints import services as case_services
from complaints.models import CaseEvent, EventKind

from . import scheduling, sms, tokens
from .models import FollowUp, FollowUpPurpose, Survey, SurveyChannel, SurveyStatus

logger = logging.getLogger(__name__)

#: What can still be sent, resent or turned into a call (not answered, not cancelled).
UNANSWERED = [
    SurveyStatus.SCHEDULED, SurveyStatus.SENDING, SurveyStatus.SENT, SurveyStatus.EXPIRED,
    SurveyStatus.FAILED,
]  # fmt: skip


def _claim(queryset, ids, **changes):
    """Claim rows with one conditional UPDATE; returns the claim token. Two sweeps racing
    over the same ids each get only the rows their UPDATE changed."""
    claim = uuid.uuid4().hex
    queryset.filter(pk__in=ids).update(claim=claim, **changes)
    return claim


def in_sending_hours(now):
    local = timezone.localtime(now).time()
    return (
        scheduling.parse_hhmm(settings.SURVEY_SEND_FROM)
        <= local
        < scheduling.parse_hhmm(settings.SURVEY_SEND_UNTIL)
    )


def _email(survey, *, reminder):
    """The invitation (or reminder) e-mail, in the customer's language."""
    with translation.override(survey.customer.language):
        return _email_in_language(survey, reminder=reminder)


def _email_in_language(survey, *, reminder):
    link = tokens.survey_url(survey)
    customer = survey.customer
    language = customer.language
    if reminder:
        subject = _("Reminder: how did we do with case %(number)s?") % {
            "number": survey.case.number
        }
    else:
        subject = _("How did we do with case %(number)s?") % {"number": survey.case.number}
    body = _(
        "Dear %(name)s,\n\n"
        "Your case %(number)s (%(subject)s) has been resolved. %(greeting)s\n\n"
        "Please answer a few short questions: %(link)s\n\n"
        "The link works until %(until)s.\n\n%(closing)s"
    ) % {
        "name": customer.name,
        "number": survey.case.number,
        "subject": survey.case.subject,
        "greeting": survey.version.greeting_in(language),
        "link": link,
        "until": timezone.localtime(survey.expires_at).strftime("%Y-%m-%d %H:%M"),
        "closing": survey.version.closing_in(language),
    }
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"
    kind = "reminder" if reminder else "survey"
    return mail.EmailMessage(
        subject, body, settings.DEFAULT_FROM_EMAIL, [customer.email],
        # One Message-ID per survey and kind: a resend after a crash shows as one message.
        headers={"Message-ID": f"<{kind}.{survey.pk}@{domain}>"},
    )  # fmt: skip


def _sms(survey, *, reminder):
    with translation.override(survey.customer.language):
        return _sms_in_language(survey, reminder=reminder)


def _sms_in_language(survey, *, reminder):
    values = {"number": survey.case.number, "link": tokens.survey_url(survey)}
    if reminder:
        texts = [
            _("Reminder: case %(number)s, please rate our service: %(link)s"),
            _("Reminder: please rate our service: %(link)s"),
        ]
    else:
        texts = [
            _("Case %(number)s is resolved. Please rate our service: %(link)s"),
            _("Your case is resolved. Please rate our service: %(link)s"),
        ]
    # With the case number when the text still fits one segment (a short site address).
    body = sms.fitting(*(text % values for text in texts))
    return sms.SmsMessage(to=survey.customer.phone, body=body)


class _Sender:
    """Sends one survey at a time over one SMTP session (opened on first use)."""

    def __init__(self):
        self.connection = None
        self.down = None  # the error, once the mail server could not be reached

    def send(self, survey, *, reminder):
        """None when it went out, else the error text."""
        if survey.channel == SurveyChannel.SMS:
            if not sms.sms_available():
                return "SMS_BACKEND is not configured"
            try:
                sms.get_backend().send_messages([_sms(survey, reminder=reminder)])
            except OSError as exc:
                return str(exc) or exc.__class__.__name__
            return None
        if self.down:
            return self.down
        try:
            if self.connection is None:
                self.connection = mail.get_connection()
                self.connection.open()
            self.connection.send_messages([_email(survey, reminder=reminder)])
        except (OSError, smtplib.SMTPException) as exc:
            if not isinstance(exc, smtplib.SMTPRecipientsRefused):
                self.down = str(exc) or exc.__class__.__name__
            return str(exc) or exc.__class__.__name__
        return None

    def close(self):
        if self.connection is not None:
            with contextlib.suppress(OSError, smtplib.SMTPException):
                self.connection.close()


def _to_phone(surveys, now, *, in_window):
    """Hand surveys to the agents' callback queue (a phone follow-up each)."""
    if not surveys:
        return
    with transaction.atomic():
        FollowUp.objects.bulk_create(
            [
                FollowUp(
                    customer_id=s.customer_id, purpose=FollowUpPurpose.SATISFACTION,
                    case_id=s.case_id, survey=s, version_id=s.version_id, due_at=now,
                    created_at=now, max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
                )
                for s in surveys
            ],
            ignore_conflicts=True,
        )  # fmt: skip
        Survey.objects.filter(pk__in=[s.pk for s in surveys]).update(
            status=SurveyStatus.SENT, channel=SurveyChannel.PHONE, sent_at=now, expires_at=None,
            remind_at=None, claim="",
        )  # fmt: skip
        if in_window:
            case_services.cases_satisfaction_followup_made(
                case_ids=[s.case_id for s in surveys], now=now
            )


def _past_window(now, batch_size):
    """Due surveys whose follow-up window has passed: a phone follow-up instead."""
    ids = list(
        Survey.objects.filter(
            status=SurveyStatus.SCHEDULED, send_at__lte=now, window_ends_at__lt=now
        ).values_list("pk", flat=True)[:batch_size]
    )
    if not ids:
        return 0
    claim = _claim(
        Survey.objects.filter(status=SurveyStatus.SCHEDULED), ids,
        status=SurveyStatus.SENDING, claimed_at=now,
        last_error=_("The follow-up window passed before it could be sent."),
    )  # fmt: skip
    late = list(Survey.objects.filter(claim=claim, status=SurveyStatus.SENDING))
    _to_phone(late, now, in_window=False)
    return len(late)


def _send_group(now, group):
    ids = list(
        Survey.objects.filter(
            status=SurveyStatus.SCHEDULED, send_at__lte=now, window_ends_at__gte=now
        )
        .order_by("send_at", "pk")
        .values_list("pk", flat=True)[:group]
    )
    if not ids:
        return None
    claim = _claim(
        Survey.objects.filter(status=SurveyStatus.SCHEDULED), ids,
        status=SurveyStatus.SENDING, claimed_at=now, attempts=F("attempts") + 1,
    )  # fmt: skip
    surveys = list(
        Survey.objects.filter(claim=claim, status=SurveyStatus.SENDING)
        .select_related("case", "customer", "version")
        .order_by("send_at", "pk")
    )
    counts = {"sent": 0, "phone": 0, "retry": 0}
    expires_at = now + datetime.timedelta(days=settings.SURVEY_LINK_VALID_DAYS)
    remind_at = now + datetime.timedelta(hours=settings.SURVEY_REMINDER_AFTER_HOURS)
    phone, done = [s for s in surveys if s.channel == SurveyChannel.PHONE], []
    sender = _Sender()
    try:
        for s in surveys:
            if s.channel == SurveyChannel.PHONE:
                continue
            s.expires_at = expires_at  # the message shows it
            error = sender.send(s, reminder=False)
            if error is None:  # out: mark it at once, alone
                Survey.objects.filter(pk=s.pk, claim=claim).update(
                    status=SurveyStatus.SENT, sent_at=now, expires_at=expires_at,
                    remind_at=remind_at, last_error="",
                )  # fmt: skip
                done.append(s.case_id)
                counts["sent"] += 1
            elif s.attempts >= settings.SURVEY_SEND_ATTEMPTS:
                Survey.objects.filter(pk=s.pk).update(last_error=error)
                phone.append(s)
            else:
                # Back off: 10 min, 20 min, 40 min … (SCHEDULED again only because it failed).
                Survey.objects.filter(pk=s.pk, claim=claim).update(
                    status=SurveyStatus.SCHEDULED, last_error=error, expires_at=None,
                    send_at=now + datetime.timedelta(minutes=10 * 2 ** (s.attempts - 1)),
                )  # fmt: skip
                counts["retry"] += 1
    finally:
        sender.close()
    _to_phone(phone, now, in_window=True)
    counts["phone"] = len(phone)
    case_services.cases_satisfaction_followup_made(case_ids=done, now=now)
    return counts


def _release_stale(now):
    """Surveys claimed by a worker that died: due again (they were not marked sent)."""
    lease = datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    return Survey.objects.filter(status=SurveyStatus.SENDING, claimed_at__lt=now - lease).update(
        status=SurveyStatus.SCHEDULED, claim=""
    )


def _catch_up_deadlines(now, batch_size):
    """Surveys sent inside their window whose case still waits for its follow-up mark (the
    worker died between the two)."""
    ids = list(
        Survey.objects.filter(
            status__in=[SurveyStatus.SENT, SurveyStatus.ANSWERED, SurveyStatus.EXPIRED],
            sent_at__lte=F("window_ends_at"), case__satisfaction_done_at__isnull=True,
        ).values_list("case_id", flat=True)[:batch_size]
    )  # fmt: skip
    return case_services.cases_satisfaction_followup_made(case_ids=ids, now=now) if ids else 0


def _remind_group(now, batch_size):
    ids = list(
        Survey.objects.filter(
            status=SurveyStatus.SENT, reminded_at__isnull=True, remind_at__lte=now,
            channel__in=[SurveyChannel.EMAIL, SurveyChannel.SMS], expires_at__gt=now,
        ).values_list("pk", flat=True)[:batch_size]
    )  # fmt: skip
    if not ids:
        return None
    # Claiming sets reminded_at: whatever happens next, a reminder is attempted once only.
    claim = _claim(
        Survey.objects.filter(status=SurveyStatus.SENT, reminded_at__isnull=True), ids,
        reminded_at=now, claimed_at=now,
    )  # fmt: skip
    surveys = list(
        Survey.objects.filter(claim=claim, reminded_at=now).select_related(
            "case", "customer", "version"
        )
    )
    sender, reminded = _Sender(), 0
    try:
        for s in surveys:
            error = sender.send(s, reminder=True)
            if error:
                logger.warning("Survey %s: reminder failed (%s); not retried", s.pk, error)
            else:
                reminded += 1
    finally:
        sender.close()
    return {"reminded": reminded}


def _expire(now):
    expired = list(
        Survey.objects.filter(status=SurveyStatus.SENT, expires_at__lte=now).values_list(
            "pk", "case_id"
        )
    )
    if not expired:
        return 0
    n = Survey.objects.filter(
        pk__in=[pk for pk, _case in expired], status=SurveyStatus.SENT
    ).update(status=SurveyStatus.EXPIRED)
    CaseEvent.objects.bulk_create(
        CaseEvent(
            case_id=case_id,
            kind=EventKind.NOTE,
            created_at=now,
            message=_("The satisfaction survey expired unanswered."),
        )
        for _pk, case_id in expired
    )
    return n


def survey_dispatch_sweep(*, now=None, batch_size=None):
    """Send due surveys, remind once, expire old links. Safe to run twice or concurrently:
    rows are claimed by conditional UPDATEs, so each survey is sent (and reminded) once."""
    now = now or timezone.now()
    batch_size = batch_size or settings.SURVEY_BATCH_SIZE
    group = min(batch_size, settings.OUTBOX_GROUP_SIZE)
    totals = {"sent": 0, "phone": 0, "retry": 0, "reminded": 0, "expired": 0, "late": 0}
    totals["stale"] = _release_stale(now)
    _catch_up_deadlines(now, batch_size)
    with translation.override(settings.LANGUAGE_CODE):
        totals["late"] = _past_window(now, batch_size)
        if in_sending_hours(now):
            while (counts := _send_group(now, group)) is not None:
                for key, value in counts.items():
                    totals[key] += value
            while (counts := _remind_group(now, batch_size)) is not None:
                totals["reminded"] += counts["reminded"]
        totals["expired"] = _expire(now)
    return totals


# --- the survey admin's actions ----------------------------------------------------------------


def survey_resend(*, surveys, user, now=None):
    """Send these unanswered surveys again at the next dispatch (inside the sending hours).
    Returns (resent, skipped): a survey whose window has passed is skipped (call instead)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Survey.objects.select_for_update()
            .filter(pk__in=[s.pk for s in surveys], status__in=UNANSWERED)
            .exclude(channel=SurveyChannel.PHONE)
        )
        ok = [s for s in rows if s.window_ends_at >= now]
        Survey.objects.filter(pk__in=[s.pk for s in ok]).update(
            status=SurveyStatus.SCHEDULED, send_at=now, attempts=0, last_error="", claim="",
            reminded_at=None, remind_at=None,
        )  # fmt: skip
        CaseEvent.objects.bulk_create(
            CaseEvent(case_id=s.case_id, kind=EventKind.NOTE, author=user, created_at=now,
                      message=_("Satisfaction survey to be sent again."))
            for s in ok
        )  # fmt: skip
    return len(ok), len(surveys) - len(ok)


def survey_to_phone(*, surveys, user, now=None):
    """Turn these unanswered surveys into phone follow-ups in the agents' queue."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Survey.objects.select_for_update()
            .filter(pk__in=[s.pk for s in surveys], status__in=UNANSWERED)
            .exclude(channel=SurveyChannel.PHONE)
        )
        _to_phone(rows, now, in_window=False)
        CaseEvent.objects.bulk_create(
            CaseEvent(case_id=s.case_id, kind=EventKind.NOTE, author=user, created_at=now,
                      message=_("Satisfaction survey turned into a phone follow-up."))
            for s in rows
        )  # fmt: skip
    return len(rows)
