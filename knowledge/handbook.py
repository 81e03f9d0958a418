"""The default plan as data: the handbook's complaint-handling plan (事务处理预案设计, worked
example), installed by migration 0003 as revision 1, already published.

`install_default_plan(apps)` works with a migration's historical models (it then writes the
history rows itself, as migrations have no history manager) and with the real registry (tests
that start from an emptied database, the demo data).
"""

from decimal import Decimal

DEFAULT_PLAN_CODE = "complaint-handling"
INITIAL_REASON = "初始预案（手册）"

PLAN = {
    "code": DEFAULT_PLAN_CODE,
    "name": "客户投诉处理预案",
    "scope": (
        "适用于通过电话、邮件、在线系统、社交媒体等渠道受理的客户投诉与客户需求工单，"
        "覆盖受理、调查、方案反馈、满意度回访全过程。未被其他专项预案覆盖的工单均按本预案执行。"
    ),
    "case_types": [],
    "categories": [],
    "situations": "日常客户投诉与需求：产品问题、服务问题、流程问题及其他类型。",
    "is_default": True,
}

REVISION = {
    "objectives": (
        "1. 将投诉处理时间控制在 24 小时内：从客户正式提交投诉（电话、邮件、在线系统等）开始，"
        "到客户收到初步响应或解决方案告知为止；按系统记录计算从投诉登记到首次响应的平均/中位数时间。\n"
        "2. 将客户满意度提高到 90% 以上：通过结构化问卷、回访电话或在线评分收集客户对处理过程及"
        "最终结果的评价，每月统计评分不低于 4 分（满分 5 分）的客户比例。"
    ),
    "first_response_hours": 24,
    "satisfaction_target_pct": 90,
    "urgency_high_hours": 24,
    "urgency_medium_working_days": 3,
    "urgency_low_hours": 120,
    "reporting_path": (
        "客服人员 → 客服主管 → 客服经理。处理部门负责人向客服主管同步调查进展；"
        "重大或紧急投诉（媒体曝光、法律风险、人身安全）由客服主管立即上报客服经理。"
    ),
    "risk_triggers": (
        "客户提及媒体曝光、律师、起诉、12315 或消协\n"
        "涉及人身安全或安全隐患\n"
        "同一产品或同一问题 24 小时内投诉达到 10 件\n"
        "首次响应超过 24 小时仍未完成"
    ),
    "change_summary": "依据《事务处理预案设计》手册建立的初始预案。",
}

# code, name, time limit, unit, clock starts, responsible role, what to do
STAGES = [
    ("first_response", "首次响应", "24", "hours", "received", "agent",
     "记录投诉详细信息（客户信息、问题描述、联系方式），初步判断问题性质，分配处理优先级。"),
    ("investigation", "问题调查", "48", "hours", "previous_stage", "handler",
     "相关部门收集证据和信息，分析问题原因，制定解决方案。"),
    ("solution_to_customer", "方案反馈", "48", "hours", "previous_stage", "agent",
     "向客户反馈解决方案；无法立即解决的，告知预计解决时间并定期跟进进度。"),
    ("satisfaction_followup", "满意度回访", "72", "hours", "resolved", "agent",
     "处理完成后进行满意度回访，记录客户反馈，用于持续改进。"),
    ("tech_collaboration", "技术协作响应", "2", "hours", "requested", "technical",
     "客服发起技术协作后，技术支持团队在 2 小时内响应。"),
]  # fmt: skip

# kind, name, quantity, location, notes
RESOURCES = [
    ("people_shift", "客服人员 24 小时轮班", 12, "客服中心",
     "三班轮换，高峰时段加派人手；关键岗位设备份人员，缺勤时及时顶岗。"),
    ("technical_support", "技术支持团队", 4, "技术部",
     "工程师与技术专家组成，具备远程诊断能力，2 小时内响应客服协作请求。"),
    ("spare_part", "常用替换零件", 50, "华东仓 A 区 3 号货架",
     "建立库存清单，定期盘点，消耗后按采购流程及时补充。"),
    ("tool", "诊断检测工具套装", 2, "售后部维修间", "定期检查，确保处于良好状态。"),
    ("system_access", "工单系统、订单系统、库存系统访问权限", None, "",
     "客服与处理人员按角色开通，确保能查阅订单、交易记录与服务历史。"),
]  # fmt: skip


def _save(model, obj, now, reason, history_models):
    """Save `obj` with a history row carrying `reason`, whichever registry `model` is from."""
    if hasattr(model, "history"):
        obj._change_reason = reason
        obj.save()
        return obj
    obj.save()
    historical = history_models[model.__name__]
    values = {f.attname: getattr(obj, f.attname) for f in model._meta.concrete_fields}
    historical.objects.create(
        **values,
        history_date=now,
        history_type="+",
        history_change_reason=reason,
        history_user_id=None,
    )
    return obj


def install_default_plan(apps, now=None):
    """Create the default plan with revision 1 published, unless a plan with its code exists.
    Returns the plan."""
    from django.utils import timezone

    from .models import REVIEW_INTERVAL_MONTHS, add_months

    Plan = apps.get_model("knowledge", "Plan")
    PlanRevision = apps.get_model("knowledge", "PlanRevision")
    PlanStage = apps.get_model("knowledge", "PlanStage")
    PlanResource = apps.get_model("knowledge", "PlanResource")
    existing = Plan.objects.filter(code=DEFAULT_PLAN_CODE).first()
    if existing is not None:
        return existing
    history_models = {}
    if not hasattr(Plan, "history"):
        history_models = {
            name: apps.get_model("knowledge", f"Historical{name}")
            for name in ("Plan", "PlanRevision", "PlanStage", "PlanResource")
        }
    now = now or timezone.now()
    today = timezone.localdate(now)
    plan = Plan(**PLAN, next_review_on=add_months(today, REVIEW_INTERVAL_MONTHS), created_at=now)
    _save(Plan, plan, now, INITIAL_REASON, history_models)
    revision = PlanRevision(
        plan=plan, number=1, state="published", published_at=now, created_at=now, **REVISION
    )
    _save(PlanRevision, revision, now, INITIAL_REASON, history_models)
    for order, (code, name, limit, unit, starts, role, description) in enumerate(STAGES, 1):
        stage = PlanStage(
            revision=revision, order=order, code=code, name=name, time_limit=Decimal(limit),
            unit=unit, starts=starts, responsible_role=role, description=description,
        )  # fmt: skip
        _save(PlanStage, stage, now, INITIAL_REASON, history_models)
    for order, (kind, name, quantity, location, notes) in enumerate(RESOURCES, 1):
        resource = PlanResource(
            revision=revision, order=order, kind=kind, name=name, quantity=quantity,
            location=location, notes=notes,
        )  # fmt: skip
        _save(PlanResource, resource, now, INITIAL_REASON, history_models)
    return plan
