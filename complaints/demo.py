"""Demo data for cases (`make run`): routing rules, about sixty customers and some three
hundred cases over the last four months, from every channel and in every state.

Every case goes through services.case_intake and every step through services.case_transition
(or case_add_event / case_record_feedback), done by a demo user who has the permission, with
`now` set to when it happened. Deterministic: the same seed gives the same data.
"""

import datetime
import random
from dataclasses import dataclass, field

from django.utils import timezone

from . import services
from .models import (
    Case,
    CaseType,
    Category,
    Channel,
    ContactMethod,
    Customer,
    CustomerKind,
    CustomerTier,
    ReturnReason,
    RoutingRule,
    State,
)

SEED = 2026
CASES = 300
DAYS = 120

T, C = CaseType, Category

# name, type, category, keywords, department code, order (first match wins)
ROUTING_RULES = [
    ("退换货 → 售后部", T.RETURN_EXCHANGE, "", "", "aftersales", 10),
    ("APP 与账号关键词 → 技术部", "", "", "APP,闪退,验证码,无法登录,登录不上", "tech", 20),
    ("技术问题 → 技术部", "", C.TECHNICAL, "", "tech", 30),
    ("物流问题 → 物流部", "", C.LOGISTICS, "", "logistics", 40),
    ("功能需求 → 产品部", T.FEATURE_REQUEST, "", "", "product", 50),
    ("产品质量 → 产品部", "", C.PRODUCT, "", "product", 60),
    # Nothing else: service, process and other cases wait unrouted for 客服中心 to assign.
]

# --- customers ---------------------------------------------------------------------------

FAMILY = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("吴", "wu"), ("周", "zhou"),
    ("徐", "xu"), ("孙", "sun"), ("马", "ma"), ("朱", "zhu"), ("胡", "hu"),
    ("郭", "guo"), ("何", "he"), ("林", "lin"), ("高", "gao"), ("罗", "luo"),
]  # fmt: skip
GIVEN = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("丽", "li"), ("强", "qiang"), ("磊", "lei"), ("军", "jun"), ("洋", "yang"),
    ("勇", "yong"), ("艳", "yan"), ("杰", "jie"), ("娟", "juan"), ("涛", "tao"),
    ("秀英", "xiuying"), ("婷婷", "tingting"), ("志强", "zhiqiang"), ("建华", "jianhua"),
    ("晓东", "xiaodong"), ("雪梅", "xuemei"), ("海燕", "haiyan"), ("子轩", "zixuan"),
    ("欣怡", "xinyi"), ("浩然", "haoran"), ("雨桐", "yutong"), ("思远", "siyuan"),
]  # fmt: skip
PHONE_PREFIXES = ["130", "131", "132", "135", "136", "137", "138", "139", "150", "151",
                  "152", "155", "157", "158", "159", "180", "181", "182", "186", "187",
                  "188", "189"]  # fmt: skip
MAIL_DOMAINS = ["163.com", "126.com", "sina.com", "foxmail.com", "outlook.com"]
ENTERPRISES = [
    ("杭州云帆电子商务有限公司", "电子商务", "yunfan-ec.com"),
    ("上海博远物流有限公司", "物流", "boyuan-logistics.cn"),
    ("深圳智联科技有限公司", "信息技术", "zhilian-tech.cn"),
    ("成都蜀味餐饮管理有限公司", "餐饮", "shuwei.com.cn"),
    ("北京启明教育科技有限公司", "教育", "qiming-edu.cn"),
    ("广州华美服饰有限公司", "服装零售", "huamei-fashion.com"),
    ("苏州恒信精密制造有限公司", "制造业", "hengxin-mfg.com"),
    ("武汉康宁医疗器械有限公司", "医疗器械", "kangning-med.cn"),
]
CUSTOMERS = 60

# --- what customers tell us ------------------------------------------------------------------

PRODUCTS = {
    "phone": "云帆 X5 智能手机",
    "earbuds": "AirSound 无线降噪耳机",
    "kettle": "恒温电热水壶 K2",
    "robot": "智能扫地机器人 R3",
    "purifier": "空气净化器 P600",
    "watch": "智能手表 W2",
    "shirt": "男士免烫商务衬衫",
    "dress": "女士真丝连衣裙",
    "shoes": "轻跑运动鞋",
    "bedding": "纯棉四件套",
    "seat": "儿童安全座椅",
    "app": "会员 APP",
}


@dataclass
class Scenario:
    type: str
    category: str
    subject: str
    words: str
    description: str
    expected: str = ""
    product: str = ""
    cause: str = ""
    solution: str = ""
    result: str = ""
    progress: list = field(default_factory=list)
    reason: str = ""  # return/exchange reason
    weight: int = 3


