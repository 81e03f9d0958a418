"""The staff workspace in the admin: intake form, case list, case page, transitions, bulk
assignment, visibility, masking and query counts — end to end through the test client."""

import datetime
import itertools

import pytest
import time_machine
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from complaints import services
from complaints.models import (
    Case,
    CaseContact,
    CaseEvent,
    Customer,
    EventKind,
    ReturnRequest,
    State,
)
from servicedesk.staff import roles
from servicedesk.staff.models import Department

CHANGELIST = reverse("admin:complaints_case_changelist")
ADD = reverse("admin:complaints_case_add")

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings, tmp_path):
    # Assertions read the English messages; translations may change the Chinese ones.
    settings.LANGUAGE_CODE = "en"
    settings.MEDIA_ROOT = tmp_path / "media"


def change_url(case):
    return reverse("admin:complaints_case_change", args=[case.pk])


def transition_url(case, name):
    return reverse("admin:complaints_case_transition", args=[case.pk, name])


def intake(user=None, **overrides):
    """A case through the real intake service; unrouted unless a department is given."""
    n = next(_seq)
    data = {
        "channel": "phone",
        "customer": {"name": f"客户{n}", "phone": f"139{n:08d}"},
        "subject": f"第{n}号：订单{n}的商品与描述不符",
        "description": "客户来电反映收到的商品与页面描述不一致。",
        "type": "complaint",
        "category": "product",
        "user": user,
    }
    data.update(overrides)
    return services.case_intake(**data).case


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def handler(make_user, department):
    """A handler in the agent's department (客服中心): no personal data, no assigning."""
    return make_user("handler", role=roles.HANDLER, departments=[department])


@pytest.fixture
def tech_handler(make_user, tech):
    return make_user("tech1", role=roles.HANDLER, departments=[tech])


def page(response):
    return response.content.decode()


INTAKE_POST = {
    "customer_phone": "138-0013-8000",
    "customer_name": "张三",
    "customer_member_no": "",
    "customer_email": "",
    "customer_preferred_contact": "phone",
    "customer_kind": "individual",
    "customer_company": "",
    "channel": "store",
    "type": "complaint",
    "category": "product",
    "subject": "蓝牙耳机左耳没有声音",
    "description": "客户到店反映购买一周的蓝牙耳机左耳无声。",
    "customer_words": "才用一周就坏了，太失望了",
    "expected_outcome": "换新",
    "product": "蓝牙耳机 X1",
    "order_no": "SO-20261101-0001",
    "urgency": "",
    "priority": "",
    "department": "",
    "assignee": "",
    "prior_history": "",
    "remarks": "",
    "return_purchase_date": "",
    "return_reason": "",
    "return_evidence_notes": "",
}


# --- intake --------------------------------------------------------------------------------


def test_intake_form_registers_a_case_through_the_service(client, agent, department):
    client.force_login(agent)
    form_page = client.get(ADD)
    assert form_page.status_code == 200
    assert 'name="customer_phone"' in page(form_page)
    assert 'name="attachments"' in page(form_page)

    evidence = SimpleUploadedFile("photo.jpg", b"\xff\xd8\xff fake jpeg", content_type="image/jpeg")
    response = client.post(
        ADD, {**INTAKE_POST, "department": department.pk, "attachments": [evidence]}
    )

    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(case)
    assert case.channel == "store"
    assert case.customer.phone_normalized == "13800138000"
    assert case.customer_words == "才用一周就坏了，太失望了"
    assert case.created_by == agent
    # The service's work: a number, the first contact, the timeline, the evidence, assignment.
    assert case.number
    assert case.contacts.count() == 1
    assert case.events.filter(kind=EventKind.CREATED).exists()
    assert case.attachments.get().original_name == "photo.jpg"
    assert case.department == department
    assert case.state == State.ASSIGNED
    shown = page(client.get(response["Location"]))
    assert f"Case {case.number} registered." in shown


def test_a_repeat_contact_is_added_to_the_open_case_with_a_message(client, agent):
    existing = intake(
        customer={"name": "张三", "phone": "13800138000"},
        subject="蓝牙耳机左耳没有声音",
        channel="social",
    )
    client.force_login(agent)

    response = client.post(
        ADD, {**INTAKE_POST, "channel": "phone", "subject": "蓝牙耳机左耳没有声音了"}, follow=True
    )

    assert Case.objects.count() == 1
    assert response.redirect_chain[-1][0] == change_url(existing)
    assert CaseContact.objects.filter(case=existing).count() == 2
    assert f"the contact was added to case {existing.number}" in page(response)


