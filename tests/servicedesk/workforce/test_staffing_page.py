"""The staffing page: forecast against the rota per interval, under-staffed intervals
highlighted, the formula and its inputs shown, a greedy suggestion; supervisors only."""

import datetime

from complaints.models import Case
from servicedesk.rota import services as rota
from servicedesk.rota.models import Shift

from .test_forecast import MONDAY, history  # noqa: F401  (fixture)

URL = "/admin/workforce/staffingforecast/"


def test_the_staffing_page_shows_need_against_the_rota(
    client,
    supervisor,
    agent,
    department,
    history,  # noqa: F811
    django_assert_max_num_queries,
):
    Case.objects.update(department=department)
    shift = Shift.objects.create(name="早班", start=datetime.time(9), end=datetime.time(17))
    friday = MONDAY + datetime.timedelta(days=4)
    rota.rota_entry_set(department=department, user=agent, date=friday, shift=shift)
    client.force_login(supervisor)
    with django_assert_max_num_queries(40):
        page = client.get(
            URL, {"week": MONDAY.isoformat(), "weeks": 4, "day": friday.isoformat(),
                  "department": department.pk},
        )  # fmt: skip
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and "wf-under-band" in html
    assert "Erlang C" in html and "P(w)" in html
    ten = next(r for r in page.context["rows"] if r["time"] == "10:00")
    assert ten["scheduled"] == 1 and ten["needed"] > 1 and ten["under"]
    assert page.context["suggestion"]  # the greedy suggestion uses the department's shift


def test_bad_input_falls_back_and_agents_are_refused(client, supervisor, agent, history):  # noqa: F811
    client.force_login(supervisor)
    assert client.get(URL, {"week": "not-a-date", "weeks": "x", "day": "?"}).status_code == 200
    client.force_login(agent)
    assert client.get(URL).status_code == 403
