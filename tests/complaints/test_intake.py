"""Intake: customer matching, urgency and routing rules, least-loaded assignment, Chinese
de-duplication across channels, numbering, return/exchange windows, nothing half-saved."""

import datetime
import threading
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django_fsm import TransitionNotAllowed

from complaints import services
from complaints.models import (
    Case,
    CaseEvent,
    Customer,
    RoutingRule,
    State,
    UrgencyRule,
    mask_email,
    mask_phone,
    normalize_phone,
)
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake, walk

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def tech_rule(tech):
    return RoutingRule.objects.create(
        name="技术问题", category="technical", department=tech, order=1
    )


def test_phone_numbers_are_normalised_for_matching():
    assert normalize_phone("+86 138-0013-8000") == "13800138000"
    assert normalize_phone("0086 13800138000") == "13800138000"
    assert normalize_phone("(021) 6234 5678") == "02162345678"


def test_masking():
    assert mask_phone("13800138000") == "138****8000"
    assert mask_email("zhangsan@example.com") == "zh***@example.com"


def test_the_same_customer_is_found_by_phone_email_or_member_number(db):
    first = intake(customer={"name": "李女士", "phone": "+86 138 0013 8000"}).case.customer
    by_phone = intake(customer={"name": "李", "phone": "13800138000"}, subject="发票抬头开错了")
    assert by_phone.case.customer == first and not by_phone.customer_created
    intake(
        customer={"name": "李女士", "phone": "13800138000", "email": "Li@Example.com"},
        subject="积分没到账",
    )
    by_email = intake(customer={"name": "李", "email": "li@example.com"}, subject="快递员态度差")
    assert by_email.case.customer == first
    first.refresh_from_db()
    assert first.email == "Li@Example.com"  # filled in from the later contact
    assert Customer.objects.count() == 1
    assert by_phone.case.customer_is_new is False


def test_urgency_keyword_rules_raise_urgency_and_say_which_fired(db):
    case = intake(subject="再不解决我就打12315投诉你们", category="service").case
    assert case.urgency == "high" and case.priority == 5
    assert "12315" in case.urgency_reason and "法律" in case.urgency_reason
    created = case.events.get(kind="created")
    assert created.data["keyword"] == "12315"
    calm = intake(subject="想咨询一下会员积分规则", type="consultation").case
    assert calm.urgency == "medium" and calm.priority == 3 and calm.urgency_reason == ""


def test_rules_never_lower_what_the_agent_chose(db):
    UrgencyRule.objects.create(name="退款", keywords="退款", urgency="medium", priority=2, order=1)
    case = intake(subject="申请退款", urgency="high", priority=5).case
    assert (case.urgency, case.priority) == ("high", 5)


def test_routing_sends_to_the_least_loaded_handler(tech, tech_rule, make_user):
    busy = make_user("busy", role=roles.HANDLER, departments=[tech])
    idle = make_user("idle", role=roles.HANDLER, departments=[tech])
    make_user("away", role=roles.HANDLER, departments=[tech], is_active=False)
    first = intake(subject="APP闪退", category="technical").case
    assert first.department == tech and first.assignee == busy  # tie: earliest member
    assert first.state == State.ASSIGNED
    second = intake(subject="无法导出报表", category="technical").case
    assert second.assignee == idle
    third = intake(subject="验证码收不到", category="technical").case
    assert third.assignee == busy
    assert (
        "Assigned automatically" in first.events.get(transition="assign").message
        or first.events.get(transition="assign").author is None
    )


def test_no_matching_rule_leaves_the_case_for_manual_assignment(tech_rule):
    case = intake(subject="快递三天没到", category="logistics").case
    assert case.state == State.RECEIVED and case.department is None


def test_keyword_and_product_routing(tech, make_user):
    aftersales = Department.objects.create(code="aftersales", name="售后部")
    make_user("as1", role=roles.HANDLER, departments=[aftersales])
    RoutingRule.objects.create(
        name="耳机", product="耳机", keywords="没声音,杂音", department=aftersales, order=1
    )
    hit = intake(subject="蓝牙耳机左耳没声音", product="X1 蓝牙耳机").case
    assert hit.department == aftersales and hit.assignee.username == "as1"
    miss = intake(subject="耳机盒子压坏了", product="X1 蓝牙耳机").case
    assert miss.department is None


def test_second_channel_with_a_similar_chinese_subject_is_absorbed(db):
    weibo = intake(
        channel="social",
        customer={"name": "赵先生", "phone": "13912345678"},
        subject="买的手机屏幕碎了，要求退货",
    )
    phone = intake(
        channel="phone",
        customer={"name": "赵先生", "phone": "139-1234-5678"},
        subject="手机屏幕碎了要求退货",
    )
    assert phone.absorbed is True and phone.case == weibo.case
    case = Case.objects.get()
    assert list(case.contacts.values_list("channel", flat=True)) == ["social", "phone"]
    contact_event = case.events.get(kind="contact")
    assert contact_event.data["channel"] == "phone"
    assert phone.contact.similarity >= 0.5


