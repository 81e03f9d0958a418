"""A case's day at the desk, in the browser: an agent registers a phone complaint, a repeat
call from the same number is recognised and absorbed, the handler works it to resolved, a
supervisor finds an escalated case under 已升级."""

import datetime
import re

from playwright.sync_api import expect

from complaints import services
from complaints.models import Case, State

from .cases import PHONE, SUBJECT, call_in
from .conftest import MONDAY_10


def case_page(desk, case):
    return desk.goto(f"/admin/complaints/case/{case.pk}/change/")


def test_agent_registers_a_phone_complaint(desk, team):
    agent = desk()
    agent.login("zhangxy")
    page = agent.goto("/admin/complaints/case/")
    page = agent.click(page.get_by_role("link", name="登记工单"))
    expect(page.get_by_role("heading", name="登记工单")).to_be_visible()
    phone = page.locator("#id_customer_phone")
    expect(phone).to_be_focused()  # the cursor waits in the phone field
    phone.press_sequentially("138 0013 8000")
    page.locator("#id_customer_name").fill("王女士")
    page.locator("#id_type").select_option(label="投诉")
    page.locator("#id_category").select_option(label="物流")
    page.locator("#id_subject").fill(SUBJECT)
    page.locator("#id_description").fill("客户来电反映快递员未按约定送货上门，包裹被扔在小区门口。")
    page.locator("#id_customer_words").fill("我花钱买的东西就这么扔在门口，丢了谁负责？")
    agent.shot("quick-intake")
    page = agent.click(page.get_by_role("button", name="登记", exact=True))

    case = Case.objects.get()
    assert agent.messages() == [f"工单 {case.number} 已登记。 已分派给 售后部 / 周师傅。"]
    # The agent registered it, so the case page opens: what was said, to whom it went.
    head = page.locator(".sd-case-head")
    expect(head.locator("h1")).to_have_text(f"{case.number}{SUBJECT}")
    expect(head).to_contain_text("已分派")
    expect(head).to_contain_text("投诉 · 物流")
    expect(head).to_contain_text("电话")
    expect(page.locator("#customer")).to_contain_text("王女士")
    expect(page.locator("#customer")).to_contain_text("138 0013 8000")
    expect(page.locator("#handling")).to_contain_text("售后部")
    expect(page.locator("#handling")).to_contain_text("周师傅")
    expect(page.locator("#contacts h2")).to_have_text("联系记录 (1)")
    expect(page.locator("#timeline")).to_contain_text("工单受理")

    # …and it is in the list of all the cases she can see, alone.
    page = agent.goto("/admin/complaints/case/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(case.number)
    expect(rows.first).to_contain_text(SUBJECT)


def test_handler_works_the_case_to_resolved(desk, team):
    case = call_in(team)
    assert case.assignee == team.handler
    handler = desk()
    handler.login("zhoushifu")
    page = handler.goto("/admin/complaints/case/")
    tabs = page.get_by_role("list", name="工单队列")
    page = handler.click(tabs.get_by_role("link", name="我的工单"))
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(SUBJECT)
    # The handler does not see the customer's full number.
    expect(rows.first).not_to_contain_text(PHONE)
    page = handler.click(rows.first.get_by_role("link", name=case.number))

    actions = page.locator("#case-actions")
    expect(actions.get_by_role("button", name="开始调查")).to_be_visible()
    page = handler.click(actions.get_by_role("button", name="开始调查"))
    assert handler.messages() == [f"开始调查：已完成。工单 {case.number} 当前状态为“调查中”。"]
    expect(page.locator(".sd-case-badges")).to_contain_text("调查中")

    # A progress update the customer was told about.
    page.locator("#id_message").fill("已联系物流站点核实，快递员承认未送货上门，已批评教育。")
    page.locator("#id_customer_notified").check()
    page = handler.click(page.get_by_role("button", name="添加到处理记录"))
    timeline = page.locator("#timeline")
    expect(timeline).to_contain_text("已联系物流站点核实")
    expect(timeline).to_contain_text("已告知客户")

    page = handler.click(page.locator("#case-actions").get_by_role("link", name="标记已解决…"))
    expect(page.get_by_role("heading", name=re.compile("标记已解决"))).to_be_visible()
    page.get_by_label("处理结果").fill("已向客户致歉并补偿 20 元优惠券，客户表示接受。")
    page = handler.click(page.get_by_role("button", name="标记已解决"))
    assert handler.messages() == [f"标记已解决：已完成。工单 {case.number} 当前状态为“已解决”。"]
    expect(page.locator(".sd-case-badges")).to_contain_text("已解决")
    expect(page.locator("#timeline")).to_contain_text("调查中 → 已解决")
    expect(page.locator("body")).to_contain_text("已向客户致歉并补偿 20 元优惠券")
    handler.shot("case-page")
    case.refresh_from_db()
    assert case.state == State.RESOLVED


def test_repeat_call_is_recognised_before_submit_and_absorbed(desk, team):
    first = call_in(team)
    agent = desk()
    agent.login("zhangxy")
    page = agent.goto("/admin/complaints/case/add/")
    page.locator("#id_customer_phone").press_sequentially("138-0013-8000")
    # Before anything is submitted the form says who is calling, and shows her open case.
    form = page.locator("#case_intake_form")
    expect(form.get_by_text(first.number)).to_be_visible()
    expect(form).to_contain_text("王女士")
    expect(form).to_contain_text("普通客户")
    expect(page.locator("#id_customer_name")).to_have_value("王女士")
    # A known customer's repeat call needs only the subject.
    page.locator("#id_subject").fill("快递员态度恶劣，包裹又被扔在门口")
    page = agent.click(page.get_by_role("button", name="登记", exact=True))

    assert any(f"已并入工单 {first.number}" in m for m in agent.messages()), agent.messages()
    expect(page.locator(".sd-case-head h1")).to_contain_text(first.number)
    expect(page.locator("#contacts h2")).to_have_text("联系记录 (2)")
    assert Case.objects.count() == 1


def escalated_filter(page):
    """The 已升级 choice of the case list's filters: its own filter (the first level other
    than 全部), or a choice named 已升级 in another filter."""
    filters = page.locator("#changelist-filter")
    named = filters.get_by_role("link", name=re.compile("已升级"))
    if named.count():
        return named.first
    section = filters.locator("details").filter(has=page.locator("summary", has_text="已升级"))
    return section.get_by_role("link").filter(has_not_text="全部").first


def test_supervisor_finds_the_escalated_case_under_escalated(desk, team, clock):
    # Taken in on Sunday morning; nobody answered it within the 24 hours of the first response.
    clock.move_to(MONDAY_10 - datetime.timedelta(hours=25))
    late = call_in(team)
    clock.move_to(MONDAY_10)
    services.sla_sweep()
    late.refresh_from_db()
    assert late.escalation_level == 1
    fresh = call_in(team, customer={"name": "刘先生", "phone": "13900139000"}, subject="退款未到账")

    supervisor = desk()
    supervisor.login("lizg")
    page = supervisor.goto("/admin/complaints/case/")
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(2)
    choice = escalated_filter(page)
    expect(choice).to_be_visible()
    page = supervisor.click(choice)
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(late.number)
    expect(page.locator("#result_list")).not_to_contain_text(fresh.number)
    assert supervisor.result_count() == 1


def test_case_list_fits_a_1440_px_screen(desk, team):
    for n, (name, subject) in enumerate(
        [
            ("王女士", "快递员态度恶劣，包裹被扔在门口，要求道歉并赔偿"),
            ("刘先生", "退款申请十天了还没到账"),
            ("陈女士", "手机屏幕无故碎裂，要求换新"),
            ("欧阳先生", "再不处理就发微博曝光"),
            ("张女士", "发票抬头开错，报销急用"),
            ("北京某某科技有限公司采购部", "批量订单的发货时间一再推迟"),
        ]
    ):
        call_in(team, customer={"name": name, "phone": f"1380013{n:04d}"}, subject=subject)
    supervisor = desk()
    supervisor.login("lizg")
    supervisor.goto("/admin/complaints/case/")
    supervisor.shot("case-list")
    supervisor.look(case_list_fits=True)
    # A search by phone shows the whole number of the hit, in one line.
    page = supervisor.page
    page.locator("#searchbar").fill("13800130003")
    supervisor.click(page.get_by_role("button", name="搜索"))
    supervisor.look(case_list_fits=True)
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("欧阳先生")
