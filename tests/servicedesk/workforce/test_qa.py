"""Quality assurance: the monthly sample is reproducible from its seed and proportional (more
for agents under the satisfaction target); review → the agent sees it and disputes once → a
supervisor settles; mystery shoppers use the same scorecard; the performance page is for
supervisors and managers."""

import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError

from complaints.models import Case
from servicedesk.staff import roles
from servicedesk.staff.models import Notification
from servicedesk.workforce import qa
from servicedesk.workforce.models import QaSample, ReviewStatus, Scorecard
from tests.complaints.helpers import intake

SHANGHAI = ZoneInfo("Asia/Shanghai")
MONTH = datetime.date(2026, 6, 1)


@pytest.fixture
def version(db):
    return Scorecard.objects.get(code="service-qa").published_version()


def _closed(agent, n, score):
    ids = [intake().case.pk for _ in range(n)]
    Case.objects.filter(pk__in=ids).update(
        state="closed", assignee=agent, feedback_score=score,
        created_at=datetime.datetime(2026, 6, 3, 9, tzinfo=SHANGHAI),
        resolved_at=datetime.datetime(2026, 6, 10, 9, tzinfo=SHANGHAI),
        closed_at=datetime.datetime(2026, 6, 12, 9, tzinfo=SHANGHAI),
        first_response_at=datetime.datetime(2026, 6, 3, 11, tzinfo=SHANGHAI),
    )  # fmt: skip
    return set(ids)


@pytest.fixture
def agents(make_user, department):
    busy = make_user("busy", role=roles.AGENT, departments=[department])
    quiet = make_user("quiet", role=roles.AGENT, departments=[department])
    unhappy = make_user("unhappy", role=roles.AGENT, departments=[department])
    cases = {
        busy: _closed(busy, 40, 5),
        quiet: _closed(quiet, 10, 5),
        unhappy: _closed(unhappy, 10, 2),
    }
    return cases


def _picked(sample):
    return {
        a: set(sample.reviews.filter(agent=a).values_list("case_id", flat=True))
        for a in sample.reviews.values_list("agent", flat=True).distinct()
    }


def test_the_sample_is_proportional_and_reproducible_from_its_seed(agents, version, manager):
    sample = qa.qa_sample_create(
        month=MONTH, version=version, user=manager, share=10, minimum=2, factor=2
    )
    counts = {a.username: sample.reviews.filter(agent=a).count() for a in agents}
    # 10 % of 40 = 4; 10 % of 10 rounds up to 1, the minimum makes it 2; under the satisfaction
    # target: twice that.
    assert counts == {"busy": 4, "quiet": 2, "unhappy": 4}
    for agent, cases in agents.items():
        assert set(sample.reviews.filter(agent=agent).values_list("case_id", flat=True)) <= cases
    first = _picked(sample)
    seed = sample.seed
    QaSample.objects.all().delete()
    again = qa.qa_sample_create(
        month=MONTH, version=version, seed=seed, share=10, minimum=2, factor=2
    )
    assert _picked(again) == first and again.seed == seed
    with pytest.raises(ValidationError):
        qa.qa_sample_create(month=MONTH, version=version, seed=seed)


def test_review_dispute_once_and_settle_through_the_admin(
    client, agents, version, supervisor, make_user, django_capture_on_commit_callbacks
):
    reviewer = make_user("reviewer", role=roles.SUPERVISOR)
    sample = qa.qa_sample_create(month=MONTH, version=version, share=10, minimum=1, factor=1)
    agent = next(iter(agents))
    review = sample.reviews.filter(agent=agent).first()
    items = list(version.items.all())
    url = f"/admin/workforce/qareview/{review.pk}/change/"

    # The agent does not see a review before it is done.
    client.force_login(agent)
    assert client.get(url).status_code == 404

    client.force_login(reviewer)
    bad = client.post(url, {"action": "score", **{f"item_{i.pk}": 9 for i in items}})
    assert bad.status_code == 200 and bad.context["score_form"].errors
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "score", "comment": "问候语不规范",
                          **{f"item_{i.pk}": 5 for i in items[1:]}, f"item_{items[0].pk}": 0})  # fmt: skip
    review.refresh_from_db()
    assert review.status == ReviewStatus.REVIEWED and review.score == 90
    assert Notification.objects.filter(recipient=agent, subject__contains="90").exists()

    client.force_login(agent)
    page = client.get(url)
    assert "问候语不规范" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(url, {"action": "dispute", "dispute_reason": "客户先挂断了电话"})
    review.refresh_from_db()
    assert review.status == ReviewStatus.DISPUTED
    assert Notification.objects.filter(recipient=supervisor, body="客户先挂断了电话").exists()
    # Once only: the agent has no dispute form any more.
    assert client.post(url, {"action": "dispute", "dispute_reason": "再次申诉"}).status_code == 403

    client.force_login(supervisor)
    client.post(url, {"action": "settle", "settlement": "申诉成立，改为满分",
                      **{f"item_{i.pk}": 5 for i in items}})  # fmt: skip
    review.refresh_from_db()
    assert review.status == ReviewStatus.SETTLED and review.score == 100
    assert review.settled_by == supervisor


