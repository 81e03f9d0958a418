"""The demo data of the knowledge app loads through the services and tells a coherent story."""

from knowledge import demo
from knowledge.handbook import DEFAULT_PLAN_CODE
from knowledge.models import Article, ArticleStatus, Plan, PostIncidentReview, RevisionState
from knowledge.search import search_articles
from servicedesk import demo as project_demo


def test_demo_plans_reviews_and_articles(db):
    staff = project_demo.seed_staff()
    summary = demo.seed(staff)
    assert "articles" in summary

    plan = Plan.objects.get(code=DEFAULT_PLAN_CODE)
    states = list(plan.revisions.order_by("number").values_list("number", "state"))
    assert states == [
        (1, RevisionState.SUPERSEDED),
        (2, RevisionState.SUPERSEDED),
        (3, RevisionState.PUBLISHED),
    ]
    current = plan.revisions.get(number=3)
    assert "30 件" in current.risk_triggers and "物流部" in current.reporting_path
    assert current.stage("first_response").time_limit == 24
    reasons = list(current.history.values_list("history_change_reason", flat=True))
    assert "“明显增多”无法执行，请写明数量阈值和时间窗口；汇报路径也请补充物流部。" in reasons
    assert plan.owner.username == "manager" and plan.departments.count() == 5
    review = PostIncidentReview.objects.get()
    assert review.resulting_revision == current

    outage = Plan.objects.get(code="system-outage")
    assert outage.revisions.get().state == RevisionState.PUBLISHED

    assert Article.objects.filter(status=ArticleStatus.PUBLISHED).count() >= 30
    assert search_articles("无法导出")[0].title == "账号无法导出月度数据"