def test_the_add_form_can_register_and_start_another(client, agent):
    client.force_login(agent)
    response = client.post(ADD, {**INTAKE_POST, "_addanother": "1"})
    assert response.status_code == 302
    assert response["Location"] == ADD
    assert Case.objects.count() == 1


def test_missing_fields_show_on_the_form_and_nothing_is_saved(client, agent):
    client.force_login(agent)
    response = client.post(ADD, {**INTAKE_POST, "subject": "", "type": ""})
    assert response.status_code == 200
    form = response.context["form"]
    assert "subject" in form.errors and "type" in form.errors
    assert Case.objects.count() == 0
    assert Customer.objects.count() == 0


def test_errors_from_the_service_land_on_their_fields(client, agent):
    client.force_login(agent)

    bad_phone = client.post(ADD, {**INTAKE_POST, "customer_phone": "12"})
    assert bad_phone.status_code == 200
    assert "customer_phone" in bad_phone.context["form"].errors

    no_way_to_reach = client.post(ADD, {**INTAKE_POST, "customer_phone": ""})
    assert no_way_to_reach.status_code == 200
    assert no_way_to_reach.context["form"].non_field_errors()

    future = timezone.localdate() + datetime.timedelta(days=10)
    bad_return = client.post(
        ADD,
        {
            **INTAKE_POST,
            "type": "return_exchange",
            "return_purchase_date": future.isoformat(),
            "return_reason": "quality",
        },
    )
    assert bad_return.status_code == 200
    assert "return_purchase_date" in bad_return.context["form"].errors

    bad_file = client.post(
        ADD, {**INTAKE_POST, "attachments": [SimpleUploadedFile("run.exe", b"MZ")]}
    )
    assert bad_file.status_code == 200
    assert "attachments" in bad_file.context["form"].errors

    assert Case.objects.count() == 0
    assert Customer.objects.count() == 0


def test_a_return_is_registered_with_its_data_and_window_flag(client, agent):
    client.force_login(agent)
    bought = timezone.localdate() - datetime.timedelta(days=20)
    response = client.post(
        ADD,
        {
            **INTAKE_POST,
            "type": "return_exchange",
            "category": "product",
            "return_purchase_date": bought.isoformat(),
            "return_reason": "personal",
            "return_unopened": "on",
        },
        follow=True,
    )
    rr = ReturnRequest.objects.get()
    assert rr.purchase_date == bought
    assert rr.outside_window
    shown = page(response)
    assert "Outside the return window" in shown
    assert "SO-20261101-0001" in shown


# --- visibility and masking ----------------------------------------------------------------


def test_agents_see_their_departments_cases_and_supervisors_see_all(
    client, agent, supervisor, department, tech, tech_handler
):
    ours = intake(department=department, subject="我们部门的案件")
    theirs = intake(department=tech, subject="技术部的案件")

    client.force_login(agent)
    listing = page(client.get(CHANGELIST))
    assert ours.number in listing
    assert theirs.number not in listing
    assert client.get(change_url(theirs)).status_code == 403
    assert client.get(transition_url(theirs, "cancel")).status_code == 403
    assert client.get(change_url(ours)).status_code == 200

    client.force_login(tech_handler)
    listing = page(client.get(CHANGELIST))
    assert theirs.number in listing and ours.number not in listing

    client.force_login(supervisor)
    listing = page(client.get(CHANGELIST))
    assert ours.number in listing and theirs.number in listing
    assert client.get(change_url(theirs)).status_code == 200


