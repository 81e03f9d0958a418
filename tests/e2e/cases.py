"""Cases for the browser tests, made through the real services as the desk would make them."""

from complaints import services

SUBJECT = "快递员态度恶劣，包裹被扔在门口"
PHONE = "13800138000"


def call_in(team, **overrides):
    """A phone complaint from 王女士 registered by the agent (routed to 售后部 / 周师傅)."""
    data = {
        "channel": "phone",
        "customer": {"name": "王女士", "phone": PHONE},
        "subject": SUBJECT,
        "description": "客户来电反映快递员未按约定送货上门，包裹被扔在小区门口。",
        "type": "complaint",
        "category": "logistics",
        "user": team.agent,
    }
    return services.case_intake(**{**data, **overrides}).case


def walk(case, user, *steps):
    """Run transitions in order: walk(case, u, ("start_investigation", {}), ("resolve", {...}))."""
    for name, inputs in steps:
        case = services.case_transition(case=case, name=name, user=user, **inputs)
    return case
