"""Demo data for the knowledge app: the default plan's revision history (1 and 2 superseded,
3 in force, one rejection on the way), a system-outage plan, a post-incident review and 30+
knowledge-base articles. Everything goes through knowledge.services, as staff would."""

import datetime
from decimal import Decimal

from django.apps import apps
from django.utils import timezone

from . import services
from .handbook import DEFAULT_PLAN_CODE, install_default_plan
from .models import ArticleStatus, Plan, PlanResource, PlanStage, PostIncidentReview


def _edit_rows(revision, user, reason, *, add_resources=(), add_stages=()):
    """Stage and resource rows added to a draft, as the admin's inline forms add them."""
    order = revision.resources.count()
    for kind, name, quantity, location, notes in add_resources:
        order += 1
        row = PlanResource(order=order, kind=kind, name=name, quantity=quantity,
                           location=location, notes=notes)  # fmt: skip
        services.plan_revision_save_row(revision=revision, user=user, row=row, reason=reason)
    order = revision.stages.count()
    for values in add_stages:
        order += 1
        services.plan_revision_save_row(
            revision=revision, user=user, row=PlanStage(order=order, **values), reason=reason
        )


def _publish(revision, author, approver, summary, *, submit_reason, approve_reason):
    services.plan_revision_update(revision=revision, user=author, change_summary=summary,
                                  reason=summary)  # fmt: skip
    services.plan_revision_submit(revision=revision, user=author, reason=submit_reason)
    return services.plan_revision_approve(revision=revision, user=approver, reason=approve_reason)


