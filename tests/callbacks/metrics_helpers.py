"""A hand-computed month of answers for the satisfaction metrics tests (page and API).

November 2026 (Beijing time), ten questionnaires from eight customers:

    #   customer score problem department agent   channel method  answered
    1   c1       5     -       kefu       agent1  phone   online  11-02
    2   c2       5     -       kefu       agent1  phone   online  11-03
    3   c3       5     -       kefu       agent1  phone   phone   11-05
    4   c4       5     -       tech       agent2  web     online  11-10
    5   c5       5     -       tech       agent2  web     online  11-12
    6   c6       4     -       kefu       agent1  phone   phone   11-15
    7   c7       4     yes     tech       agent2  web     online  11-18
    8   c1       3     -       kefu       agent1  phone   phone   11-20
    9   c8       3     yes     kefu       agent2  phone   online  11-25
    10  c8       2     yes     —          agent2  —       phone   11-30 23:30

    score = (5·5 + 2·4 + 2·3 + 1·2) / 10 = 41 / 10 = 4.10
    rate  = 7 of 10 scoring 4 or 5 = 0.70 → below the 90 % target
    problem incidence = distinct customers with a problem {c7, c8} = 2 of 8 customers = 0.25
                        (per questionnaire it would be 3 of 10: customers are counted once)

Opinions: problems #7 product quality, #9 delivery, #10 delivery + product quality, and
the option "价格" picked in a multiple-choice question by #1 and #2 → 2 + 2 + 2 of 6
mentions, 0.3333 each.

The previous period of equal length (30 days) is 10-02 … 10-31: four questionnaires
4, 3, 5, 4 → 16 / 4 = 4.00, rate 3/4 = 0.75; problems for 2 of its 4 customers = 0.50.
Improvement = 4.10 − 4.00 = +0.10; incidence reduction = 0.50 − 0.25 = 0.25.

Just outside: 12-01 00:10 (score 1) and 10-01 23:50 (score 1), Beijing time — both on the
other side of a UTC date boundary, so the local calendar day is what counts.
"""

import datetime
from zoneinfo import ZoneInfo

from callbacks.models import (
    Answer,
    Choice,
    ProblemReport,
    Question,
    QuestionKind,
    Questionnaire,
    QuestionnaireVersion,
    Response,
)
from callbacks.services import satisfaction_version
from complaints.models import Customer
from servicedesk.staff.models import Department

TZ = ZoneInfo("Asia/Shanghai")
NOV_FROM, NOV_TO = "2026-11-01", "2026-11-30"


def at(*args):
    return datetime.datetime(*args, tzinfo=TZ)


def customer(n):
    return Customer.objects.create(name=f"回访客户{n}", phone=f"1380000{n:04d}")


def respond(version, who, score, when, *, problem=False, dept=None, agent=None, channel="",
            method="online", problems=()):  # fmt: skip
    response = Response.objects.create(
        version=version, customer=who, overall_score=score, answered_at=when,
        has_problem=problem, department=dept, agent=agent, case_channel=channel, method=method,
    )  # fmt: skip
    for category in problems:
        ProblemReport.objects.create(
            response=response, category=category, grade="general", description="回访发现问题"
        )
    return response


def november(make_user, kefu):
    """Build the month above; returns the people and places for assertions."""
    version = satisfaction_version()
    tech = Department.objects.create(code="tech", name="技术部")
    agent1 = make_user("agent1", first_name="小燕", last_name="张")
    agent2 = make_user("agent2", first_name="晓明", last_name="陈")
    c = {n: customer(n) for n in range(1, 13)}
    rows = [
        (1, 5, False, kefu, agent1, "phone", "online", at(2026, 11, 2, 10), ()),
        (2, 5, False, kefu, agent1, "phone", "online", at(2026, 11, 3, 10), ()),
        (3, 5, False, kefu, agent1, "phone", "phone", at(2026, 11, 5, 10), ()),
        (4, 5, False, tech, agent2, "web", "online", at(2026, 11, 10, 10), ()),
        (5, 5, False, tech, agent2, "web", "online", at(2026, 11, 12, 10), ()),
        (6, 4, False, kefu, agent1, "phone", "phone", at(2026, 11, 15, 10), ()),
        (7, 4, True, tech, agent2, "web", "online", at(2026, 11, 18, 10), ("product_quality",)),
        (1, 3, False, kefu, agent1, "phone", "phone", at(2026, 11, 20, 10), ()),
        (8, 3, True, kefu, agent2, "phone", "online", at(2026, 11, 25, 10), ("delivery",)),
        (8, 2, True, None, agent2, "", "phone", at(2026, 11, 30, 23, 30),
         ("delivery", "product_quality")),
        # outside, after
        (2, 1, True, kefu, agent1, "phone", "online", at(2026, 12, 1, 0, 10), ("delivery",)),
        # the previous period, 10-02 … 10-31
        (9, 4, True, kefu, agent1, "phone", "phone", at(2026, 10, 31, 23, 59), ("delivery",)),
        (10, 3, True, kefu, agent1, "phone", "phone", at(2026, 10, 15, 10), ()),
        (11, 5, False, kefu, agent1, "phone", "phone", at(2026, 10, 2, 0, 5), ()),
        (12, 4, False, kefu, agent1, "phone", "phone", at(2026, 10, 20, 10), ()),
        # outside, before
        (12, 1, True, kefu, agent1, "phone", "phone", at(2026, 10, 1, 23, 50), ()),
    ]  # fmt: skip
    responses = [
        respond(version, c[who], score, when, problem=problem, dept=dept, agent=agent,
                channel=channel, method=method, problems=problems)
        for who, score, problem, dept, agent, channel, method, when, problems in rows
    ]  # fmt: skip
    # A multiple-choice question (not in the handbook questionnaire): #1 and #2 pick "价格".
    other = QuestionnaireVersion.objects.create(
        questionnaire=Questionnaire.objects.create(code="likes", name="偏好"), number=1
    )
    question = Question.objects.create(
        version=other, code="likes", text="您最看重什么？", kind=QuestionKind.MULTIPLE
    )
    price = Choice.objects.create(question=question, order=1, label="价格")
    Choice.objects.create(question=question, order=2, label="质量")
    Answer.objects.bulk_create(
        [Answer(response=responses[0], question=question, choice=price),
         Answer(response=responses[1], question=question, choice=price)]
    )  # fmt: skip
    return {"tech": tech, "agent1": agent1, "agent2": agent2, "responses": responses}


def more_answers(version, n, *, day=datetime.date(2026, 11, 7)):
    """n more questionnaires in November from new customers, each with a problem reported."""
    for i in range(n):
        who = Customer.objects.create(name=f"加量客户{i}", phone=f"1390{i:07d}")
        dept = Department.objects.get_or_create(code=f"d{i % 3}", defaults={"name": f"部门{i}"})[0]
        respond(version, who, 1 + i % 5, at(day.year, day.month, day.day, 9, i % 60),
                problem=True, dept=dept, channel="chat", problems=("delivery",))  # fmt: skip