def test_phone_numbers_are_masked_for_roles_that_do_not_need_them(
    client, agent, handler, department
):
    case = intake(
        department=department,
        assignee=handler,
        customer={"name": "李四", "phone": "13800138000", "email": "lisi@example.com"},
    )

    client.force_login(handler)
    listing = page(client.get(CHANGELIST))
    assert "138 **** 8000" in listing
    assert "13800138000" not in listing and "138 0013 8000" not in listing
    case_page = page(client.get(change_url(case)))
    assert "138 **** 8000" in case_page and "138 0013 8000" not in case_page
    assert "li***@example.com" in case_page and "lisi@example.com" not in case_page
    customer_page = page(
        client.get(reverse("admin:complaints_customer_change", args=[case.customer_id]))
    )
    assert "13800138000" not in customer_page

    client.force_login(agent)
    listing = page(client.get(CHANGELIST))
    assert "138 0013 8000" in listing


def test_search_finds_a_phone_typed_with_dashes(client, agent, department):
    case = intake(department=department, customer={"name": "王五", "phone": "13912345678"})
    other = intake(department=department)
    client.force_login(agent)
    listing = page(client.get(CHANGELIST, {"q": "139-1234-5678"}))
    assert case.number in listing
    assert other.number not in listing


def test_my_cases_and_overdue_queues(client, agent, handler, department):
    mine = intake(department=department, assignee=agent)
    not_mine = intake(department=department, assignee=handler)
    services.case_add_event(
        case=not_mine,
        user=handler,
        message="已排查问题原因",
        next_contact_at=timezone.now() + datetime.timedelta(minutes=1),
    )
    client.force_login(agent)

    my_list = page(client.get(CHANGELIST, {"scope": "mine"}))
    assert mine.number in my_list and not_mine.number not in my_list

    # Two hours later the promised contact (沟通节点) has passed unmet.
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=2)):
        overdue = page(client.get(CHANGELIST, {"overdue": "yes"}))
    assert not_mine.number in overdue and mine.number not in overdue


# --- the case page and its transitions -----------------------------------------------------


def test_buttons_follow_the_user_and_the_state(client, agent, handler, department):
    case = intake()  # no routing rule: waits unassigned
    client.force_login(agent)
    shown = page(client.get(change_url(case)))
    assert transition_url(case, "assign") in shown
    assert transition_url(case, "cancel") in shown
    assert transition_url(case, "start_investigation") not in shown

    services.case_transition(
        case=case, name="assign", user=agent, department=department, assignee=handler
    )
    client.force_login(handler)
    shown = page(client.get(change_url(case)))
    assert transition_url(case, "start_investigation") in shown
    assert transition_url(case, "assign") not in shown  # handlers do not dispatch
    assert transition_url(case, "cancel") not in shown


def test_a_transition_that_needs_input_asks_for_it_and_applies_it(
    client, agent, handler, department
):
    case = intake()
    client.force_login(agent)

    asks = client.get(transition_url(case, "assign"))
    assert asks.status_code == 200
    assert 'name="department"' in page(asks) and 'name="assignee"' in page(asks)

    missing = client.post(
        transition_url(case, "assign"),
        {"expected_version": case.version, "department": department.pk, "assignee": ""},
    )
    assert missing.status_code == 200
    assert "assignee" in missing.context["form"].errors
    case.refresh_from_db()
    assert case.state == State.RECEIVED

    done = client.post(
        transition_url(case, "assign"),
        {
            "expected_version": case.version,
            "department": department.pk,
            "assignee": handler.pk,
            "note": "请尽快联系客户",
        },
        follow=True,
    )
    case.refresh_from_db()
    assert case.state == State.ASSIGNED
    assert case.assignee == handler
    assert done.redirect_chain[-1][0] == change_url(case)
    assert "请尽快联系客户" in page(done)  # on the timeline


def test_a_one_click_step_and_the_resolution_with_its_inputs(client, handler, department):
    case = intake(department=department, assignee=handler)
    client.force_login(handler)

    client.post(transition_url(case, "start_investigation"), {"expected_version": case.version})
    case.refresh_from_db()
    assert case.state == State.INVESTIGATING

    empty = client.post(
        transition_url(case, "resolve"), {"expected_version": case.version, "result": " "}
    )
    assert "result" in empty.context["form"].errors

    client.post(
        transition_url(case, "resolve"),
        {
            "expected_version": case.version,
            "result": "已为客户换新",
            "cause": "批次质量问题",
            "customer_notified": "on",
        },
    )
    case.refresh_from_db()
    assert case.state == State.RESOLVED
    assert case.result == "已为客户换新"
    assert case.events.get(transition="resolve").customer_notified