def test_mystery_shopper_result_uses_the_scorecard(client, manager, agent, version):
    items = list(version.items.all())
    client.force_login(manager)
    response = client.post(
        "/admin/workforce/mysteryshop/add/",
        {"version": version.pk, "channel": "phone", "agent": agent.pk,
         "shopped_at_0": "2026-06-05", "shopped_at_1": "10:00", "shopper": "第三方公司",
         "scenario": "咨询退货政策", "comment": "",
         **{f"item_{i.pk}": 4 for i in items}},
    )  # fmt: skip
    assert response.status_code == 302
    from servicedesk.workforce.models import MysteryShop

    assert MysteryShop.objects.get().score == 80
    # Points out of range: a field error, nothing saved.
    bad = client.post(
        "/admin/workforce/mysteryshop/add/",
        {"version": version.pk, "channel": "phone", "shopped_at_0": "2026-06-05",
         "shopped_at_1": "10:00", "shopper": "第三方公司", "scenario": "咨询",
         **{f"item_{i.pk}": 7 for i in items}},
    )  # fmt: skip
    assert bad.status_code == 200 and bad.context["adminform"].form.errors
    assert MysteryShop.objects.count() == 1


def test_the_reviewers_queue_lists_in_constant_queries(
    client, agents, version, supervisor, django_assert_max_num_queries
):
    qa.qa_sample_create(month=MONTH, version=version, share=10, minimum=2, factor=2)
    client.force_login(supervisor)
    with django_assert_max_num_queries(15):
        page = client.get("/admin/workforce/qareview/", {"status": "pending"})
    assert page.status_code == 200 and page.context["cl"].result_count == 10


def test_the_performance_page(client, agents, version, supervisor, manager, agent,
                              django_assert_max_num_queries):  # fmt: skip
    sample = qa.qa_sample_create(month=MONTH, version=version, share=10, minimum=1, factor=1)
    review = sample.reviews.first()
    qa.qa_review_submit(review=review, user=manager,
                        points={str(i.pk): 5 for i in version.items.all()})  # fmt: skip
    client.force_login(supervisor)
    with django_assert_max_num_queries(15):
        page = client.get("/admin/workforce/agentperformance/", {"month": "2026-06"})
    assert page.status_code == 200
    rows = {r.agent.username: r for r in page.context["rows"]}
    assert rows["busy"].handled == 40 and rows["busy"].first_response_median_hours == 2
    assert rows["unhappy"].satisfaction_rate == 0
    assert rows[review.agent.username].qa_score == 100
    client.force_login(agent)
    assert client.get("/admin/workforce/agentperformance/").status_code == 403


def test_the_workbook_has_the_agent_performance_sheet(agents, tmp_path):
    from openpyxl import load_workbook

    from servicedesk.reports import data, workbook

    start, end = datetime.date(2026, 6, 1), datetime.date(2026, 6, 30)
    path = tmp_path / "report.xlsx"
    counts = workbook.build_workbook(
        data.period_figures(start, end), data.case_rows(start, end), path, language="en"
    )
    assert counts["Agent performance"] == 3
    sheet = load_workbook(path)["Agent performance"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0][:4] == [
        "Agent",
        "Cases handled",
        "First response, median (hours)",
        "Deadlines met",
    ]
    busy = next(r for r in rows if r[0] == "busy")
    assert busy[1] == 40 and busy[2] == 2 and busy[4] == 1


def test_a_new_scorecard_version_keeps_the_old_reviews(client, manager, version):
    from callbacks.models import VersionStatus

    client.force_login(manager)
    url = "/admin/workforce/scorecardversion/"
    client.post(url, {"action": "new_draft", "_selected_action": [version.pk]})
    draft = version.scorecard.versions.get(status=VersionStatus.DRAFT)
    assert draft.number == 2 and draft.items.count() == version.items.count()
    client.post(url, {"action": "publish", "_selected_action": [draft.pk]})
    version.refresh_from_db()
    draft.refresh_from_db()
    assert (version.status, draft.status) == (VersionStatus.RETIRED, VersionStatus.PUBLISHED)
    assert version.items.count() == 6  # the retired version's items are history, untouched
