"""A follow-up plan needs a manager's approval before it generates calls; changing its rules
takes the approval away again (003)."""

import datetime

import pytest
import time_machine
from django.test import Client

from callbacks import services
from callbacks.models import FollowUp, FollowUpPlan
from complaints.models import Customer, CustomerTier
from servicedesk.staff import roles

NOW = datetime.datetime(2026, 11, 10, 2, tzinfo=datetime.UTC)


@pytest.fixture
def key_customer(db):
    return Customer.objects.create(name="钱七", phone="13600000001", tier=CustomerTier.KEY)


def client_for(user):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(user)
    return client


def test_a_changed_plan_generates_nothing_until_a_manager_approves_it(
    key_customer, supervisor, manager
):
    plan = FollowUpPlan.objects.get(kind="tier", tier=CustomerTier.KEY)
    assert plan.approved_at is not None  # the handbook's plans ship approved
    url = f"/admin/callbacks/followupplan/{plan.pk}/change/"
    response = client_for(supervisor).post(
        url,
        {"name": plan.name, "kind": "tier", "tier": CustomerTier.KEY, "every_months": 2,
         "working_days_after_delivery": "", "questionnaire": "", "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.every_months == 2 and plan.approved_at is None
    with time_machine.travel(NOW, tick=False):
        services.followups_generate()
    assert not FollowUp.objects.filter(customer=key_customer).exists()

    changelist = "/admin/callbacks/followupplan/"
    action = {"action": "approve_plans", "_selected_action": [plan.pk]}
    client_for(supervisor).post(changelist, action)  # not a manager: the action is not offered
    plan.refresh_from_db()
    assert plan.approved_at is None
    client_for(manager).post(changelist, action)
    plan.refresh_from_db()
    assert plan.approved_by == manager
    with time_machine.travel(NOW, tick=False):
        services.followups_generate()
    assert FollowUp.objects.filter(customer=key_customer).exists()


def test_only_managers_hold_the_approval_permission(make_user, department):
    supervisor = make_user("sup2", role=roles.SUPERVISOR, departments=[department])
    manager = make_user("mgr2", role=roles.MANAGER, departments=[department])
    assert not supervisor.has_perm("callbacks.approve_followupplan")
    assert manager.has_perm("callbacks.approve_followupplan")
