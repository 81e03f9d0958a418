"""Case workflows: the only place that changes a case and causes side effects.

Every entry point (admin, public form, REST API, follow-up calls) calls these functions.
Each locks the case row, checks, changes, saves, writes the timeline event and enqueues
follow-up work on commit.
"""

import datetime
import decimal
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_fsm import TransitionNotAllowed

from knowledge.models import ArticleCategory
from knowledge.services import article_create, plan_governing_revision
from servicedesk.calendar.services import calendar_missing_year_warn, load_calendar
from servicedesk.rota.models import on_duty_q
from servicedesk.rota.services import absent_ids, on_duty_ids
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Membership, User
from servicedesk.staff.services import notify, notify_bulk

from . import escalation, intake, returns, sla
from .models import (
    ACTIVE_STATES,
    RETURN_STEP_NAMES,
    TRANSITION_NAMES,
    Attachment,
    Case,
    CaseContact,
    CaseEvent,
    CaseNumberSequence,
    CaseType,
    Customer,
    EventKind,
    RefundMethod,
    ReturnReason,
    ReturnRequest,
    SlaBreach,
    SlaStage,
    State,
    TechnicalRequest,
    normalize_email,
    normalize_member_no,
    normalize_phone,
    validate_promised_time,
)

# Sent after commit. Higher apps (deadlines, surveys, reports) connect to these instead of
# being imported here: `sender=Case, case=..., event=...`.
case_created = Signal()
case_transitioned = Signal()
case_contact_added = Signal()
# Sent inside the transaction that bulk-created timeline entries (intake, the escalation
# sweep), since bulk_create sends no post_save: `sender=Case, events=[CaseEvent, ...]` — each
# with its case attached (on PostgreSQL's set-based sweep, entries built from what it wrote).
case_events_bulk_created = Signal()


class CaseChanged(Exception):
    """The case was changed by someone else since the caller loaded it."""

    def __init__(self, case):
        self.case = case
        super().__init__(
            _("Case %(number)s was changed by someone else. Reload it and try again.")
            % {"number": case.number}
        )


@dataclass
class IntakeResult:
    case: Case
    absorbed: bool
    contact: CaseContact
    customer_created: bool


# --- customers ---------------------------------------------------------------------------

CUSTOMER_FIELDS = [
    "name", "member_no", "phone", "email", "preferred_contact", "kind", "tier", "company", "industry",
    "language",
]  # fmt: skip


def customer_find(*, phone="", email="", member_no=""):
    """The customer these contact details belong to, or None. Member number is the strongest
    key, then phone, then e-mail (all normalised)."""
    keys = [
        ("member_no_normalized", normalize_member_no(member_no)),
        ("phone_normalized", normalize_phone(phone)),
        ("email_normalized", normalize_email(email)),
    ]
    keys = [(f, v) for f, v in keys if v]
    if not keys:
        return None
    q = Q()
    for field, value in keys:
        q |= Q(**{field: value})
    found = list(
        Customer.objects.filter(q, anonymized_at__isnull=True)
        # Intake's "new customer?" answered in the same query.
        .annotate(has_cases=Exists(Case.objects.filter(customer=OuterRef("pk"))))
        .order_by("created_at")[:20]
    )
    for field, value in keys:
        for c in found:
            if getattr(c, field) == value:
                return c
    return None


def customer_find_or_create(*, data):
    """Find the customer by their contact details or create them; fill details we lacked.
    Raises ValidationError with field errors (prefixed by nothing) on bad data."""
    data = {k: (v or "") for k, v in data.items() if k in CUSTOMER_FIELDS and v is not None}
    if not data.get("language"):
        data.pop("language", None)  # not stated: the default, or what we knew
    customer = customer_find(
        phone=data.get("phone", ""),
        email=data.get("email", ""),
        member_no=data.get("member_no", ""),
    )
    if customer is None:
        customer = Customer(**data)
        customer.full_clean()
        customer.save()
        return customer, True
    changed = [f for f, v in data.items() if v and not getattr(customer, f)]
    if data.get("language") and data["language"] != customer.language:
        changed.append("language")  # the language they last wrote to us in
    for f in changed:
        setattr(customer, f, data[f])
    if changed:
        customer.full_clean()
        customer.save()
    return customer, False


# --- intake ------------------------------------------------------------------------------


def _next_number(now):
    """`YYYYMM-NNNNN` by local month, in one upsert. The sequence row stays locked for the
    rest of the transaction, so concurrent intakes queue for it and never share a number —
    and everything intake does after taking its number (the least-loaded choice) runs one
    intake at a time and sees the previous intake's assignment."""
    period = timezone.localtime(now).strftime("%Y%m")
    table = connection.ops.quote_name(CaseNumberSequence._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (period, last) VALUES (%s, 1) "
            f"ON CONFLICT (period) DO UPDATE SET last = {table}.last + 1 RETURNING last",
            [period],
        )
        (last,) = cursor.fetchone()
    return f"{period}-{last:05d}"


def handler_candidates(department, now):
    """The active members of `department` who can work cases and are on duty at `now`: those
    intake may assign."""
    can_work = User.groups.through.objects.filter(
        user_id=OuterRef("pk"), group__name__in=[roles.HANDLER, roles.AGENT]
    )
    return (
        User.objects.filter(is_active=True, memberships__department=department)
        .filter(Exists(can_work))
        .filter(on_duty_q(now, department))
    )


