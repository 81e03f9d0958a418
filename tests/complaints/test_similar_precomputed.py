"""Similar resolved cases picked ahead by the every-minute sweep (complaints.similar_store):
pages rank the picked cases and show what picking at once would show; the pick follows the
case's text, is renewed after a day, and is kept for working cases only."""

import datetime
import zoneinfo

import pytest
import time_machine
from django.urls import reverse
from rest_framework.test import APIClient

from complaints import search, services, similar_store
from complaints.models import Case, CaseSimilar
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake, resolved

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
T0 = datetime.datetime(2026, 11, 2, 10, tzinfo=SHANGHAI)


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def handler(make_user, tech):
    return make_user("handler", role=roles.HANDLER, departments=[tech])


def offered(case, user):
    return [(c.number, c.relevance) for c in search.similar_resolved_cases(case, user=user)]


def working(agent, handler, tech, subject):
    case = intake(subject=subject, category="technical").case
    return services.case_transition(
        case=case, name="assign", user=agent, department=tech, assignee=handler
    )


def test_pages_rank_the_picked_cases_and_offer_what_picking_now_would(
    agent, handler, supervisor, tech, make_user
):
    logistics = Department.objects.create(code="logistics", name="物流部")
    courier = make_user("courier", role=roles.HANDLER, departments=[logistics])
    with time_machine.travel(T0, tick=False):
        for i in range(3):
            resolved(agent, handler, tech, subject=f"后台无法导出月度数据{i}", result=f"处理{i}")
        theirs = resolved(
            agent, courier, logistics, subject="后台无法导出月度数据报表", result="物流部的处理"
        )
        resolved(agent, handler, tech, subject="发票抬头开错了", result="重开发票")
        current = working(agent, handler, tech, "账号无法导出月度数据")
        live = {u: offered(current, u) for u in (handler, supervisor)}
        assert not CaseSimilar.objects.filter(case=current).exists()

        similar_store.sweep()

        assert CaseSimilar.objects.filter(case=current).exists()
        # The same cases with the same relevance, each reader seeing only what they may.
        assert offered(current, handler) == live[handler]
        assert offered(current, supervisor) == live[supervisor]
        assert theirs.number not in [n for n, _r in live[handler]]
        assert theirs.number in [n for n, _r in live[supervisor]]
        client = APIClient()
        client.force_authenticate(handler)
        body = client.get(f"/api/v1/cases/{current.number}/suggestions/").json()
        assert [(c["number"], c["relevance"]) for c in body["cases"]] == live[handler]
        client = APIClient()
        client.force_login(handler)
        page = client.get(reverse("admin:complaints_case_change", args=[current.pk]))
        assert live[handler][0][0] in page.content.decode()

        # A picked case reopened since is no longer a resolved case to offer.
        top = Case.objects.get(number=live[handler][0][0])
        services.case_transition(case=top, name="reopen", user=handler, reason="客户再次来电")
        assert offered(current, handler) == live[handler][1:]


def test_a_case_resolved_after_the_pick_is_offered_once_the_pick_is_renewed(
    agent, handler, tech, settings
):
    settings.SIMILAR_CASES_REFRESH_HOURS = 24
    with time_machine.travel(T0, tick=False):
        resolved(agent, handler, tech, subject="APP打开就闪退", result="升级版本")
        current = working(agent, handler, tech, "手机APP登录后闪退")
        similar_store.sweep()
    with time_machine.travel(T0 + datetime.timedelta(hours=2), tick=False):
        newer = resolved(agent, handler, tech, subject="APP登录后闪退", result="清除缓存")
        assert newer.number not in [n for n, _r in offered(current, handler)]
        similar_store.sweep()  # the pick is two hours old: it stands
        assert newer.number not in [n for n, _r in offered(current, handler)]
    with time_machine.travel(T0 + datetime.timedelta(hours=25), tick=False):
        similar_store.sweep()
        assert offered(current, handler)[0][0] == newer.number