S = Scenario
SCENARIOS = [
    # logistics → 物流部
    S(T.COMPLAINT, C.LOGISTICS, "物流延迟，快递五天未送达",
      "我上周六下的单，到现在物流信息还停在转运中心，已经五天没动了，到底什么时候能到？",
      "客户反映订单发货后物流信息停滞五天，未送达。", "尽快送达，并说明延误原因", "bedding",
      "承运商转运中心爆仓，包裹滞留。", "联系承运商加急派送，并补偿10元无门槛优惠券。",
      "包裹已于次日送达，优惠券已发放，客户表示认可。",
      ["已联系承运商核实物流轨迹", "承运商反馈包裹滞留转运中心，已申请加急"], weight=6),
    S(T.COMPLAINT, C.LOGISTICS, "快递显示已签收但本人未收到",
      "物流显示昨天下午已签收，但我根本没收到，家里也没人代收，快递员电话也打不通。",
      "物流显示已签收，客户本人未收到包裹。", "找回包裹或重新发货", "earbuds",
      "快递员将包裹放入小区驿站但未通知客户。", "协调快递站点核实派送记录，找回包裹。",
      "包裹在小区驿站找到，客户已取件。", ["已联系快递站点调取签收记录"], weight=5),
    S(T.COMPLAINT, C.LOGISTICS, "快递员不送货上门，要求自提",
      "快递员打电话让我自己去驿站拿，说不送上楼，我是付了运费的，凭什么让我自己去取？",
      "客户投诉快递员未按约定送货上门。", "送货上门，快递员道歉", "purifier",
      "派送员违反送货上门约定。", "向承运商投诉并要求重新派送上门。",
      "承运商已重新派送上门并致歉，派送员已被处理。", weight=3),
    S(T.CONSULTATION, C.LOGISTICS, "下单后能否修改收货地址",
      "我刚下单发现地址写错了，还没发货的话能不能改到公司地址？",
      "客户咨询未发货订单修改收货地址。", "修改地址", "shoes",
      "", "仓库尚未出库，可直接修改地址。", "已为客户修改收货地址，客户确认。", weight=3),
    # technical → 技术部
    S(T.COMPLAINT, C.TECHNICAL, "APP无法登录，一直提示验证码错误",
      "今天早上开始APP就登录不上，收到的验证码输进去一直提示错误，换了手机也一样。",
      "客户反映会员APP登录时验证码校验失败，无法登录。", "尽快恢复登录", "app",
      "短信网关配置变更导致验证码校验失败。", "回滚短信网关配置，并发布热修复版本。",
      "已修复，客户确认可以正常登录。",
      ["已复现问题，已提交技术部排查", "已排查问题原因：短信网关配置变更", "热修复待测试"],
      weight=6),
    S(T.COMPLAINT, C.TECHNICAL, "APP闪退，打开订单页面就崩溃",
      "更新到最新版以后，一点“我的订单”就闪退，我用的是安卓手机，卸载重装也没用。",
      "客户反映APP新版本在安卓设备上打开订单页面闪退。", "修复闪退问题", "app",
      "新版本订单页面与安卓12系统存在兼容性问题。", "发布修复版本 5.3.1，期间可通过网页版查看订单。",
      "修复版本已上线，客户升级后正常使用。",
      ["已复现问题，定位到安卓12兼容性问题", "开发中", "待测试"], weight=5),
    S(T.COMPLAINT, C.TECHNICAL, "付款成功但订单显示未支付",
      "微信已经扣款了，但是订单一直是待付款，等了两个小时还是这样，不行就给我退款。",
      "客户支付成功后订单状态未更新。", "确认订单或退款", "watch",
      "支付回调超时，订单状态未同步。", "人工补单，将订单状态更新为已支付。",
      "订单已补单发货，客户确认。", ["已核实支付流水，扣款成功"], weight=4),
    S(T.CONSULTATION, C.TECHNICAL, "账号被锁定，如何解封",
      "我输错了几次密码，账号就被锁了，怎么解开？",
      "客户账号因多次输错密码被锁定，咨询解封方式。", "解封账号", "app",
      "", "指导客户通过“忘记密码”重置，或由客服核实身份后解封。", "已核实身份并解封，客户已登录。",
      weight=3),
    S(T.COMPLAINT, C.TECHNICAL, "会员积分被清零，没有收到任何通知",
      "我攒了两年的积分，今天一看全没了，你们也没有提前通知，这是什么道理？",
      "客户会员积分被系统清零，客户称未收到到期提醒。", "恢复积分", "app",
      "积分到期批处理任务未发送到期提醒短信。", "恢复客户积分并延长有效期一年。",
      "积分已恢复，客户表示满意。", ["已查询积分流水", "已确认提醒短信未发送"], weight=3),
    # product → 产品部
    S(T.COMPLAINT, C.PRODUCT, "手机屏幕无故碎裂",
      "刚用了三天，早上拿起来屏幕就裂了，我保证没摔过，这是质量问题吧？",
      "客户反映新购手机使用三天后屏幕出现裂纹，称无跌落。", "免费更换屏幕或换新机", "phone",
      "该批次屏幕存在应力集中缺陷。", "安排免费检测，确认质量问题后更换新机。",
      "检测确认为质量问题，已为客户更换新机。", ["已安排上门取件检测", "检测中心已收到手机"],
      weight=4),
    S(T.COMPLAINT, C.PRODUCT, "电热水壶底座漏电，有安全隐患",
      "烧水的时候碰到底座被电了一下，孩子差点受伤，这个有安全隐患，你们必须给个说法。",
      "客户反映电热水壶底座漏电，存在安全隐患。", "退货退款并赔偿", "kettle",
      "底座接地端子虚焊。", "立即停用，上门取回检测，全额退款并补偿。",
      "已全额退款并补偿200元，同批次产品已启动排查。",
      ["已提醒客户立即停止使用", "已上报质量部门排查同批次产品"], weight=3),
    S(T.COMPLAINT, C.PRODUCT, "耳机左耳没有声音",
      "耳机用了两周左耳就没声音了，重新配对也不行。", "客户反映耳机左耳无声。",
      "维修或更换", "earbuds", "左耳电池触点接触不良。", "寄回检测，保修期内免费更换。",
      "已更换新耳机，客户确认正常。", weight=4),
    S(T.COMPLAINT, C.PRODUCT, "衬衫洗一次就严重缩水",
      "按照标签上说的洗了一次，衬衫就缩了一个码，根本穿不了。", "客户反映衬衫首次洗涤后严重缩水。",
      "退款", "shirt", "面料预缩工艺不达标。", "全额退款，无需退回商品。", "已退款，客户满意。",
      weight=3),
    S(T.COMPLAINT, C.PRODUCT, "扫地机器人频繁卡死",
      "扫地机器人每次扫到一半就停在那里不动了，APP上显示离线。",
      "客户反映扫地机器人工作中频繁停机离线。", "修好或换新", "robot",
      "固件版本存在内存泄漏。", "远程推送固件升级。", "升级后运行正常，客户确认。",
      ["已收集设备日志", "已提交固件团队分析"], weight=3),
    S(T.SUGGESTION, C.PRODUCT, "建议衬衫增加大码尺码",
      "你们的衬衫版型很好，就是最大只到XL，希望能出XXL和XXXL。",
      "客户建议衬衫增加加大尺码。", "", "shirt", "", "已转产品部纳入下季度规划。",
      "已答复客户：下季度将上架加大码。", weight=2),
    S(T.FEATURE_REQUEST, C.TECHNICAL, "希望APP支持深色模式",
      "晚上用APP太刺眼了，能不能加个深色模式？", "客户希望会员APP支持深色模式。",
      "", "app", "", "已纳入产品需求池，预计下个版本评估。", "已告知客户需求已记录并排期。",
      weight=2),
    S(T.FEATURE_REQUEST, C.PROCESS, "希望订单支持开具增值税专用发票",
      "我们公司采购需要专票，现在系统只能开普票，能不能支持专票？",
      "企业客户希望在线开具增值税专用发票。", "支持在线开专票", "", "",
      "产品部已排期开发专票申请功能，期间由客服人工开具。", "已为客户人工开具专票，功能已上线。",
      weight=2),
    S(T.FEATURE_REQUEST, C.OTHER, "希望增加家庭共享会员",
      "家里三个人都在用，能不能做一个家庭共享会员，一起攒积分？",
      "客户希望增加家庭共享会员功能。", "", "app", "", "已记录需求，转产品部评估。",
      "已答复客户需求已收到。", weight=1),
    # service, process, other → unrouted, 客服中心 assigns
    S(T.COMPLAINT, C.SERVICE, "客服态度差，电话被挂断",
      "我打了三次客服电话，第二次那个客服没听我说完就把电话挂了，态度非常差，我要投诉她。",
      "客户投诉客服人员服务态度差、中途挂断电话。", "客服道歉，问题得到处理", "",
      "客服人员未按话术规范服务。", "主管致电道歉，对当事客服进行培训考核。",
      "主管已致电道歉，客户接受。", ["已调取通话录音核实"], weight=4),
    S(T.COMPLAINT, C.PROCESS, "退款申请十天了还没到账",
      "退货已经被签收十天了，退款到现在还没到账，每次问都说再等等。",
      "客户反映退货签收后十天退款仍未到账。", "立即退款", "dress",
      "财务退款审核积压。", "加急处理退款，原路退回。", "退款已原路退回，客户确认到账。",
      ["已联系财务加急审核"], weight=5),
    S(T.COMPLAINT, C.PROCESS, "发票抬头开错，报销急用",
      "公司抬头开成了个人，我们报销急用，要重新开发票。", "客户反映发票抬头开错，需重开。",
      "重开发票", "", "下单时发票信息填写有误。", "作废原发票，重新开具电子发票。",
      "新发票已发送至客户邮箱。", weight=4),
    S(T.CONSULTATION, C.PROCESS, "如何申请电子发票",
      "请问电子发票在哪里申请？订单已经确认收货了。", "客户咨询电子发票申请方式。",
      "", "", "", "指导客户在订单详情页申请电子发票。", "客户已成功申请。", weight=3),
    S(T.COMPLAINT, C.SERVICE, "承诺的回电一直没人联系",
      "上周说好48小时内给我回电话，到现在都没人联系我。", "客户反映承诺的回电未兑现。",
      "尽快回电处理", "", "回电任务未分配到人。", "立即回电并跟进原问题。",
      "已回电并解决原问题，客户接受。", weight=3),
    S(T.COMPLAINT, C.SERVICE, "多次反映无人处理，已咨询律师",
      "这个问题我反映了三次都没人管，我已经咨询了律师，再不解决就去法院起诉你们。",
      "客户称多次反映问题未获处理，已咨询律师。", "立即解决并赔偿", "seat",
      "前两次工单被误关闭。", "主管牵头处理，全额退款并书面致歉。", "已退款并致歉，客户撤回起诉意向。",
      ["主管已介入", "已电话安抚客户"], weight=2),
    S(T.COMPLAINT, C.SERVICE, "再不处理就发微博曝光",
      "等了一个星期都没有结果，你们再不处理，我就把聊天记录发到微博上曝光。",
      "客户不满处理进度，表示将在社交媒体曝光。", "尽快给出处理结果", "purifier",
      "处理人休假期间工单无人跟进。", "转交主管跟进，当天给出处理方案。", "当天已解决，客户删除了微博。",
      ["已安排专人跟进"], weight=2),
    S(T.CONSULTATION, C.PRODUCT, "商品保修期多久",
      "请问这个手表的保修期是多久？电池算不算在保修范围里？", "客户咨询商品保修政策。",
      "", "watch", "", "告知保修一年，电池保修六个月。", "已答复客户。", weight=3),
    S(T.OTHER, C.OTHER, "咨询门店营业时间",
      "请问你们西湖银泰那家门店几点关门？周末营业吗？", "客户咨询线下门店营业时间。",
      "", "", "", "告知门店营业时间 10:00–22:00，周末正常营业。", "已答复客户。", weight=2),
    S(T.SUGGESTION, C.SERVICE, "建议延长在线客服时间",
      "在线客服晚上九点就下班了，希望能延长到晚上十点或者十一点。",
      "客户建议延长在线客服服务时间。", "", "", "", "已反馈客服中心排班评估。",
      "已答复客户：下月起在线客服延长至22:00。", weight=2),
    # returns and exchanges → 售后部
    S(T.RETURN_EXCHANGE, C.PRODUCT, "手机屏幕碎裂，申请换货",
      "新买的手机屏幕自己裂了，我要换一台新的。", "客户以质量问题申请换货。", "换新机", "phone",
      "屏幕质量缺陷。", "同意换货，安排上门取件。", "旧机已检测，新机已发出，客户已签收。",
      ["已审核通过，已发送退货地址", "已收到退回商品，检测中"], reason=ReturnReason.QUALITY,
      weight=3),
    S(T.RETURN_EXCHANGE, C.PRODUCT, "尺码不合适，申请退货",
      "鞋子偏小一码，还没穿过，吊牌都在，想退货。", "客户以尺码不合适为由申请退货。",
      "退货退款", "shoes", "", "同意退货，运费由客户承担。", "已收到退货，退款已原路退回。",
      ["已发送退货地址"], reason=ReturnReason.PERSONAL, weight=4),
    S(T.RETURN_EXCHANGE, C.LOGISTICS, "收到商品外包装破损，申请退货",
      "收到的箱子都压扁了，里面的净化器外壳裂了一道缝，没法用。",
      "客户收货时商品运输破损，申请退货。", "退货退款或换新", "purifier",
      "运输途中挤压。", "同意退货，运费由我方承担，并向承运商索赔。", "已为客户换新，承运商已赔付。",
      reason=ReturnReason.LOGISTICS_DAMAGE, weight=3),
    S(T.RETURN_EXCHANGE, C.PRODUCT, "连衣裙颜色与图片不符，想退货",
      "收到的裙子颜色比图片暗很多，跟描述不一样，已经拆开试穿过了。",
      "客户认为商品颜色与页面图片不符，申请退货。", "退货", "dress", "页面图片存在色差。",
      "已拆封试穿，按规定不适用七天无理由；因色差属实，特批退货。", "已退货退款。",
      reason=ReturnReason.PERSONAL, weight=2),
    S(T.RETURN_EXCHANGE, C.PRODUCT, "四件套起球严重，申请换货",
      "四件套才用了一个月就全是球，质量太差了，要求换货。", "客户以质量问题申请换货。",
      "换货", "bedding", "面料批次质量问题。", "同意换货。", "新品已发出，客户已签收。",
      reason=ReturnReason.QUALITY, weight=2),
]  # fmt: skip