def least_loaded(users):
    """Of `users` (a queryset), the one with the fewest active cases (ties: the earliest
    account). One query; each count reads only that person's open cases through the partial
    index case_open_by_assignee_idx, so its cost does not grow with the case history."""
    open_cases = (
        Case.objects.filter(assignee=OuterRef("pk"), state__in=ACTIVE_STATES)
        .order_by()
        .values("assignee")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return users.annotate(load=Coalesce(Subquery(open_cases), 0)).order_by("load", "pk").first()


def least_loaded_handler(department, now=None):
    """The member of `department` intake assigns a new case to: the least loaded of those on
    duty now (the rota: not absent, on a shift, or in a department without a rota)."""
    return least_loaded(handler_candidates(department, now or timezone.now()))


def _absorb(*, case, channel, subject, text, similarity, user, now):
    contact = CaseContact.objects.create(
        case=case, channel=channel, received_at=now, subject=subject, raw_text=text,
        similarity=round(similarity, 3), created_by=user,
    )  # fmt: skip
    CaseEvent.objects.create(
        case=case,
        kind=EventKind.CONTACT,
        message=_("The customer contacted us again via %(channel)s: %(subject)s")
        % {"channel": contact.get_channel_display(), "subject": subject},
        data={"channel": channel, "similarity": round(similarity, 3)},
        author=user,
        created_at=now,
    )
    Case.objects.filter(pk=case.pk).update(version=case.version + 1, updated_at=now)
    case.version += 1
    return contact


def case_intake(
    *,
    channel,
    customer,
    subject,
    description,
    type,
    category,
    customer_words="",
    expected_outcome="",
    prior_history="",
    product="",
    order_no="",
    urgency=None,
    priority=None,
    remarks="",
    department=None,
    assignee=None,
    return_request=None,
    attachments=(),
    user=None,
    now=None,
):
    """Register what a customer told us, through any channel. One way in for every entry point.

    `customer` is a dict of customer fields. Returns an IntakeResult: either a new case, or —
    when the same customer has an open case with a similar subject received within the
    de-duplication window — the existing case with the contact added (`absorbed=True`).
    Raises ValidationError with field errors; nothing is saved then.
    """
    now = now or timezone.now()
    text = f"{subject}\n{description}\n{customer_words}"

    with transaction.atomic():
        cust, customer_created = customer_find_or_create(data=customer)

        if not customer_created:
            window_start = now - datetime.timedelta(days=settings.CASE_DEDUP_WINDOW_DAYS)
            candidates = list(
                Case.objects.select_for_update()
                .filter(customer=cust, state__in=ACTIVE_STATES, created_at__gte=window_start)
                .order_by("-created_at")[:50]
            )
            match = intake.best_duplicate(subject, candidates, settings.CASE_DEDUP_SIMILARITY)
            if match:
                existing, score = match
                contact = _absorb(
                    case=existing, channel=channel, subject=subject, text=text, similarity=score,
                    user=user, now=now,
                )  # fmt: skip
                for f in attachments:
                    case_add_attachment(case=existing, file=f, user=user, log=False)
                transaction.on_commit(
                    lambda: case_contact_added.send(sender=Case, case=existing, contact=contact)
                )
                return IntakeResult(existing, True, contact, False)

        fired = intake.apply_urgency_rules(text, intake.active_urgency_rules())
        case = Case(
            channel=channel, customer=cust, subject=subject, description=description,
            customer_words=customer_words, expected_outcome=expected_outcome,
            prior_history=prior_history, type=type, category=category, product=product,
            order_no=order_no, remarks=remarks, created_by=user, created_at=now,
            customer_is_new=customer_created or not cust.has_cases,
        )  # fmt: skip
        if urgency:
            case.urgency = urgency
        if priority:
            case.priority = priority
        if fired:
            case.urgency, case.priority = intake.raise_urgency(
                case.urgency, case.priority, fired.urgency, fired.priority
            )
            case.urgency_reason = _("Rule “%(rule)s” fired on “%(keyword)s”") % {
                "rule": fired.rule.name,
                "keyword": fired.keyword,
            }
        rule = None
        if department is None:
            rule = intake.route(
                intake.active_routing_rules(),
                case_type=type, category=category, text=text, product=product,
            )  # fmt: skip
            department = rule.department if rule else None
        case.department = department
        # The plan in force now governs this case for its whole life (its deadlines).
        case.plan_revision = plan_governing_revision(case_type=type, category=category)
        case.number = "000000-00000"  # placeholder so full_clean reports only real errors
        # Related rows were loaded as instances (no existence queries); the table's CHECK
        # constraints repeat the field validators (priority 1–5) or concern later steps.
        case.full_clean(
            exclude=["number", "customer", "state", "department", "assignee", "created_by",
                     "plan_revision"],
            validate_constraints=False,
        )  # fmt: skip
        rr = None
        if type == CaseType.RETURN_EXCHANGE or return_request:
            rr = ReturnRequest(
                case=case, order_no=order_no, product=product, **(return_request or {})
            )
            try:
                rr.full_clean(exclude=["case", "step"])
            except ValidationError as exc:
                # Flat keys: ValidationError cannot nest a dict inside a dict.
                raise ValidationError(
                    {f"return_request.{k}": v for k, v in exc.message_dict.items()}
                ) from exc
        for f in attachments:
            Attachment(case=case, file=f).clean_fields(exclude=["case"])

        case.number = _next_number(now)  # from here on, one intake at a time
        case.cycle_started_at = now
        events = [
            CaseEvent(
                case=case,
                kind=EventKind.CREATED,
                to_state=State.RECEIVED,
                message=_("Received via %(channel)s") % {"channel": case.get_channel_display()},
                data={
                    "urgency_rule": fired.rule.name if fired else None,
                    "keyword": fired.keyword if fired else None,
                    "routing_rule": rule.name if rule else None,
                },
                author=user,
                created_at=now,
            )
        ]
        nobody_on_duty = ""
        # Assigned before the first save: one INSERT of the case in its assigned state and
        # its two events together, instead of an INSERT, an UPDATE and two INSERTs.
        if department is not None and assignee is not None:
            _apply_inputs(case, "assign", {"department": department, "assignee": assignee}, user)
        elif department is not None and (rule is None or rule.assign_automatically):
            case.assignee = least_loaded_handler(department, now)  # a member by construction
            if case.assignee is None:
                # Nobody on duty: the case waits in the department's queue for a dispatcher.
                nobody_on_duty = _(
                    "Nobody in %(department)s is on duty now: the case waits in the "
                    "department's queue."
                ) % {"department": department.name}
        if case.assignee is not None:
            case.assign()
            case.version += 1
            message, data = _assign_event_text(
                case, _("Assigned automatically") if user is None or rule else ""
            )
            events.append(
                CaseEvent(
                    case=case, kind=EventKind.TRANSITION, transition="assign",
                    from_state=State.RECEIVED, to_state=case.state, message=message, data=data,
                    author=user, created_at=now,
                )
            )  # fmt: skip
        case_refresh_deadlines(case, now=now, breaches={})
        case.save()
        contact = CaseContact.objects.create(
            case=case, channel=channel, received_at=now, subject=subject, raw_text=text,
            created_by=user,
        )  # fmt: skip
        CaseEvent.objects.bulk_create(events)
        case_events_bulk_created.send(sender=Case, events=events)
        if nobody_on_duty:
            CaseEvent.objects.create(
                case=case, kind=EventKind.NOTE, author=None, created_at=now, message=nobody_on_duty
            )
        if rr is not None:
            rr.case = case
            rr.check_window(today=timezone.localtime(now).date())
            rr.save()
            if rr.outside_window:
                CaseEvent.objects.create(
                    case=case, kind=EventKind.NOTE, author=None, created_at=now,
                    message=_("Return request flagged: %(note)s") % {"note": rr.window_note},
                )  # fmt: skip
        for f in attachments:
            case_add_attachment(case=case, file=f, user=user, log=False)

        transaction.on_commit(lambda: case_created.send(sender=Case, case=case))
        if len(events) > 1:
            transaction.on_commit(
                lambda: case_transitioned.send(
                    sender=Case, case=case, event=events[1], name="assign"
                )
            )
    return IntakeResult(case, False, contact, customer_created)


# --- transitions -------------------------------------------------------------------------


def _require(inputs, field, message):
    value = inputs.get(field)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError({field: message})
    return value.strip() if isinstance(value, str) else value


def _apply_inputs(case, name, inputs, user):
    """Validate a transition's input (field errors) and set it on the locked case."""
    if name == "assign":
        dept = _require(inputs, "department", _("Choose the department that handles the case."))
        assignee = _require(inputs, "assignee", _("Choose the person responsible."))
        if not isinstance(dept, Department):
            dept = Department.objects.filter(pk=dept, is_active=True).first()
            if dept is None:
                raise ValidationError({"department": _("Unknown department.")})
        if not isinstance(assignee, User):
            assignee = User.objects.filter(pk=assignee).first()
            if assignee is None:
                raise ValidationError({"assignee": _("Unknown staff member.")})
        if not assignee.is_active:
            raise ValidationError({"assignee": _("This staff member is not active.")})
        if not (
            assignee.sees_all_departments or assignee.memberships.filter(department=dept).exists()
        ):
            raise ValidationError(
                {
                    "assignee": _("%(user)s is not a member of %(dept)s.")
                    % {"user": assignee, "dept": dept}
                }
            )
        case.department, case.assignee = dept, assignee
    elif name == "propose_solution":
        case.solution = _require(inputs, "solution", _("Describe the proposed solution."))
    elif name == "resolve":
        case.result = _require(inputs, "result", _("Describe the result of the handling."))
        if inputs.get("cause"):
            case.cause = inputs["cause"].strip()
    elif name in ("reopen", "cancel"):
        _require(inputs, "reason", _("Give the reason."))
    elif name == "merge":
        into = _require(inputs, "into", _("Give the number of the case to merge into."))
        if not isinstance(into, Case):
            into = Case.objects.filter(number=str(into).strip()).first()
            if into is None:
                raise ValidationError({"into": _("No case with this number.")})
        if into.pk == case.pk:
            raise ValidationError({"into": _("A case cannot be merged into itself.")})
        if into.state not in ACTIVE_STATES and into.state != State.RESOLVED:
            raise ValidationError(
                {
                    "into": _("Case %(number)s is finished; merge into an open case.")
                    % {"number": into.number}
                }
            )
        if user is not None and not into.is_visible_to(user):
            raise ValidationError({"into": _("No case with this number.")})
        case.merged_into = into


def _unmet_condition(case, name):
    """Field errors for a transition whose conditions fail after its input was applied."""
    messages = {
        "assign": {"assignee": _("Assignment needs a department and a person.")},
        "start_investigation": {
            "assignee": _("Assign the case to a department and a person first.")
        },
        "propose_solution": {"solution": _("Describe the proposed solution.")},
        "resolve": {"result": _("Describe the result of the handling.")},
        "close": {
            "feedback_score": _(
                "The satisfaction follow-up is not done. Record the customer's feedback, or have a supervisor waive it."
            )
        },
        "merge": {"into": _("Choose an open case to merge into.")},
    }
    return messages.get(name, {"__all__": _("The conditions for this step are not met.")})


_STEP_TIMESTAMPS = {"resolve": "resolved_at", "close": "closed_at"}


def _do_transition(case, name, *, user, inputs, note="", customer_notified=False,
                   check_permission=True, now=None):  # fmt: skip
    """Run transition `name` on the already locked `case`; save; write the event."""
    if name not in TRANSITION_NAMES:
        raise TransitionNotAllowed(_("Unknown step “%(name)s”.") % {"name": name})
    method = getattr(case, name)
    meta = method._django_fsm
    if check_permission:
        any_transition = next(iter(meta.transitions.values()))
        if user is None or not any_transition.has_perm(case, user):
            raise PermissionDenied(_("You do not have permission for this step on this case."))
    source = case.state
    if not meta.has_transition(source):
        raise TransitionNotAllowed(
            _("“%(step)s” is not possible while the case is “%(state)s”.")
            % {"step": _label(name), "state": case.get_state_display()}
        )
    _apply_inputs(case, name, inputs, user)
    if not meta.conditions_met(case, source):
        raise ValidationError(_unmet_condition(case, name))
    method()
    if now is not None and name in _STEP_TIMESTAMPS:
        # Backdated work (demo data, imported history): the step's own time follows `now`.
        setattr(case, _STEP_TIMESTAMPS[name], now)
    _complete_stages(case, name, customer_notified=customer_notified, now=now or timezone.now())
    case_refresh_deadlines(case, now=now)
    case.version += 1
    case.save()
    reason = (inputs.get("reason") or "").strip()
    message = "\n".join(x for x in [reason, (note or "").strip()] if x)
    data = {}
    if name == "assign":
        message, data = _assign_event_text(case, message)
    elif name == "propose_solution":
        message = message or case.solution
    elif name == "resolve":
        message = message or case.result
    elif name == "merge":
        data = {"into": case.merged_into.number}
        message = message or _("Merged into %(number)s") % {"number": case.merged_into.number}
    event = CaseEvent.objects.create(
        case=case, kind=EventKind.TRANSITION, transition=name, from_state=source,
        to_state=case.state, message=message, customer_notified=customer_notified,
        data=data, author=user, created_at=now or timezone.now(),
    )  # fmt: skip
    transaction.on_commit(
        lambda: case_transitioned.send(sender=Case, case=case, event=event, name=name)
    )
    return case


def _assign_event_text(case, message):
    """(message, data) of an assignment's timeline entry."""
    data = {"department": case.department.name, "assignee": str(case.assignee)}
    message = message or _("Assigned to %(dept)s / %(user)s") % {
        "dept": case.department,
        "user": case.assignee,
    }
    return message, data


def _label(name):
    method = getattr(Case, name, None)
    meta = getattr(method, "_django_fsm", None)
    if meta:
        for t in meta.transitions.values():
            return str(t.custom.get("label", name))
    return name


def case_transition(*, case, name, user, expected_version=None, note="", customer_notified=False,
                    now=None, **inputs):  # fmt: skip
    """Move `case` through transition `name` for `user`.

    Raises PermissionDenied (no permission), TransitionNotAllowed (not from this state),
    CaseChanged (someone changed the case since `expected_version`) or ValidationError
    (missing or bad input, unmet condition). Nothing is saved on error. `now` backdates the
    step (demo data, imported history); by default it happens now.
    """
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and int(expected_version) != locked.version:
            raise CaseChanged(locked)
        locked = _do_transition(
            locked, name, user=user, inputs=inputs, note=note, customer_notified=customer_notified,
            now=now,
        )  # fmt: skip
        if name == "merge":
            survivor = Case.objects.select_for_update().get(pk=locked.merged_into_id)
            CaseContact.objects.create(
                case=survivor, channel=locked.channel, received_at=locked.created_at,
                subject=locked.subject, raw_text=_("Merged from %(number)s") % {"number": locked.number},
                created_by=user,
            )  # fmt: skip
            CaseEvent.objects.create(
                case=survivor, kind=EventKind.MERGE, author=user,
                message=_("Case %(number)s was merged into this case.") % {"number": locked.number},
                data={"merged": locked.number}, created_at=now or timezone.now(),
            )  # fmt: skip
            survivor.version += 1
            survivor.save(update_fields=["version", "updated_at"])
    if name == "assign" and locked.assignee_id and locked.assignee_id != getattr(user, "pk", None):
        notify_assignee(locked)
    return locked


def available_transitions(case, user):
    """The transitions `user` may start on `case` in its current state (buttons to show)."""
    out = []
    for name in TRANSITION_NAMES:
        meta = getattr(case, name)._django_fsm
        t = meta.get_transition(case.state)
        if t is not None and t.has_perm(case, user):
            out.append((name, t.custom.get("label", name), t.custom.get("inputs", [])))
    return out


def notify_assignee(case):
    transaction.on_commit(
        lambda: notify(
            recipients=[case.assignee],
            event_key=f"case:{case.number}:assigned:{case.version}",
            subject=_("Case %(number)s assigned to you: %(subject)s")
            % {"number": case.number, "subject": case.subject},
            body=case.description[:500],
            link=f"/admin/complaints/case/{case.pk}/change/",
        )
    )


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


def case_add_contact(*, case, channel, subject, text, attachments=(), now=None):
    """The customer wrote again about `case` (a reply by e-mail or WeChat): the contact goes on
    the case; a resolved case is reopened, a merged one passes it to the case it was merged
    into. Returns (case, contact); the caller opens a new case instead when the case is
    closed or cancelled (`case_accepts_contact`)."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        while locked.state == State.MERGED and locked.merged_into_id:
            locked = Case.objects.select_for_update().get(pk=locked.merged_into_id)
        if locked.state == State.RESOLVED:
            locked = _do_transition(
                locked, "reopen", user=None, check_permission=False, now=now,
                inputs={"reason": _("The customer replied after the case was resolved.")},
            )  # fmt: skip
        contact = _absorb(
            case=locked, channel=channel, subject=subject[:200], text=text, similarity=1.0,
            user=None, now=now,
        )  # fmt: skip
        for f in attachments:
            case_add_attachment(case=locked, file=f, user=None)
        transaction.on_commit(
            lambda: case_contact_added.send(sender=Case, case=locked, contact=contact)
        )
    return locked, contact


def case_accepts_contact(case):
    """Whether a customer's reply can go on `case` (else it opens a new case)."""
    return case.state not in (State.CLOSED, State.CANCELLED)


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


def case_waive_satisfaction(*, case, user, reason):
    """A supervisor lets a resolved case close without the satisfaction follow-up."""
    if not user.has_perm("complaints.waive_satisfaction"):
        raise PermissionDenied(_("Only a supervisor can waive the satisfaction step."))
    if not (reason or "").strip():
        raise ValidationError({"reason": _("Give the reason.")})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        locked.satisfaction_waived_by = user
        locked.satisfaction_done_at = locked.satisfaction_done_at or timezone.now()
        case_refresh_deadlines(locked)
        locked.version += 1
        locked.save()
        CaseEvent.objects.create(
            case=locked, kind=EventKind.NOTE, author=user,
            message=_("Satisfaction follow-up waived: %(reason)s") % {"reason": reason.strip()},
        )  # fmt: skip
    return locked


def case_record_feedback(*, case, score, text="", user=None, now=None):
    """The customer's satisfaction score (1–5) and words, from a follow-up or survey."""
    if score is None or not 1 <= int(score) <= 5:
        raise ValidationError({"feedback_score": _("The score must be between 1 and 5.")})
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        locked.feedback_score = int(score)
        locked.feedback_text = (text or "").strip()
        locked.satisfaction_done_at = locked.satisfaction_done_at or now or timezone.now()
        case_refresh_deadlines(locked, now=now)
        locked.version += 1
        locked.save()
        CaseEvent.objects.create(
            case=locked, kind=EventKind.NOTE, author=user,
            message=_("Customer feedback: %(score)s/5 %(text)s") % {"score": score, "text": text or ""},
            data={"feedback_score": int(score)}, created_at=now or timezone.now(),
        )  # fmt: skip
    return locked


# --- return / exchange steps -------------------------------------------------------------

RETURN_STEP_MESSAGES = {
    "review_comment": gettext_lazy("Write the review comment for the customer."),
    "tracking_no": gettext_lazy("Enter the return tracking number."),
    "inspection_result": gettext_lazy("Describe what the inspection found."),
    "refund_amount": gettext_lazy("Enter a refund amount of zero or more."),
    "refund_method": gettext_lazy("Choose how the money goes back."),
}


def available_return_steps(return_request, user):
    """[(name, label, [(input, required)])] the user may take on this return request now."""
    if not (
        user.has_perm("complaints.change_returnrequest") and return_request.case.is_visible_to(user)
    ):
        return []
    out = []
    for name in RETURN_STEP_NAMES:
        t = getattr(return_request, name)._django_fsm.get_transition(return_request.step)
        if t is not None:
            inputs = [(i.rstrip("?"), not i.endswith("?")) for i in t.custom.get("inputs", [])]
            out.append((name, t.custom["label"], inputs))
    return out


def return_request_step(*, case, step, user, expected_version=None, **inputs):
    """Move a case's return/exchange request one step (review, instructions sent, shipped back
    with tracking number, inspected, refunded or exchanged), logged on the case timeline."""
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        if expected_version is not None and int(expected_version) != locked.version:
            raise CaseChanged(locked)
        rr = ReturnRequest.objects.select_for_update().filter(case=locked).first()
        if rr is None:
            raise TransitionNotAllowed(_("This case has no return / exchange request."))
        if step not in RETURN_STEP_NAMES:
            raise TransitionNotAllowed(_("Unknown step “%(name)s”.") % {"name": step})
        if not (user.has_perm("complaints.change_returnrequest") and locked.is_visible_to(user)):
            raise PermissionDenied(_("You do not have permission for this step on this case."))
        meta = getattr(rr, step)._django_fsm
        t = meta.get_transition(rr.step)
        if t is None:
            raise TransitionNotAllowed(
                _("“%(step)s” is not possible while the return request is “%(state)s”.")
                % {"step": next(iter(meta.transitions.values())).custom["label"],
                   "state": rr.get_step_display()}
            )  # fmt: skip
        errors = {}
        for spec in t.custom.get("inputs", []):
            field, required = spec.rstrip("?"), not spec.endswith("?")
            value = inputs.get(field)
            if isinstance(value, str):
                value = value.strip()
            if value in (None, ""):
                if required:
                    errors[field] = RETURN_STEP_MESSAGES[field]
                continue
            if field == "refund_amount":
                try:
                    value = decimal.Decimal(str(value))
                except decimal.InvalidOperation:
                    value = None
                if value is None or value < 0:
                    errors[field] = RETURN_STEP_MESSAGES[field]
                    continue
            setattr(rr, field, value)
        method = inputs.get("refund_method")
        if method and method not in RefundMethod.values:
            errors["refund_method"] = RETURN_STEP_MESSAGES["refund_method"]
        if (
            step == "approve"
            and rr.reason == ReturnReason.QUALITY
            and not locked.attachments.exists()
        ):
            # 004: a quality return is approved on evidence (a photo or an inspection report).
            errors["evidence"] = _(
                "A quality return needs evidence before approval: attach a photo or an "
                "inspection report to the case."
            )
        if errors:
            raise ValidationError(errors)
        before = rr.step
        getattr(rr, step)()
        rr.save()
        instructions = None
        if step == "notify_customer":
            instructions = returns.return_instructions_send(case=locked, return_request=rr)
        locked.version += 1
        locked.save(update_fields=["version", "updated_at"])
        CaseEvent.objects.create(
            case=locked, kind=EventKind.RETURN_STEP, author=user, transition=step,
            message=" ".join(
                str(x) for x in [t.custom["label"], rr.tracking_no if step == "ship_back" else "",
                                 inputs.get("review_comment") or inputs.get("inspection_result") or ""]
                if x
            ),
            data={"from": before, "to": rr.step, **({"instructions": instructions} if instructions else {})},
        )  # fmt: skip
    return rr


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


# --- deadlines and escalation --------------------------------------------------------------


def _complete_stages(case, name, *, customer_notified, now):
    """Record which deadline stages the step `name` (None: a progress update) completes.

    Anything the customer is told is a first response and keeps a promised contact; a
    proposed solution ends the investigation (and, told to the customer, the solution
    stage); resolving answers all three. Reopening starts a new handling cycle.
    """
    if name == "reopen":
        case.cycle_started_at = now
        case.investigation_done_at = case.solution_sent_at = None
        case.satisfaction_done_at = None
        case.escalation_level = 0
        return
    answered = customer_notified or name in ("propose_solution", "resolve")
    if answered and case.first_response_at is None:
        case.first_response_at = now
    if name in ("propose_solution", "resolve") and case.investigation_done_at is None:
        case.investigation_done_at = now
    if (name == "resolve" or (name == "propose_solution" and customer_notified)) and (
        case.solution_sent_at is None
    ):
        case.solution_sent_at = now
    if customer_notified and case.next_contact_at and case.next_contact_met_at is None:
        case.next_contact_met_at = now


def _breach_levels(case_ids):
    """{case_id: {(stage, due_at): {levels}}} of escalations already raised (one query)."""
    found = {}
    rows = SlaBreach.objects.filter(case_id__in=case_ids, technical_request__isnull=True)
    for case_id, stage, due_at, level in rows.values_list("case_id", "stage", "due_at", "level"):
        found.setdefault(case_id, {}).setdefault((stage, due_at), set()).add(level)
    return found


def case_refresh_deadlines(case, *, now=None, breaches=None):
    """Recompute the case's deadlines from its plan revision, urgency and completed stages,
    and when the sweep should next look at it. Changes the instance; the caller saves."""
    now = now or timezone.now()
    cal = load_calendar()
    plan = sla.PlanLimits.from_revision(case.plan_revision)
    clock = sla.CaseClock(
        received_at=case.created_at,
        urgency=case.urgency,
        cycle_started_at=case.cycle_started_at or case.created_at,
        first_response_at=case.first_response_at,
        investigation_done_at=case.investigation_done_at,
        resolved_at=case.resolved_at,
        priority=case.priority or 0,
        last_progress_at=case.last_progress_at,
    )
    deadlines = sla.compute_deadlines(clock, plan, cal)
    for stage, deadline in deadlines.items():
        due_field, _done = sla.CASE_STAGES[stage]
        setattr(case, due_field, deadline.at if deadline else None)
    daily = sla.daily_update_deadline(clock, cal)
    case.daily_update_due = daily.at if daily else None
    if daily:
        deadlines = {**deadlines, sla.DAILY_UPDATE: daily}
    case.deadlines_provisional = any(d.provisional for d in deadlines.values() if d)
    if case.deadlines_provisional:
        calendar_missing_year_warn(
            years=sorted(set().union(*(d.missing_years for d in deadlines.values() if d)))
        )
    _schedule_escalation(case, now, breaches)


def _schedule_escalation(case, now, breaches=None):
    pending = case.pending_deadlines()
    if case.pk is None:
        breaches = {}
    elif breaches is None:
        breaches = _breach_levels([case.pk]).get(case.pk, {})
    raise_now, next_at = sla.escalations_due(pending, breaches, now, _level2_after())
    if raise_now:
        next_at = min(e.due_at for e in raise_now)  # the sweep takes it up at once
    case.next_escalation_at = next_at
    if pending:
        case.current_stage, case.current_due = min(pending.items(), key=lambda kv: kv[1])
    else:
        case.current_stage, case.current_due = "", None
    return raise_now


def cases_satisfaction_followup_made(*, case_ids, now=None):
    """The satisfaction follow-up of these resolved cases has been made (a survey went out,
    a call was placed): their follow-up deadline is met, so the sweep stops escalating it.
    Closing still waits for the customer's score or a supervisor's waiver. Bulk: a fixed
    number of queries whatever the count."""
    now = now or timezone.now()
    cases = list(
        Case.objects.filter(pk__in=case_ids, satisfaction_done_at__isnull=True)
        .select_related("plan_revision")
        .prefetch_related("plan_revision__stages")
    )
    if not cases:
        return 0
    breaches = _breach_levels([c.pk for c in cases])
    for case in cases:
        case.satisfaction_done_at = now
        _schedule_escalation(case, now, breaches.get(case.pk, {}))
    Case.objects.bulk_update(
        cases, ["satisfaction_done_at", "next_escalation_at", "current_stage", "current_due"]
    )
    return len(cases)


def _level2_after():
    return datetime.timedelta(hours=settings.ESCALATION_LEVEL2_AFTER_HOURS)


class _Recipients:
    """Who hears of escalations, loaded once per sweep: level 1 goes to the supervisors of
    the case's department (its leads when it has no supervisor; every supervisor when the
    case has no department), level 2 to the managers. The rota narrows each list: those on
    duty now; when none of them is, everyone on the list who is not absent; when all are
    absent, everyone on it."""

    def __init__(self, now=None):
        supervisors = list(
            User.objects.filter(is_active=True, groups__name=roles.SUPERVISOR)
            .prefetch_related("memberships")
            .distinct()
        )
        self.all_supervisors = supervisors
        self.by_department = {}
        for user in supervisors:
            for m in user.memberships.all():
                self.by_department.setdefault(m.department_id, []).append(user)
        self.leads = {}
        for m in Membership.objects.filter(is_lead=True, user__is_active=True).select_related(
            "user"
        ):
            self.leads.setdefault(m.department_id, []).append(m.user)
        self.managers = list(
            User.objects.filter(is_active=True, groups__name=roles.MANAGER).distinct()
        )
        ids = [u.pk for u in (*supervisors, *self.managers)]
        self.on_duty, self.absent = on_duty_ids(ids, now), absent_ids(ids, now)

    def _on_duty_first(self, people):
        on_duty = [u for u in people if u.pk in self.on_duty]
        return on_duty or [u for u in people if u.pk not in self.absent] or people

    def department_names(self):
        if not hasattr(self, "_names"):
            self._names = dict(Department.objects.values_list("pk", "name"))
        return self._names

    def for_level(self, level, department_id):
        if level >= 2:
            return self._on_duty_first(self.managers)
        return self._on_duty_first(
            self.by_department.get(department_id)
            or self.leads.get(department_id)
            or self.all_supervisors
        )


def sla_sweep(*, now=None, batch_size=None):
    """Escalate every case and technical request past a deadline, in bulk: a few queries per
    batch whatever its size (on PostgreSQL cases escalate in one set-based statement per
    batch). Idempotent — rows are claimed with row locks (skipping rows another sweep holds),
    and each (case, stage, deadline, level) escalates once by a unique constraint — so running
    it twice, or on two workers at once, escalates and notifies once. One transaction per
    sweep, so what it raised and who was told land together: each person hears of up to
    ESCALATION_DIGEST_OVER escalations one by one, of more in ONE digest.
    Returns the number of escalations raised."""
    now = now or timezone.now()
    set_based = connection.vendor == "postgresql"
    if batch_size is None:
        batch_size = (
            settings.ESCALATION_SQL_BATCH_SIZE if set_based else settings.ESCALATION_BATCH_SIZE
        )
    recipients = None  # loaded once, and only when something is due
    raised = []
    with transaction.atomic():
        for model in (Case, TechnicalRequest):
            while True:
                if model is Case and set_based:
                    recipients = recipients or _Recipients(now)
                    claimed, rows = _escalate_cases_set_based(now, batch_size, recipients)
                    raised += rows
                    if claimed < batch_size:
                        break
                    continue
                queryset = model.objects.filter(next_escalation_at__lte=now).order_by(
                    "next_escalation_at"
                )
                if connection.features.has_select_for_update_skip_locked:
                    queryset = queryset.select_for_update(skip_locked=True, of=("self",))
                rows = list(queryset.select_related(*_SWEEP_RELATED[model])[:batch_size])
                if not rows:
                    break
                recipients = recipients or _Recipients(now)
                if model is Case:
                    raised += _escalate_cases(rows, now, recipients)
                else:
                    raised += _escalate_tech_requests(rows, now, recipients)
                if len(rows) < batch_size:
                    break
        if raised:
            notify_bulk(escalation.notices_for(raised, now))
    if raised:
        transaction.on_commit(_send_pending_emails)
    return len(raised)


_SWEEP_RELATED = {Case: ["department"], TechnicalRequest: ["case", "department"]}


def _escalate_cases_set_based(now, batch_size, recipients):
    """One batch of cases through escalation.escalate_cases_sql; [Raised]."""
    level1 = {
        dept: [u.username for u in recipients.for_level(1, dept)]
        for dept in {*recipients.by_department, *recipients.leads}
    }
    claimed, rows = escalation.escalate_cases_sql(
        now=now, limit=batch_size, level1_people=level1,
        level1_default=[u.username for u in recipients.for_level(1, None)],
        level2_people=[u.username for u in recipients.for_level(2, None)],
    )  # fmt: skip
    names = recipients.department_names()
    raised, events = [], []
    for case_id, number, subject, department_id, stage, due_at, level in rows:
        events.append(
            CaseEvent(
                case_id=case_id, kind=EventKind.ESCALATION, created_at=now,
                data={"stage": stage, "level": level, "due_at": due_at.isoformat()},
            )
        )  # fmt: skip
        raised.append(
            escalation.Raised(
                key=f"case:{number}:{stage}:{due_at.isoformat()}:L{level}",
                link=f"/admin/complaints/case/{case_id}/change/", number=number,
                case_subject=subject, stage=stage, level=level, due_at=due_at,
                department=names.get(department_id, ""),
                people=recipients.for_level(level, department_id),
            )
        )  # fmt: skip
    if events:
        case_events_bulk_created.send(sender=Case, events=events)
    return claimed, raised


def _send_pending_emails():
    from servicedesk import outbox
    from servicedesk.staff.tasks import send_pending_notification_emails

    outbox.enqueue(send_pending_notification_emails)


def _escalate_cases(cases, now, recipients):
    breaches_by_case = _breach_levels([c.pk for c in cases])
    new_breaches, events, raised = [], [], []
    for case in cases:
        breaches = breaches_by_case.get(case.pk, {})
        raise_now = _schedule_escalation(case, now, breaches)
        # After raising these, schedule from the breaches as they will be.
        for e in raise_now:
            breaches.setdefault((e.stage, e.due_at), set()).add(e.level)
        _schedule_escalation(case, now, breaches)
        department = case.department.name if case.department else ""
        for e in raise_now:
            people = recipients.for_level(e.level, case.department_id)
            new_breaches.append(
                SlaBreach(
                    case=case, stage=e.stage, due_at=e.due_at, level=e.level, escalated_at=now,
                    department_id=case.department_id, notified=[u.username for u in people],
                )
            )  # fmt: skip
            raised.append(
                escalation.Raised(
                    key=f"case:{case.number}:{e.stage}:{e.due_at.isoformat()}:L{e.level}",
                    link=f"/admin/complaints/case/{case.pk}/change/", number=case.number,
                    case_subject=case.subject, stage=e.stage, level=e.level, due_at=e.due_at,
                    department=department, people=people,
                )
            )  # fmt: skip
            subject, _body = raised[-1].notice()
            events.append(
                CaseEvent(
                    case=case, kind=EventKind.ESCALATION, message=subject, created_at=now,
                    data={"stage": e.stage, "level": e.level, "due_at": e.due_at.isoformat(),
                          "notified": [u.username for u in people]},
                )
            )  # fmt: skip
            case.escalation_level = max(case.escalation_level, e.level)
    SlaBreach.objects.bulk_create(new_breaches, ignore_conflicts=True)
    CaseEvent.objects.bulk_create(events)
    if events:
        case_events_bulk_created.send(sender=Case, events=events)
    Case.objects.bulk_update(
        cases, ["escalation_level", "next_escalation_at", "current_stage", "current_due"]
    )
    return raised


def _escalate_tech_requests(requests, now, recipients):
    existing = {}
    rows = SlaBreach.objects.filter(technical_request__in=requests).values_list(
        "technical_request_id", "level"
    )
    for request_id, level in rows:
        existing.setdefault(request_id, set()).add(level)
    new_breaches, events, raised = [], [], []
    stage = SlaStage.TECH_COLLABORATION
    for tr in requests:
        pending = {} if tr.answered_at else {stage: tr.due_at}
        done = {(stage, tr.due_at): existing.get(tr.pk, set())}
        raise_now, next_at = sla.escalations_due(pending, done, now, _level2_after())
        tr.next_escalation_at = next_at
        for e in raise_now:
            people = recipients.for_level(e.level, tr.department_id)
            new_breaches.append(
                SlaBreach(
                    case=tr.case, technical_request=tr, stage=stage, due_at=tr.due_at,
                    level=e.level, escalated_at=now, department_id=tr.department_id,
                    notified=[u.username for u in people],
                )
            )  # fmt: skip
            raised.append(
                escalation.Raised(
                    key=f"techreq:{tr.pk}:L{e.level}",
                    link=f"/admin/complaints/case/{tr.case_id}/change/", number=tr.case.number,
                    case_subject=tr.case.subject, stage=stage, level=e.level, due_at=tr.due_at,
                    department=tr.department.name, people=people,
                )
            )  # fmt: skip
            subject, _body = raised[-1].notice()
            events.append(
                CaseEvent(
                    case=tr.case, kind=EventKind.ESCALATION, message=subject, created_at=now,
                    data={"stage": stage, "level": e.level, "technical_request": tr.pk,
                          "notified": [u.username for u in people]},
                )
            )  # fmt: skip
            tr.escalation_level = max(tr.escalation_level, e.level)
    SlaBreach.objects.bulk_create(new_breaches, ignore_conflicts=True)
    CaseEvent.objects.bulk_create(events)
    TechnicalRequest.objects.bulk_update(requests, ["escalation_level", "next_escalation_at"])
    return raised


def technical_request_create(*, case, department, question, user, now=None):
    """Ask another department (e.g. 技术部) for help; its answer is due by the plan's
    technical-collaboration limit (2 h by default) and escalates like the case's deadlines."""
    if not (question or "").strip():
        raise ValidationError({"question": _("Write what you need from the other department.")})
    if department is None:
        raise ValidationError({"department": _("Choose the department to ask.")})
    if case.state not in ACTIVE_STATES:
        raise ValidationError(
            {"__all__": _("The case is “%(state)s”: only an open case can ask for help.")
             % {"state": case.get_state_display()}}
        )  # fmt: skip
    if not case.is_visible_to(user) or not user.has_perm("complaints.add_technicalrequest"):
        raise PermissionDenied(_("You do not have permission for this step on this case."))
    now = now or timezone.now()
    plan = sla.PlanLimits.from_revision(case.plan_revision)
    due = sla.tech_request_deadline(now, plan, load_calendar())
    with transaction.atomic():
        locked = Case.objects.select_for_update().get(pk=case.pk)
        tr = TechnicalRequest.objects.create(
            case=locked, department=department, question=question.strip(), requested_by=user,
            requested_at=now, due_at=due.at, next_escalation_at=due.at,
        )  # fmt: skip
        locked.collaborating_departments.add(department)
        CaseEvent.objects.create(
            case=locked, kind=EventKind.NOTE, author=user, created_at=now,
            message=_("Technical collaboration requested from %(dept)s, answer due %(due)s: %(q)s")
            % {"dept": department, "due": timezone.localtime(due.at).strftime("%Y-%m-%d %H:%M"),
               "q": tr.question},
            data={"technical_request": tr.pk},
        )  # fmt: skip
        members = User.objects.in_department(department).filter(
            groups__name__in=[roles.HANDLER, roles.SUPERVISOR]
        )
        transaction.on_commit(
            lambda: notify(
                recipients=list(members),
                event_key=f"techreq:{tr.pk}:new",
                subject=_("Case %(number)s asks %(dept)s for help")
                % {"number": locked.number, "dept": department},
                body=tr.question,
                link=f"/admin/complaints/case/{locked.pk}/change/",
            )
        )
    return tr


def technical_request_answer(*, request, answer, user):
    if not (answer or "").strip():
        raise ValidationError({"answer": _("Write the answer.")})
    if not (
        user.sees_all_departments
        or user.memberships.filter(department=request.department_id).exists()
    ):
        raise PermissionDenied(_("Only the asked department can answer."))
    with transaction.atomic():
        tr = TechnicalRequest.objects.select_for_update().get(pk=request.pk)
        if tr.answered_at:
            raise ValidationError({"answer": _("This request has already been answered.")})
        tr.answer, tr.answered_by, tr.answered_at = answer.strip(), user, timezone.now()
        tr.next_escalation_at = None
        tr.save()
        CaseEvent.objects.create(
            case_id=tr.case_id, kind=EventKind.NOTE, author=user,
            message=_("%(dept)s answered: %(answer)s") % {"dept": tr.department, "answer": tr.answer},
            data={"technical_request": tr.pk},
        )  # fmt: skip
    return tr


# The score below which a satisfaction answer sends the case back for second handling.
UNSATISFIED_BELOW = 4


def case_satisfaction_result(*, case, score, text="", source=""):
    """The hook surveys and follow-up calls call with the customer's overall score (1–5).

    Records the feedback; a score below 4 reopens the case for second handling (二次处理),
    assigns it to the least-loaded manager and escalates to the managers.
    """
    with transaction.atomic():  # the score and the second handling land together or not at all
        case = case_record_feedback(case=case, score=score, text=text)
        if int(score) >= UNSATISFIED_BELOW:
            return case
        locked = Case.objects.select_for_update().get(pk=case.pk)
        reason = _("Customer not satisfied (%(score)s/5): second handling. %(text)s") % {
            "score": score,
            "text": text or "",
        }
        if locked.state in (State.RESOLVED, State.CLOSED):
            locked = _do_transition(
                locked, "reopen", user=None, inputs={"reason": reason}, check_permission=False
            )
        manager = least_loaded(User.objects.filter(is_active=True, groups__name=roles.MANAGER))
        if manager is not None and locked.state in (State.REOPENED, State.ASSIGNED, State.RECEIVED):
            locked = _do_transition(
                locked, "assign", user=None, check_permission=False,
                inputs={"department": locked.department or _any_department(manager), "assignee": manager},
                note=_("Second handling by a manager"),
            )  # fmt: skip
        locked.escalation_level = 2
        locked.save(update_fields=["escalation_level", "updated_at"])
        managers = list(User.objects.filter(is_active=True, groups__name=roles.MANAGER))
        event = CaseEvent.objects.create(
            case=locked, kind=EventKind.ESCALATION, message=reason,
            data={"level": 2, "reason": "unsatisfied", "score": int(score), "source": source,
                  "notified": [u.username for u in managers]},
        )  # fmt: skip
        transaction.on_commit(
            lambda: notify(
                recipients=managers,
                event_key=f"case:{locked.number}:unsatisfied:{event.pk}",
                subject=_("Case %(number)s: customer not satisfied (%(score)s/5)")
                % {"number": locked.number, "score": score},
                body=reason,
                link=f"/admin/complaints/case/{locked.pk}/change/",
            )
        )
    return locked


def _any_department(user):
    return user.departments.first()