def test_closing_needs_the_satisfaction_step_which_a_supervisor_may_waive(
    client, handler, supervisor, department
):
    case = intake(department=department, assignee=handler)
    case = services.case_transition(case=case, name="start_investigation", user=handler)
    case = services.case_transition(case=case, name="resolve", user=handler, result="已处理")

    client.force_login(handler)
    refused = client.post(transition_url(case, "close"), {"expected_version": case.version})
    assert refused.status_code == 200
    assert refused.context["form"].non_field_errors()
    assert "waive-satisfaction" not in page(client.get(change_url(case)))

    client.force_login(supervisor)
    waive_url = reverse("admin:complaints_case_waive", args=[case.pk])
    assert waive_url in page(client.get(change_url(case)))
    client.post(waive_url, {"reason": "客户明确表示不接受回访"})
    case.refresh_from_db()
    client.post(transition_url(case, "close"), {"expected_version": case.version})
    case.refresh_from_db()
    assert case.state == State.CLOSED


def test_a_stale_page_gets_reload_and_changes_nothing(client, agent, supervisor, department):
    case = intake(department=department, assignee=agent)
    loaded_version = case.version
    client.force_login(agent)
    form = client.get(change_url(case)).context["adminform"].form
    assert form["expected_version"].value() == loaded_version

    # Somebody else changes the case meanwhile.
    services.case_update(case=case, user=supervisor, subject="主管改过的主题")

    details = {
        "expected_version": loaded_version,
        "subject": "客服改的主题",
        "type": case.type,
        "category": case.category,
        "urgency": case.urgency,
        "priority": case.priority,
        "description": case.description,
    }
    response = client.post(change_url(case), details, follow=True)
    case.refresh_from_db()
    assert case.subject == "主管改过的主题"
    assert "changed by someone else" in page(response)

    response = client.post(
        transition_url(case, "start_investigation"),
        {"expected_version": loaded_version},
        follow=True,
    )
    case.refresh_from_db()
    assert case.state == State.ASSIGNED
    assert "changed by someone else" in page(response)


def test_details_are_edited_through_the_service_and_logged(client, agent, department):
    case = intake(department=department, assignee=agent)
    client.force_login(agent)
    response = client.post(
        change_url(case),
        {
            "expected_version": case.version,
            "subject": case.subject,
            "type": case.type,
            "category": case.category,
            "urgency": "high",
            "priority": 5,
            "description": case.description,
            "_continue": "1",
        },
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.urgency, case.priority) == ("high", 5)
    change = case.events.get(kind=EventKind.CHANGE)
    assert change.author == agent
    assert change.data["urgency"] == ["medium", "high"]


def test_progress_update_and_evidence_from_the_case_page(client, handler, make_user, department):
    case = intake(department=department, assignee=handler)
    client.force_login(handler)
    next_contact = timezone.localtime() + datetime.timedelta(days=1)

    client.post(
        reverse("admin:complaints_case_progress", args=[case.pk]),
        {
            "expected_version": case.version,
            "kind": "progress",
            "message": "已排查问题原因，开发中",
            "customer_notified": "on",
            "next_contact_at": next_contact.strftime("%Y-%m-%dT%H:%M"),
        },
    )
    event = case.events.get(kind=EventKind.PROGRESS)
    assert event.customer_notified
    case.refresh_from_db()
    assert case.next_contact_at is not None

    empty = client.post(
        reverse("admin:complaints_case_progress", args=[case.pk]),
        {"expected_version": case.version, "kind": "progress", "message": ""},
    )
    assert "message" in empty.context["form"].errors

    log = SimpleUploadedFile("error.log", b"Traceback: boom", content_type="text/plain")
    client.post(reverse("admin:complaints_case_attach", args=[case.pk]), {"files": [log]})
    attachment = case.attachments.get()
    download = reverse("admin:complaints_case_attachment", args=[case.pk, attachment.pk])
    assert download in page(client.get(change_url(case)))
    assert b"".join(client.get(download).streaming_content) == b"Traceback: boom"

    outsider = make_user("outsider", role=roles.HANDLER, departments=[])
    client.force_login(outsider)
    assert client.get(download).status_code == 403


