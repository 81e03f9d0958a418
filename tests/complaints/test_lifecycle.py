"""The case lifecycle: every transition allowed and refused, with and without permission,
the timeline, and the optimistic-locking conflict."""

import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django_fsm import TransitionNotAllowed

from complaints import services
from complaints.models import Case, CaseEvent, EventKind, State
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake, walk


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def handler(make_user, tech):
    return make_user("handler", role=roles.HANDLER, departments=[tech])


@pytest.fixture
def new_case(db):
    """A case no rule routed: state received, no department."""
    return intake().case


def assigned(new_case, agent, handler, tech):
    return services.case_transition(
        case=new_case, name="assign", user=agent, department=tech, assignee=handler
    )


def test_unrouted_case_waits_in_received(new_case):
    assert new_case.state == State.RECEIVED
    assert new_case.department is None and new_case.assignee is None
    assert new_case.number.count("-") == 1 and len(new_case.number) == 12


def test_state_cannot_be_assigned_directly(new_case):
    with pytest.raises(AttributeError):
        new_case.state = State.CLOSED


def test_assign_needs_department_and_person(new_case, agent, tech):
    with pytest.raises(ValidationError) as err:
        services.case_transition(case=new_case, name="assign", user=agent, department=tech)
    assert "assignee" in err.value.message_dict
    new_case.refresh_from_db()
    assert new_case.state == State.RECEIVED
    assert not new_case.events.filter(kind=EventKind.TRANSITION).exists()


def test_assign_refuses_a_person_outside_the_department(new_case, agent, tech, make_user):
    outsider = make_user("outsider", role=roles.HANDLER)
    with pytest.raises(ValidationError) as err:
        services.case_transition(
            case=new_case, name="assign", user=agent, department=tech, assignee=outsider
        )
    assert "assignee" in err.value.message_dict


def test_handler_cannot_assign(new_case, handler, tech):
    with pytest.raises(PermissionDenied):
        services.case_transition(
            case=new_case, name="assign", user=handler, department=tech, assignee=handler
        )


def test_full_happy_path_writes_one_event_per_step(new_case, agent, handler, tech, supervisor):
    case = assigned(new_case, agent, handler, tech)
    assert case.state == State.ASSIGNED
    case = walk(
        case,
        handler,
        ("start_investigation", {}),
        ("propose_solution", {"solution": "为客户补发配件", "customer_notified": True}),
        ("resolve", {"result": "已补发配件，客户确认收到", "cause": "仓库漏发"}),
    )
    assert case.state == State.RESOLVED and case.resolved_at is not None
    case = services.case_record_feedback(case=case, score=5, text="很满意")
    case = services.case_transition(case=case, name="close", user=handler)
    assert case.state == State.CLOSED and case.closed_at is not None
    steps = list(
        case.events.filter(kind=EventKind.TRANSITION).values_list(
            "transition", "from_state", "to_state"
        )
    )
    assert steps == [
        ("assign", "received", "assigned"),
        ("start_investigation", "assigned", "investigating"),
        ("propose_solution", "investigating", "solution_proposed"),
        ("resolve", "solution_proposed", "resolved"),
        ("close", "resolved", "closed"),
    ]
    proposal = case.events.get(transition="propose_solution")
    assert proposal.customer_notified is True and proposal.author == handler
    assert case.cause == "仓库漏发"


def test_propose_needs_a_solution_and_resolve_needs_a_result(new_case, agent, handler, tech):
    case = walk(assigned(new_case, agent, handler, tech), handler, ("start_investigation", {}))
    with pytest.raises(ValidationError) as err:
        services.case_transition(case=case, name="propose_solution", user=handler, solution="  ")
    assert "solution" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        services.case_transition(case=case, name="resolve", user=handler)
    assert "result" in err.value.message_dict
    case.refresh_from_db()
    assert case.state == State.INVESTIGATING


def test_close_needs_satisfaction_done_or_waived_by_a_supervisor(
    new_case, agent, handler, tech, supervisor
):
    case = walk(
        assigned(new_case, agent, handler, tech),
        handler,
        ("start_investigation", {}),
        ("resolve", {"result": "已处理"}),
    )
    with pytest.raises(ValidationError) as err:
        services.case_transition(case=case, name="close", user=handler)
    assert "feedback_score" in err.value.message_dict
    with pytest.raises(PermissionDenied):
        services.case_waive_satisfaction(case=case, user=handler, reason="客户联系不上")
    services.case_waive_satisfaction(case=case, user=supervisor, reason="客户联系不上")
    case = services.case_transition(case=case, name="close", user=handler)
    assert case.state == State.CLOSED


