"""After a revision is published: the staff of the plan's departments acknowledge it (who has,
who hasn't, on the revision page), reminders after N working days, drills recorded against it."""

import datetime
import re
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client

from knowledge import rollout
from knowledge.models import PlanDrill
from servicedesk.staff import roles
from servicedesk.staff.models import Department, Notification

from .conftest import make_plan

SH = ZoneInfo("Asia/Shanghai")
MONDAY = datetime.datetime(2026, 11, 2, 10, tzinfo=SH)


@pytest.fixture
def rolled_out(make_user, supervisor, manager, department):
    other = Department.objects.create(code="wl", name="物流部")
    agent_a = make_user("agent_a", role=roles.AGENT, departments=[department])
    agent_b = make_user("agent_b", role=roles.AGENT, departments=[department])
    outsider = make_user("outsider", role=roles.AGENT, departments=[other])
    with time_machine.travel(MONDAY, tick=False):
        _plan, revision = make_plan(supervisor, manager, departments=[department])
    return revision, agent_a, agent_b, outsider


def page(user, revision):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client, f"/admin/knowledge/planrevision/{revision.pk}/change/"


def test_the_revision_page_shows_who_has_and_who_has_not_acknowledged(rolled_out, manager):
    revision, agent_a, _agent_b, _outsider = rolled_out
    client, url = page(agent_a, revision)
    assert "I have read and understood" in client.get(url).content.decode()
    response = client.post(f"/admin/knowledge/planrevision/{revision.pk}/acknowledge/", follow=True)
    assert response.status_code == 200
    assert "I have read and understood this revision" not in response.content.decode()
    client, url = page(manager, revision)
    html = client.get(url).content.decode()
    done = re.search(r"acknowledged:(.*?)</p>", html, re.S).group(1)
    missing = re.search(r"not yet:(.*?)</p>", html, re.S).group(1)
    assert "agent_a" in done and "agent_a" not in missing
    assert "agent_b" in missing and "agent_b" not in done
    assert "outsider" not in html  # not of the plan's departments
    acknowledged, not_yet = rollout.acknowledgement_status(revision)
    assert [u.username for u, _at in acknowledged] == ["agent_a"]
    assert "agent_b" in [u.username for u in not_yet]


def test_acknowledging_twice_records_once_and_outsiders_cannot(rolled_out):
    revision, agent_a, _agent_b, outsider = rolled_out
    rollout.plan_revision_acknowledge(revision=revision, user=agent_a)
    rollout.plan_revision_acknowledge(revision=revision, user=agent_a)
    assert revision.acknowledgements.count() == 1
    with pytest.raises(rollout.PermissionDenied):
        rollout.plan_revision_acknowledge(revision=revision, user=outsider)


def test_reminders_go_after_three_working_days_once_to_those_who_have_not(rolled_out):
    revision, agent_a, _agent_b, _outsider = rolled_out
    rollout.plan_revision_acknowledge(revision=revision, user=agent_a)
    key = f"knowledge.plan_ack_reminder:{revision.pk}"
    assert rollout.plan_acknowledgements_remind(now=MONDAY + datetime.timedelta(days=2)) == 0
    # Monday + 3 working days = Thursday 10:00.
    thursday = MONDAY + datetime.timedelta(days=3)
    assert rollout.plan_acknowledgements_remind(now=thursday) >= 1
    assert rollout.plan_acknowledgements_remind(now=thursday) == 0  # once
    reminded = set(
        Notification.objects.filter(event_key=key).values_list("recipient__username", flat=True)
    )
    assert "agent_b" in reminded
    assert not reminded & {"agent_a", "outsider"}


def test_a_drill_is_recorded_against_the_revision_with_its_participants(rolled_out, supervisor):
    revision, agent_a, agent_b, _outsider = rolled_out
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(supervisor)
    with time_machine.travel(MONDAY + datetime.timedelta(days=3), tick=False):
        response = client.post(
            "/admin/knowledge/plandrill/add/",
            {
                "revision": revision.pk,
                "held_on": "2026-11-04",
                "participants": [agent_a.pk, agent_b.pk],
                "findings": "升级通知延迟 10 分钟，需调整值班表。",
            },
        )
    assert response.status_code == 302
    drill = PlanDrill.objects.get()
    assert drill.recorded_by == supervisor and drill.revision == revision
    assert set(drill.participants.all()) == {agent_a, agent_b}
    client, url = page(supervisor, revision)
    assert "升级通知延迟" in client.get(url).content.decode()


def test_a_drill_in_the_future_or_without_findings_is_refused_with_field_errors(
    rolled_out, supervisor
):
    revision, agent_a, _agent_b, _outsider = rolled_out
    client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    client.force_login(supervisor)
    with time_machine.travel(MONDAY, tick=False):
        response = client.post(
            "/admin/knowledge/plandrill/add/",
            {"revision": revision.pk, "held_on": "2026-12-01", "participants": [agent_a.pk],
             "findings": "  "},
        )  # fmt: skip
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) >= {"held_on", "findings"}
    assert PlanDrill.objects.count() == 0