def test_the_sweep_picks_new_cases_first_and_keeps_working_cases_only(
    agent, handler, supervisor, tech, settings
):
    settings.SIMILAR_CASES_BATCH = 1
    with time_machine.travel(T0, tick=False):
        older = working(agent, handler, tech, "发票抬头开错了")
        newer = working(agent, handler, tech, "退款一直没有到账")
        assert similar_store.sweep() == (1, 0)
        assert list(CaseSimilar.objects.values_list("case", flat=True)) == [newer.pk]
        assert similar_store.sweep() == (1, 0)
        assert similar_store.sweep() == (0, 0)  # nothing left to pick
        services.case_transition(case=older, name="cancel", user=supervisor, reason="重复来电")
        assert similar_store.sweep() == (0, 1)  # a cancelled case's pick is dropped
        assert list(CaseSimilar.objects.values_list("case", flat=True)) == [newer.pk]


def test_editing_what_the_case_is_about_picks_again(agent, handler, tech):
    with time_machine.travel(T0, tick=False):
        invoice = resolved(agent, handler, tech, subject="发票抬头开错了", result="重开发票")
        export = resolved(agent, handler, tech, subject="后台无法导出月度数据", result="开通权限")
        current = working(agent, handler, tech, "发票抬头错误需要重开")
        similar_store.sweep()
        assert offered(current, handler)[0][0] == invoice.number

        current = services.case_update(
            case=current, user=handler, subject="后台导出月度数据失败",
            description="后台无法导出月度数据",
        )  # fmt: skip

        # At once, without waiting for the sweep: the page picks for the new text.
        assert not CaseSimilar.objects.filter(case=current).exists()
        assert offered(current, handler)[0][0] == export.number
        similar_store.sweep()
        assert offered(current, handler)[0][0] == export.number


def test_a_pick_made_for_other_text_is_not_used(agent, handler, tech):
    with time_machine.travel(T0, tick=False):
        invoice = resolved(agent, handler, tech, subject="发票抬头开错了", result="重开发票")
        export = resolved(agent, handler, tech, subject="后台无法导出月度数据", result="开通权限")
        current = working(agent, handler, tech, "后台导出月度数据失败")
        similar_store.precompute([current])
        # The row says it was picked for the invoice case's text (as if edited behind our back).
        CaseSimilar.objects.filter(case=current).update(
            text_hash=similar_store.text_hash(search.case_query(invoice)),
            ranking=[[invoice.pk, 1.0]],
        )
        assert offered(current, handler)[0][0] == export.number


def test_suggestions_with_a_pick_read_a_fixed_number_of_queries(
    agent, handler, supervisor, tech, django_assert_max_num_queries
):
    with time_machine.travel(T0, tick=False):
        for i in range(8):
            resolved(agent, handler, tech, subject=f"无法导出月度数据{i}", result=f"处理{i}")
        current = working(agent, handler, tech, "无法导出月度数据")
        similar_store.sweep()
        client = APIClient()
        client.force_authenticate(supervisor)
        with django_assert_max_num_queries(12):
            response = client.get(f"/api/v1/cases/{current.number}/suggestions/")
        assert len(response.json()["cases"]) == 5


def test_the_scheduler_picks_every_minute(db):
    from django_celery_beat.models import PeriodicTask

    from complaints.tasks import similar_cases_sweep

    schedule = PeriodicTask.objects.select_related("interval").get(
        name="complaints.similar_cases_sweep"
    )
    assert schedule.task == similar_cases_sweep.name and schedule.enabled
    assert (schedule.interval.every, schedule.interval.period) == (1, "minutes")


@pytest.mark.worker
def test_the_scheduled_pick_runs_on_a_real_worker(live_worker, agent, handler, tech):
    from complaints.tasks import similar_cases_sweep
    from tests.conftest import wait_until

    resolved(agent, handler, tech, subject="发票抬头开错了", result="重开发票")
    current = working(agent, handler, tech, "发票抬头错误需要重开")
    similar_cases_sweep.delay()  # what beat sends every minute
    assert wait_until(lambda: CaseSimilar.objects.filter(case=current).exists())