def test_a_different_matter_from_the_same_customer_opens_a_new_case(db):
    first = intake(customer={"name": "钱", "phone": "13700000001"}, subject="快递三天没到")
    second = intake(customer={"name": "钱", "phone": "13700000001"}, subject="发票抬头开错了")
    assert second.absorbed is False and second.case != first.case


def test_similar_subject_from_another_customer_is_not_absorbed(db):
    intake(customer={"name": "甲", "phone": "13700000002"}, subject="手机屏幕碎了要求退货")
    other = intake(customer={"name": "乙", "phone": "13700000003"}, subject="手机屏幕碎了要求退货")
    assert other.absorbed is False and Case.objects.count() == 2


@override_settings(CASE_DEDUP_WINDOW_DAYS=7)
def test_only_open_cases_within_the_window_absorb(db, agent):
    old = intake(
        customer={"name": "孙", "phone": "13700000004"},
        subject="空调不制冷",
        now=datetime.datetime(2026, 11, 1, 10, tzinfo=SHANGHAI),
    )
    later = intake(
        customer={"name": "孙", "phone": "13700000004"},
        subject="空调不制冷",
        now=datetime.datetime(2026, 11, 9, 10, tzinfo=SHANGHAI),
    )
    assert later.absorbed is False
    services.case_transition(case=later.case, name="cancel", user=_dispatcher(agent), reason="重复")
    services.case_transition(case=old.case, name="cancel", user=_dispatcher(agent), reason="过期")
    again = intake(customer={"name": "孙", "phone": "13700000004"}, subject="空调不制冷")
    assert again.absorbed is False  # both earlier cases are finished


def _dispatcher(agent):
    return agent  # unrouted cases are visible to whoever may assign


def test_case_numbers_are_monthly_and_sortable(db):
    nov = intake(now=datetime.datetime(2026, 11, 30, 23, 59, tzinfo=SHANGHAI)).case
    dec1 = intake(now=datetime.datetime(2026, 12, 1, 0, 1, tzinfo=SHANGHAI)).case
    dec2 = intake(now=datetime.datetime(2026, 12, 2, 9, 0, tzinfo=SHANGHAI)).case
    assert nov.number == "202611-00001"
    assert (dec1.number, dec2.number) == ("202612-00001", "202612-00002")


@pytest.mark.django_db(transaction=True)
def test_numbers_stay_unique_under_concurrent_intake():
    errors, numbers = [], []
    barrier = threading.Barrier(6)

    def worker(i):
        try:
            barrier.wait()
            for j in range(3):
                result = intake(customer={"name": f"并发{i}", "phone": f"1360000{i:02d}{j:02d}"},
                                subject=f"并发测试{i}-{j}")  # fmt: skip
                numbers.append(result.case.number)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(numbers) == 18 and len(set(numbers)) == 18
    month = numbers[0][:6]
    assert sorted(numbers) == [f"{month}-{n:05d}" for n in range(1, 19)]


def test_bad_input_gives_field_errors_and_saves_nothing(db):
    with pytest.raises(ValidationError) as err:
        intake(subject="", customer={"name": "周", "phone": "13700000005"})
    assert "subject" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        intake(customer={"name": "周", "phone": "12"})
    assert "phone" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        intake(customer={"name": "周", "phone": "13700000005"}, channel="pigeon")
    assert "channel" in err.value.message_dict
    with pytest.raises(ValidationError) as err:
        intake(customer={"name": "", "phone": "13700000005"})
    assert "name" in err.value.message_dict
    assert Case.objects.count() == 0 and Customer.objects.count() == 0
    assert CaseEvent.objects.count() == 0


def test_return_request_inside_and_outside_the_window(db):
    today = datetime.date.today()
    ok = intake(
        type="return_exchange",
        subject="衣服尺码不合适想退",
        order_no="SO20261101",
        product="羊毛衫",
        return_request={
            "purchase_date": today - datetime.timedelta(days=3),
            "reason": "personal",
            "unopened": True,
        },
    ).case
    assert ok.return_request.outside_window is False
    assert ok.return_request.customer_pays_shipping is True
    late = intake(
        type="return_exchange",
        subject="吹风机用了十天坏了",
        order_no="SO20261002",
        product="吹风机",
        return_request={
            "purchase_date": today - datetime.timedelta(days=10),
            "reason": "personal",
            "unopened": False,
        },
    ).case
    rr = late.return_request
    assert rr.outside_window is True and "7" in rr.window_note
    assert late.events.filter(kind="note", message__contains="7").exists()
    quality = intake(
        type="return_exchange",
        subject="吹风机质量问题",
        order_no="SO20261003",
        product="吹风机",
        return_request={"purchase_date": today - datetime.timedelta(days=20), "reason": "quality"},
    ).case
    assert quality.return_request.outside_window is False
    assert quality.return_request.customer_pays_shipping is False


