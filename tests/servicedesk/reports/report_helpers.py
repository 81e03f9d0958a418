"""A month of cases for the report tests, through the real services at frozen times, with
figures small enough to work out by hand (they are, in the tests' docstrings).

November 2026, every case of high urgency (first response due 24 clock hours after receipt):

    case  received (local)   channel  type / category           product   first response   then
    A     11-02 10:00        phone    complaint / product       云帆 X5   +2 h             resolved 11-03 10:00
    B     11-03 09:00        phone    complaint / product       云帆 X5   +4 h             resolved 11-05 09:00
    C     11-10 08:00        email    consultation / logistics            +10 h            investigating
    I     11-12 10:00        store    return_exchange / product 云帆 X5   —                received (return)
    D     11-20 10:00        web      complaint / service                 +30 h (late)     investigating
    E     11-25 10:00        phone    suggestion / other                  —                received
    F     11-26 10:00        email    complaint / other                   —                cancelled (spam)
    G     11-30 23:30        phone    complaint / product                 —                received
    H     12-01 00:30        phone    (December: not in the report)
    O     10-15 10:00        phone    (October: the previous period)

Answers in November: A 5, B 4, C 4, D 3 (has a problem), and 5 from a customer without a
case; October: 5. Follow-up calls due in November: two done, one unreachable, one to call.
Escalations in November: D's first response, level 1 and level 2.
"""

import datetime
from zoneinfo import ZoneInfo

import time_machine

from callbacks.models import FollowUp, FollowUpPurpose, FollowUpStatus, Response
from callbacks.services import satisfaction_version
from complaints import services
from complaints.models import Customer, SlaBreach
from servicedesk.staff import roles
from tests.complaints.helpers import intake

SH = ZoneInfo("Asia/Shanghai")

PHONE = "13912345678"
EMAIL = "zhangsan@example.com"


def at(*args):
    return datetime.datetime(*args, tzinfo=SH)


def _case(clock, when, *, handler=None, department=None, **fields):
    clock.move_to(when)
    data = {"urgency": "high", **fields}
    if handler:
        data.update(department=department, assignee=handler)
    return intake(**data).case


def _tell(clock, when, case, user):
    clock.move_to(when)
    services.case_add_event(
        case=case, user=user, message="已电话联系客户说明处理进展", customer_notified=True
    )
    case.refresh_from_db()
    return case


def _resolve(clock, when, case, user):
    case = services.case_transition(case=case, name="start_investigation", user=user)
    clock.move_to(when)
    return services.case_transition(case=case, name="resolve", user=user, result="已换新机")


def build_month(make_user, department, supervisor, prefix=""):
    """The cases, answers, follow-ups and escalations above; returns {letter: case}."""
    h1 = make_user(
        f"{prefix}zhang",
        role=roles.HANDLER,
        departments=[department],
        first_name="小燕",
        last_name="张",
    )
    h2 = make_user(
        f"{prefix}li", role=roles.HANDLER, departments=[department], first_name="工", last_name="李"
    )
    cases = {}
    with time_machine.travel(at(2026, 10, 15, 10), tick=False) as clock:
        cases["O"] = _case(clock, at(2026, 10, 15, 10), channel="phone")

        a = _case(
            clock, at(2026, 11, 2, 10), handler=h1, department=department, channel="phone",
            product="云帆 X5",
            customer={"name": "张三", "phone": PHONE, "email": EMAIL},
        )  # fmt: skip
        a = _tell(clock, at(2026, 11, 2, 12), a, h1)
        cases["A"] = _resolve(clock, at(2026, 11, 3, 10), a, h1)

        b = _case(
            clock, at(2026, 11, 3, 9), handler=h1, department=department, channel="phone",
            product="云帆 X5",
        )  # fmt: skip
        b = _tell(clock, at(2026, 11, 3, 13), b, h1)
        cases["B"] = _resolve(clock, at(2026, 11, 5, 9), b, h1)

        c = _case(
            clock, at(2026, 11, 10, 8), handler=h2, department=department, channel="email",
            type="consultation", category="logistics",
        )  # fmt: skip
        c = _tell(clock, at(2026, 11, 10, 18), c, h2)
        cases["C"] = services.case_transition(case=c, name="start_investigation", user=h2)

        cases["I"] = _case(
            clock, at(2026, 11, 12, 10), channel="store", type="return_exchange",
            category="product", product="云帆 X5", order_no="DD20261101",
            return_request={"purchase_date": datetime.date(2026, 11, 1), "reason": "quality"},
        )  # fmt: skip

        d = _case(
            clock, at(2026, 11, 20, 10), handler=h2, department=department, channel="web",
            category="service",
        )  # fmt: skip
        d = _tell(clock, at(2026, 11, 21, 16), d, h2)
        cases["D"] = services.case_transition(case=d, name="start_investigation", user=h2)

        cases["E"] = _case(
            clock, at(2026, 11, 25, 10), channel="phone", type="suggestion", category="other"
        )
        f = _case(clock, at(2026, 11, 26, 10), channel="email", category="other")
        cases["F"] = services.case_transition(
            case=f, name="cancel", user=supervisor, reason="垃圾信息"
        )
        cases["G"] = _case(clock, at(2026, 11, 30, 23, 30), channel="phone")
        cases["H"] = _case(clock, at(2026, 12, 1, 0, 30), channel="phone")

    version = satisfaction_version()
    answers = [
        (cases["A"], 5, False, at(2026, 11, 6, 10)),
        (cases["B"], 4, False, at(2026, 11, 8, 10)),
        (cases["C"], 4, False, at(2026, 11, 15, 10)),
        (cases["D"], 3, True, at(2026, 11, 28, 10)),
        (None, 5, False, at(2026, 11, 29, 10)),
        (cases["O"], 5, False, at(2026, 10, 20, 10)),
    ]
    for case, score, problem, when in answers:
        customer = (
            case.customer if case else Customer.objects.create(name="老客户", phone="13700000001")
        )
        Response.objects.create(
            version=version, customer=customer, case=case, method="phone", answered_at=when,
            overall_score=score, has_problem=problem,
            department=case.department if case else None,
            agent=case.assignee if case else None, case_channel=case.channel if case else "",
        )  # fmt: skip
    for status, day in [
        (FollowUpStatus.DONE, 3), (FollowUpStatus.DONE, 9), (FollowUpStatus.UNREACHABLE, 16),
        (FollowUpStatus.PENDING, 27),
    ]:  # fmt: skip
        FollowUp.objects.create(
            customer=cases["A"].customer, purpose=FollowUpPurpose.PERIODIC, version=version,
            due_at=at(2026, 11, day, 10), status=status,
        )  # fmt: skip
    due = cases["D"].first_response_due
    for level, hours in [(1, 1), (2, 5)]:
        SlaBreach.objects.create(
            case=cases["D"], stage="first_response", due_at=due, level=level,
            escalated_at=due + datetime.timedelta(hours=hours),
        )  # fmt: skip
    return cases
