"""A case's day at the desk, in the browser: an agent registers a phone complaint, a repeat
call from the same number is recognised and absorbed, the handler works it to resolved, a
supervisor finds an escalated case under 已升级."""

import re

from playwright.sync_api import expect

from complaints.models import Case, State

from .cases import PHONE, SUBJECT, call_in


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
