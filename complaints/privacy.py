"""Personal information under PIPL (《个人信息保护法》): anonymising a customer (on request, or
after the retention period by a scheduled task), the subject-access export, and the log of
who saw unmasked personal data. The only place that writes PersonalDataLog rows.

Anonymising replaces the customer's name and blanks phone, e-mail, member number, company
and any messaging id (WeChat …) the Customer model holds; scrubs those exact strings out of
the case texts and contacts; deletes attachment files. Cases, statistics and the timeline
stay. The timeline is append-only (a PostgreSQL trigger refuses UPDATE/DELETE), so it is never
rewritten: customer contact details are Customer fields and never go into timeline text; a
timeline entry records the anonymisation. There is no way back: the old values are not kept
anywhere, not even in the log.
"""

import contextlib
import datetime
import io
import json
import os
import zipfile

from django.conf import settings
from django.core import serializers
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import (
    FINAL_STATES,
    Attachment,
    Case,
    CaseContact,
    CaseEvent,
    Customer,
    EventKind,
    PersonalDataLog,
    PrivacyAction,
)

ANONYMISED_NAME = "已匿名客户"
# Identifying fields blanked when present on Customer (channel apps may add messaging ids).
BLANKED_FIELDS = ["phone", "email", "member_no", "company", "wechat_id", "wechat_openid",
                  "wechat_unionid"]  # fmt: skip
CASE_TEXT_FIELDS = ["subject", "description", "customer_words", "expected_outcome",
                    "prior_history", "remarks", "feedback_text", "cause", "solution", "result"]  # fmt: skip
MASK = "***"


def log_access(*, user, action, customer=None, case=None, where="", detail=""):
    """One line in the personal-data log."""
    return PersonalDataLog.objects.create(
        action=action, customer=customer, case=case, user=user, where=where[:200], detail=detail
    )


def log_unmasked_view(*, user, customer, case=None, where):
    """Log that `user` saw `customer`'s unmasked personal data (only users allowed to)."""
    if user is None or not user.has_perm("complaints.view_personal_data"):
        return None
    if customer is None or customer.anonymized_at is not None:
        return None
    return log_access(
        user=user, action=PrivacyAction.VIEWED, customer=customer, case=case, where=where
    )


def _field_names(model):
    return {f.name for f in model._meta.concrete_fields}


def _scrub(text, secrets):
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def customer_anonymise(*, customer, user, reason, now=None, retention=False):
    """Anonymise `customer` for good. A second call changes nothing. `user` needs
    complaints.anonymise_customer unless `retention` (the scheduled task, user None)."""
    if not retention:
        if user is None or not user.has_perm("complaints.anonymise_customer"):
            raise PermissionDenied(_("You may not anonymise customers."))
        reason = (reason or "").strip()
        if not reason:
            raise ValidationError({"reason": _("Give the reason (e.g. the customer's request).")})
    now = now or timezone.now()
    files = []
    with transaction.atomic():
        locked = Customer.objects.select_for_update().get(pk=customer.pk)
        if locked.anonymized_at is not None:
            return locked
        fields = _field_names(Customer)
        secrets = [
            value
            for value in [locked.name, locked.phone, locked.email, locked.member_no]
            + [getattr(locked, f) for f in BLANKED_FIELDS if f in fields]
            if isinstance(value, str) and len(value.strip()) >= 2
        ]
        secrets = sorted(set(secrets), key=len, reverse=True)
        cases = list(Case.objects.select_for_update().filter(customer=locked).order_by("pk"))
        case_fields = [f for f in CASE_TEXT_FIELDS if f in _field_names(Case)]
        for case in cases:
            changed = []
            for field in case_fields:
                old = getattr(case, field) or ""
                new = _scrub(old, secrets)
                if new != old:
                    setattr(case, field, new)
                    changed.append(field)
            if changed:
                case.save(update_fields=changed)
        for contact in CaseContact.objects.filter(case__in=cases):
            subject, raw = _scrub(contact.subject, secrets), _scrub(contact.raw_text, secrets)
            if (subject, raw) != (contact.subject, contact.raw_text):
                CaseContact.objects.filter(pk=contact.pk).update(subject=subject, raw_text=raw)
        attachments = list(Attachment.objects.filter(case__in=cases))
        files = [a.file.name for a in attachments if a.file]
        Attachment.objects.filter(pk__in=[a.pk for a in attachments]).delete()

        locked.name = f"{ANONYMISED_NAME}{locked.pk}"
        for field in BLANKED_FIELDS:
            if field in fields:
                setattr(locked, field, "")
        locked.anonymized_at = now
        locked.save()
        action = PrivacyAction.RETENTION if retention else PrivacyAction.ANONYMISED
        detail = _("%(cases)s case(s) kept, %(files)s attachment(s) removed.") % {
            "cases": len(cases),
            "files": len(attachments),
        }
        log_access(
            user=user,
            action=action,
            customer=locked,
            detail=f"{reason}\n{detail}".strip() if reason else detail,
        )
        CaseEvent.objects.bulk_create(
            [
                CaseEvent(
                    case=case,
                    kind=EventKind.NOTE,
                    message=_("Customer's personal data anonymised (PIPL)."),
                    author=user,
                    created_at=now,
                )
                for case in cases
            ]
        )
        transaction.on_commit(lambda: _delete_files(files))
    return locked