def test_the_case_page_shows_the_customers_other_cases_contacts_and_timeline(
    client, agent, department
):
    customer = {"name": "赵六", "phone": "13700000001"}
    earlier = intake(department=department, customer=customer, subject="发票开错了")
    case = intake(department=department, customer=customer, subject="快递三天没有更新")
    client.force_login(agent)
    shown = page(client.get(change_url(case)))
    assert change_url(earlier) in shown
    assert "Received via" in shown  # the timeline's first event
    assert 'id="contacts"' in shown


# --- bulk assignment -----------------------------------------------------------------------


def test_bulk_assign_reports_each_case(client, agent, handler, department):
    waiting = [intake() for _ in range(3)]
    busy = intake(department=department, assignee=handler)
    busy = services.case_transition(case=busy, name="start_investigation", user=handler)
    selected = [c.pk for c in [*waiting, busy]]
    client.force_login(agent)

    ask = client.post(
        CHANGELIST, {"action": "assign_selected", "_selected_action": selected, "index": 0}
    )
    assert ask.status_code == 200
    assert 'name="assignee"' in page(ask)
    assert Case.objects.filter(state=State.ASSIGNED).count() == 0

    response = client.post(
        CHANGELIST,
        {
            "action": "assign_selected",
            "_selected_action": selected,
            "apply": "1",
            "department": department.pk,
            "assignee": handler.pk,
        },
        follow=True,
    )
    shown = page(response)
    for case in waiting:
        case.refresh_from_db()
        assert case.state == State.ASSIGNED and case.assignee == handler
        assert case.number in shown
    busy.refresh_from_db()
    assert busy.state == State.INVESTIGATING
    assert f"{busy.number} not assigned" in shown


def test_handlers_cannot_bulk_assign(client, handler):
    client.force_login(handler)
    response = client.get(CHANGELIST)
    assert "assign_selected" not in page(response)


# --- the rest of the workspace -------------------------------------------------------------


def test_timeline_entries_are_not_editable_and_cases_not_deletable(client, make_user):
    assert CaseEvent not in admin.site._registry
    root = make_user("root", is_superuser=True)
    case = intake()
    client.force_login(root)
    assert 'class="deletelink"' not in page(client.get(change_url(case)))
    assert client.get(reverse("admin:complaints_case_delete", args=[case.pk])).status_code == 403


def test_rule_and_customer_pages_open(client, supervisor, department):
    intake(department=department)
    client.force_login(supervisor)
    for name in [
        "complaints_urgencyrule_changelist",
        "complaints_routingrule_changelist",
        "complaints_customer_changelist",
        "complaints_returnrequest_changelist",
        "complaints_case_add",
    ]:
        assert client.get(reverse(f"admin:{name}")).status_code == 200, name
    customer = Customer.objects.get()
    assert (
        client.get(reverse("admin:complaints_customer_change", args=[customer.pk])).status_code
        == 200
    )
    assert (
        client.get(reverse("admin:complaints_customer_delete", args=[customer.pk])).status_code
        == 403
    )


# --- query counts --------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 30])
def test_the_case_list_takes_a_constant_number_of_queries(
    client, agent, handler, department, django_assert_max_num_queries, count
):
    for i in range(count):
        intake(department=department, assignee=handler if i % 2 else agent, user=agent)
    client.force_login(agent)
    with django_assert_max_num_queries(LIST_QUERIES):
        response = client.get(CHANGELIST)
    assert response.status_code == 200
    assert len(response.context["cl"].result_list) == count


@pytest.mark.parametrize("count", [3, 30])
def test_the_case_page_takes_a_constant_number_of_queries(
    client, agent, department, django_assert_max_num_queries, count
):
    customer = {"name": "钱七", "phone": "13600000001"}
    for i in range(count):
        # Older than the de-duplication window, so each one is a case of its own.
        intake(
            department=department,
            customer=customer,
            now=timezone.now() - datetime.timedelta(days=10 + i),
        )
    case = intake(department=department, customer=customer, subject="最新的问题", assignee=agent)
    for i in range(count):
        services.case_add_event(case=case, user=agent, message=f"进度 {i}")
        services.case_add_attachment(
            case=case, file=SimpleUploadedFile(f"f{i}.txt", b"x"), user=agent
        )
    client.force_login(agent)
    with django_assert_max_num_queries(CASE_PAGE_QUERIES):
        response = client.get(change_url(case))
    assert response.status_code == 200
    assert len(response.context["events"]) > count


