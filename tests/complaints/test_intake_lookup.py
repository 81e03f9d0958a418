"""Quick intake recognises the caller: typing a phone (member number, e-mail) shows the known
customer and their open cases, and a known customer's repeat call needs only the subject."""

import pytest
from django.urls import reverse

from complaints.models import Case, CaseContact, Customer, CustomerTier
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake

ADD = reverse("admin:complaints_case_add")
LOOKUP = reverse("admin:complaints_case_intake_lookup")


@pytest.fixture(autouse=True)
def _chinese(settings):
    settings.LANGUAGE_CODE = "zh-hans"


@pytest.fixture
def known(department):
    """王芳: a key account who prefers WeChat, with one open case in 客服中心."""
    case = intake(
        customer={
            "name": "王芳",
            "phone": "13812345678",
            "member_no": "VIP-0088",
            "email": "Wang.Fang@Example.com",
            "preferred_contact": "wechat",
        },
        subject="冰箱不制冷，上门维修师傅一直没来",
        department=department,
    ).case
    Customer.objects.filter(pk=case.customer_id).update(tier=CustomerTier.KEY)
    return case


def lookup(client, **params):
    response = client.get(LOOKUP, params, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]  # personal data: never cached
    return response.json()


@pytest.mark.parametrize(
    "params",
    [
        {"phone": "138 1234 5678"},
        {"phone": "+86 138-1234-5678"},
        {"phone": "0086 13812345678"},
        {"member_no": "vip-0088"},
        {"email": "wang.fang@example.com"},
    ],
)
def test_the_known_customer_is_shown_while_typing(client, agent, known, params):
    client.force_login(agent)
    body = lookup(client, **params)
    assert body["found"] is True
    customer = body["customer"]
    assert customer["name"] == "王芳"
    assert customer["tier"] == "重要客户" or customer["tier_code"] == "key"
    assert customer["preferred_contact_code"] == "wechat"
    assert customer["phone"] == "138****5678"  # never more than the masked number
    assert [c["number"] for c in body["open_cases"]] == [known.number]
    assert body["open_cases"][0]["subject"] == "冰箱不制冷，上门维修师傅一直没来"
    assert body["open_cases"][0]["url"].endswith(f"/{known.pk}/change/")
    assert body["open_count"] == 1


def test_an_incomplete_or_unknown_number_finds_nobody(client, agent, known):
    client.force_login(agent)
    assert lookup(client, phone="1381") == {"found": False, "searched": False}
    assert lookup(client, phone="13900000000") == {"found": False, "searched": True}


def test_closed_cases_are_not_listed_and_other_departments_cases_are_counted_only(
    client, agent, known, make_user
):
    other = Department.objects.create(code="tech", name="技术部")
    intake(customer={"name": "王芳", "phone": "13812345678"}, subject="发票抬头开错了",
           department=other)  # fmt: skip
    Case.objects.filter(pk=known.pk).update(state="closed")
    client.force_login(agent)
    body = lookup(client, phone="13812345678")
    # The agent (客服中心) does not see 技术部's case: counted, not listed.
    assert body["open_cases"] == []
    assert body["open_count"] == 1 and body["open_more"] == 1


def test_staff_who_see_masked_phones_are_not_told_whose_number_it_is(client, known, make_user):
    """Whoever sees 138****5678 cannot confirm the middle digits by typing them; the member
    number, which they see, recognises the customer."""
    department = known.department
    handler = make_user("handler", role=roles.HANDLER, departments=[department])
    client.force_login(handler)
    assert lookup(client, phone="13812345678") == {"found": False, "searched": False}
    assert lookup(client, email="wang.fang@example.com")["found"] is False
    body = lookup(client, member_no="VIP-0088")
    assert body["customer"]["name"] == "王芳"
    assert body["customer"]["phone"] == "138****5678"


def test_the_lookup_costs_the_same_with_many_customers_and_cases(
    client, agent, known, django_assert_max_num_queries
):
    client.force_login(agent)
    # Six for the session, the user and their roles; four for the customer and their cases.
    with django_assert_max_num_queries(10):
        small = lookup(client, phone="13812345678")
    matters = ["发票抬头开错", "积分没有到账", "快递员态度差", "APP闪退", "退款未到账",
               "屏幕碎裂", "颜色发错", "耳机充不进电", "密码错误", "物流不更新"]  # fmt: skip
    for n, matter in enumerate(matters):
        intake(customer={"name": "王芳", "phone": "13812345678"}, subject=matter,
               department=known.department)  # fmt: skip
        intake(customer={"name": f"客户{n}", "phone": f"137{n:08d}"})
    with django_assert_max_num_queries(10):
        large = lookup(client, phone="13812345678")
    assert small["found"] and large["found"]
    assert len(large["open_cases"]) == 5 and large["open_count"] >= 6


def test_only_staff_who_register_cases_may_look_up(client, make_user):
    nobody = make_user("viewer", role=None)
    client.force_login(nobody)
    assert client.get(LOOKUP, {"phone": "13812345678"}).status_code in (302, 403)


def test_the_intake_page_offers_the_lookup_from_a_static_script(client, agent):
    client.force_login(agent)
    html = client.get(ADD).content.decode()
    assert f'data-lookup-url="{LOOKUP}"' in html
    assert "complaints/intake.js" in html
    assert "<script>" not in html.replace("<script>\n", "<script>")  # no inline script


REPEAT_CALL = {
    "customer_phone": "138-1234-5678",
    "customer_name": "",
    "customer_member_no": "",
    "customer_email": "",
    "customer_preferred_contact": "phone",
    "customer_kind": "individual",
    "channel": "phone",
    "type": "",
    "category": "",
    "subject": "",
    "description": "",
}


def test_a_repeat_call_with_only_the_subject_is_added_to_the_known_customers_case(
    client, agent, known
):
    client.force_login(agent)
    response = client.post(ADD, {**REPEAT_CALL, "subject": "冰箱还是不制冷，维修师傅没来"})
    assert response.status_code == 302
    assert Case.objects.count() == 1 and Customer.objects.count() == 1
    contacts = CaseContact.objects.filter(case=known)
    assert contacts.filter(subject="冰箱还是不制冷，维修师傅没来").exists()


def test_a_new_matter_from_a_known_customer_opens_a_case_with_what_we_know(client, agent, known):
    client.force_login(agent)
    response = client.post(ADD, {**REPEAT_CALL, "subject": "会员积分上个月没有到账"})
    assert response.status_code == 302
    new = Case.objects.exclude(pk=known.pk).get()
    assert new.customer_id == known.customer_id
    assert new.customer.name == "王芳"
    assert (new.type, new.category) == (known.type, known.category)
    assert new.description == "会员积分上个月没有到账"


def test_a_new_customer_still_needs_name_and_type_with_chinese_errors(client, agent):
    client.force_login(agent)
    response = client.post(
        ADD, {**REPEAT_CALL, "customer_phone": "13900001111", "subject": "咨询退货政策"},
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["form"].errors
    for field in ["customer_name", "type", "category", "description"]:
        assert errors[field] == ["该字段是必填项。"]
    assert Case.objects.count() == 0 and Customer.objects.count() == 0


def test_staff_who_see_masked_phones_must_name_the_caller(client, known, make_user):
    handler = make_user("handler", role=roles.HANDLER, departments=[known.department])
    client.force_login(handler)
    response = client.post(ADD, {**REPEAT_CALL, "subject": "冰箱还是不制冷"})
    assert response.status_code == 200
    assert "customer_name" in response.context["form"].errors
    assert CaseContact.objects.filter(case=known).count() == 1
