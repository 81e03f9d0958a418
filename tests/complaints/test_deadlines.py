"""Deadlines from the plan on the China working-day calendar, and escalation by the sweep —
with a frozen clock."""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection

from complaints import services
from complaints.models import Case, CaseEscalation, CaseEvent, EventKind, SlaBreach, State
from knowledge.models import PlanRevision
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Notification

from .helpers import intake, investigation_in_working_days, walk

SH = ZoneInfo("Asia/Shanghai")


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def handler(make_user, tech):
    return make_user("handler", role=roles.HANDLER, departments=[tech])


@pytest.fixture
def tech_supervisor(make_user, tech):
    return make_user("tech_sup", role=roles.SUPERVISOR, departments=[tech])


def routed(agent, handler, tech, **kw):
    case = intake(**kw).case
    return services.case_transition(
        case=case, name="assign", user=agent, department=tech, assignee=handler
    )


def local(dt):
    return dt.astimezone(SH).replace(tzinfo=None)


@pytest.mark.parametrize("urgency", ["high", "medium", "low"])
def test_every_urgency_gets_the_first_response_within_24_clock_hours(db, urgency):
    # 000: a reply to every complaint within 24 h, whatever its urgency.
    with time_machine.travel(at(2026, 9, 30, 10), tick=False):
        case = intake(urgency=urgency).case
    assert local(case.first_response_due) == datetime.datetime(2026, 10, 1, 10)
    assert case.current_stage == "first_response"


def test_the_first_response_follows_the_revisions_target(db):
    revision = PlanRevision.objects.get(plan__is_default=True, state="published")
    revision.first_response_hours = 2
    revision.save()
    with time_machine.travel(at(2026, 11, 2, 9), tick=False):
        case = intake(urgency="low").case
    assert local(case.first_response_due) == datetime.datetime(2026, 11, 2, 11)


def test_working_days_count_over_national_day(db):
    # 2026: 1–7 October off, Saturday 10 October a make-up working day (调休).
    investigation_in_working_days(3)
    with time_machine.travel(at(2026, 9, 29, 10), tick=False):
        case = intake(urgency="medium").case
    # First response due 30 Sept 10:00, then three working days: 8, 9, 10 October.
    assert local(case.investigation_due) == datetime.datetime(2026, 10, 10, 10)
    assert case.deadlines_provisional is False


def test_a_deadline_in_an_unloaded_year_is_provisional(db):
    investigation_in_working_days(3)
    with time_machine.travel(at(2026, 12, 29, 10), tick=False):
        case = intake(urgency="medium").case
    assert case.deadlines_provisional is True
    # From 30 December 10:00: 31 December, then 2027 Monday–Friday (not loaded): 1, 4 January.
    assert local(case.investigation_due) == datetime.datetime(2027, 1, 4, 10)


def test_a_provisional_deadline_asks_the_administrators_once_to_load_the_year(make_user):
    admin = make_user("calendar_admin", role=roles.ADMINISTRATOR)
    investigation_in_working_days(3)
    with time_machine.travel(at(2026, 12, 30, 10), tick=False):
        intake(urgency="medium")
        intake(urgency="medium")
    notes = Notification.objects.filter(recipient=admin, event_key="calendar:missing-year:2027")
    assert notes.count() == 1 and "2027" in notes.get().subject


def test_urgency_change_keeps_the_first_response(agent):
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = intake(urgency="medium").case
        before = case.next_escalation_at
        case = services.case_update(case=case, user=agent, urgency="high")
    assert local(case.first_response_due) == datetime.datetime(2026, 11, 3, 10)
    assert case.next_escalation_at == before  # the first response is the same for every urgency


def test_stages_complete_and_the_next_one_counts_from_then(agent, handler, tech):
    with time_machine.travel(at(2026, 11, 2, 10), tick=False) as clock:
        case = routed(agent, handler, tech, urgency="high")
        clock.move_to(at(2026, 11, 2, 12))
        services.case_add_event(
            case=case, user=handler, message="已致电客户说明", customer_notified=True
        )
        case.refresh_from_db()
        assert local(case.first_response_at) == datetime.datetime(2026, 11, 2, 12)
        assert local(case.investigation_due) == datetime.datetime(2026, 11, 4, 12)
        assert case.current_stage == "investigation"
        case = walk(case, handler, ("start_investigation", {}))
        clock.move_to(at(2026, 11, 3, 9))
        case = services.case_transition(
            case=case,
            name="propose_solution",
            user=handler,
            solution="补发",
            customer_notified=True,
        )
        assert local(case.investigation_done_at) == datetime.datetime(2026, 11, 3, 9)
        assert case.solution_sent_at is not None
        clock.move_to(at(2026, 11, 3, 15))
        case = services.case_transition(case=case, name="resolve", user=handler, result="已补发")
    assert local(case.satisfaction_due) == datetime.datetime(2026, 11, 6, 15)
    assert case.current_stage == "satisfaction_followup"


def sweep(now):
    return services.sla_sweep(now=now)