def _delete_files(names):
    from django.core.files.storage import default_storage

    for name in names:
        with contextlib.suppress(OSError):  # already gone: nothing to keep
            default_storage.delete(name)


def retention_due(now=None):
    """Customers due for anonymisation: not anonymised, with cases, all of them ended, the
    last one changed more than PIPL_RETENTION_DAYS ago."""
    days = settings.PIPL_RETENTION_DAYS
    if not days:
        return Customer.objects.none()
    cutoff = (now or timezone.now()) - datetime.timedelta(days=days)
    return (
        Customer.objects.filter(anonymized_at__isnull=True, cases__isnull=False)
        .exclude(cases__in=Case.objects.filter(~Q(state__in=FINAL_STATES)))
        .annotate(last_case=Max("cases__updated_at"))
        .filter(last_case__lt=cutoff)
        .distinct()
    )


def retention_anonymise(*, now=None, batch=200):
    """The scheduled task: anonymise every customer past the retention period, in batches.
    Idempotent: an anonymised customer is no longer due, and anonymising twice does nothing."""
    done = 0
    while True:
        ids = list(retention_due(now).order_by("pk").values_list("pk", flat=True)[:batch])
        if not ids:
            return done
        for customer in Customer.objects.filter(pk__in=ids):
            customer_anonymise(
                customer=customer,
                user=None,
                reason=_("Retention period of %(days)s days passed.")
                % {"days": settings.PIPL_RETENTION_DAYS},
                now=now,
                retention=True,
            )
            done += 1


# --- subject access -----------------------------------------------------------------------


def _related_rows(customer):
    """{model label: queryset} of every row pointing at the customer, and of every row
    pointing at one of its cases (found through the model registry, so the follow-up app's
    surveys, answers and calls come without this module importing it)."""
    sections = {}
    cases = Case.objects.filter(customer=customer)
    for relation in Customer._meta.related_objects:
        model = relation.related_model
        if model is PersonalDataLog:
            continue
        if relation.one_to_many or relation.one_to_one:
            sections[model._meta.label] = model._default_manager.filter(
                **{relation.field.name: customer}
            )
    for relation in Case._meta.related_objects:
        model = relation.related_model
        if model in (PersonalDataLog, Case) or not (relation.one_to_many or relation.one_to_one):
            continue
        if model._meta.label in sections:
            continue
        sections[model._meta.label] = model._default_manager.filter(
            **{f"{relation.field.name}__in": cases}
        )
    return sections


def customer_subject_export(*, customer, user):
    """Everything we hold about `customer`: a zip with data.json (the customer and every
    related row, as Django's JSON serialisation) and the attachment files. Logged."""
    if user is None or not user.has_perm("complaints.export_customer_data"):
        raise PermissionDenied(_("You may not export customers' data."))
    buffer = io.BytesIO()
    payload = {"customer": json.loads(serializers.serialize("json", [customer]))}
    attachments = []
    for label, rows in sorted(_related_rows(customer).items()):
        rows = list(rows.order_by("pk"))
        if label == "complaints.Attachment":
            attachments = rows
        payload[label] = json.loads(serializers.serialize("json", rows))
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(
            "data.json", json.dumps(payload, ensure_ascii=False, indent=2, default=str)
        )
        for attachment in attachments:
            if not attachment.file:
                continue
            try:
                with attachment.file.open("rb") as handle:
                    name = (
                        f"attachments/{attachment.pk}-{os.path.basename(attachment.original_name)}"
                    )
                    archive.writestr(name, handle.read())
            except OSError:
                continue  # the file is gone: data.json still lists the attachment
    log_access(
        user=user,
        action=PrivacyAction.SUBJECT_ACCESS,
        customer=customer,
        where=_("subject-access export"),
        detail=_("%(files)s attachment file(s)") % {"files": len(attachments)},
    )
    return buffer.getvalue()
