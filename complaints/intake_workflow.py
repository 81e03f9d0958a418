"""Intake: finding or creating the customer, numbering and routing a new case to the least
loaded handler on duty, or adding the contact to an open similar case; and a customer's reply
to an existing case. The side-effect-free rules live in complaints.intake."""

import datetime
import functools
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.prepared import columns, default_connection, insert, instance, prepared_cursor
from servicedesk.prepared_begin import begin_with

from . import intake
from .case_edits import case_add_attachment
from .choices import Channel, label
from .deadlines import case_refresh_deadlines
from .intake_assign import (
    Pick,
    gate_handler,
    gate_number,
    next_number,
    next_number_and_handler,
    number_gate,
    pick_sql,
    user_columns,
)
from .models import (
    Attachment,
    Case,
    CaseContact,
    CaseEvent,
    CaseType,
    Customer,
    EventKind,
    ReturnRequest,
    State,
    normalize_email,
    normalize_member_no,
    normalize_phone,
)
from .models_load import states_sql
from .signals import case_contact_added, case_created, case_events_bulk_created, case_transitioned
from .transitions import _apply_inputs, _assign_event_text, _do_transition


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


def customer_find(*, phone="", email="", member_no="", open_since=None, pick=None):
    """The customer these contact details belong to, or None, with `has_cases` (whether they
    ever had a case: intake's "new customer?"). Member number is the strongest key, then
    phone, then e-mail (all normalised). One prepared statement (servicedesk/prepared.py).

    With `open_since` (intake, in its transaction) on PostgreSQL, the same statement brings
    the customer's open cases received since then as `open_subjects` — what _open_subjects()
    reads, locked as it locks them — and saves intake a statement; elsewhere the attribute is
    left unset. With `pick` (a Pick, intake's: PostgreSQL, with `open_since`) the same
    statement also chooses the least-loaded handler of the pick's department
    (complaints_least_loaded, as after a draw) and sets `pick.handler` and `pick.done`."""
    keys = [
        ("member_no_normalized", normalize_member_no(member_no)),
        ("phone_normalized", normalize_phone(phone)),
        ("email_normalized", normalize_email(email)),
    ]
    keys = [(f, v) for f, v in keys if v]
    if not keys:
        return None
    conn = default_connection()
    with_open = open_since is not None and conn.vendor == "postgresql"
    with_pick = with_open and pick is not None
    params = [v for _, v in keys]
    if with_pick:
        params[:0] = pick.params()
    if with_open:
        params.insert(0, conn.ops.adapt_datetimefield_value(open_since))
    end = len(columns(Customer))
    sql = _customer_find_sql(tuple(f for f, _ in keys), with_open, with_pick)
    # Intake's first statement: sent with its transaction's BEGIN (servicedesk/prepared_begin.py).
    with begin_with(sql, params) as cursor:
        found = []
        for row in cursor.fetchall():
            if with_pick:
                pick.read(row[end + 2 :])
                if row[0] is None:  # no customer: the handler's row alone
                    continue
            customer = instance(Customer, row[:end])
            customer.has_cases = row[end]
            if with_open:
                customer.open_subjects = [_OpenSubject(*pair) for pair in row[end + 1] or ()]
            found.append(customer)
    for field, value in keys:
        for c in found:
            if getattr(c, field) == value:
                return c
    return None


@functools.cache
def _customer_find_sql(fields, with_open=False, with_pick=False):
    quote = connection.ops.quote_name
    cases = quote(Case._meta.db_table)
    names = ", ".join(f"c.{quote(name)}" for name in columns(Customer))
    selected = f"{names}, EXISTS (SELECT 1 FROM {cases} k WHERE k.customer_id = c.id)"
    if with_open:  # _open_subjects()'s statement, for each customer found
        selected += (
            ", (SELECT json_agg(json_build_array(o.id, o.subject) ORDER BY o.created_at DESC) "
            f"FROM ({_open_cases_sql('c.id')}) o)"
        )
    matches = " OR ".join(f"c.{quote(f)} = %s" for f in fields)
    found = (
        f"FROM {quote(Customer._meta.db_table)} c "
        f"WHERE c.anonymized_at IS NULL AND ({matches}) ORDER BY c.created_at LIMIT 20"
    )
    if not with_pick:
        return f"SELECT {selected} {found}"
    # The handler chosen first, then each customer found beside it (or none: one row).
    return (
        f"SELECT {selected}, {user_columns('h')} FROM ({pick_sql()}) h "
        f"LEFT JOIN LATERAL (SELECT {names} {found}) c ON true ORDER BY c.created_at"
    )


