"""The week grid in the admin: holidays and 调休 show as such, saving, copying last week and
applying a pattern by the China calendar; bad input is an error message, nothing half-saved."""

import datetime

import pytest
import time_machine

from servicedesk.calendar.models import CalendarDay, CalendarYear, DayKind
from servicedesk.rota.models import RotaEntry, Shift

URL = "/admin/rota/rotaentry/"
# The week of Monday 2026-09-28: National Day from Thu 1 October; Sunday 27 September and
# Saturday 10 October are make-up working days (调休).
MONDAY = datetime.date(2026, 9, 28)


@pytest.fixture
def calendar(db):
    year, _ = CalendarYear.objects.get_or_create(year=2026, defaults={"source": "manual"})
    CalendarDay.objects.filter(date__range=(MONDAY, MONDAY + datetime.timedelta(days=13))).delete()
    for i in range(3, 7):
        CalendarDay.objects.create(
            calendar_year=year, date=MONDAY + datetime.timedelta(days=i), kind=DayKind.HOLIDAY,
            name="国庆节",
        )  # fmt: skip
    CalendarDay.objects.create(
        calendar_year=year, date=datetime.date(2026, 10, 10), kind=DayKind.WORKDAY, name="国庆节"
    )
    from servicedesk.calendar import services

    services.clear_caches()


@pytest.fixture
def shift(db):
    return Shift.objects.create(name="早班", start=datetime.time(9), end=datetime.time(18))


def test_the_grid_shows_holidays_and_saves(
    client, supervisor, agent, department, shift, calendar, make_user,
    django_assert_max_num_queries,
):  # fmt: skip
    from servicedesk.staff import roles

    for i in range(6):
        make_user(f"member{i}", role=roles.AGENT, departments=[department])
    client.force_login(supervisor)
    with django_assert_max_num_queries(20):
        page = client.get(URL, {"department": department.pk, "week": "2026-10-01"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "国庆节" in html and "rota-grid" in html
    cell = f"c_{agent.pk}_20260929"
    client.post(
        f"{URL}?department={department.pk}&week=2026-09-28",
        {"action": "save", cell: str(shift.pk)},
    )
    entry = RotaEntry.objects.get(user=agent)
    assert entry.date == datetime.date(2026, 9, 29) and entry.shift == shift
    # An unknown shift: an error, nothing saved.
    page = client.post(
        f"{URL}?department={department.pk}&week=2026-09-28",
        {"action": "save", cell: "", f"c_{agent.pk}_20260930": "99999"},
        follow=True,
    )
    assert RotaEntry.objects.filter(user=agent).count() == 1
    assert list(page.context["messages"])


def test_pattern_by_calendar_and_copy_last_week(
    client, supervisor, agent, department, shift, calendar
):
    client.force_login(supervisor)
    with time_machine.travel(datetime.datetime(2026, 9, 20, 12, 0), tick=False):
        client.post(
            f"{URL}?department={department.pk}&week=2026-10-05",
            {"action": "pattern", "shift": shift.pk, "working_days": "1", "users": [agent.pk]},
        )
    days = set(RotaEntry.objects.filter(user=agent).values_list("date", flat=True))
    # Monday to Friday, plus the 调休 Saturday 10 October; Sunday 11 October stays free.
    assert datetime.date(2026, 10, 10) in days and datetime.date(2026, 10, 11) not in days
    assert len(days) == 6
    client.post(f"{URL}?department={department.pk}&week=2026-10-12", {"action": "copy"})
    copied = set(
        RotaEntry.objects.filter(user=agent, date__gte="2026-10-12").values_list("date", flat=True)
    )
    assert copied == {d + datetime.timedelta(days=7) for d in days}


def test_agents_see_the_grid_but_cannot_change_it(client, agent, department, shift):
    client.force_login(agent)
    assert client.get(URL).status_code == 200
    assert client.post(URL, {"action": "copy"}).status_code == 403
