"""Fixtures for the knowledge tests: staff in roles, plans built through the services."""

import itertools
from decimal import Decimal

import pytest

from knowledge import services
from knowledge.models import Plan, PlanResource, PlanStage
from servicedesk.staff import roles

_seq = itertools.count(1)


@pytest.fixture(autouse=True)
def _english(settings):
    # Assertions read the English messages; translations may change the Chinese ones.
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def manager2(make_user, department):
    return make_user("manager2", role=roles.MANAGER, departments=[department])


def add_rows(revision, user, *, stages=(), resources=()):
    for order, (code, name, limit, role) in enumerate(stages, 1):
        stage = PlanStage(
            order=order, code=code, name=name, time_limit=Decimal(limit), unit="hours",
            starts="received", responsible_role=role,
        )  # fmt: skip
        services.plan_revision_save_row(revision=revision, user=user, row=stage, reason="setup")
    for order, (kind, name, quantity, location) in enumerate(resources, 1):
        resource = PlanResource(
            order=order, kind=kind, name=name, quantity=quantity, location=location
        )
        services.plan_revision_save_row(revision=revision, user=user, row=resource, reason="setup")


def make_plan(author, approver, *, code=None, name=None, categories=(), case_types=(),
              departments=(), is_default=False, first_response=24):  # fmt: skip
    """A plan with revision 1 drafted by `author`, published by `approver`."""
    n = next(_seq)
    plan = Plan.objects.create(
        code=code or f"plan-{n}",
        name=name or f"测试预案{n}",
        categories=list(categories),
        case_types=list(case_types),
        is_default=is_default,
    )
    plan.departments.set(departments)
    revision = services.plan_revision_create_draft(plan=plan, user=author, reason="新建")
    services.plan_revision_update(
        revision=revision, user=author, objectives="目标", first_response_hours=first_response
    )
    add_rows(
        revision,
        author,
        stages=[("first_response", "首次响应", first_response, "agent"),
                ("investigation", "问题调查", 48, "handler")],
        resources=[("spare_part", "替换零件", 10, "A 仓"), ("tool", "诊断工具", 1, "维修间")],
    )  # fmt: skip
    services.plan_revision_submit(revision=revision, user=author, reason="提交")
    services.plan_revision_approve(revision=revision, user=approver, reason="同意")
    revision.refresh_from_db()
    return plan, revision


@pytest.fixture
def published_plan(supervisor, manager, department):
    """A plan governing technical cases, revision 1 in force, department `department`."""
    return make_plan(supervisor, manager, categories=["technical"], departments=[department])