def test_first_response_breach_escalates_to_the_department_supervisor_then_managers(
    agent, handler, tech, tech_supervisor, manager, supervisor
):
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = routed(agent, handler, tech, urgency="high")
    assert sweep(at(2026, 11, 3, 9, 59)) == 0
    assert sweep(at(2026, 11, 3, 10, 1)) == 1
    breach = SlaBreach.objects.get()
    assert (breach.stage, breach.level) == ("first_response", 1)
    assert breach.notified == ["tech_sup"]  # not the other department's supervisor
    assert Notification.objects.filter(recipient=tech_supervisor).count() == 1
    case.refresh_from_db()
    assert case.escalation_level == 1
    assert local(case.next_escalation_at) == datetime.datetime(2026, 11, 3, 14)  # 4 h grace
    assert sweep(at(2026, 11, 3, 13)) == 0
    assert sweep(at(2026, 11, 3, 14, 1)) == 1
    level2 = SlaBreach.objects.get(level=2)
    assert level2.notified == ["manager"]
    assert Notification.objects.filter(recipient=manager).count() == 1
    case.refresh_from_db()
    assert case.escalation_level == 2
    escalations = case.events.filter(kind=EventKind.ESCALATION)
    assert escalations.count() == 2
    assert sweep(at(2026, 11, 5, 0)) == 0  # nothing more to raise for that deadline


@pytest.mark.parametrize(
    ("stage", "prepare", "breach_at"),
    [
        ("investigation", "responded", at(2026, 11, 4, 12, 1)),
        ("solution_to_customer", "investigated", at(2026, 11, 5, 10, 1)),
        ("next_contact", "promised", at(2026, 11, 2, 18, 1)),
        ("satisfaction_followup", "resolved", at(2026, 11, 5, 11, 1)),
    ],
)
def test_each_stage_breaches(agent, handler, tech, tech_supervisor, stage, prepare, breach_at):
    with time_machine.travel(at(2026, 11, 2, 10), tick=False) as clock:
        case = routed(agent, handler, tech, urgency="high")
        clock.move_to(at(2026, 11, 2, 12))
        if prepare == "responded":
            services.case_add_event(
                case=case, user=handler, message="已回复", customer_notified=True
            )
        elif prepare == "investigated":
            case = walk(case, handler, ("start_investigation", {}))
            case = services.case_transition(
                case=case, name="propose_solution", user=handler, solution="方案"
            )
            case.refresh_from_db()
            assert case.solution_sent_at is None  # proposed, but not told to the customer
            breach_at = case.solution_due + datetime.timedelta(minutes=1)
        elif prepare == "promised":
            services.case_add_event(
                case=case, user=handler, message="客户要求今晚六点前回电", customer_notified=True,
                next_contact_at=at(2026, 11, 2, 18),
            )  # fmt: skip
        elif prepare == "resolved":
            clock.move_to(at(2026, 11, 2, 11))
            case = walk(
                case, handler, ("start_investigation", {}), ("resolve", {"result": "已处理"})
            )
    sweep(breach_at)
    assert SlaBreach.objects.filter(stage=stage, level=1).count() == 1


def test_a_met_deadline_never_escalates(agent, handler, tech, tech_supervisor):
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = routed(agent, handler, tech, urgency="high")
        services.case_add_event(
            case=case, user=handler, message="已回复客户", customer_notified=True
        )
    sweep(at(2026, 11, 3, 11))
    assert not SlaBreach.objects.filter(stage="first_response").exists()


def test_finished_cases_leave_the_sweep(agent, handler, tech, tech_supervisor):
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = routed(agent, handler, tech, urgency="high")
        case = services.case_transition(
            case=case, name="cancel", user=_tech_agent(tech), reason="重复"
        )
    assert case.next_escalation_at is None
    assert sweep(at(2026, 11, 9)) == 0


def _tech_agent(tech):
    from django.contrib.auth.models import Group

    from servicedesk.staff.models import Membership, User

    user = User.objects.create_user("tech_agent", email="ta@example.com", is_staff=True)
    user.groups.add(Group.objects.get(name=roles.AGENT))
    Membership.objects.create(user=user, department=tech)
    return user


def test_running_the_sweep_twice_escalates_and_notifies_once(agent, handler, tech, tech_supervisor):
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = routed(agent, handler, tech, urgency="high")
    assert sweep(at(2026, 11, 3, 11)) == 1
    CaseEscalation.objects.filter(case=case).update(next_at=at(2026, 11, 3, 10))  # as if unsaved
    assert sweep(at(2026, 11, 3, 11)) == 0
    assert SlaBreach.objects.count() == 1
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATION).count() == 1
    assert Notification.objects.count() == 1 + 0  # the supervisor once (no assign mail: e-mail off)


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_sweeps_escalate_once(make_user):
    tech = Department.objects.create(code="tech", name="技术部")
    agent = make_user("a", role=roles.AGENT, departments=[tech])
    handler = make_user("h", role=roles.HANDLER, departments=[tech])
    make_user("s", role=roles.SUPERVISOR, departments=[tech])
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        for _ in range(12):
            routed(agent, handler, tech, urgency="high")
    barrier = threading.Barrier(2)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(services.sla_sweep(now=at(2026, 11, 3, 11), batch_size=5))
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sum(results) == 12
    assert SlaBreach.objects.count() == 12
    assert CaseEvent.objects.filter(kind=EventKind.ESCALATION).count() == 12
    assert Notification.objects.filter(event_key__contains="first_response").count() == 12