def seed_plans(staff):
    users, depts = staff["users"], staff["departments"]
    manager, supervisor, tech_lead = users["manager"], users["supervisor"], users["tech_lead"]
    plan = Plan.objects.filter(code=DEFAULT_PLAN_CODE).first() or install_default_plan(apps)
    plan.owner = manager
    plan._history_user = manager
    plan._change_reason = "指定预案负责人与适用部门"
    plan.save()
    plan.departments.set(depts.values())

    # Revision 2: night shift and spare-part locations added after the first months.
    rev2 = services.plan_revision_create_draft(
        plan=plan, user=supervisor, reason="夜间投诉量上升，补充夜班与备件库位"
    )
    _edit_rows(
        rev2, supervisor, "补充夜班与备件库位",
        add_resources=[
            ("people_shift", "夜间值班客服（22:00–次日 8:00）", 3, "客服中心",
             "夜班至少 3 人，其中 1 名组长可处理升级。"),
            ("spare_part", "电源适配器备件", 30, "华南仓 B 区 1 号货架", "每月盘点一次。"),
        ],
    )  # fmt: skip
    _publish(
        rev2, supervisor, manager, "新增夜间值班客服与华南仓备件。",
        submit_reason="夜间投诉量上升，申请补充资源", approve_reason="同意，资源已到位",
    )  # fmt: skip

    # Revision 3: from the post-incident review of the Double 11 logistics delays; rejected
    # once (the trigger threshold was vague), then approved.
    review = PostIncidentReview(
        plan=plan,
        event="双十一物流延误集中投诉",
        occurred_on=timezone.localdate() - datetime.timedelta(days=20),
        what_happened=(
            "大促后第 3 天起，华东区域快递延误，两天内收到物流类投诉 186 件，"
            "首次响应平均用时 31 小时，超过 24 小时目标。"
        ),
        plan_performance=(
            "受理与分派流程有效，但预案没有“同类投诉激增”的触发条件，主管在第二天才启动加班排班；"
            "物流部未在汇报路径中，信息同步滞后。"
        ),
        lessons="应按同类投诉数量自动触发预案升级；物流部需纳入汇报路径。",
        proposed_changes=(
            "1. 风险触发条件增加：同一物流服务商 24 小时内投诉达到 30 件即启动加班排班。\n"
            "2. 汇报路径增加物流部负责人。"
        ),
    )
    services.post_incident_review_record(review=review, user=supervisor)
    rev3 = services.post_incident_review_start_draft(review=review, user=supervisor)
    rev3 = services.plan_revision_update(
        revision=rev3, user=supervisor, reason="按复盘结论修改触发条件",
        risk_triggers=rev3.risk_triggers + "\n同一物流服务商投诉明显增多",
    )  # fmt: skip
    services.plan_revision_submit(revision=rev3, user=supervisor, reason="复盘后修订")
    rev3 = services.plan_revision_reject(
        revision=rev3, user=manager,
        reason="“明显增多”无法执行，请写明数量阈值和时间窗口；汇报路径也请补充物流部。",
    )  # fmt: skip
    rev3 = services.plan_revision_update(
        revision=rev3, user=supervisor, reason="按经理意见明确阈值",
        risk_triggers=rev3.risk_triggers.replace(
            "同一物流服务商投诉明显增多", "同一物流服务商 24 小时内投诉达到 30 件"
        ),
        reporting_path=rev3.reporting_path + "物流类投诉同时抄送物流部负责人。",
    )  # fmt: skip
    services.plan_revision_submit(revision=rev3, user=supervisor, reason="已按意见修改")
    services.plan_revision_approve(revision=rev3, user=manager, reason="同意发布")

    # A plan for system outages, governing technical cases.
    outage = Plan.objects.create(
        code="system-outage",
        name="系统故障应急预案",
        scope="APP、官网、支付或会员系统大面积故障导致客户无法正常使用服务时适用。",
        categories=["technical"],
        situations="系统宕机、登录或支付大面积失败、数据无法导出等技术故障。",
        owner=tech_lead,
        next_review_on=timezone.localdate() + datetime.timedelta(days=20),
    )
    outage.departments.set([depts["tech"], depts["kefu"]])
    draft = services.plan_revision_create_draft(plan=outage, user=tech_lead, reason="新建预案")
    services.plan_revision_update(
        revision=draft, user=tech_lead, reason="初稿",
        objectives="故障 1 小时内确认并对外统一口径；4 小时内恢复核心服务；受影响客户满意度不低于 85%。",
        first_response_hours=1, satisfaction_target_pct=85, urgency_high_hours=4,
        urgency_medium_working_days=1, urgency_low_hours=24,
        reporting_path="值班工程师 → 技术部主管 → 客服经理；核心服务中断超过 30 分钟上报分管副总。",
        risk_triggers="同一故障 10 分钟内投诉达到 5 件\n支付成功率低于 95%\n登录失败率高于 10%",
    )  # fmt: skip
    stages = [
        {"code": "first_response", "name": "故障确认与客户告知", "time_limit": Decimal(1),
         "unit": "hours", "starts": "received", "responsible_role": "agent",
         "description": "使用标准话术告知客户故障处理中，登记受影响账号。"},
        {"code": "tech_collaboration", "name": "技术响应", "time_limit": Decimal("0.5"),
         "unit": "hours", "starts": "requested", "responsible_role": "technical",
         "description": "值班工程师 30 分钟内响应并定位故障范围。"},
        {"code": "investigation", "name": "故障排查与恢复", "time_limit": Decimal(4),
         "unit": "hours", "starts": "previous_stage", "responsible_role": "technical",
         "description": "恢复核心服务，记录根因。"},
        {"code": "solution_to_customer", "name": "恢复通知", "time_limit": Decimal(8),
         "unit": "hours", "starts": "previous_stage", "responsible_role": "agent",
         "description": "短信或电话通知受影响客户，必要时给予补偿。"},
        {"code": "satisfaction_followup", "name": "满意度回访", "time_limit": Decimal(72),
         "unit": "hours", "starts": "resolved", "responsible_role": "agent",
         "description": "回访受影响的重点客户。"},
    ]  # fmt: skip
    _edit_rows(
        draft, tech_lead, "初稿",
        add_stages=stages,
        add_resources=[
            ("people_shift", "技术值班工程师 7×24 小时", 2, "技术部", "每班 1 人，节假日双人。"),
            ("system_access", "监控平台与生产日志只读权限", None, "", "值班工程师与技术主管开通。"),
            ("tool", "故障公告模板与短信群发通道", None, "客服中心", "由客服主管发起。"),
        ],
    )  # fmt: skip
    services.plan_revision_submit(revision=draft, user=tech_lead, reason="提交审批")
    services.plan_revision_approve(revision=draft, user=manager, reason="同意")
    # Demo: the outage plan's yearly review falls due soon, so the reminder has work to do.
    Plan.objects.filter(pk=outage.pk).update(
        next_review_on=timezone.localdate() + datetime.timedelta(days=20)
    )
    return plan, outage


