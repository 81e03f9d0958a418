"""Early warning (风险预警) end to end: each indicator measured from the database at a frozen
time raises one alert with the figures that triggered it and notifies the managers once;
re-running raises nothing new; back inside the threshold the alert is marked back to normal
but stays until a person closes it with a note; a breach after closing raises a new alert;
minimum counts and department scopes are respected; a constant number of queries per rule.

The clock: Monday 2026-11-16 10:00 Beijing time; a 7-day window is [11-09 10:00, 11-16
10:00), the window before it [11-02 10:00, 11-09 10:00).
"""

import datetime

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from servicedesk.reports import alerts, services, tasks
from servicedesk.reports.models import Alert, AlertRule, AlertStatus
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Notification
from servicedesk.staff.services import notification_send_pending

from .alert_factories import AlertRuleFactory, CaseFactory, ResponseFactory, at

NOW = at(2026, 11, 16, 10)
H = datetime.timedelta(hours=1)


@pytest.fixture(autouse=True)
def _english_and_no_default_rules(db):
    # The five shipped rules would also fire on the test data; each test makes its own.
    AlertRule.objects.update(is_active=False)
    with translation.override("en"):
        yield


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def evaluate():
    return services.alerts_evaluate()


def responded(received, hours, **fields):
    return CaseFactory(created_at=received, first_response_at=received + hours * H, **fields)


def slow_first_responses(**fields):
    """Median 30 h over three cases in the window (10, 30, 40 h); the rest is not counted."""
    responded(at(2026, 11, 10, 10), 10, **fields)
    responded(at(2026, 11, 11, 10), 30, **fields)
    responded(at(2026, 11, 12, 10), 40, **fields)


def _noise():
    responded(at(2026, 11, 8, 10), 100)  # received before the window
    CaseFactory(created_at=at(2026, 11, 13, 10))  # no first response yet
    responded(at(2026, 11, 14, 10), 200, state="cancelled")  # spam, cancelled
    responded(at(2026, 11, 14, 11), 200, state="merged", merged_into=CaseFactory())


# --- each indicator -------------------------------------------------------------------------


def test_first_response_median_raises_one_alert_with_its_figures(frozen, manager, make_user):
    other_manager = make_user("manager2", role=roles.MANAGER, email="")
    make_user("agent9", role=roles.AGENT)
    rule = AlertRuleFactory(name="首次响应过慢", indicator="first_response_median", threshold=24)
    slow_first_responses()
    _noise()

    assert evaluate() == {"rules": 1, "raised": 1, "still": 0, "cleared": 0}

    alert = Alert.objects.get()
    assert (alert.rule, alert.subject, alert.status) == (rule, "", AlertStatus.OPEN)
    assert alert.raised_at == NOW and alert.last_checked_at == NOW and alert.cleared_at is None
    assert alert.figures == {
        "from": "2026-11-09 10:00",
        "to": "2026-11-16 10:00",
        "window_days": 7,
        "threshold": 24,
        "min_count": 3,
        "cases": 3,
        "median_hours": 30,
        "mean_hours": 26.67,
    }
    assert alert.message == (
        "Median first response 30 h over the last 7 days (3 cases), above the 24 h threshold."
    )
    # Every active manager, in the app; by e-mail when they have an address.
    notes = Notification.objects.filter(event_key=f"alert:{alert.pk}").order_by("recipient")
    assert [n.recipient for n in notes] == [manager, other_manager]
    assert notes[0].subject == "Early warning: 首次响应过慢"
    assert notes[0].link == f"/admin/reports/alert/{alert.pk}/change/"
    assert [n.email_wanted for n in notes] == [True, False]
    assert notification_send_pending() == 1
    assert mail.outbox[0].to == [manager.email]
    body = mail.outbox[0].body
    assert alert.message in body and "median first response (hours): 30" in body


def test_running_again_raises_and_notifies_nothing_new(frozen, manager):
    AlertRuleFactory(indicator="first_response_median", threshold=24)
    slow_first_responses()
    evaluate()
    first = Alert.objects.get()

    frozen.shift(datetime.timedelta(minutes=15))
    responded(at(2026, 11, 15, 10), 50)  # median now (30 + 40) / 2 = 35
    assert evaluate() == {"rules": 1, "raised": 0, "still": 1, "cleared": 0}

    alert = Alert.objects.get()
    assert alert.pk == first.pk and alert.raised_at == NOW
    assert alert.last_checked_at == NOW + datetime.timedelta(minutes=15)
    assert alert.figures["median_hours"] == 35 and alert.figures["cases"] == 4
    assert Notification.objects.count() == 1