def test_sweep_query_count_does_not_grow_with_cases(
    agent, handler, tech, tech_supervisor, manager, django_assert_max_num_queries
):
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        for _ in range(3):
            routed(agent, handler, tech, urgency="high")
    with django_assert_max_num_queries(20) as small:
        sweep(at(2026, 11, 3, 11))
    with time_machine.travel(at(2026, 11, 4, 10), tick=False):
        for _ in range(25):
            routed(agent, handler, tech, urgency="high")
    with django_assert_max_num_queries(len(small.captured_queries)):
        sweep(at(2026, 11, 5, 11))
    assert SlaBreach.objects.filter(stage="first_response", level=1).count() == 28


def test_technical_collaboration_has_its_own_2_hour_deadline(
    agent, handler, tech, tech_supervisor, make_user, department
):
    front = make_user("front", role=roles.HANDLER, departments=[department])
    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = intake().case
        case = services.case_transition(
            case=case, name="assign", user=agent, department=department, assignee=front
        )
        tr = services.technical_request_create(
            case=case, department=tech, question="订单接口报 500，请排查", user=front
        )
    assert local(tr.due_at) == datetime.datetime(2026, 11, 2, 12)
    assert tech in case.collaborating_departments.all()
    sweep(at(2026, 11, 2, 12, 5))
    breach = SlaBreach.objects.get(stage="tech_collaboration")
    assert breach.level == 1 and breach.notified == ["tech_sup"]
    services.technical_request_answer(request=tr, answer="已修复接口", user=handler)
    assert sweep(at(2026, 11, 2, 18)) == 0  # answered: no level 2


def test_unsatisfied_customer_reopens_the_case_for_a_manager(
    agent, handler, tech, manager, django_capture_on_commit_callbacks
):
    case = routed(agent, handler, tech)
    case = walk(case, handler, ("start_investigation", {}), ("resolve", {"result": "已处理"}))
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_satisfaction_result(
            case=case, score=2, text="问题没解决", source="survey"
        )
    assert case.state == State.ASSIGNED and case.assignee == manager
    assert case.reopen_count == 1 and case.escalation_level == 2
    escalation = case.events.get(kind=EventKind.ESCALATION)
    assert escalation.data["reason"] == "unsatisfied" and escalation.data["notified"] == ["manager"]
    assert Notification.objects.filter(recipient=manager, subject__contains=case.number).exists()


def test_satisfied_customer_just_records_the_score(agent, handler, tech, manager):
    case = routed(agent, handler, tech)
    case = walk(case, handler, ("start_investigation", {}), ("resolve", {"result": "已处理"}))
    case = services.case_satisfaction_result(case=case, score=5, text="很好")
    assert case.state == State.RESOLVED and case.feedback_score == 5
    assert case.satisfaction_done_at is not None
    assert not case.events.filter(kind=EventKind.ESCALATION).exists()


@pytest.mark.worker
def test_the_scheduled_sweep_runs_on_a_real_worker(
    live_worker, agent, handler, tech, tech_supervisor
):
    from complaints.tasks import sla_sweep
    from tests.conftest import wait_until

    with time_machine.travel(at(2026, 11, 2, 10), tick=False):
        case = routed(agent, handler, tech, urgency="high")
    with time_machine.travel(at(2026, 11, 3, 11), tick=True):
        sla_sweep.delay()  # what beat sends every minute
        assert wait_until(lambda: SlaBreach.objects.filter(case=case).exists())
        # …and the escalation e-mail goes out through the worker too.
        assert wait_until(
            lambda: Notification.objects.filter(
                recipient=tech_supervisor, emailed_at__isnull=False
            ).exists()
        )


def test_the_asked_department_sees_the_case_and_finished_cases_cannot_ask(
    agent, handler, tech, make_user, department
):
    front = make_user("front2", role=roles.HANDLER, departments=[department])
    case = intake().case
    case = services.case_transition(
        case=case, name="assign", user=agent, department=department, assignee=front
    )
    assert not case.is_visible_to(handler)
    services.technical_request_create(
        case=case, department=tech, question="请协助查询物流接口", user=front
    )
    assert case.is_visible_to(handler)
    assert list(Case.objects.visible_to(handler)) == [case]
    cancelled = services.case_transition(
        case=intake().case, name="cancel", user=agent, reason="重复"
    )
    with pytest.raises(Exception) as err:
        services.technical_request_create(case=cancelled, department=tech, question="?", user=agent)
    assert "open case" in str(err.value) or "工单" in str(err.value)