# title, category, tags, summary, body (Markdown), status
ARTICLES = [
    ("账号无法导出月度数据", "troubleshooting", "账号,导出,报表",
     "后台“导出月度数据”按钮无反应或导出文件为空时的排查步骤。",
     "## 现象\n客户在会员后台点击“导出月度数据”后没有反应，或下载的文件为空。\n\n"
     "## 排查步骤\n1. 确认客户账号已完成实名认证：未认证账号无导出权限。\n"
     "2. 请客户更换浏览器（推荐 Chrome 或 Edge 最新版）并关闭广告拦截插件。\n"
     "3. 所选月份没有交易记录时，导出文件为空属正常情况。\n"
     "4. 以上均正常仍无法导出：记录账号与时间，发起**技术协作**，技术部 2 小时内响应。\n\n"
     "## 标准回复\n> 您好，已为您记录导出问题，技术同事会在 2 小时内处理，处理完成后第一时间通知您。",
     "published"),
    ("订单发货后物流信息长时间不更新怎么办", "faq", "物流,快递,延误",
     "物流超过 48 小时未更新的处理方法。",
     "1. 在订单系统核对运单号是否正确。\n2. 通过快递公司客服查询包裹实际位置。\n"
     "3. 超过 72 小时仍无更新，登记物流异常并转物流部跟进。\n4. 向客户说明预计到达时间，并约定下次联系时间。",
     "published"),
    ("快递显示已签收但客户未收到", "troubleshooting", "物流,签收,丢件",
     "“已签收未收到”的核实与赔付流程。",
     "## 处理步骤\n1. 询问客户是否有家人、门卫、快递柜代收。\n2. 联系快递员核实签收人及签收照片。\n"
     "3. 24 小时内无法找回的，按丢件处理：补发或退款由客户选择。\n4. 在工单中记录快递公司的核实结果。",
     "published"),
    ("商品运输途中破损的处理", "faq", "物流,破损,退换货",
     "外包装或商品破损时的取证与补发。",
     "请客户提供**外包装、面单、破损部位**照片各一张。确认后可选择补发、换货或部分退款；"
     "运费由我方承担。物流部同时向快递公司索赔。",
     "published"),
    ("七天无理由退货规则", "policy", "退换货,退货,七天无理由",
     "哪些商品支持七天无理由退货，条件是什么。",
     "- 自签收次日起 7 天内可申请。\n- 商品完好、配件齐全、不影响二次销售。\n"
     "- 定制类、鲜活易腐、已拆封的个人护理用品不适用。\n- 非质量问题退货，退回运费由客户承担。",
     "published"),
    ("换货申请的办理流程", "faq", "退换货,换货",
     "客户申请换货时客服需要做什么。",
     "1. 在工单中选择“退换货”类型，登记订单号和换货原因。\n2. 质量问题需客户上传照片。\n"
     "3. 售后部审核通过后生成退货地址，客户寄回。\n4. 仓库收货验货后 48 小时内发出新商品。",
     "published"),
    ("退货寄回后多久退款", "faq", "退换货,退款,到账",
     "仓库签收退货后的退款时效。",
     "仓库签收退货后 2 个工作日内完成验货，验货通过当天发起退款。原路退回：微信、支付宝 1–3 个工作日到账，"
     "银行卡 3–7 个工作日到账。",
     "published"),
    ("退款多久到账（标准话术）", "standard_reply", "支付,退款,话术",
     "客户催问退款到账时间的标准回复。",
     "> 您好，您的退款已于 {日期} 原路退回。微信、支付宝一般 1–3 个工作日到账，银行卡 3–7 个工作日到账，"
     "节假日顺延。如超过时间仍未到账，请随时联系我们，我们会为您向支付渠道查询。",
     "published"),
    ("重复扣款的核实与退款", "troubleshooting", "支付,重复扣款,退款",
     "客户反映一笔订单被扣款两次。",
     "1. 请客户提供两笔扣款的支付截图（含交易单号）。\n2. 在支付后台按交易单号核实。\n"
     "3. 确认重复扣款的，当天发起退款，无需客户申请。\n4. 仅一笔成功、另一笔为预授权的，预授权会在 7 天内自动解冻。",
     "published"),
    ("支付失败的常见原因", "faq", "支付,支付失败",
     "支付不成功时可以让客户检查的项目。",
     "- 银行卡余额或单日限额不足；\n- 网络不稳定导致超时；\n- 支付密码多次错误被锁定；\n"
     "- 订单已超时关闭（30 分钟未支付自动关闭）。",
     "published"),
    ("如何开具电子发票", "faq", "发票,电子发票",
     "订单完成后开具电子发票的方法。",
     "订单确认收货后，在“我的订单—申请发票”中填写抬头和税号，电子发票 1 个工作日内发送到预留邮箱。",
     "published"),
    ("发票抬头或税号填错如何重开", "faq", "发票,重开",
     "发票信息错误的处理。",
     "电子发票可在开具后 30 天内申请红冲重开：客服在发票系统提交红冲申请，财务审核后 2 个工作日内重新开具。",
     "published"),
    ("增值税专用发票的申请条件", "policy", "发票,专票,企业客户",
     "企业客户申请专票需要的资料。",
     "需提供：单位名称、纳税人识别号、注册地址及电话、开户行及账号。专票以纸质形式邮寄，5 个工作日内寄出。",
     "published"),
    ("登录时提示密码错误", "troubleshooting", "账号,登录,密码",
     "客户确认密码正确但无法登录。",
     "1. 确认客户使用的是注册手机号而非会员号登录。\n2. 检查大小写与输入法。\n"
     "3. 连续输错 5 次账号会锁定 30 分钟，可引导客户通过短信验证码登录。\n4. 仍无法登录的，发起技术协作。",
     "published"),
    ("收不到短信验证码", "troubleshooting", "账号,登录,验证码,短信",
     "验证码收不到时的排查。",
     "- 请客户检查手机是否拦截了短信（垃圾短信箱）；\n- 60 秒后重新获取；\n- 携号转网用户可改用语音验证码；\n"
     "- 同一号码 1 小时内超过 10 次会被限制，请稍后再试。",
     "published"),
    ("账号被盗的紧急处理", "troubleshooting", "账号,安全,盗号",
     "客户反映账号被他人登录、下单。",
     "1. 立即冻结账号并修改登录密码。\n2. 核对异常订单，未发货的全部拦截。\n3. 已产生的损失登记后提交风控部门。\n"
     "4. 提醒客户不要向任何人透露验证码。\n\n此类问题按**紧急**处理。",
     "published"),
    ("更换绑定手机号", "faq", "账号,手机号",
     "原手机号停用时如何换绑。",
     "原手机号可接收短信的，在“账号设置—更换手机号”自助操作；原号码已停用的，需客户提供身份证明，客服提交人工换绑，1 个工作日内完成。",
     "published"),
    ("会员积分的获取与有效期", "faq", "会员,积分",
     "积分如何累计，何时过期。",
     "每消费 1 元累计 1 积分，确认收货后到账。积分有效期为获得当年及次年年底，到期自动清零。",
     "published"),
    ("积分兑换的商品能否退货", "policy", "会员,积分,退换货",
     "积分兑换商品的售后规则。",
     "积分兑换商品有质量问题的可换货，不支持无理由退货；退回后积分原路返还。",
     "published"),
    ("会员等级未按时升级", "troubleshooting", "会员,等级",
     "客户消费达标但等级未升级。",
     "等级每月 1 日根据上月累计消费更新。请核对：退款订单金额不计入；企业采购订单不计入个人等级。核对无误仍未升级的，提交会员系统工单。",
     "published"),
    ("产品出现质量问题的处理原则", "policy", "产品质量,质量问题,售后",
     "质量问题的认定与处理方式。",
     "签收 7 天内出现质量问题可退货，15 天内可换货，保修期内免费维修。需客户提供照片或视频，必要时寄回检测。",
     "published"),
    ("客户反映商品与描述不符", "standard_reply", "产品质量,描述不符,话术",
     "商品与页面描述不一致时的标准回复。",
     "> 非常抱歉给您带来不便。请您拍摄商品实物与页面不一致的部位发给我们，我们核实后会在 24 小时内给您退换货方案，往返运费由我们承担。",
     "published"),
    ("涉及人身安全的产品投诉", "policy", "产品质量,安全隐患,紧急",
     "出现起火、触电、烫伤等情况时的处理要求。",
     "1. 首先关心客户人身安全，提醒停止使用。\n2. 按**紧急**处理，立即上报客服主管和产品部。\n3. 保留实物，安排上门取件检测。\n4. 24 小时内给出初步处理意见。",
     "published"),
    ("家电售后维修的预约流程", "faq", "售后维修,预约,上门",
     "如何为客户预约上门维修。",
     "在工单中选择“售后维修”，登记产品型号、购买日期、故障现象和上门地址。售后部 24 小时内电话确认上门时间，一般 48 小时内上门。",
     "published"),
    ("保修期外的维修收费标准", "policy", "售后维修,保修,收费",
     "过保维修如何收费。",
     "过保维修收取上门费 50 元和配件费，人工费按维修项目计价；维修前先报价，客户同意后再维修。",
     "published"),
    ("维修后同一故障再次出现", "troubleshooting", "售后维修,返修",
     "返修的处理。",
     "维修后 90 天内同一故障再次出现的，免费返修；第二次返修仍未修好的，可申请换新。",
     "published"),
    ("客户情绪激动时的安抚话术", "standard_reply", "投诉,话术,安抚",
     "客户非常生气时的应对。",
     "> 非常理解您现在的心情，遇到这样的情况换作是我也会着急。请您放心，这件事由我负责跟进，我先把情况完整记录下来，{时间}前一定给您回复。\n\n"
     "要点：不打断、不争辩、复述客户诉求、给出明确的下次联系时间。",
     "published"),
    ("客户要求投诉升级到主管", "standard_reply", "投诉,升级,话术",
     "客户要求找领导时的回复。",
     "> 好的，我马上把您的问题转给我们的客服主管，主管会在 2 小时内联系您。在此期间如有新的情况，您也可以随时联系我，工单号是 {工单号}。",
     "published"),
    ("满意度回访的标准话术", "standard_reply", "回访,满意度,话术",
     "处理完成后回访客户时使用。",
     "> 您好，我是客户服务中心的{姓名}。您之前反映的{问题}已经处理完毕，想耽误您一分钟了解一下：您对这次的处理结果满意吗？满分 5 分的话您会打几分？",
     "published"),
    ("客户提及媒体曝光或投诉至消协", "policy", "投诉,媒体,消协,紧急",
     "涉及舆情或监管投诉的处理要求。",
     "客户提及媒体、记者、律师、12315 或消协时，工单自动标为**紧急**。客服需在 1 小时内上报主管，由主管统一对外答复，不得自行承诺赔偿。",
     "published"),
    ("物流延误的致歉与补偿话术", "standard_reply", "物流,延误,补偿,话术",
     "大促期间物流延误时统一使用。",
     "> 非常抱歉，受大促期间快递量激增影响，您的包裹比预计晚到。我们已联系快递公司优先派送，并为您申请了 10 元无门槛优惠券作为补偿。",
     "published"),
    ("海外客户的个人信息处理", "policy", "个人信息,隐私,海外",
     "处理海外客户资料时的注意事项。",
     "海外客户的个人信息仅在处理工单所需范围内使用，导出前需经主管批准；客户可要求删除或匿名化其资料。",
     "published"),
    ("APP 闪退的排查步骤", "troubleshooting", "APP,闪退,技术",
     "客户反映 APP 打开即闪退。",
     "1. 确认 APP 版本，引导升级到最新版。\n2. 清除缓存后重试。\n3. 记录手机型号和系统版本。\n4. 仍闪退的，发起技术协作并附上以上信息。",
     "published"),
    ("大促期间的临时退货政策（2024）", "policy", "退换货,大促",
     "2024 年大促期间延长退货期的临时政策，已失效。",
     "2024 年 11 月 1 日至 11 月 30 日期间购买的商品，无理由退货期延长至 15 天。",
     "archived"),
    ("电视机开机黑屏的排查（草稿）", "troubleshooting", "售后维修,电视,黑屏",
     "待产品部确认后发布。",
     "1. 检查电源指示灯。\n2. 更换信号源。\n3. 恢复出厂设置。",
     "draft"),
]  # fmt: skip


