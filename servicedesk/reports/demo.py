"""Demo data for reports and early warning (`make run`): the risk register's usual entries,
a first evaluation of the alert rules, and last month's report as the scheduler makes it."""

from django.utils import timezone

from .models import Risk
from .services import alerts_evaluate, monthly_report_generate

RISKS = [
    (
        "大促期间咨询量激增，首次响应超时",
        "双十一等活动期间来电与在线咨询量为平日的 3–5 倍，排班不足",
        "首次响应超时，客户投诉升级，满意度下降",
        4,
        4,
        "提前一个月制定排班预案，启用临时坐席与智能应答，设置超时预警",
    ),
    (
        "物流合作方破损率上升",
        "新合作快递公司分拣流程不规范",
        "退换货与破损投诉增加，退款成本上升",
        3,
        3,
        "与物流方约定破损赔付条款，每周复盘破损率，超阈值时切换承运商",
    ),
    (
        "客户个人信息泄露",
        "导出工单清单时包含完整手机号与邮箱，在外部传播",
        "违反《个人信息保护法》，面临监管处罚与声誉损失",
        2,
        5,
        "导出默认脱敏，导出全程留痕，权限最小化，定期审计导出记录",
    ),
]


def seed(staff):
    manager = staff["users"]["manager"]
    today = timezone.localdate()
    for title, cause, consequence, likelihood, impact, mitigation in RISKS:
        Risk.objects.get_or_create(
            title=title,
            defaults={
                "cause": cause,
                "consequence": consequence,
                "likelihood": likelihood,
                "impact": impact,
                "mitigation": mitigation,
                "owner": manager,
                "review_on": today.replace(day=1),
            },
        )
    alerts = alerts_evaluate()
    report = monthly_report_generate()
    return (
        f"{len(RISKS)} risks, {alerts['rules']} alert rules checked "
        f"({alerts['raised']} alert raised), report {report}"
    )