# Added to some complaints: the handbook's urgency keywords (SPEC §1.1) fire on intake.
ANGRY = [
    "再不处理我就打12315投诉！",
    "我已经咨询过律师了，不行就起诉。",
    "再拖下去我就发到微博上曝光你们。",
    "我非常生气，你们就是骗子！",
    "要求马上退款！",
]
DUP_PREFIXES = ["还没解决：", "催办：", "再次反映：", "第二次反映："]
CANCEL_REASONS = [
    "客户来电表示问题已自行解决，撤回投诉。",
    "重复提交，已在其他工单中处理。",
    "广告骚扰信息，非客户诉求。",
    "客户撤回申请。",
    "测试数据，作废。",
]
REOPEN_UNSATISFIED = [
    "回访时客户表示问题没有真正解决，重新处理。",
    "客户对处理结果不满意，要求二次处理。",
]
FEEDBACK = {
    5: ["处理很及时，非常满意。", "客服态度很好，谢谢！", "问题解决了，点赞。"],
    4: ["总体满意，就是等得有点久。", "解决了，希望以后少出这种问题。"],
    3: ["一般吧，跑了好几趟才解决。", "结果还行，过程太慢。"],
    2: ["问题还是没解决。", "处理结果我不能接受。"],
    1: ["非常不满意，根本没人管。"],
}
GENERIC_PROGRESS = [
    ("已联系客户核实情况", False),
    ("已向客户说明原因及预计处理时间", True),
    ("已排查问题原因", False),
    ("已与相关部门沟通，等待反馈", False),
]
REMARKS = {
    Channel.SOCIAL: ["来源：微博私信", "来源：微信公众号留言", "来源：抖音评论区"],
    Channel.STORE: ["门店：杭州西湖银泰店", "门店：上海徐家汇店", "门店：成都春熙路店"],
    Channel.API: ["来源：网上商城订单售后接口", "来源：呼叫中心 CTI 工单"],
}
CHANNEL_WEIGHTS = {
    Channel.PHONE: 30, Channel.WEB: 15, Channel.CHAT: 15, Channel.EMAIL: 10,
    Channel.SOCIAL: 10, Channel.STORE: 8, Channel.CALLBACK: 6, Channel.API: 6,
}  # fmt: skip
# Channels where an agent registers the case (created_by); the others arrive by themselves.
STAFF_CHANNELS = {Channel.PHONE, Channel.EMAIL, Channel.CHAT, Channel.STORE, Channel.CALLBACK}