def seed_articles(staff):
    users = staff["users"]
    authors = [users["agent1"], users["agent2"], users["tech1"], users["aftersales1"],
               users["supervisor"]]  # fmt: skip
    manager = users["manager"]
    created = 0
    for i, (title, category, tags, summary, body, status) in enumerate(ARTICLES):
        article = services.article_create(
            user=authors[i % len(authors)], title=title, body=body, category=category,
            summary=summary, tags=tags,
        )  # fmt: skip
        if status != ArticleStatus.DRAFT:
            services.article_update(article=article, user=manager, status=ArticleStatus.PUBLISHED)
        if status == ArticleStatus.ARCHIVED:
            services.article_update(article=article, user=manager, status=ArticleStatus.ARCHIVED,
                                    reason="活动已结束")  # fmt: skip
        created += 1
    votes = [(0, "agent1", True), (0, "agent2", True), (1, "agent1", True), (7, "agent2", False)]
    from .models import Article

    titles = [a[0] for a in ARTICLES]
    for index, username, helpful in votes:
        article = Article.objects.get(title=titles[index])
        services.article_record_feedback(article=article, user=users[username], helpful=helpful)
    return created


def seed(staff):
    plan, outage = seed_plans(staff)
    articles = seed_articles(staff)
    return (
        f"plans “{plan.name}” (revision 3 in force, 1–2 superseded) and “{outage.name}”, "
        f"1 post-incident review, {articles} articles"
    )
