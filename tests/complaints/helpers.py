"""Building blocks for complaints tests: real cases through the real intake service."""

import itertools

from complaints import services

_seq = itertools.count(1)


def intake(**overrides):
    """A case through services.case_intake with sensible Chinese defaults."""
    n = next(_seq)
    data = {
        "channel": "phone",
        "customer": {"name": f"客户{n}", "phone": f"139{n:08d}"},
        "subject": f"第{n}号问题：订单商品与描述不符",
        "description": "客户来电反映收到的商品与页面描述不一致。",
        "type": "complaint",
        "category": "product",
    }
    customer = overrides.pop("customer", None)
    if customer:
        data["customer"] = customer
    data.update(overrides)
    return services.case_intake(**data)


def walk(case, user, *steps):
    """Run transitions in order: walk(case, u, ("start_investigation", {}), ("resolve", {...}))."""
    for name, inputs in steps:
        case = services.case_transition(case=case, name=name, user=user, **inputs)
    return case


def resolved(agent, handler, department, *, subject, result):
    """A technical case assigned to `handler` of `department`, investigated and resolved."""
    case = intake(subject=subject, category="technical").case
    case = services.case_transition(
        case=case, name="assign", user=agent, department=department, assignee=handler
    )
    return walk(case, handler, ("start_investigation", {}), ("resolve", {"result": result}))


def investigation_in_working_days(days=3):
    """Make the default plan's investigation stage count working days (the published
    revision's row, as a plan author would have written it)."""
    from complaints.intake import rules_changed
    from knowledge.models import PlanStage

    PlanStage.objects.filter(
        revision__plan__is_default=True, revision__state="published", code="investigation"
    ).update(time_limit=days, unit="working_days")
    rules_changed()  # .update() sends no signal: intake would keep the revision it read