def _pick_weighted(rng, weights):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _target_state(rng, age_days):
    """Older cases are mostly finished, recent ones mostly still being worked."""
    if age_days > 21:
        weights = {State.CLOSED: 72, State.CANCELLED: 6, State.RESOLVED: 5, State.REOPENED: 4,
                   State.INVESTIGATING: 4, State.SOLUTION_PROPOSED: 4, State.MERGED: 5}  # fmt: skip
    elif age_days > 6:
        weights = {State.CLOSED: 35, State.RESOLVED: 18, State.SOLUTION_PROPOSED: 14,
                   State.INVESTIGATING: 14, State.REOPENED: 5, State.CANCELLED: 5,
                   State.ASSIGNED: 4, State.MERGED: 5}  # fmt: skip
    elif age_days > 1:
        weights = {State.RECEIVED: 24, State.ASSIGNED: 22, State.INVESTIGATING: 20,
                   State.SOLUTION_PROPOSED: 10, State.RESOLVED: 10, State.CLOSED: 4,
                   State.CANCELLED: 5, State.MERGED: 5}  # fmt: skip
    else:
        weights = {State.RECEIVED: 45, State.ASSIGNED: 30, State.INVESTIGATING: 15,
                   State.CANCELLED: 5, State.SOLUTION_PROPOSED: 5}  # fmt: skip
    return _pick_weighted(rng, weights)


