"""Changes to a case outside its transitions: progress updates and notes, edits of its
details, evidence files, and drafting a knowledge article from it."""

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from knowledge.models import ArticleCategory
from knowledge.services import article_create

from . import similar_store
from .deadlines import _complete_stages, case_refresh_deadlines
from .models import Attachment, Case, CaseEvent, EventKind, State, validate_promised_time
from .transitions import CaseChanged

# --- other changes -----------------------------------------------------------------------


def case_add_event(*, case, user, message, kind=EventKind.PROGRESS, customer_notified=False,
                   next_contact_at=None, expected_resolution_at=None, expected_version=None,
                   now=None):  # fmt: skip
    """Add a progress update or internal note to the timeline. Optionally record the next
    promised contact (沟通节点) and the expected resolution time told to the customer.
    A public reply (kind REPLY, written by the channels app) always counts as the customer
    told."""
    if kind not in (EventKind.PROGRESS, EventKind.NOTE, EventKind.REPLY):
        raise ValidationError({"kind": _("Only progress updates and notes can be added.")})
    customer_notified = customer_notified or kind == EventKind.REPLY
    if not (message or "").strip():
        raise ValidationError({"message": _("Write what happened.")})
    now = now or timezone.now()
    for field, value in (
        ("next_contact_at", next_contact_at),
        ("expected_resolution_at", expected_resolution_at),
    ):
        if value is not None and value < now - datetime.timedelta(minutes=5):
            raise ValidationError({field: _("This time is in the past.")})
        try:
            validate_promised_time(value)
        except ValidationError as exc:
            raise ValidationError({field: exc.messages}) from exc
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and int(expected_version) != locked.version:
            raise CaseChanged(locked)
        if user is not None and not locked.is_visible_to(user):
            raise PermissionDenied(_("You do not have permission for this step on this case."))
        data = {}
        if customer_notified:
            _complete_stages(locked, None, customer_notified=True, now=now)
        if kind == EventKind.PROGRESS:
            locked.last_progress_at = now  # 002 daily tracking: the next update is due tomorrow
        if next_contact_at is not None:
            locked.next_contact_at = next_contact_at
            locked.next_contact_met_at = None  # a new promise
            data["next_contact_at"] = next_contact_at.isoformat()
        if expected_resolution_at is not None:
            locked.expected_resolution_at = expected_resolution_at
            data["expected_resolution_at"] = expected_resolution_at.isoformat()
        case_refresh_deadlines(locked, now=now)
        locked.version += 1
        locked.save()
        event = CaseEvent.objects.create(
            case=locked, kind=kind, message=message.strip(), customer_notified=customer_notified,
            data=data, author=user, created_at=now,
        )  # fmt: skip
    return event


# Fields staff may edit directly (the rest change only through transitions or intake).
EDITABLE_FIELDS = [
    "subject", "description", "customer_words", "expected_outcome", "prior_history", "type",
    "category", "product", "order_no", "urgency", "priority", "cause", "expected_resolution_at",
    "next_contact_at", "remarks", "feedback_text",
]  # fmt: skip


def case_update(*, case, user, expected_version=None, **changes):
    """Edit a case's details; records what changed (old → new) on the timeline."""
    unknown = set(changes) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValidationError({f: _("This field cannot be changed here.") for f in unknown})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and int(expected_version) != locked.version:
            raise CaseChanged(locked)
        if user is not None and not locked.is_visible_to(user):
            raise PermissionDenied(_("You do not have permission for this step on this case."))
        diff = {}
        for field, value in changes.items():
            old = getattr(locked, field)
            if old != value:
                setattr(locked, field, value)
                diff[field] = [_display(old), _display(value)]
        if not diff:
            return locked
        locked.full_clean(exclude=["customer", "department", "assignee", "merged_into", "state"])
        if {"urgency", "priority", "next_contact_at"} & set(diff):
            if "next_contact_at" in diff:
                locked.next_contact_met_at = None
            case_refresh_deadlines(locked)
        locked.version += 1
        locked.save()
        if {"subject", "description", "customer_words"} & set(diff):
            similar_store.forget(locked)  # its suggestions are picked again for the new text
        labels = ", ".join(str(Case._meta.get_field(f).verbose_name) for f in diff)
        CaseEvent.objects.create(
            case=locked, kind=EventKind.CHANGE, author=user, data=diff,
            message=_("Changed: %(fields)s") % {"fields": labels},
        )  # fmt: skip
    return locked


def _display(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    return value if isinstance(value, (int, float, bool)) or value is None else str(value)


def case_add_attachment(*, case, file, user, description="", log=True):
    """Store an evidence file (validated for type and size) on the case."""
    att = Attachment(
        case=case, file=file, original_name=(getattr(file, "name", "") or "")[:255],
        size=getattr(file, "size", 0) or 0, description=description, uploaded_by=user,
    )  # fmt: skip
    att.full_clean(exclude=["case"])
    att.save()
    if log:
        CaseEvent.objects.create(
            case=case, kind=EventKind.ATTACHMENT, author=user,
            message=_("Attachment added: %(name)s") % {"name": att.original_name},
        )  # fmt: skip
    return att


# --- knowledge ---------------------------------------------------------------------------


def case_create_article(*, case, user):
    """Turn a resolved case into a draft knowledge article (problem, cause, solution filled
    in from the case) linked to it as its source. Returns the article."""
    if case.state not in (State.RESOLVED, State.CLOSED):
        raise ValidationError(
            {"__all__": _("Only a resolved or closed case can become an article.")}
        )
    if not case.is_visible_to(user):
        raise PermissionDenied(_("You do not have permission for this step on this case."))
    sections = [
        (_("Problem"), case.description or case.subject),
        (_("What the customer said"), case.customer_words),
        (_("Cause"), case.cause),
        (_("Solution"), case.result or case.solution),
    ]
    body = "\n\n".join(f"## {title}\n\n{text.strip()}" for title, text in sections if text.strip())
    with transaction.atomic():
        article = article_create(
            user=user,
            title=case.subject,
            body=body,
            category=ArticleCategory.TROUBLESHOOTING,
            summary=(case.result or case.solution or "")[:200],
            tags=", ".join(x for x in [case.get_category_display(), case.product] if x),
            reason=_("Written from case %(number)s") % {"number": case.number},
        )
        case.articles.add(article)
        CaseEvent.objects.create(
            case=case, kind=EventKind.NOTE, author=user,
            message=_("Knowledge article drafted from this case: %(title)s") % {"title": article.title},
            data={"article": article.pk},
        )  # fmt: skip
    return article
