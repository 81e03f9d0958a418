"""The forecast reproduces a known weekly pattern from synthetic history — holidays and a 调休
Saturday handled by the calendar — and Erlang C matches the published example."""

import datetime
from zoneinfo import ZoneInfo

import pytest

from complaints.models import CaseContact
from servicedesk.calendar.models import CalendarDay, CalendarYear, DayKind
from servicedesk.workforce import erlang, forecast
from tests.complaints.helpers import intake

SHANGHAI = ZoneInfo("Asia/Shanghai")
HISTORY_START = datetime.date(2026, 4, 13)  # a Monday; four weeks of history
MONDAY = datetime.date(2026, 5, 11)  # the week forecast
HISTORY_MAKEUP_SATURDAY = datetime.date(2026, 4, 25)
HISTORY_HOLIDAY = datetime.date(2026, 5, 1)  # a Friday
TARGET_HOLIDAY = datetime.date(2026, 5, 13)  # a Wednesday
TARGET_MAKEUP_SATURDAY = datetime.date(2026, 5, 16)


def _calendar():
    year, _ = CalendarYear.objects.get_or_create(year=2026, defaults={"source": "manual"})
    CalendarDay.objects.filter(date__range=(HISTORY_START, MONDAY + datetime.timedelta(6))).delete()
    for day, kind in [
        (HISTORY_MAKEUP_SATURDAY, DayKind.WORKDAY),
        (HISTORY_HOLIDAY, DayKind.HOLIDAY),
        (TARGET_HOLIDAY, DayKind.HOLIDAY),
        (TARGET_MAKEUP_SATURDAY, DayKind.WORKDAY),
    ]:
        CalendarDay.objects.create(calendar_year=year, date=day, kind=kind, name="测试")
    from servicedesk.calendar import services

    services.clear_caches()


def _history(case):
    """Working days: 2 × (weekday + 1) phone calls at 10:00–10:30 and 3 e-mails at 14:00–14:30;
    the 调休 Saturday: 6 calls and 3 e-mails; rest days (holidays too): 1 call."""
    rows = []
    for i in range(28):
        day = HISTORY_START + datetime.timedelta(days=i)
        if day == HISTORY_MAKEUP_SATURDAY:
            calls, mails = 6, 3
        elif day.weekday() < 5 and day != HISTORY_HOLIDAY:
            calls, mails = 2 * (day.weekday() + 1), 3
        else:
            calls, mails = 1, 0
        at = datetime.datetime.combine(day, datetime.time(10, 5), tzinfo=SHANGHAI)
        rows += [CaseContact(case=case, channel="phone", received_at=at) for _ in range(calls)]
        at = datetime.datetime.combine(day, datetime.time(14, 10), tzinfo=SHANGHAI)
        rows += [CaseContact(case=case, channel="email", received_at=at) for _ in range(mails)]
    CaseContact.objects.bulk_create(rows)


@pytest.fixture
def history(db):
    _calendar()
    case = intake().case
    case.contacts.all().delete()
    _history(case)


def test_the_forecast_matches_the_weekly_pattern(history):
    result = forecast.forecast_week(monday=MONDAY, weeks=4)
    phone = [
        result.arrivals.get((MONDAY + datetime.timedelta(i), 20, "phone"), 0) for i in range(7)
    ]
    # Mon 2, Tue 4, Wed a holiday (the rest days' 1), Thu 8, Fri 10 (the holiday Friday in the
    # history does not pull it down), Sat 调休 (the past 调休 Saturday's 6), Sun 1.
    assert phone == [2, 4, 1, 8, 10, 6, 1]
    mail = [result.arrivals.get((MONDAY + datetime.timedelta(i), 28, "email"), 0) for i in range(7)]
    assert mail == [3, 3, 0, 3, 3, 3, 0]
    # Nothing forecast in the quiet intervals.
    assert result.arrivals.get((MONDAY, 21, "phone"), 0) == 0
    assert result.basis[TARGET_HOLIDAY][0] == "class"


def test_agents_needed_follow_the_forecast(history):
    result = forecast.forecast_week(monday=MONDAY, weeks=4)
    need = forecast.agents_needed(result, aht={"phone": 180})
    friday = MONDAY + datetime.timedelta(days=4)
    # 10 calls in half an hour at 180 s, 80 % in 20 s: 1 Erlang → 3 agents.
    assert need.per_channel[(friday, 20, "phone")] == erlang.agents_needed(
        calls=10, interval_seconds=1800, handling_seconds=180, target_level=0.8,
        target_seconds=20,
    ).positions  # fmt: skip
    # E-mails are written: 3 × 300 s of work cleared within 24 hours → 1 agent during the
    # 24 hours after they arrive (Thursday's are still within their limit on Friday morning).
    assert need.per_channel[(friday, 30, "email")] == 1
    assert need.per_interval[(friday, 20)] == need.per_channel[(friday, 20, "phone")] + 1
    sunday = MONDAY + datetime.timedelta(days=6)
    assert need.per_interval[(sunday, 47)] == 0


def test_erlang_c_matches_the_published_example():
    # callcentrehelper.com "Erlang C formula – made simple" (also pyworkforce's test case).
    req = erlang.agents_needed(
        calls=100, interval_seconds=1800, handling_seconds=180, target_level=0.8,
        target_seconds=20, shrinkage=0.3,
    )  # fmt: skip
    assert req.traffic == 10
    assert req.agents == 14 and req.positions == 20
    assert round(req.occupancy, 3) == 0.714
    assert round(req.waiting_probability, 3) == 0.174
    assert round(req.service_level, 2) == 0.89
    # One agent fewer misses the 80 % target.
    assert erlang.service_level(13, 10, 180, 20) < 0.8


def test_greedy_rota_suggestion_covers_the_need():
    from servicedesk.rota.models import Shift

    early = Shift(pk=1, name="早", start=datetime.time(8), end=datetime.time(16))
    late = Shift(pk=2, name="晚", start=datetime.time(14), end=datetime.time(22))
    need = {(MONDAY, s): 2 for s in range(18, 40)}  # 09:00–20:00, two people
    plan = forecast.suggest_rota(need, [early, late], monday=MONDAY)
    assert plan == {(MONDAY, early): 2, (MONDAY, late): 2}