def test_the_scheduled_task_evaluates_the_rules(frozen, manager):
    AlertRuleFactory(indicator="first_response_median", threshold=24)
    slow_first_responses()
    assert tasks.alerts_evaluate.name == "servicedesk.reports.tasks.alerts_evaluate"
    assert tasks.alerts_evaluate.apply().get()["raised"] == 1
    assert tasks.alerts_evaluate.apply().get()["raised"] == 0
    assert Alert.objects.count() == 1 and Notification.objects.count() == 1


def test_sla_breach_rate_counts_deadlines_due_in_the_window(frozen, manager):
    AlertRuleFactory(indicator="sla_breach_rate", threshold=50, min_count=4)
    due = at(2026, 11, 12, 10)
    # First response: met, late, and still to meet (open, past due).
    CaseFactory(first_response_due=due, first_response_at=due - H, state="assigned")
    CaseFactory(first_response_due=due, first_response_at=due + H, state="investigating")
    CaseFactory(first_response_due=due, state="received")
    # Investigation still to meet on an active case: missed; the same on a resolved case
    # with its investigation done in time: met.
    CaseFactory(investigation_due=due, state="investigating", first_response_at=due)
    CaseFactory(investigation_due=due, investigation_done_at=due, state="resolved")
    # Not counted: due outside the window, or never reached (the case ended first), or spam.
    CaseFactory(first_response_due=at(2026, 11, 5), state="received")
    CaseFactory(first_response_due=at(2026, 11, 17), state="received")
    CaseFactory(satisfaction_due=due, state="closed")
    CaseFactory(first_response_due=due, state="cancelled")

    evaluate()

    alert = Alert.objects.get()
    assert alert.figures["deadlines"] == 5
    assert alert.figures["missed"] == 3
    assert alert.figures["missed_percent"] == 60
    assert alert.figures["missed_by_stage"] == {"first_response": 2, "investigation": 1}
    assert alert.message == (
        "60% of the deadlines due in the last 7 days were missed (3 of 5), above the 50% threshold."
    )
    rows = dict(alerts.figure_rows(alert.figures))
    assert rows["missed per stage"] == "First response: 2; Investigation: 1"


def test_category_rise_raises_one_alert_per_rising_category(frozen, manager):
    rule = AlertRuleFactory(indicator="category_rise", threshold=50, min_count=4)
    this_week, last_week = at(2026, 11, 12, 10), at(2026, 11, 5, 10)
    # Logistics 2 → 5 (+150 %); product 5 → 5; service 0 → 3 (too few); technical 0 → 4.
    for category, now, before in [("logistics", 5, 2), ("product", 5, 5), ("service", 3, 0),
                                  ("technical", 4, 0)]:  # fmt: skip
        for _ in range(now):
            CaseFactory(category=category, created_at=this_week)
        for _ in range(before):
            CaseFactory(category=category, created_at=last_week)
    # Not complaints, or three weeks ago: not counted.
    for _ in range(6):
        CaseFactory(category="process", type="consultation", created_at=this_week)
    for _ in range(6):
        CaseFactory(category="service", created_at=at(2026, 10, 28))

    assert evaluate()["raised"] == 2

    by_subject = {a.subject: a for a in Alert.objects.filter(rule=rule)}
    assert set(by_subject) == {"logistics", "technical"}
    logistics = by_subject["logistics"]
    assert logistics.figures["current"] == 5 and logistics.figures["previous"] == 2
    assert logistics.figures["rise_percent"] == 150
    assert logistics.figures["previous_from"] == "2026-11-02 10:00"
    assert logistics.message == (
        "Complaints in category Logistics: 5 in the last 7 days against 2 in the 7 days "
        "before, up 150% (threshold 50%)."
    )
    technical = by_subject["technical"]
    assert technical.figures["rise_percent"] is None
    assert technical.message == (
        "Complaints in category Technical: 4 in the last 7 days, none in the 7 days before."
    )
    assert dict(alerts.figure_rows(technical.figures))["rise (%)"] == "none before"
    # One notification per alert and manager.
    assert Notification.objects.filter(recipient=manager).count() == 2


def test_product_rise_per_product(frozen, manager):
    AlertRuleFactory(indicator="product_rise", threshold=100, min_count=3)
    for _ in range(4):
        CaseFactory(product="X1 手机", created_at=at(2026, 11, 14))
        CaseFactory(product="", created_at=at(2026, 11, 14))  # no product named
        CaseFactory(product="T2 平板", created_at=at(2026, 11, 14))
    CaseFactory(product="X1 手机", created_at=at(2026, 11, 4))
    for _ in range(2):
        CaseFactory(product="T2 平板", created_at=at(2026, 11, 4))

    evaluate()

    alert = Alert.objects.get()  # T2: 2 → 4 is +100 %, not over the threshold
    assert alert.subject == "X1 手机"
    assert alert.figures["rise_percent"] == 300
    assert alert.message.startswith("Complaints about product X1 手机: 4 in the last 7 days")