def customer_find_or_create(*, data, open_since=None, save_new=True, pick=None):
    """Find the customer by their contact details or create them; fill details we lacked.
    Raises ValidationError with field errors (prefixed by nothing) on bad data. `open_since`
    and `pick`: as customer_find(). With `save_new=False` a new customer is validated but not
    saved: intake saves them with their first case, in the case's statement (Case.save_new)."""
    data = {k: (v or "") for k, v in data.items() if k in CUSTOMER_FIELDS and v is not None}
    if not data.get("language"):
        data.pop("language", None)  # not stated: the default, or what we knew
    customer = customer_find(
        phone=data.get("phone", ""),
        email=data.get("email", ""),
        member_no=data.get("member_no", ""),
        open_since=open_since,
        pick=pick,
    )
    if customer is None:
        customer = Customer(**data)
        customer.full_clean()
        if save_new:
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


@dataclass
class _OpenSubject:
    pk: int
    subject: str


def _open_subjects(customer, since):
    """The customer's open cases received since `since` (newest 50), as (pk, subject), locked
    until the intake commits so two intakes of the same customer de-duplicate in turn."""
    with prepared_cursor() as cursor:
        since = connection.ops.adapt_datetimefield_value(since)
        cursor.execute(_open_cases_sql("%s"), [customer.pk, since])
        return [_OpenSubject(pk, subject) for pk, subject, _created in cursor.fetchall()]


@functools.cache
def _open_cases_sql(customer):
    """The open cases (id, subject, created_at) of the customer whose key is `customer` (a
    placeholder, or a column of an outer statement) received since a parameter, newest 50,
    locked."""
    quote = connection.ops.quote_name
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return (
        f"SELECT k.id, k.subject, k.created_at FROM {quote(Case._meta.db_table)} k "
        f"WHERE k.customer_id = {customer} AND k.state IN ({states_sql()}) "
        f"AND k.created_at >= %s ORDER BY k.created_at DESC LIMIT 50{lock}"
    )


def _absorb(*, case, channel, subject, text, similarity, user, now):
    """The contact and its timeline entry go on `case` (locked by the caller), whose version
    and updated_at move on, in the row and on the instance."""
    contact = CaseContact(
        case=case, channel=channel, received_at=now, subject=subject, raw_text=text,
        similarity=round(similarity, 3), created_by=user,
    )  # fmt: skip
    event = CaseEvent(
        case=case,
        kind=EventKind.CONTACT,
        message=_("The customer contacted us again via %(channel)s: %(subject)s")
        % {"channel": label(Channel, channel), "subject": subject},
        data={"channel": channel, "similarity": round(similarity, 3)},
        author=user,
        created_at=now,
    )
    # Prepared inserts, as for a new case (nothing listens to a contact's post_save; the
    # timeline's listeners hear case_events_bulk_created).
    insert([contact])
    insert([event])
    case_events_bulk_created.send(sender=Case, events=[event])
    with prepared_cursor() as cursor:
        cursor.execute(_absorbed_sql(), [case.version + 1, now, case.pk])
    case.version += 1
    case.updated_at = now
    return contact


