"""Suggestion relevance on a labelled set: 20 new cases, each with the resolved case and the
knowledge article a person would pick for it. Every case, old and new, carries the words a
complaint always has (客户, 要求, 问题, 处理 …), so words common to everything must not decide:
a courier-attitude complaint must not get the APP-crash article first. Each case is checked
twice: similar cases picked on the page, and picked ahead by the every-minute sweep."""

import pytest
from rest_framework.test import APIClient

from complaints import services, similar_store
from complaints.models import CaseSimilar
from knowledge import similar
from knowledge.models import Article, ArticleStatus
from servicedesk.staff import roles
from servicedesk.staff.models import Department

from .helpers import intake, walk

COMMON = "客户来电反映问题，要求尽快处理并回复。"

# topic: (resolved case subject, its description, its result, the article title, its body)
TOPICS = {
    "courier": ("快递员态度恶劣", "快递员送货时态度很差，还骂人", "已向快递公司投诉，快递员上门道歉",
                "快递员服务态度投诉处理规范", "快递员态度差、辱骂客户时，先致歉，再向快递公司投诉。"),
    "crash": ("APP打开就闪退", "手机上的APP一打开就闪退", "升级到最新版本后不再闪退",
              "APP 闪退的排查步骤", "APP 闪退时请先升级版本，清除缓存后重启手机。"),
    "refund": ("退款一直没有到账", "申请退款十天了还没有到账", "财务核实后重新发起退款",
               "退款多久到账", "退款原路退回，一般1-7个工作日到账。"),
    "broken": ("收到的手机屏幕碎了", "快递送到时包装破损，手机屏幕碎裂", "运输损坏，已换新机",
               "运输损坏的退货流程", "收到商品破损、屏幕碎裂，拍照后申请运输损坏退货。"),
    "invoice": ("发票抬头开错了", "电子发票的抬头写错了公司名称", "已作废并重开发票",
                "发票重开流程", "发票抬头或税号错误，作废后重新开具发票。"),
    "password": ("登录提示密码错误", "账号登录时一直提示密码错误", "重置密码后可以正常登录",
                 "登录密码重置方法", "忘记密码或提示密码错误时，用手机验证码重置密码。"),
    "delay": ("物流三天没有更新", "订单的物流信息三天没有更新，包裹不知道在哪", "联系仓库加急发出",
              "物流延迟的安抚话术", "物流信息长时间不更新时，先安抚客户，再联系仓库查件。"),
    "wrong_item": ("收到的衣服颜色发错了", "买的是黑色外套，收到的是白色", "补发黑色外套，白色的退回",
                   "错发商品的换货流程", "仓库发错颜色或尺码时，补发正确商品并取回错发的。"),
    "points": ("会员积分没有到账", "上个月消费的会员积分一直没有到账", "系统补发积分",
               "会员积分补发规则", "消费后会员积分未到账，核实订单后补发积分。"),
    "earphone": ("蓝牙耳机充不进电", "新买的蓝牙耳机充电盒充不进电", "更换充电盒",
                 "蓝牙耳机充电故障排查", "蓝牙耳机充不进电时，检查充电线和充电盒触点。"),
}  # fmt: skip

# The labelled set: a new case (subject, description) and the topic a person would pick.
LABELLED = [
    ("投诉送货的快递员", "快递员态度非常不好，把包裹扔在门口", "courier"),
    ("快递员骂人", "送货的快递员骂人，态度恶劣，要求道歉", "courier"),
    ("APP闪退", "更新后APP总是闪退，没法下单", "crash"),
    ("打开APP闪退怎么办", "安卓手机打开APP就闪退", "crash"),
    ("退款没到账", "退货后的退款还没有到账", "refund"),
    ("申请退款很久了", "退款申请两周了钱还没到账", "refund"),
    ("手机屏幕碎裂", "刚收到的手机屏幕就碎了，包装也破损", "broken"),
    ("快递送来的东西坏了", "收到时包装破损，里面的屏幕碎裂", "broken"),
    ("发票开错了", "发票上的公司抬头错了，要求重开", "invoice"),
    ("重开发票", "税号和抬头填错，需要重新开具发票", "invoice"),
    ("密码错误登录不了", "输入密码一直提示密码错误，无法登录账号", "password"),
    ("账号登录不上", "登录账号总说密码错误", "password"),
    ("包裹物流不更新", "物流信息好几天没有更新", "delay"),
    ("物流一直没动", "订单发货后物流没有更新，不知道包裹在哪", "delay"),
    ("颜色发错", "订的黑色，发来的是白色，颜色发错了", "wrong_item"),
    ("收到的外套颜色不对", "外套颜色发错了，要求换货", "wrong_item"),
    ("积分没到账", "购物后会员积分没有到账", "points"),
    ("会员积分少了", "这个月的会员积分没有到账，要求补发", "points"),
    ("耳机充不了电", "蓝牙耳机放进充电盒充不进电", "earphone"),
    ("耳机充电盒坏了", "耳机充电盒不充电，耳机充不进电", "earphone"),
]


