"""The rota decides routing: the next case goes to a colleague on duty, nobody on duty leaves
it in the department's queue with a note, the cases of someone on leave are offered to their
backup (B角) after the configured time, and escalations reach the supervisors on duty."""

import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import override_settings

from complaints import services as case_services
from complaints.models import State
from servicedesk.rota import services as rota
from servicedesk.rota.models import Absence, AbsenceKind, Backup, Shift
from servicedesk.staff import roles
from servicedesk.staff.models import Notification
from servicedesk.workforce.backup import backup_offer_sweep, backup_offer_take
from servicedesk.workforce.models import BackupOffer
from tests.complaints.helpers import intake

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Wednesday, 10:00 in Shanghai.
NOW = datetime.datetime(2026, 3, 11, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture
def team(make_user, department):
    from complaints.models import RoutingRule

    RoutingRule.objects.create(name="全部", category="product", department=department, order=1)
    day = Shift.objects.create(name="早班", start=datetime.time(8), end=datetime.time(17))
    night = Shift.objects.create(name="夜班", start=datetime.time(22), end=datetime.time(7))
    wang = make_user("wang", role=roles.AGENT, departments=[department], last_name="王")
    li = make_user("li", role=roles.AGENT, departments=[department], last_name="李")
    zhao = make_user("zhao", role=roles.AGENT, departments=[department], last_name="赵")
    today = NOW.date()
    rota.rota_entry_set(department=department, user=wang, date=today, shift=day)
    rota.rota_entry_set(department=department, user=li, date=today, shift=day)
    rota.rota_entry_set(department=department, user=zhao, date=today, shift=night)
    return {"wang": wang, "li": li, "zhao": zhao, "day": day, "night": night}


def test_leave_sends_the_next_case_to_a_colleague_on_duty_and_offers_the_old_ones_to_the_backup(
    team, department
):
    wang, li = team["wang"], team["li"]
    Backup.objects.create(user=wang, backup=li)
    with time_machine.travel(NOW - datetime.timedelta(hours=1), tick=False):
        before = intake().case
    assert before.assignee == wang  # tie on load: the earliest member on duty
    Absence.objects.create(
        user=wang, kind=AbsenceKind.LEAVE, starts_at=NOW, ends_at=NOW + datetime.timedelta(days=2)
    )
    with time_machine.travel(NOW + datetime.timedelta(minutes=5), tick=False):
        nxt = intake().case
    # Zhao works nights and Wang is on leave: Li is the only one on duty.
    assert nxt.assignee == li

    with override_settings(BACKUP_OFFER_AFTER_HOURS=2):
        assert backup_offer_sweep(now=NOW + datetime.timedelta(hours=1)) == 0  # not yet
        assert backup_offer_sweep(now=NOW + datetime.timedelta(hours=3)) == 1
        assert backup_offer_sweep(now=NOW + datetime.timedelta(hours=4)) == 0  # once
    offer = BackupOffer.objects.get()
    assert (offer.case, offer.backup) == (before, li)
    assert Notification.objects.filter(recipient=li, subject__contains=before.number).count() == 1
    case = backup_offer_take(offer=offer, user=li)
    assert case.assignee == li
    assert case.events.filter(message__contains=str(li)).exists()


def test_a_night_shift_crossing_midnight_is_on_duty_after_midnight(team, department):
    after_midnight = datetime.datetime(2026, 3, 12, 2, 0, tzinfo=SHANGHAI)
    with time_machine.travel(after_midnight, tick=False):
        case = intake().case
    assert case.assignee == team["zhao"]


def test_nobody_on_duty_leaves_the_case_in_the_department_queue_with_a_note(team, department):
    evening = datetime.datetime(2026, 3, 11, 19, 0, tzinfo=SHANGHAI)
    with time_machine.travel(evening, tick=False):
        case = intake().case
    assert case.state == State.RECEIVED and case.assignee is None
    assert case.department == department
    assert (
        case.events.filter(message__contains="on duty").exists()
        or case.events.filter(message__contains="值班").exists()
    )


def test_a_department_without_a_rota_routes_to_everyone_not_absent(make_user, department):
    from complaints.models import RoutingRule

    RoutingRule.objects.create(name="全部", category="product", department=department, order=1)
    a = make_user("a", role=roles.AGENT, departments=[department])
    b = make_user("b", role=roles.AGENT, departments=[department])
    Absence.objects.create(
        user=a, kind=AbsenceKind.SICK, starts_at=NOW - datetime.timedelta(hours=1),
        ends_at=NOW + datetime.timedelta(hours=8),
    )  # fmt: skip
    with time_machine.travel(NOW, tick=False):
        assert intake().case.assignee == b
        assert intake().case.assignee == b


def test_escalations_go_to_the_supervisors_on_duty_then_to_all(team, department, make_user):
    on = make_user("sup_on", role=roles.SUPERVISOR, departments=[department])
    off = make_user("sup_off", role=roles.SUPERVISOR, departments=[department])
    rota.rota_entry_set(department=department, user=on, date=NOW.date(), shift=team["day"])
    rota.rota_entry_set(department=department, user=off, date=NOW.date(), shift=team["night"])
    with time_machine.travel(NOW - datetime.timedelta(days=10), tick=False):
        case = intake().case
    case_services.sla_sweep(now=NOW)
    assert Notification.objects.filter(recipient=on).exists()
    assert not Notification.objects.filter(recipient=off).exists()

    # Nobody on duty (the day supervisor on leave): every supervisor not absent hears of it.
    Absence.objects.create(
        user=on, kind=AbsenceKind.LEAVE, starts_at=NOW, ends_at=NOW + datetime.timedelta(days=9)
    )
    with time_machine.travel(NOW - datetime.timedelta(days=10), tick=False):
        intake()
    Notification.objects.all().delete()
    case_services.sla_sweep(now=NOW + datetime.timedelta(minutes=1))
    assert Notification.objects.filter(recipient=off).exists()
    assert not Notification.objects.filter(recipient=on).exists()
    assert case.pk


def test_the_backup_takes_the_case_over_in_the_admin(client, team, department):
    wang, li, zhao = team["wang"], team["li"], team["zhao"]
    Backup.objects.create(user=wang, backup=li)
    with time_machine.travel(NOW - datetime.timedelta(hours=1), tick=False):
        case = intake().case
    Absence.objects.create(
        user=wang, kind=AbsenceKind.LEAVE, starts_at=NOW, ends_at=NOW + datetime.timedelta(days=2)
    )
    backup_offer_sweep(now=NOW + datetime.timedelta(hours=3))
    offer = BackupOffer.objects.get()
    url = "/admin/workforce/backupoffer/"
    # Someone else sees nothing to take over.
    client.force_login(zhao)
    assert client.get(url).context["cl"].result_count == 0
    client.force_login(li)
    assert client.get(url).context["cl"].result_count == 1
    client.post(url, {"action": "take_over", "_selected_action": [offer.pk]})
    case.refresh_from_db()
    assert case.assignee == li
    # Twice: an error message, nothing changes.
    page = client.post(url, {"action": "take_over", "_selected_action": [offer.pk]}, follow=True)
    assert [m for m in page.context["messages"] if m.level_tag == "error"]