LIST_QUERIES = 12
# +4 with the deadline panel: escalation history, technical requests, the departments one may
# ask, and a content-type lookup the first time in a process. +4 for the suggestions, which
# read a bounded set of rows: word statistics, then candidates (a second step when few rows
# share two rare words), for articles and for cases.
CASE_PAGE_QUERIES = 23
# +5 with the channels' reply box: the conversation (last e-mail, last WeChat message, the
# follower), the standard replies to insert, and the replies sent.
CASE_PAGE_QUERIES += 5
# +1: the notification bell in the header (its count and newest few in one query).
CASE_PAGE_QUERIES += 1
# +2: who registered the case and its return request read by key instead of joined to the
# case (each join cost the case's query ~1 ms at 1M cases); who waived the satisfaction step
# too, on the rare case where someone did.
CASE_PAGE_QUERIES += 2
# +1 on PostgreSQL: a select's choices read through a server-side cursor (its DECLARE is
# counted as a statement of its own).
if connection.vendor == "postgresql":
    CASE_PAGE_QUERIES += 1


def test_a_return_asks_for_its_data_all_at_once(client, agent):
    client.force_login(agent)
    response = client.post(
        ADD, {**INTAKE_POST, "type": "return_exchange", "order_no": "", "product": ""}
    )
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert {"order_no", "product", "return_purchase_date", "return_reason"} <= set(errors)
    assert Case.objects.count() == 0


def test_staff_see_only_the_customers_of_cases_they_see(
    client, agent, tech_handler, department, tech
):
    intake(department=department, customer={"name": "客服部的客户", "phone": "13500000001"})
    intake(department=tech, customer={"name": "技术部的客户", "phone": "13500000002"})
    client.force_login(tech_handler)
    listing = page(client.get(reverse("admin:complaints_customer_changelist")))
    assert "技术部的客户" in listing
    assert "客服部的客户" not in listing
    assert "135 **** 0002" in listing and "13500000002" not in listing  # masked, in the one form


def test_view_only_staff_get_a_read_only_case_page(client, make_user, department):
    from django.contrib.auth.models import Permission

    case = intake(department=department)
    viewer = make_user("viewer", departments=[department])
    viewer.user_permissions.add(Permission.objects.get(codename="view_case"))
    client.force_login(viewer)
    response = client.get(change_url(case))
    assert response.status_code == 200
    assert case.subject in page(response)
    assert 'name="subject"' not in page(response)
    assert "data-transition" not in page(response)


def test_return_steps_are_buttons_that_ask_for_their_input(client, agent):
    case = intake(
        user=agent,
        type="return_exchange",
        subject="行李箱轮子断了",
        order_no="SO31",
        product="行李箱",
        return_request={"purchase_date": datetime.date.today(), "reason": "quality"},
        attachments=[SimpleUploadedFile("wheel.jpg", b"\xff\xd8\xff jpeg")],  # the evidence
    )
    client.force_login(agent)
    html = page(client.get(change_url(case)))
    approve = reverse("admin:complaints_case_return_step", args=[case.pk, "approve"])
    assert approve in html
    client.post(approve, {"expected_version": case.version})
    client.post(
        reverse("admin:complaints_case_return_step", args=[case.pk, "notify_customer"]),
        {"expected_version": Case.objects.get(pk=case.pk).version},
    )
    ship = reverse("admin:complaints_case_return_step", args=[case.pk, "ship_back"])
    form_page = page(client.get(ship))
    assert 'name="tracking_no"' in form_page
    response = client.post(ship, {"expected_version": Case.objects.get(pk=case.pk).version})
    assert response.status_code == 200 and "This field is required" in page(response)
    assert ReturnRequest.objects.get(case=case).step == "customer_notified"
    response = client.post(
        ship, {"expected_version": Case.objects.get(pk=case.pk).version, "tracking_no": "YT998877"}
    )
    assert response.status_code == 302
    rr = ReturnRequest.objects.get(case=case)
    assert rr.step == "shipped_back" and rr.tracking_no == "YT998877"
    assert "YT998877" in page(client.get(change_url(case)))