def test_transitions_refused_from_the_wrong_state(new_case, agent, handler, tech):
    with pytest.raises(TransitionNotAllowed):
        services.case_transition(case=new_case, name="resolve", user=agent, result="x")
    with pytest.raises(TransitionNotAllowed):
        services.case_transition(case=new_case, name="close", user=agent)
    with pytest.raises(TransitionNotAllowed):
        services.case_transition(case=new_case, name="reopen", user=agent, reason="x")
    case = assigned(new_case, agent, handler, tech)
    with pytest.raises(TransitionNotAllowed):
        services.case_transition(case=case, name="propose_solution", user=handler, solution="x")


def test_a_handler_of_another_department_cannot_work_the_case(
    new_case, agent, handler, tech, make_user
):
    other = Department.objects.create(code="logistics", name="物流部")
    stranger = make_user("stranger", role=roles.HANDLER, departments=[other])
    case = assigned(new_case, agent, handler, tech)
    with pytest.raises(PermissionDenied):
        services.case_transition(case=case, name="start_investigation", user=stranger)
    assert services.available_transitions(case, stranger) == []
    names = [name for name, _label, _inputs in services.available_transitions(case, handler)]
    assert names == ["start_investigation"]


def test_reopen_counts_and_clears_the_satisfaction_step(new_case, agent, handler, tech, supervisor):
    case = walk(
        assigned(new_case, agent, handler, tech),
        handler,
        ("start_investigation", {}),
        ("resolve", {"result": "已处理"}),
    )
    case = services.case_record_feedback(case=case, score=2, text="没解决")
    with pytest.raises(ValidationError):
        services.case_transition(case=case, name="reopen", user=handler)  # needs a reason
    case = services.case_transition(case=case, name="reopen", user=handler, reason="客户不满意")
    assert case.state == State.REOPENED
    assert case.reopen_count == 1 and case.feedback_score is None and case.resolved_at is None
    case = walk(case, handler, ("start_investigation", {}), ("resolve", {"result": "更换新品"}))
    services.case_waive_satisfaction(case=case, user=supervisor, reason="已电话确认")
    case = walk(case, handler, ("close", {}), ("reopen", {"reason": "问题复发"}))
    assert case.reopen_count == 2


def test_cancel_needs_a_reason_and_permission(new_case, agent, handler, tech, make_user):
    case = assigned(new_case, agent, handler, tech)
    # The dispatching agent no longer sees a case handed to another department…
    with pytest.raises(PermissionDenied):
        services.case_transition(case=case, name="cancel", user=agent, reason="垃圾信息")
    agent = make_user("tech_agent", role=roles.AGENT, departments=[tech])  # …the tech desk does
    with pytest.raises(PermissionDenied):
        services.case_transition(case=case, name="cancel", user=handler, reason="垃圾信息")
    with pytest.raises(ValidationError) as err:
        services.case_transition(case=case, name="cancel", user=agent, reason="")
    assert "reason" in err.value.message_dict
    case = services.case_transition(case=case, name="cancel", user=agent, reason="垃圾信息")
    assert case.state == State.CANCELLED
    assert case.events.get(transition="cancel").message == "垃圾信息"
    with pytest.raises(TransitionNotAllowed):
        services.case_transition(case=case, name="start_investigation", user=agent)


def test_merge_points_at_the_survivor_and_leaves_the_queues(agent):
    survivor = intake(subject="电视开机黑屏").case
    other = intake(subject="电视机无法开机", channel="email").case
    with pytest.raises(ValidationError) as err:
        services.case_transition(case=other, name="merge", user=agent, into=other.number)
    assert "into" in err.value.message_dict
    with pytest.raises(ValidationError):
        services.case_transition(case=other, name="merge", user=agent, into="209901-99999")
    merged = services.case_transition(case=other, name="merge", user=agent, into=survivor.number)
    assert merged.state == State.MERGED and merged.merged_into == survivor
    assert list(Case.objects.active()) == [survivor]
    assert survivor.events.filter(kind=EventKind.MERGE).exists()
    assert set(survivor.contacts.values_list("channel", flat=True)) == {"phone", "email"}