@pytest.fixture
def tech(db):
    return Department.objects.create(code="tech", name="技术部")


@pytest.fixture
def corpus(agent, manager, make_user, tech):
    handler = make_user("handler", role=roles.HANDLER, departments=[tech])
    resolved, articles = {}, {}
    for topic, (subject, description, result, title, body) in TOPICS.items():
        case = intake(subject=subject, description=f"{description}。{COMMON}").case
        case = services.case_transition(
            case=case, name="assign", user=agent, department=tech, assignee=handler
        )
        resolved[topic] = walk(
            case, handler, ("start_investigation", {}), ("resolve", {"result": result})
        ).number
        article = Article(title=title, body=f"{body}{COMMON}", category="faq", author=manager)
        article.status = ArticleStatus.PUBLISHED
        article.save()
        articles[topic] = title
    return resolved, articles


@pytest.mark.parametrize("picked_ahead", [False, True], ids=["picked-on-the-page", "picked-ahead"])
@pytest.mark.parametrize("subject,description,topic", LABELLED)
def test_the_labelled_case_gets_the_case_and_article_a_person_would_pick(
    corpus, supervisor, subject, description, topic, picked_ahead
):
    resolved, articles = corpus
    case = intake(subject=subject, description=f"{description}。{COMMON}").case
    if picked_ahead:  # as the every-minute sweep does (complaints.similar_store)
        similar_store.precompute([case])
        assert CaseSimilar.objects.filter(case=case).exists()
    client = APIClient()
    client.force_authenticate(supervisor)
    body = client.get(f"/api/v1/cases/{case.number}/suggestions/").json()
    assert body["cases"][0]["number"] == resolved[topic]
    assert body["articles"][0]["title"] == articles[topic]
    if topic != "crash":
        assert "APP 闪退的排查步骤" not in [a["title"] for a in body["articles"]]
    # Relevance is a share (0–1), best first: no raw scores.
    shares = [c["relevance"] for c in body["cases"]]
    assert shares == sorted(shares, reverse=True) and all(0 < s <= 1 for s in shares)


def test_words_in_more_than_a_twentieth_of_a_large_table_pick_no_candidates():
    tokens = ["客户", "要求", "快递员", "态度", "订单号"]
    found = {"客户": 600_000, "要求": 400_000, "快递员": 9_000, "态度": 30_000, "订单号": 80}
    assert similar.distinctive_words(tokens, 1_000_000, found, set()) == [
        "订单号",
        "快递员",
        "态度",
    ]
    # The query's own words (only the case itself holds them) pick nothing either.
    assert similar.distinctive_words(tokens, 1_000_000, {**found, "订单号": 1}, set(), own=1) == [
        "快递员", "态度",
    ]  # fmt: skip


def test_the_most_common_problem_of_a_desk_still_picks_candidates():
    # 闪退 in 6 % of a million cases: every word of such a case is above the twentieth, and its
    # own number picks only itself. The rarest words up to the fallback share pick instead;
    # words of nearly every case (客户, 要求) never do.
    tokens = ["app", "打开", "闪", "退", "3985", "客户", "要求"]
    found = {"app": 60_000, "打开": 90_000, "闪": 60_000, "退": 120_000, "3985": 1,
             "客户": 950_000, "要求": 850_000}  # fmt: skip
    assert similar.distinctive_words(tokens, 1_000_000, found, set(), own=1) == [
        "app", "闪", "打开", "退",
    ]  # fmt: skip


def test_the_case_page_shows_suggestions_without_scores(client, corpus, supervisor):
    case = intake(subject="快递员骂人", description=f"快递员态度恶劣。{COMMON}").case
    client.force_login(supervisor)
    page = client.get(f"/admin/complaints/case/{case.pk}/change/").content.decode()
    assert "快递员服务态度投诉处理规范" in page
    assert "relevance" not in page and "相关度" not in page


def test_common_picking_words_are_read_only_up_to_a_tenth_of_a_large_table():
    # A template-like desk: five words of the case each in 5 % of a million cases. Reading all
    # of them would gather 250,000 rows into the index's bitmap; the two rarest and what fits
    # in a tenth of the table pick the candidates, rarest first.
    found = {"咨询": 50_000, "空调": 48_000, "保修": 52_000, "范围": 51_000, "4990": 300}
    assert similar.within_postings(list(found), 1_000_000, found) == ["4990", "空调", "咨询"]
    # Rare words all pass, and in a small table every word does.
    rare = {"快递员": 9_000, "态度": 30_000, "订单号": 80}
    assert similar.within_postings(list(rare), 1_000_000, rare) == ["订单号", "快递员", "态度"]
    small = {"闪退": 900, "打开": 1_200, "app": 800, "登录": 700}
    assert similar.within_postings(list(small), 2_000, small) == ["登录", "app", "闪退", "打开"]
    # However common, the two rarest still pick.
    common = {"app": 60_000, "闪": 60_000, "打开": 90_000, "退": 120_000}
    assert similar.within_postings(list(common), 1_000_000, common) == ["app", "闪"]