def test_satisfaction_below_target_uses_the_handbook_rate(frozen, manager):
    AlertRuleFactory(indicator="satisfaction_below", threshold=90, min_count=5, window_days=30)
    for score in (5, 5, 4, 3, 2):
        ResponseFactory(overall_score=score, answered_at=at(2026, 11, 1))
    ResponseFactory(overall_score=None, answered_at=at(2026, 11, 2))  # no score given
    ResponseFactory(overall_score=1, answered_at=at(2026, 10, 1))  # before the 30 days

    evaluate()

    alert = Alert.objects.get()
    assert alert.figures["answers"] == 5
    assert alert.figures["satisfied"] == 3
    assert alert.figures["rate_percent"] == 60
    assert alert.figures["score"] == 3.8
    assert alert.message == (
        "Satisfaction rate 60% over the last 30 days (5 answers), under the 90% target."
    )


def test_chinese_message(frozen, manager):
    AlertRuleFactory(indicator="first_response_median", threshold=24)
    slow_first_responses()
    with translation.override("zh-hans"):
        evaluate()
    assert (
        Alert.objects.get().message == "近 7 天首次响应中位数为 30 小时（3 件），超过阈值 24 小时。"
    )


# --- thresholds, minimum counts, scope ----------------------------------------------------


def test_inside_the_threshold_or_too_few_cases_raises_nothing(frozen, manager):
    AlertRuleFactory(indicator="first_response_median", threshold=30)  # 30 is not over 30
    AlertRuleFactory(indicator="first_response_median", threshold=10, min_count=4)  # 3 cases
    AlertRuleFactory(indicator="satisfaction_below", threshold=90, min_count=3)
    ResponseFactory(overall_score=1, answered_at=at(2026, 11, 15))
    ResponseFactory(overall_score=1, answered_at=at(2026, 11, 15))
    slow_first_responses()

    assert evaluate() == {"rules": 3, "raised": 0, "still": 0, "cleared": 0}
    assert not Alert.objects.exists() and not Notification.objects.exists()


def test_a_department_rule_measures_that_department_only(frozen, manager, department):
    other = Department.objects.create(code="shouhou", name="售后部")
    AlertRuleFactory(indicator="first_response_median", threshold=24, department=department)
    AlertRuleFactory(indicator="first_response_median", threshold=24, department=other)
    slow_first_responses(department=department)
    for hours in (1, 2, 3):
        responded(at(2026, 11, 14), hours, department=other)
    ResponseFactory(overall_score=1, answered_at=at(2026, 11, 15), department=other)

    evaluate()

    alert = Alert.objects.get()
    assert alert.rule.department == department
    assert alert.figures["department"] == "客服中心"
    assert alert.message.startswith("客服中心: Median first response 30 h")


def test_rule_recipients_replace_the_managers(frozen, manager, supervisor):
    rule = AlertRuleFactory(indicator="first_response_median", threshold=24)
    rule.recipients.set([supervisor])
    slow_first_responses()
    evaluate()
    assert [n.recipient for n in Notification.objects.all()] == [supervisor]


# --- the life of an alert -------------------------------------------------------------------


def test_back_to_normal_is_marked_but_the_alert_stays_until_closed(frozen, manager):
    AlertRuleFactory(indicator="first_response_median", threshold=24)
    slow_first_responses()
    evaluate()

    # A week later the window holds three quick first responses only.
    frozen.move_to(NOW + datetime.timedelta(days=7))
    for day in (17, 18, 19):
        responded(at(2026, 11, day, 10), 2)
    assert evaluate()["cleared"] == 1

    alert = Alert.objects.get()
    assert alert.status == AlertStatus.OPEN
    assert alert.cleared_at == NOW + datetime.timedelta(days=7)
    assert alert.figures["median_hours"] == 30  # what triggered it is kept

    # Still normal a quarter later: the "back to normal" time does not move.
    frozen.shift(datetime.timedelta(minutes=15))
    assert evaluate()["cleared"] == 0
    alert.refresh_from_db()
    assert alert.cleared_at == NOW + datetime.timedelta(days=7)
    assert alert.last_checked_at == NOW + datetime.timedelta(days=7, minutes=15)

    # Breached again before anyone closed it: the same alert, no second notification.
    for day in (18, 19, 20, 21):
        responded(at(2026, 11, day, 9), 40)  # median of 2, 2, 2, 40, 40, 40, 40 h: 40 h
    frozen.move_to(NOW + datetime.timedelta(days=7, hours=1))
    assert evaluate()["still"] == 1
    alert.refresh_from_db()
    assert alert.cleared_at is None and Alert.objects.count() == 1
    assert Notification.objects.count() == 1


