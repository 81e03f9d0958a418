"""Case deadlines and escalation: which stages a step completes, recomputing a case's
deadlines and when the sweep next looks at it, the escalation sweep (row by row; the set-based
part lives in complaints.escalation) and technical requests to other departments, which carry
their own deadline and escalate the same way."""

import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from servicedesk.calendar.services import calendar_missing_year_warn, load_calendar
from servicedesk.rota.services import absent_ids, on_duty_ids
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Membership, User
from servicedesk.staff.services import notify, notify_bulk

from . import escalation, sla
from .models import (
    ACTIVE_STATES,
    Case,
    CaseEvent,
    EventKind,
    SlaBreach,
    SlaStage,
    TechnicalRequest,
    write_escalations,
)
from .signals import case_events_bulk_created

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
        .select_related("plan_revision", "escalation")
        .prefetch_related("plan_revision__stages")
    )
    if not cases:
        return 0
    breaches = _breach_levels([c.pk for c in cases])
    for case in cases:
        case.satisfaction_done_at = now
        _schedule_escalation(case, now, breaches.get(case.pk, {}))
    Case.objects.bulk_update(cases, ["satisfaction_done_at", "current_stage", "current_due"])
    write_escalations(cases)
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
        self._for_level = {}

    def _on_duty_first(self, people):
        on_duty = [u for u in people if u.pk in self.on_duty]
        return on_duty or [u for u in people if u.pk not in self.absent] or people

    def department_names(self):
        if not hasattr(self, "_names"):
            self._names = dict(Department.objects.values_list("pk", "name"))
        return self._names

    def for_level(self, level, department_id):
        # Asked once per escalation (100,000 and more in one sweep): the answer per key once.
        key = (2, None) if level >= 2 else (1, department_id)
        if key not in self._for_level:
            if level >= 2:
                people = self._on_duty_first(self.managers)
            else:
                people = self._on_duty_first(
                    self.by_department.get(department_id)
                    or self.leads.get(department_id)
                    or self.all_supervisors
                )
            self._for_level[key] = people
        return self._for_level[key]


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
                rows = _claim_due(model, now, batch_size)
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


_SWEEP_RELATED = {Case: ["department", "escalation"], TechnicalRequest: ["case", "department"]}
_SWEEP_DUE = {Case: "escalation__next_at", TechnicalRequest: "next_escalation_at"}


def _claim_due(model, now, batch_size):
    """Up to `batch_size` cases or technical requests due for a look, locked (skipping rows
    another sweep or a request holds) where the database can. A case is locked with its
    escalation row, the row the sweep writes: the breaches it inserts lock the case for their
    foreign key, so a case a request holds is skipped rather than waited for."""
    due = _SWEEP_DUE[model]
    queryset = model.objects.filter(**{f"{due}__lte": now}).order_by(due)
    if connection.features.has_select_for_update_skip_locked:
        of = ("self", "escalation") if model is Case else ("self",)
        queryset = queryset.select_for_update(skip_locked=True, of=of)
    return list(queryset.select_related(*_SWEEP_RELATED[model])[:batch_size])


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
    raised = []
    for case_id, number, subject, department_id, stage, due_at, level in rows:
        raised.append(
            escalation.Raised(
                key=f"case:{number}:{stage}:{due_at}:L{level}",
                link=f"/admin/complaints/case/{case_id}/change/", number=number,
                case_subject=subject, stage=stage, level=level, due_at=due_at,
                department=names.get(department_id, ""),
                people=recipients.for_level(level, department_id),
            )
        )  # fmt: skip
    if rows:

        def events():
            return [
                CaseEvent(
                    case_id=case_id,
                    kind=EventKind.ESCALATION,
                    created_at=now,
                    data={"stage": stage, "level": level, "due_at": due_at},
                )
                for case_id, _n, _s, _d, stage, due_at, level in rows
            ]

        case_events_bulk_created.send(
            sender=Case, events=events, kinds=frozenset([EventKind.ESCALATION])
        )
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
    # current_stage/current_due follow from the case's own fields (set whenever it is saved),
    # so the sweep writes the escalation rows only, never the case rows.
    write_escalations(cases)
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