@functools.cache
def _absorbed_sql():
    return (
        f"UPDATE {connection.ops.quote_name(Case._meta.db_table)} "
        "SET version = %s, updated_at = %s WHERE id = %s"
    )


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

    window_start = now - datetime.timedelta(days=settings.CASE_DEDUP_WINDOW_DAYS)
    # Routing needs nothing of the customer: decided first, so that on PostgreSQL the handler
    # is chosen in the customer's statement (intake_assign.Pick), and before the transaction,
    # whose first statement that is (the rules are kept in the cache).
    rules = intake.active_rules()
    fired = intake.apply_urgency_rules(text, rules.urgency)
    rule = None
    if department is None:
        rule = intake.route(
            rules.routing,
            case_type=type, category=category, text=text, product=product,
        )  # fmt: skip
        department = rule.department if rule else None
    automatic = department is not None and assignee is None
    automatic = automatic and (rule is None or rule.assign_automatically)
    with transaction.atomic():
        pick = None
        if automatic and default_connection().vendor == "postgresql":
            pick = Pick(department, now)
        # A new customer is saved with the new case (save_new below), not on their own.
        cust, customer_created = customer_find_or_create(
            data=customer, open_since=window_start, save_new=False, pick=pick
        )

        if not customer_created:
            candidates = getattr(cust, "open_subjects", None)
            if candidates is None:  # not read with the customer (not PostgreSQL)
                candidates = _open_subjects(cust, window_start)
            match = intake.best_duplicate(subject, candidates, settings.CASE_DEDUP_SIMILARITY)
            if match:
                existing, score = match
                # Locked with the customer's row (or by _open_subjects); read again with
                # what the API's answer shows of it.
                existing = Case.objects.for_list().get(pk=existing.pk)
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

        def build():
            """The new case (validated, not numbered), its contact and first timeline entry."""
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
            case.department = department
            # The plan in force now governs this case for its whole life (its deadlines).
            case.plan_revision = rules.plan_revision(case_type=type, category=category)
            case.number = "000000-00000"  # placeholder so full_clean reports only real errors
            # Related rows were loaded as instances (no existence queries); the table's CHECK
            # constraints repeat the field validators (priority 1–5) or concern later steps;
            # the one unique field left, the number, is drawn later (the key is not set yet).
            case.full_clean(
                exclude=["number", "customer", "state", "department", "assignee", "created_by",
                         "plan_revision"],
                validate_unique=False, validate_constraints=False,
            )  # fmt: skip
            # What needs no number and no assignee is built before the number is taken: from
            # there to the commit, intakes run one at a time (the segmentation of the case's
            # words was a fifth of that stretch).
            case.refresh_search_text()
            case.cycle_started_at = now
            contact = CaseContact(
                case=case, channel=channel, received_at=now, subject=subject, raw_text=text,
                created_by=user,
            )  # fmt: skip
            created = CaseEvent(
                case=case,
                kind=EventKind.CREATED,
                to_state=State.RECEIVED,
                message=_("Received via %(channel)s") % {"channel": label(Channel, channel)},
                data={
                    "urgency_rule": fired.rule.name if fired else None,
                    "keyword": fired.keyword if fired else None,
                    "routing_rule": rule.name if rule else None,
                },
                author=user,
                created_at=now,
            )
            return case, contact, [created]

        def assign(case, events, chosen):
            """Assigned before the first save (one INSERT of the case in its assigned state
            and its two events together, instead of an INSERT, an UPDATE and two INSERTs), to
            the assignee asked for or, automatically, to `chosen`; its deadlines set. Returns
            the note for a department with nobody on duty, or ""."""
            nobody_on_duty = ""
            if department is not None and assignee is not None:
                inputs = {"department": department, "assignee": assignee}
                _apply_inputs(case, "assign", inputs, user)
            elif automatic:
                case.assignee = chosen  # the least loaded on duty: a member by construction
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
                        from_state=State.RECEIVED, to_state=case.state, message=message,
                        data=data, author=user, created_at=now,
                    )
                )  # fmt: skip
            case_refresh_deadlines(case, now=now, breaches={})
            return nobody_on_duty

        case, contact, events = build()
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

        # The case, its escalation row, its contact and its timeline entries: one prepared
        # statement (no post_save: nothing listens to contacts; the events' listeners hear
        # case_events_bulk_created, as after any bulk insert).
        if pick is not None and pick.done:
            # Assigned to the handler chosen with the customer; the number drawn, and the
            # choice checked, in the case's own statement (intake_assign.number_gate).
            nobody_on_duty = assign(case, events, pick.handler)
            gate = number_gate(pick)
            drawn = case.save_new(related=[contact, *events], gate=gate)
            number = gate_number(gate)
            if not drawn:
                # An intake of the department came between: nothing went in; the number is
                # drawn (and this intake's until the commit), the handler chosen after it.
                case, contact, events = build()
                nobody_on_duty = assign(case, events, gate_handler(gate))
                case.number = number
                case.save_new(related=[contact, *events])
            case.number = number
        else:
            # From the number on, one intake at a time.
            chosen = None
            if automatic:
                case.number, chosen = next_number_and_handler(now, department)
            else:
                case.number = next_number(now)
            nobody_on_duty = assign(case, events, chosen)
            case.save_new(related=[contact, *events])
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