def test_return_request_steps(db, agent):
    case = intake(
        type="return_exchange",
        subject="鞋子开胶",
        order_no="SO1",
        product="运动鞋",
        return_request={"purchase_date": datetime.date.today(), "reason": "quality"},
    ).case
    rr = case.return_request
    rr.approve()
    rr.notify_customer()
    with pytest.raises(Exception):  # noqa: B017 - django-fsm refuses: no tracking number
        rr.ship_back()
    rr.tracking_no = "SF1234567890"
    rr.ship_back()
    rr.inspection_result = "鞋底开胶属实"
    rr.inspect()
    rr.exchange()
    rr.save()
    rr.refresh_from_db()
    assert rr.step == "exchanged" and rr.resolution == "exchange"


def test_return_request_missing_data_is_a_field_error(db):
    with pytest.raises(ValidationError) as err:
        intake(type="return_exchange", subject="退货", order_no="SO9", product="杯子",
               return_request={"reason": "quality"})  # fmt: skip
    assert "return_request.purchase_date" in err.value.message_dict
    assert Case.objects.count() == 0


def test_walk_through_for_coverage_of_helpers(agent, tech, make_user):
    handler = make_user("h", role=roles.HANDLER, departments=[tech])
    case = intake().case
    case = services.case_transition(
        case=case, name="assign", user=agent, department=tech, assignee=handler
    )
    case = walk(case, handler, ("start_investigation", {}))
    assert case.state == State.INVESTIGATING


def test_return_steps_through_the_service_are_logged(agent, make_user, tech):
    from complaints.models import EventKind

    handler = make_user("rh", role=roles.HANDLER, departments=[tech])
    case = intake(
        type="return_exchange",
        subject="电饭煲内胆掉漆",
        order_no="SO77",
        product="电饭煲",
        return_request={"purchase_date": datetime.date.today(), "reason": "quality"},
    ).case
    case = services.case_transition(
        case=case, name="assign", user=agent, department=tech, assignee=handler
    )
    names = [
        n for n, _label, _inputs in services.available_return_steps(case.return_request, handler)
    ]
    assert names == ["approve", "reject"]
    with pytest.raises(ValidationError) as err:
        services.return_request_step(case=case, step="reject", user=handler, review_comment=" ")
    assert "review_comment" in err.value.message_dict
    with pytest.raises(ValidationError) as err:  # a quality return is approved on evidence
        services.return_request_step(case=case, step="approve", user=handler)
    assert "evidence" in err.value.message_dict
    services.case_add_attachment(
        case=case, user=handler, file=SimpleUploadedFile("内胆.jpg", b"\xff\xd8\xff jpeg")
    )
    services.return_request_step(case=case, step="approve", user=handler)
    services.return_request_step(case=case, step="notify_customer", user=handler)
    with pytest.raises(ValidationError) as err:
        services.return_request_step(case=case, step="ship_back", user=handler)
    assert "tracking_no" in err.value.message_dict
    services.return_request_step(case=case, step="ship_back", user=handler, tracking_no="SF100200")
    with pytest.raises(TransitionNotAllowed):
        services.return_request_step(case=case, step="refund", user=handler)
    services.return_request_step(
        case=case, step="inspect", user=handler, inspection_result="内胆涂层脱落"
    )
    with pytest.raises(ValidationError) as err:
        services.return_request_step(case=case, step="refund", user=handler, refund_amount="-5")
    assert set(err.value.message_dict) == {"refund_amount", "refund_method"}
    rr = services.return_request_step(
        case=case, step="refund", user=handler, refund_method="original", refund_amount="299.00"
    )
    assert rr.refund_method == "original"
    assert rr.step == "refunded" and rr.resolution == "refund" and str(rr.refund_amount) == "299.00"
    steps = list(
        case.events.filter(kind=EventKind.RETURN_STEP).values_list("transition", flat=True)
    )
    assert steps == ["approve", "notify_customer", "ship_back", "inspect", "refund"]
    assert "SF100200" in case.events.get(transition="ship_back").message
    outsider = make_user("outsider2", role=roles.HANDLER)
    with pytest.raises(PermissionDenied):
        services.return_request_step(case=case, step="exchange", user=outsider)
