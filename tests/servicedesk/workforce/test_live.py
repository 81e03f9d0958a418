"""Live intake against the forecast: the dashboard shows today's contacts per channel against
it, and the "volume over forecast" alert fires once per half hour and channel."""

import datetime
import math

import pytest
import time_machine
from django.core.cache import cache

from complaints.models import Case, CaseContact
from servicedesk.reports.models import Alert, AlertRule, Indicator
from servicedesk.reports.services import alerts_evaluate
from servicedesk.staff.models import Notification
from servicedesk.workforce import forecast, live

from .test_forecast import MONDAY, SHANGHAI, history  # noqa: F401  (fixture)

FRIDAY_10_10 = datetime.datetime(2026, 5, 15, 10, 10, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def fresh_cache(db):
    cache.clear()
    yield
    cache.clear()


def _expected_phone_at_ten():
    fc = forecast.forecast_week(monday=MONDAY, weeks=live.HISTORY_WEEKS)
    return fc.arrivals.get((FRIDAY_10_10.date(), 20, "phone"), 0)


def _calls(n, at):
    case = Case.objects.first()
    CaseContact.objects.bulk_create(
        [CaseContact(case=case, channel="phone", received_at=at) for _ in range(n)]
    )


def test_the_volume_alert_fires_once(history, manager, django_capture_on_commit_callbacks):  # noqa: F811
    AlertRule.objects.filter(is_active=True).update(is_active=False)
    rule = AlertRule.objects.create(
        name="来电量超预测", indicator=Indicator.VOLUME_OVER_FORECAST, threshold=50, min_count=5
    )
    expected = _expected_phone_at_ten()
    assert expected > 0
    # Just at the forecast: nothing.
    _calls(math.floor(expected), FRIDAY_10_10 - datetime.timedelta(minutes=5))
    with time_machine.travel(FRIDAY_10_10, tick=False):
        alerts_evaluate(now=FRIDAY_10_10)
    assert not Alert.objects.filter(rule=rule).exists()
    # Over by more than 50 % (and at least 5): one alert, one notice, however often it runs.
    _calls(max(5, math.ceil(expected * 1.5) + 1), FRIDAY_10_10 - datetime.timedelta(minutes=2))
    for minutes in (0, 5, 15):
        moment = FRIDAY_10_10 + datetime.timedelta(minutes=minutes)
        with (
            time_machine.travel(moment, tick=False),
            django_capture_on_commit_callbacks(execute=True),
        ):
            alerts_evaluate(now=moment)
    alert = Alert.objects.get(rule=rule)
    assert alert.subject == "2026-05-15 10:00 phone"
    assert Notification.objects.filter(recipient=manager).count() == 1
    # The next half hour is quiet: back to normal, nothing new raised.
    later = FRIDAY_10_10 + datetime.timedelta(minutes=35)
    with time_machine.travel(later, tick=False):
        alerts_evaluate(now=later)
    alert.refresh_from_db()
    assert alert.cleared_at is not None and Alert.objects.filter(rule=rule).count() == 1


def test_the_dashboard_shows_today_against_the_forecast(client, history, supervisor):  # noqa: F811
    _calls(12, FRIDAY_10_10 - datetime.timedelta(minutes=5))
    with time_machine.travel(FRIDAY_10_10, tick=False):
        client.force_login(supervisor)
        page = client.get("/admin/")
    assert page.status_code == 200
    rows = {label: rest for label, *rest in page.context["dashboard"].intake_forecast}
    actual, so_far, whole = rows["电话"]
    assert actual == 12
    expected = forecast.forecast_week(monday=MONDAY, weeks=live.HISTORY_WEEKS)
    day = FRIDAY_10_10.date()
    assert whole == round(
        sum(n for (d, s, c), n in expected.arrivals.items() if d == day and c == "phone"), 1
    )
    assert so_far < whole
    assert "intake-forecast" in page.content.decode()