def test_a_stale_version_is_a_conflict_not_an_overwrite(new_case, agent, handler, tech):
    seen = new_case.version
    assigned(new_case, agent, handler, tech)
    with pytest.raises(services.CaseChanged) as err:
        services.case_transition(
            case=new_case, name="cancel", user=agent, reason="重复", expected_version=seen
        )
    assert new_case.number in str(err.value)
    new_case.refresh_from_db()
    assert new_case.state == State.ASSIGNED
    with pytest.raises(services.CaseChanged):
        services.case_update(case=new_case, user=agent, priority=5, expected_version=seen)


def test_progress_updates_and_next_contact_are_logged(new_case, agent):
    import datetime

    from django.utils import timezone

    promised = timezone.now() + datetime.timedelta(days=1)
    event = services.case_add_event(
        case=new_case,
        user=agent,
        message="已排查问题原因，等待仓库回复",
        customer_notified=True,
        next_contact_at=promised,
    )
    new_case.refresh_from_db()
    assert new_case.next_contact_at == promised
    assert event.kind == EventKind.PROGRESS and event.customer_notified
    with pytest.raises(ValidationError) as err:
        services.case_add_event(case=new_case, user=agent, message="   ")
    assert "message" in err.value.message_dict


def test_case_update_records_old_and_new_values(new_case, agent):
    case = services.case_update(case=new_case, user=agent, priority=5, urgency="high")
    event = case.events.get(kind=EventKind.CHANGE)
    assert event.data["priority"] == [3, 5]
    assert event.data["urgency"] == ["medium", "high"]
    with pytest.raises(ValidationError) as err:
        services.case_update(case=case, user=agent, priority=9)
    assert "priority" in err.value.message_dict
    case.refresh_from_db()
    assert case.priority == 5


def test_timeline_entries_cannot_be_edited_or_deleted(new_case):
    event = new_case.events.first()
    event.message = "改掉记录"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    assert CaseEvent.objects.get(pk=event.pk).message != "改掉记录"


@pytest.mark.postgres
def test_the_database_refuses_to_change_or_delete_timeline_entries(new_case):
    if connection.vendor != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's (CaseEvent.save/delete refuse too)")
    event = new_case.events.first()
    # Around the model: a bulk update, a bulk delete, raw SQL, a cascade from the case.
    attempts = [
        lambda: CaseEvent.objects.filter(pk=event.pk).update(message="改掉记录"),
        lambda: CaseEvent.objects.filter(pk=event.pk).delete(),
        lambda: connection.cursor().execute(
            "UPDATE complaints_caseevent SET message = 'x' WHERE id = %s", [event.pk]
        ),
        lambda: Case.objects.filter(pk=new_case.pk).delete(),
    ]
    for attempt in attempts:
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            attempt()
    assert CaseEvent.objects.get(pk=event.pk).message == event.message
    # Appending still works.
    CaseEvent.objects.create(case=new_case, kind=EventKind.PROGRESS, message="补充记录")
    assert new_case.events.filter(message="补充记录").exists()


@pytest.mark.django_db(transaction=True)
def test_two_people_racing_the_same_transition_only_one_succeeds(make_user):
    # PostgreSQL: row lock + version check. SQLite: IMMEDIATE transactions queue writers,
    # and the second still finds the version changed.
    tech = Department.objects.create(code="tech", name="技术部")
    a = make_user("a", role=roles.AGENT, departments=[tech])
    h1 = make_user("h1", role=roles.HANDLER, departments=[tech])
    make_user("h2", role=roles.HANDLER, departments=[tech])
    case = intake().case
    case = services.case_transition(case=case, name="assign", user=a, department=tech, assignee=h1)
    version = case.version
    barrier = threading.Barrier(2)
    outcomes = []

    def act(user, name, inputs):
        try:
            barrier.wait()
            services.case_transition(
                case=case, name=name, user=user, expected_version=version, **inputs
            )
            outcomes.append("ok")
        except (services.CaseChanged, TransitionNotAllowed) as exc:
            outcomes.append(type(exc).__name__)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(h1, "start_investigation", {})),
        threading.Thread(target=act, args=(a, "cancel", {"reason": "客户撤回"})),
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["CaseChanged", "ok"]
    case.refresh_from_db()
    assert case.events.filter(kind=EventKind.TRANSITION).count() == 2  # assign + the winner