class DemoCases:
    """Builds the demo cases; holds the random generator, the staff and the counters."""

    def __init__(self, staff, now):
        self.rng = random.Random(SEED)
        self.now = now
        self.depts = staff["departments"]
        self.users = staff["users"]
        self.by_pk = {u.pk: u for u in self.users.values()}
        self.agents = [self.users["agent1"], self.users["agent2"]]
        self.supervisor = self.users["supervisor"]
        self.absorbed = 0
        self.merged = 0

    # --- setup ----------------------------------------------------------------------------

    def routing_rules(self):
        for name, case_type, category, keywords, dept, order in ROUTING_RULES:
            RoutingRule.objects.get_or_create(
                name=name,
                defaults={
                    "case_type": case_type, "category": category, "keywords": keywords,
                    "department": self.depts[dept], "order": order,
                },
            )  # fmt: skip
        return len(ROUTING_RULES)

    def customers(self, first_contacts):
        """CUSTOMERS customers, each created shortly before their first case."""
        rng = self.rng
        out, phones = [], set()
        for i in range(CUSTOMERS):
            (family, fpy), (given, gpy) = rng.choice(FAMILY), rng.choice(GIVEN)
            phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            while phone in phones:
                phone = rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"
            phones.add(phone)
            data = {"name": family + given, "phone": phone, "tier": CustomerTier.ORDINARY}
            if i < len(ENTERPRISES):
                company, industry, domain = ENTERPRISES[i]
                data.update(
                    kind=CustomerKind.ENTERPRISE, company=company, industry=industry,
                    tier=rng.choice([CustomerTier.KEY, CustomerTier.KEY, CustomerTier.HIGH_VALUE]),
                    email=f"{fpy}.{gpy}@{domain}", member_no=f"E{rng.randrange(10**7):07d}",
                    preferred_contact=ContactMethod.PHONE,
                )  # fmt: skip
            else:
                if rng.random() < 0.45:
                    if rng.random() < 0.4:
                        data["email"] = f"{rng.randrange(10**8, 3 * 10**9)}@qq.com"
                    else:
                        data["email"] = f"{fpy}{gpy}{rng.randrange(100)}@{rng.choice(MAIL_DOMAINS)}"
                if rng.random() < 0.5:
                    data["member_no"] = f"M{rng.randrange(10**8):08d}"
                data["tier"] = _pick_weighted(
                    rng, {CustomerTier.ORDINARY: 70, CustomerTier.HIGH_VALUE: 15,
                          CustomerTier.LOW_VALUE: 12, CustomerTier.KEY: 3},
                )  # fmt: skip
                methods = [ContactMethod.PHONE] * 5 + [ContactMethod.SMS, ContactMethod.WECHAT]
                if data.get("email"):
                    methods += [ContactMethod.EMAIL] * 2
                data["preferred_contact"] = rng.choice(methods)
            # Created here rather than by the intake so that "first contact" lies in the past.
            customer = Customer(**data, created_at=first_contacts[i] - datetime.timedelta(days=1))
            customer.full_clean()
            customer.save()
            out.append(customer)
        return out

    # --- the plan -------------------------------------------------------------------------

    def received_times(self):
        """CASES intake times over the last DAYS days, mostly in business hours, sorted."""
        rng, now = self.rng, self.now
        today = timezone.localtime(now).date()
        times = []
        for _ in range(CASES):
            # a growing business: somewhat more cases lately
            day = today - datetime.timedelta(days=int(DAYS * rng.random() ** 1.25))
            minute = (
                rng.randrange(8 * 60 + 30, 21 * 60)
                if rng.random() < 0.85
                else rng.randrange(24 * 60)
            )
            at = timezone.make_aware(
                datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60))
            )
            if at > now - datetime.timedelta(minutes=30):
                at = now - datetime.timedelta(minutes=rng.randrange(30, 600))
            times.append(at)
        return sorted(times)

    def scenario_for(self, target):
        unrouted = [
            s for s in SCENARIOS
            if s.category in (C.SERVICE, C.PROCESS, C.OTHER)
            and s.type not in (T.RETURN_EXCHANGE, T.FEATURE_REQUEST)
        ]  # fmt: skip
        # Only a case no rule routes stays "received": routed ones are assigned at once.
        pool = unrouted if target == State.RECEIVED else SCENARIOS
        return self.rng.choices(pool, weights=[s.weight for s in pool])[0]

    def intake_kwargs(self, scenario, customer, channel, at):
        rng = self.rng
        words = scenario.words
        if scenario.type == T.COMPLAINT and rng.random() < 0.12:
            words = f"{words}{rng.choice(ANGRY)}"
        typed_by_customer = channel in (Channel.WEB, Channel.API, Channel.SOCIAL)
        kwargs = {
            "channel": channel,
            "customer": {"name": customer.name, "phone": customer.phone, "email": customer.email},
            "subject": scenario.subject,
            "description": words if typed_by_customer else scenario.description,
            "customer_words": words,
            "expected_outcome": scenario.expected,
            "type": scenario.type,
            "category": scenario.category,
            "product": PRODUCTS.get(scenario.product, ""),
            "remarks": rng.choice(REMARKS[channel]) if channel in REMARKS else "",
            "user": rng.choice(self.agents) if channel in STAFF_CHANNELS else None,
            "now": at,
        }
        if scenario.product and scenario.product != "app":
            kwargs["order_no"] = f"DD{at:%Y%m%d}{rng.randrange(10**5):05d}"
        if customer.tier == CustomerTier.KEY and kwargs["user"] is not None:
            kwargs["priority"] = 4  # agents rate key accounts higher by hand
        if scenario.type == T.RETURN_EXCHANGE:
            kwargs["return_request"] = self.return_data(scenario, at)
        return kwargs

    def return_data(self, scenario, at):
        rng = self.rng
        reason = scenario.reason
        if reason == ReturnReason.PERSONAL:
            # mostly inside the 7 days; some late or already opened, which is flagged
            age = rng.choice([2, 3, 4, 5, 6, 9, 12])
            unopened = scenario.product != "dress" and rng.random() < 0.85
        elif reason == ReturnReason.QUALITY:
            age = rng.choice([3, 8, 15, 21, 28, 36, 45])
            unopened = False
        else:
            age, unopened = rng.choice([1, 2, 3]), rng.random() < 0.5
        return {
            "purchase_date": timezone.localtime(at).date() - datetime.timedelta(days=age),
            "reason": reason,
            "unopened": unopened,
            "evidence_notes": rng.choice(["客户提供开箱照片3张", "客户提供视频1段", ""]),
        }

    # --- doing it -------------------------------------------------------------------------

    def actor(self, case, name, *candidates):
        """The first candidate allowed to take step `name` on `case` now."""
        for user in [*candidates, *self.agents, self.supervisor]:
            if user is not None and any(
                n == name for n, _, _ in services.available_transitions(case, user)
            ):
                return user
        raise LookupError(f"nobody may {name} {case.number} ({case.state})")

    def step(self, case, name, at, *candidates, **inputs):
        user = self.actor(case, name, *candidates)
        return services.case_transition(case=case, name=name, user=user, now=at, **inputs)

    def plan(self, case, scenario, target):
        """The steps that take a fresh case to `target`: [(step, data)]."""
        rng = self.rng
        steps = []
        if case.state == State.RECEIVED:
            if target == State.RECEIVED:
                return steps
            if target == State.CANCELLED and rng.random() < 0.6:
                return [("cancel", {})]
            steps.append(("assign", {}))
        if target in (State.ASSIGNED, State.MERGED):
            return steps
        if target == State.CANCELLED:
            if rng.random() < 0.5:
                steps.append(("start_investigation", {}))
            return [*steps, ("cancel", {})]
        steps += [("start_investigation", {}), ("progress", {})]
        if rng.random() < 0.4:
            steps.append(("progress", {}))
        if target == State.INVESTIGATING:
            return [*steps, ("progress", {"promise": True})]
        steps.append(("propose_solution", {}))
        if target == State.SOLUTION_PROPOSED:
            return [*steps, ("progress", {"promise": True})]
        steps.append(("resolve", {}))
        if target == State.RESOLVED:
            return steps
        if target == State.REOPENED or rng.random() < 0.05:
            if rng.random() < 0.5:
                steps += [
                    ("feedback", {"score": rng.choice([1, 2, 3])}),
                    ("reopen", {"reason": rng.choice(REOPEN_UNSATISFIED)}),
                ]
            else:
                steps += [
                    ("feedback", {"score": 4}),
                    ("close", {}),
                    ("reopen", {"reason": "客户来电反映问题再次出现。"}),
                ]
            if target == State.REOPENED:
                return [*steps, ("progress", {"promise": True})]
            steps += [("start_investigation", {}), ("resolve", {"again": True})]
        score = _pick_weighted(rng, {5: 58, 4: 34, 3: 8}) if target == State.CLOSED else 4
        return [*steps, ("feedback", {"score": score}), ("close", {})]

    def times(self, start, steps):
        """A time for each step after `start`, in office hours where that fits, compressed
        to end before now."""
        rng = self.rng
        gaps = {"assign": (0.1, 3), "start_investigation": (0.2, 6), "progress": (3, 30),
                "propose_solution": (6, 48), "resolve": (6, 72), "feedback": (20, 72),
                "close": (0.2, 6), "reopen": (2, 120), "cancel": (0.5, 24)}  # fmt: skip
        offsets, total = [], 0.0
        for name, _ in steps:
            total += rng.uniform(*gaps[name])
            offsets.append(total)
        room = (self.now - start).total_seconds() / 3600 - 0.2
        scale = min(1.0, room / total) if total else 1.0
        out, previous = [], start
        for hours in offsets:
            at = start + datetime.timedelta(hours=hours * scale)
            in_office = self.office_hours(at)
            if in_office < self.now - datetime.timedelta(minutes=5):
                at = in_office
            at = max(at, previous + datetime.timedelta(minutes=rng.randrange(1, 20)))
            out.append(min(at, self.now - datetime.timedelta(minutes=1)))
            previous = at
        return out

    def office_hours(self, at):
        """`at`, or the next morning if staff are not at work then (they are 08:00–22:00)."""
        local = timezone.localtime(at)
        minutes = self.rng.randrange(30, 120)
        if 8 <= local.hour < 22:
            return at
        day = local.date() + datetime.timedelta(days=1 if local.hour >= 22 else 0)
        morning = datetime.datetime.combine(day, datetime.time(8, 0))
        return timezone.make_aware(morning) + datetime.timedelta(minutes=minutes)

    def run(self, case, scenario, steps, at_list):
        rng = self.rng
        for (name, data), at in zip(steps, at_list, strict=True):
            worker = self.by_pk.get(case.assignee_id)
            if name == "assign":
                if rng.random() < 0.2:
                    # a supervisor dispatches to a front-line agent
                    dispatcher, assignee = self.supervisor, rng.choice(self.agents)
                else:
                    dispatcher = rng.choice(self.agents)
                    assignee = dispatcher
                case = services.case_transition(
                    case=case, name="assign", user=dispatcher, now=at,
                    department=self.depts["kefu"], assignee=assignee,
                )  # fmt: skip
            elif name == "progress":
                message, told = (
                    (rng.choice(scenario.progress), rng.random() < 0.5)
                    if scenario.progress and rng.random() < 0.7
                    else rng.choice(GENERIC_PROGRESS)
                )
                promise = {}
                if data.get("promise"):
                    promise = {
                        "next_contact_at": at + datetime.timedelta(hours=rng.choice([4, 24, 48])),
                        "expected_resolution_at": at
                        + datetime.timedelta(days=rng.choice([2, 3, 5])),
                    }
                    message, told = f"{message}；已告知客户预计处理时间", True
                services.case_add_event(
                    case=case, user=worker, message=message, customer_notified=told, now=at,
                    **promise,
                )  # fmt: skip
            elif name == "start_investigation":
                case = self.step(case, name, at, worker)
            elif name == "propose_solution":
                solution = scenario.solution or "已向客户说明处理方案。"
                case = self.step(case, name, at, worker, solution=solution, customer_notified=True)
            elif name == "resolve":
                result = scenario.result or "已按方案处理完毕，客户已知悉。"
                if data.get("again"):
                    result = f"二次处理：{result}"
                case = self.step(
                    case, name, at, worker, result=result, cause=scenario.cause,
                    customer_notified=True,
                )  # fmt: skip
            elif name == "feedback":
                score = data["score"]
                case = services.case_record_feedback(
                    case=case, score=score, text=rng.choice(FEEDBACK[score]),
                    user=rng.choice(self.agents), now=at,
                )  # fmt: skip
            elif name == "close":
                case = self.step(case, name, at, worker)
            elif name == "reopen":
                case = self.step(case, name, at, reason=data["reason"])
            elif name == "cancel":
                case = self.step(case, name, at, reason=rng.choice(CANCEL_REASONS))
        return case

    def duplicate(self, case, customer, at):
        """The same customer again, through another channel, about the same thing."""
        channel = self.rng.choice(
            [c for c in (Channel.SOCIAL, Channel.PHONE, Channel.CHAT) if c != case.channel]
        )
        result = services.case_intake(
            channel=channel,
            customer={"name": customer.name, "phone": customer.phone},
            subject=f"{self.rng.choice(DUP_PREFIXES)}{case.subject}",
            description=case.customer_words,
            customer_words=case.customer_words,
            type=case.type,
            category=case.category,
            user=self.agents[0] if channel != Channel.SOCIAL else None,
            now=at,
        )  # fmt: skip
        self.absorbed += result.absorbed
        return result.case

    def merge_into(self, survivor, customers, at):
        """Another customer (a family member, a colleague) reports the same order in other
        words; an agent spots it and merges it into the first case."""
        other = self.rng.choice([c for c in customers if c.pk != survivor.customer_id])
        channel = self.rng.choice([Channel.PHONE, Channel.CHAT, Channel.EMAIL])
        dup = services.case_intake(
            channel=channel,
            customer={"name": other.name, "phone": other.phone},
            subject=f"帮家人询问订单{survivor.order_no or survivor.number}的处理进度",
            description=f"来电人称是订单{survivor.order_no or survivor.number}下单人的家属，询问处理进度。",
            type=CaseType.CONSULTATION,
            category=survivor.category,
            order_no=survivor.order_no,
            user=self.agents[1],
            now=at,
        ).case  # fmt: skip
        if dup.pk == survivor.pk or dup.state not in (State.RECEIVED, State.ASSIGNED):
            return
        # whoever merges must see both cases: an agent if they can, else the supervisor
        mergers = [a for a in self.agents if survivor.is_visible_to(a)]
        self.step(dup, "merge", at + datetime.timedelta(minutes=20), *mergers, self.supervisor,
                  into=survivor, note=f"与{survivor.number}为同一订单的同一问题")  # fmt: skip
        self.merged += 1

    def seed(self):
        rules = self.routing_rules()
        rng = self.rng
        times = self.received_times()
        customers = self.customers(times[:CUSTOMERS])
        # Everybody has a first case; then repeat customers, enterprises more often.
        weights = [3 if c.kind == CustomerKind.ENTERPRISE else 1 for c in customers]
        repeat = rng.choices(customers, weights=weights, k=CASES - CUSTOMERS)
        channels = list(Channel.values)  # the first cases cover every channel
        rng.shuffle(channels)
        for i, at in enumerate(times):
            customer = customers[i] if i < CUSTOMERS else repeat[i - CUSTOMERS]
            age_days = (self.now - at).days
            target = _target_state(rng, age_days)
            if target == State.MERGED and age_days < 2:
                target = State.ASSIGNED  # no room for the second report yet
            scenario = self.scenario_for(target)
            channel = channels[i] if i < len(channels) else _pick_weighted(rng, CHANNEL_WEIGHTS)
            result = services.case_intake(**self.intake_kwargs(scenario, customer, channel, at))
            case = result.case
            if result.absorbed:  # the same thing again within the de-duplication window
                self.absorbed += 1
                continue
            extra = at
            if rng.random() < 0.06 and age_days > 1:
                extra += datetime.timedelta(hours=rng.uniform(1, 8))
                case = self.duplicate(case, customer, extra)
            if target == State.MERGED:
                # this case survives; the one reported a little later is merged into it
                self.merge_into(
                    case, customers, extra + datetime.timedelta(hours=rng.uniform(1, 5))
                )
                case.refresh_from_db()
                target = rng.choice([State.INVESTIGATING, State.CLOSED])
                extra += datetime.timedelta(hours=6)
            steps = self.plan(case, scenario, target)
            self.run(case, scenario, steps, self.times(extra, steps))
        cases = Case.objects.count()
        return (
            f"{rules} routing rules, {len(customers)} customers, {cases} cases "
            f"({self.absorbed} repeat contacts absorbed, {self.merged} merged)"
        )


def seed(staff):
    return DemoCases(staff, timezone.now()).seed()