def test_too_few_cases_leaves_an_open_alert_as_it_is(frozen, manager):
    AlertRuleFactory(indicator="first_response_median", threshold=24)
    slow_first_responses()
    evaluate()
    frozen.move_to(NOW + datetime.timedelta(days=8))  # the window is empty now
    assert evaluate() == {"rules": 1, "raised": 0, "still": 0, "cleared": 0}
    assert Alert.objects.get().cleared_at is None


def test_a_closed_alert_breached_again_raises_a_new_one(frozen, manager):
    AlertRuleFactory(indicator="first_response_median", threshold=24)
    slow_first_responses()
    evaluate()
    first = Alert.objects.get()
    services.alert_acknowledge(alert=first, user=manager)
    services.alert_close(alert=first, user=manager, note="  已增派两名客服。 ")

    first.refresh_from_db()
    assert first.status == AlertStatus.CLOSED and first.note == "已增派两名客服。"
    assert first.closed_by == manager and first.closed_at == NOW

    frozen.shift(datetime.timedelta(minutes=15))
    assert evaluate()["raised"] == 1
    second = Alert.objects.exclude(pk=first.pk).get()
    assert second.status == AlertStatus.OPEN
    assert Notification.objects.filter(event_key=f"alert:{second.pk}").count() == 1
    assert Notification.objects.count() == 2


def test_acknowledge_then_close_with_a_note(frozen, manager):
    rule = AlertRuleFactory()
    alert = Alert.objects.create(rule=rule, message="m", figures={})

    services.alert_acknowledge(alert=alert, user=manager)
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED
    assert (alert.acknowledged_by, alert.acknowledged_at) == (manager, NOW)
    services.alert_acknowledge(alert=alert, user=manager)  # twice: nothing changes

    with pytest.raises(ValidationError) as error:
        services.alert_close(alert=alert, user=manager, note="   ")
    assert "note" in error.value.message_dict
    alert.refresh_from_db()
    assert alert.status == AlertStatus.ACKNOWLEDGED and alert.closed_at is None

    services.alert_close(alert=alert, user=manager, note="已处理")
    with pytest.raises(ValidationError):
        services.alert_close(alert=alert, user=manager, note="again")
    with pytest.raises(ValidationError):
        services.alert_acknowledge(alert=alert, user=manager)


def test_only_people_who_may_change_alerts_acknowledge_or_close(frozen, agent, supervisor):
    alert = Alert.objects.create(rule=AlertRuleFactory(), message="m", figures={})
    for user in (agent, supervisor):
        with pytest.raises(PermissionDenied):
            services.alert_acknowledge(alert=alert, user=user)
        with pytest.raises(PermissionDenied):
            services.alert_close(alert=alert, user=user, note="x")
    assert Alert.objects.get().status == AlertStatus.OPEN


def test_a_concurrent_run_that_raised_first_is_found_not_duplicated(frozen, manager):
    """Another worker raised the alert after this run read the open alerts: the insert hits
    the one-unclosed constraint and the existing alert is refreshed instead."""
    rule = AlertRuleFactory(indicator="first_response_median", threshold=24)
    slow_first_responses()
    evaluation = services.alert_rule_measure(rule=rule, now=NOW)
    existing = Alert.objects.create(rule=rule, message="earlier", figures={})

    counts = services._alerts_apply(rule, evaluation, {}, NOW, [manager])

    assert counts == {"raised": 0, "still": 1, "cleared": 0}
    existing.refresh_from_db()
    assert Alert.objects.count() == 1 and existing.figures["median_hours"] == 30
    assert not Notification.objects.exists()


# --- cost ---------------------------------------------------------------------------------


@pytest.mark.parametrize("scale", [1, 4])
def test_queries_per_evaluation_do_not_grow_with_the_data(
    frozen, manager, django_assert_max_num_queries, scale
):
    for indicator in ("first_response_median", "sla_breach_rate", "category_rise",
                      "product_rise", "satisfaction_below"):  # fmt: skip
        AlertRuleFactory(indicator=indicator, threshold=0, min_count=1)
    for i in range(3 * scale):
        received = at(2026, 11, 10 + i % 5, 10)
        CaseFactory(
            created_at=received, first_response_at=received + 30 * H,
            first_response_due=received + 24 * H, category=["logistics", "service"][i % 2],
            product=f"P{i}",
        )  # fmt: skip
        ResponseFactory(overall_score=1 + i % 5, answered_at=received)
    evaluate()  # raises the alerts (and notifies: a few queries per new alert)
    # Steady state: rules (2), open alerts (1), managers (at most 1), per rule one
    # measurement, a savepoint pair and one bulk update: bounded whatever the volume.
    with django_assert_max_num_queries(4 + 5 * 4):
        counts = evaluate()
    assert counts["raised"] == 0 and counts["still"] == Alert.objects.count() >= 5
