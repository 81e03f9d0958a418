"""Demo data for follow-ups (`make run`): a year of answered questionnaires, the callback
queue as an agent finds it in the morning, recent deliveries and surveys in every state.

Runs after the complaints demo (servicedesk.demo), once. What happened in the past is
written directly and in bulk — surveys, follow-up calls, call attempts, answers, problems
found — because replaying a year through the services would send mail and open cases; the
rows are the ones those services write. Only the satisfaction survey of a case still
"resolved" goes through services.survey_schedule, as the resolution itself would have.

* About forty long-standing customers join the complaints demo's, and every customer gets
  twelve months of purchases (amount and orders: the sampling strata).
* Periodic care by tier (key and high-value monthly, ordinary quarterly, low-value half-yearly)
  over the last twelve months: mostly reached, a few unreachable; satisfaction improves from
  about 80 % to just over the 90 % target, so the trend crosses the target line.
* Closed cases get their satisfaction survey: answered online or by phone (the score the
  case recorded), expired, still open, failed or cancelled.
* The queue: calls due today, overdue, later; assigned to an agent or to nobody; plus calls
  after the last fortnight's deliveries (the two newest deliveries wait for the hourly task).

Deterministic: the same seed gives the same data (times are relative to now).
"""

import datetime
import random
from decimal import Decimal

from django.conf import settings
from django.utils import timezone

from complaints.demo import FAMILY, GIVEN, PRODUCTS
from complaints.models import Case, Customer, CustomerKind, CustomerTier, State
from servicedesk import workdays
from servicedesk.calendar.services import load_calendar

from . import services, tokens
from .models import (
    Answer,
    CallAttempt,
    Delivery,
    FollowUp,
    FollowUpPlan,
    FollowUpPlanKind,
    FollowUpPurpose,
    FollowUpStatus,
    Grade,
    Method,
    ProblemCategory,
    ProblemReport,
    Response,
    Survey,
    SurveyChannel,
    SurveyStatus,
)

SEED = 2606
MONTHS = 12
LONG_STANDING = 40

PC = ProblemCategory
PROBLEMS = {
    PC.PRODUCT_QUALITY: [
        "用了两个月外壳出现裂纹。",
        "充电口接触不良，有时充不进电。",
        "收到时机身有明显划痕。",
        "续航比宣传的短很多，一天要充两次。",
        "按键松动，按下去没有反应。",
    ],
    PC.SERVICE_ATTITUDE: [
        "上次来电客服语气不耐烦，没听完就打断我。",
        "门店店员对退换货政策解释得不清楚，态度敷衍。",
        "答应回电却一直没有人联系我。",
    ],
    PC.TECHNICAL_SUPPORT: [
        "APP 升级后经常闪退，反映过一次还没解决。",
        "设备连不上家里的 Wi-Fi，远程指导也没弄好。",
        "会员积分显示不正确，技术人员说要再查。",
    ],
    PC.DELIVERY: [
        "快递比承诺的晚了三天。",
        "外包装破损，幸好商品没坏。",
        "送货员没有送上楼，要求自己去驿站取。",
        "安装师傅迟到了两个小时。",
    ],
}
PROBLEM_WEIGHTS = {PC.PRODUCT_QUALITY: 35, PC.DELIVERY: 25, PC.TECHNICAL_SUPPORT: 22,
                   PC.SERVICE_ATTITUDE: 18}  # fmt: skip
NO_PROBLEM = ["无", "没有", "没有问题", "一切正常"]
DIFFICULTIES = [
    "APP 里的设置步骤有点多，找了半天。",
    "说明书写得太简单，很多功能不知道怎么用。",
    "客服电话高峰时段很难打进去。",
    "退换货流程要填的信息太多。",
]
SUGGESTIONS = [
    "希望客服热线晚上也能接通。",
    "售后上门时间能再灵活一点，最好周末也能约。",
    "希望多一些老客户专属优惠。",
    "物流可以再快一些，最好能指定送货时间。",
    "产品说明书能不能出个视频版。",
    "希望 APP 能直接查看保修期。",
]
IMPROVEMENTS = ["物流速度", "产品说明书", "APP 的易用性", "客服响应速度", "售后上门效率",
                "产品耐用性"]  # fmt: skip
UNREACHED = ["无人接听", "关机", "正在通话中，稍后再拨", "客户表示现在不方便，约稍后再打"]
LONG_STANDING_COMPANIES = [
    ("宁波海天家电贸易有限公司", "批发零售", "haitian-trade.cn"),
    ("南京金陵酒店管理有限公司", "酒店", "jinling-hotel.cn"),
    ("厦门鹭岛母婴用品连锁", "母婴零售", "ludao-baby.com"),
    ("青岛北海健身俱乐部", "健身", "beihai-fitness.cn"),
]
PURCHASES = {  # tier: (amount low, high in yuan, orders low, high) over twelve months
    CustomerTier.KEY: (50_000, 300_000, 12, 40),
    CustomerTier.HIGH_VALUE: (10_000, 50_000, 5, 20),
    CustomerTier.ORDINARY: (500, 10_000, 1, 8),
    CustomerTier.LOW_VALUE: (50, 500, 1, 2),
}
PRICES = {"phone": 3999, "earbuds": 899, "kettle": 259, "robot": 2499, "purifier": 1899,
          "watch": 1299, "shirt": 399, "dress": 1299, "shoes": 599, "bedding": 699,
          "seat": 1599}  # fmt: skip


class DemoFollowUps:
    def __init__(self, staff, now, version):
        self.rng = random.Random(SEED)
        self.now = now
        self.today = timezone.localdate(now)
        users = staff["users"]
        self.agents = [users["agent1"], users["agent2"]]
        self.version = version
        self.questions = {q.code: q for q in version.questions.prefetch_related("choices")}
        self.choices = {
            code: {c.score: c for c in q.choices.all()} for code, q in self.questions.items()
        }
        self.plans = {
            p.tier: p
            for p in FollowUpPlan.objects.filter(is_active=True, kind=FollowUpPlanKind.TIER)
        }
        self.delivery_plan = FollowUpPlan.objects.filter(
            is_active=True, kind=FollowUpPlanKind.DELIVERY
        ).first()
        # Written in bulk at the end, in the order their keys need.
        self.followups, self.surveys, self.attempts = [], [], []
        self.responses = []  # (Response, [Answer without response], [ProblemReport …])
        self.counts = {"pending": 0}

    # --- helpers ------------------------------------------------------------------------------

    def at_work(self, day, *, earliest=None):
        """A time on `day` between 09:00 and 18:00, not before `earliest`, not after now."""
        minute = self.rng.randrange(9 * 60, 18 * 60)
        at = timezone.make_aware(
            datetime.datetime.combine(day, datetime.time(minute // 60, minute % 60))
        )
        if earliest and at < earliest:
            at = earliest + datetime.timedelta(minutes=self.rng.randrange(10, 120))
        return min(at, self.now - datetime.timedelta(minutes=self.rng.randrange(5, 60)))

    def satisfied_share(self, when):
        """About 80 % a year ago, rising to about 93 % now."""
        months_ago = (self.now - when).days / 30.4
        return 0.93 - 0.012 * months_ago

    def score(self, when):
        rng = self.rng
        if rng.random() < self.satisfied_share(when):
            return 5 if rng.random() < 0.55 else 4
        return rng.choices([3, 2, 1], weights=[65, 25, 10])[0]

    def near(self, score):
        return max(1, min(5, score + self.rng.choice([-1, 0, 0, 0, 1])))

    def pick(self, code, score):
        choices = self.choices[code]
        if score not in choices:  # "needs" has no 2: the nearer bottom
            score = min(choices, key=lambda s: (abs(s - score), s))
        return choices[score]

    def answers(self, score, *, by_phone):
        """Answers to the handbook questionnaire, the problems found and the suggestion.
        Online, only the "quality problem" box can raise a problem; on a call the agent
        classifies whatever the customer raises."""
        rng, q = self.rng, self.questions
        problem_chance = {5: 0.02, 4: 0.05, 3: 0.25, 2: 0.5, 1: 0.7}[score]
        category = None
        if rng.random() < problem_chance:
            if by_phone:
                category = rng.choices(list(PROBLEM_WEIGHTS), list(PROBLEM_WEIGHTS.values()))[0]
            else:
                category = PC.PRODUCT_QUALITY
        description = rng.choice(PROBLEMS[category]) if category else ""
        quality = self.near(score)
        attitude = self.near(score)
        if category == PC.PRODUCT_QUALITY:
            quality = min(quality, 3)
        if category == PC.SERVICE_ATTITUDE:
            attitude = min(attitude, 2)
        rows = [
            Answer(question=q["overall"], choice=self.pick("overall", score)),
            Answer(question=q["quality"], choice=self.pick("quality", quality)),
            Answer(question=q["attitude"], choice=self.pick("attitude", attitude)),
            Answer(question=q["promptness"], choice=self.pick("promptness", self.near(score))),
            Answer(question=q["needs"], choice=self.pick("needs", self.near(score))),
        ]
        if category == PC.PRODUCT_QUALITY:
            rows.append(Answer(question=q["quality_problem"], text=description))
        elif rng.random() < 0.2:
            rows.append(Answer(question=q["quality_problem"], text=rng.choice(NO_PROBLEM)))
        if rng.random() < 0.2:
            rows.append(Answer(question=q["difficulty"], text=rng.choice(DIFFICULTIES)))
        suggestion = rng.choice(SUGGESTIONS) if rng.random() < 0.25 else ""
        if suggestion:
            rows.append(Answer(question=q["suggestions"], text=suggestion))
        if rng.random() < 0.2:
            rows.append(Answer(question=q["improvements"], text=rng.choice(IMPROVEMENTS)))
        problems = []
        if category:
            grade = rng.choices([Grade.GENERAL, Grade.IMPORTANT, Grade.MAJOR], [60, 30, 10])[0]
            problems.append(ProblemReport(category=category, grade=grade, description=description))
        return rows, problems, suggestion

    def respond(self, *, customer, when, method, score=None, case=None, survey=None,
                followup=None, agent=None):  # fmt: skip
        score = score or self.score(when)
        by_phone = method != Method.ONLINE
        rows, problems, suggestion = self.answers(score, by_phone=by_phone)
        response = Response(
            version=self.version, customer=customer, case=case, survey=survey,
            followup=followup, method=method, answered_at=when, overall_score=score,
            has_problem=bool(problems), suggestions=suggestion if by_phone else "",
            department_id=case.department_id if case else None,
            # whose work the answer rates: the case's handler, else the agent who called
            agent_id=case.assignee_id if case else (agent.pk if agent else None),
            case_channel=case.channel if case else "",
            recorded_by=agent if by_phone else None,
        )  # fmt: skip
        self.responses.append((response, rows, problems))
        return response

    def call(self, followup, *, when, reached=True, tries=1):
        """The attempts of a call that ended at `when` (the last one reached or not)."""
        agent = followup.assignee
        for i in range(tries):
            last = i == tries - 1
            self.attempts.append(
                CallAttempt(
                    followup=followup, agent=agent, method=Method.PHONE,
                    at=when - datetime.timedelta(days=tries - 1 - i),
                    reached=reached and last,
                    note="" if reached and last else self.rng.choice(UNREACHED),
                )
            )  # fmt: skip
        followup.attempts = tries

    # --- customers -----------------------------------------------------------------------------

    def long_standing_customers(self):
        """Customers of a year or more who never complained: periodic care is most of whom
        the agents call."""
        rng = self.rng
        tiers = ([CustomerTier.KEY] * 6 + [CustomerTier.HIGH_VALUE] * 8
                 + [CustomerTier.ORDINARY] * 18 + [CustomerTier.LOW_VALUE] * 8)  # fmt: skip
        out = []
        for i, tier in enumerate(tiers[:LONG_STANDING]):
            (family, fpy), (given, gpy) = rng.choice(FAMILY), rng.choice(GIVEN)
            data = {"name": family + given, "phone": f"177{i:04d}{rng.randrange(10**4):04d}",
                    "tier": tier}  # fmt: skip
            if i < len(LONG_STANDING_COMPANIES):
                company, industry, domain = LONG_STANDING_COMPANIES[i]
                data.update(kind=CustomerKind.ENTERPRISE, company=company, industry=industry,
                            email=f"{fpy}.{gpy}@{domain}")  # fmt: skip
            elif rng.random() < 0.4:
                data["email"] = f"{fpy}{gpy}{rng.randrange(100)}@163.com"
            days = rng.randrange(400, 1100)
            customer = Customer(**data, created_at=self.now - datetime.timedelta(days=days))
            customer.full_clean()
            customer.save()
            out.append(customer)
        return out

    def purchases(self, customers):
        rng = self.rng
        changed = []
        for c in customers:
            if c.purchase_count:
                continue
            low, high, orders_low, orders_high = PURCHASES.get(
                c.tier, PURCHASES[CustomerTier.ORDINARY]
            )
            factor = 3 if c.kind == CustomerKind.ENTERPRISE else 1
            c.purchase_amount = Decimal(rng.randrange(low, high) * factor)
            c.purchase_count = rng.randrange(orders_low, orders_high + 1) * factor
            changed.append(c)
        Customer.objects.bulk_update(changed, ["purchase_amount", "purchase_count"])

    # --- periodic care -------------------------------------------------------------------------

    def periodic(self, customers):
        """Each customer's calls under their tier's plan over the last twelve months; in the
        current period some are done and a dozen wait in the queue."""
        rng = self.rng
        year_ago = self.today - datetime.timedelta(days=365)
        waiting = []
        for customer in customers:
            plan = self.plans.get(customer.tier)
            if plan is None or not plan.every_months:
                continue
            since = max(timezone.localdate(customer.created_at), year_ago)
            day = since
            while day <= self.today:
                key, start, following = services.plan_period(
                    day=day, every_months=plan.every_months
                )
                day = following
                first = max(start, since)
                last = min(following - datetime.timedelta(days=1), self.today)
                current = following > self.today
                followup = FollowUp(
                    customer=customer, purpose=FollowUpPurpose.PERIODIC, plan=plan, period=key,
                    version=self.version, assignee=rng.choice(self.agents),
                    max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
                )  # fmt: skip
                if current:
                    if first < self.today and rng.random() < 0.45:
                        self.periodic_done(followup, first, self.today - datetime.timedelta(days=1))
                    else:
                        waiting.append(followup)
                    continue
                roll = rng.random()
                if roll < 0.88:
                    self.periodic_done(followup, first, last)
                elif roll < 0.95:
                    when = self.at_work(
                        min(first + datetime.timedelta(days=rng.randrange(10)), last)
                    )
                    followup.due_at = followup.created_at = when - datetime.timedelta(days=2)
                    followup.status = FollowUpStatus.UNREACHABLE
                    followup.completed_at = when
                    self.call(followup, when=when, reached=False, tries=followup.max_attempts)
                    self.followups.append(followup)
                # else: missed that period (the plan was paused, the agent was on leave)
        rng.shuffle(waiting)
        self.queue(waiting[:12])

    def periodic_done(self, followup, first, last):
        rng = self.rng
        span = max((last - first).days, 0)
        due = self.at_work(first + datetime.timedelta(days=min(span, rng.randrange(0, 5))))
        when = self.at_work(
            first + datetime.timedelta(days=rng.randrange(0, span + 1)), earliest=due
        )
        followup.due_at = due
        followup.created_at = due - datetime.timedelta(minutes=30)
        followup.status = FollowUpStatus.DONE
        followup.completed_at = when
        self.call(followup, when=when, tries=1 if rng.random() < 0.8 else 2)
        method = rng.choices([Method.PHONE, Method.FACE, Method.EMAIL], [90, 5, 5])[0]
        self.respond(customer=followup.customer, when=when, method=method, followup=followup,
                     agent=followup.assignee)  # fmt: skip
        self.followups.append(followup)

    def queue(self, followups):
        """What agents find waiting: due today, overdue, later; theirs or nobody's yet."""
        start = timezone.make_aware(datetime.datetime.combine(self.today, datetime.time(9)))
        patterns = [
            (0, 1, self.agents[0]),  # due today, mine (agent1)
            (0, 5, None),  # due today, nobody's yet
            (-2, 2, self.agents[1]),  # overdue
            (-5, 0, None),  # overdue, tried once, unreached
            (0, 3, self.agents[1]),
            (2, 1, None),  # due later
            (-1, 4, self.agents[0]),
            (0, 7, None),
            (1, 2, self.agents[0]),
            (-3, 6, None),
            (0, 2, self.agents[1]),
            (3, 0, None),
        ]
        for followup, (days, hours, agent) in zip(followups, patterns, strict=False):
            followup.due_at = start + datetime.timedelta(days=days, hours=hours)
            followup.created_at = min(followup.due_at, self.now) - datetime.timedelta(hours=1)
            followup.assignee = agent
            followup.status = FollowUpStatus.PENDING
            if days <= -5:
                followup.assignee = self.agents[0]
                self.call(
                    followup, when=followup.due_at + datetime.timedelta(hours=2), reached=False
                )
                followup.assignee = None  # handed back to the pool after no answer
            self.followups.append(followup)
            self.counts["pending"] += 1

    # --- deliveries ----------------------------------------------------------------------------

    def deliveries(self, customers):
        rng = self.rng
        plan = self.delivery_plan
        cal = load_calendar() if plan else None
        buyers = sorted(customers, key=lambda c: -c.purchase_amount)[:30]
        made = []
        for i in range(10):
            product = rng.choice(list(PRICES))
            days_ago = [13, 12, 10, 9, 8, 6, 5, 3, 1, 0][i]
            delivered = self.at_work(self.today - datetime.timedelta(days=days_ago))
            delivery = Delivery.objects.create(
                customer=rng.choice(buyers),
                order_no=f"DD{timezone.localtime(delivered):%Y%m%d}{rng.randrange(10**5):05d}",
                product=PRODUCTS[product], amount=Decimal(PRICES[product] * rng.randrange(1, 4)),
                delivered_at=delivered, created_at=delivered,
            )  # fmt: skip
            made.append(delivery)
            if plan is None or days_ago <= 1:
                continue  # the hourly task (followups_generate) queues these
            due = workdays.add_working_days(delivered, plan.working_days_after_delivery, cal).at
            followup = FollowUp(
                customer=delivery.customer, purpose=FollowUpPurpose.DELIVERY, delivery=delivery,
                plan=plan, version=self.version, due_at=due, created_at=delivered,
                max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS, assignee=rng.choice(self.agents),
            )  # fmt: skip
            if due < self.now and rng.random() < 0.75:
                when = self.at_work(timezone.localdate(due), earliest=delivered)
                followup.status, followup.completed_at = FollowUpStatus.DONE, when
                self.call(followup, when=when)
                self.respond(customer=delivery.customer, when=when, method=Method.PHONE,
                             followup=followup, agent=followup.assignee)  # fmt: skip
            else:
                self.counts["pending"] += 1
                if rng.random() < 0.5:
                    followup.assignee = None
            self.followups.append(followup)
        return made

    # --- satisfaction surveys of cases ---------------------------------------------------------

    def case_surveys(self):
        rng = self.rng
        cases = list(
            Case.objects.filter(state=State.CLOSED, resolved_at__isnull=False, survey__isnull=True)
            .select_related("customer")
            .order_by("resolved_at", "pk")
        )
        valid = datetime.timedelta(days=settings.SURVEY_LINK_VALID_DAYS)
        for case in cases:
            customer = case.customer
            roll = rng.random()
            send_at = case.resolved_at + datetime.timedelta(hours=rng.uniform(2, 5))
            survey = Survey(
                case=case, customer=customer, version=self.version,
                channel=SurveyChannel.EMAIL if customer.email else SurveyChannel.SMS,
                nonce=tokens.new_nonce(), send_at=send_at, sent_at=send_at, attempts=1,
                window_ends_at=case.satisfaction_due
                or case.resolved_at + datetime.timedelta(hours=72),
                expires_at=send_at + valid, remind_at=send_at + datetime.timedelta(hours=24),
                created_at=case.resolved_at, status=SurveyStatus.SENT,
            )  # fmt: skip
            if send_at >= self.now:
                survey.status, survey.sent_at, survey.attempts = SurveyStatus.SCHEDULED, None, 0
                survey.expires_at = survey.remind_at = None
            elif roll < 0.68:
                when = send_at + datetime.timedelta(hours=rng.uniform(0.3, 30))
                if when < self.now:
                    survey.status, survey.answered_at = SurveyStatus.ANSWERED, when
                    self.respond(customer=customer, when=when, method=Method.ONLINE, case=case,
                                 survey=survey, score=case.feedback_score)  # fmt: skip
            elif roll < 0.80:  # a phone callback instead of a link (no e-mail, no SMS)
                survey.channel, survey.expires_at, survey.remind_at = (
                    SurveyChannel.PHONE,
                    None,
                    None,
                )
                agent = rng.choice(self.agents)
                when = min(self.at_work(timezone.localdate(send_at), earliest=send_at),
                           self.now - datetime.timedelta(minutes=5))  # fmt: skip
                followup = FollowUp(
                    customer=customer, purpose=FollowUpPurpose.SATISFACTION, case=case,
                    survey=survey, version=self.version, due_at=send_at, created_at=send_at,
                    assignee=agent, status=FollowUpStatus.DONE, completed_at=when,
                    max_attempts=settings.FOLLOWUP_MAX_ATTEMPTS,
                )  # fmt: skip
                self.call(followup, when=when)
                self.followups.append(followup)
                survey.status, survey.answered_at = SurveyStatus.ANSWERED, when
                self.respond(customer=customer, when=when, method=Method.PHONE, case=case,
                             survey=survey, followup=followup, agent=agent,
                             score=case.feedback_score)  # fmt: skip
            elif roll < 0.92:
                survey.reminded_at = survey.remind_at
                if survey.expires_at <= self.now:
                    survey.status = SurveyStatus.EXPIRED
                elif survey.remind_at > self.now:
                    survey.reminded_at = None
            elif roll < 0.96:
                survey.status, survey.sent_at, survey.expires_at = SurveyStatus.FAILED, None, None
                survey.remind_at = None
                survey.last_error = "550 5.1.1 recipient address rejected: mailbox unavailable"
            else:
                survey.status, survey.sent_at, survey.expires_at = (
                    SurveyStatus.CANCELLED,
                    None,
                    None,
                )
                survey.remind_at = None
            if survey.status == SurveyStatus.SENT and survey.remind_at <= self.now:
                survey.reminded_at = survey.remind_at  # reminded once already
            self.surveys.append(survey)
        # Cases resolved and not closed yet: scheduled as their resolution would have (a
        # running server did this already, after the complaints demo committed).
        resolved = Case.objects.filter(state=State.RESOLVED, survey__isnull=True)
        for case in resolved:
            services.survey_schedule(case=case, now=self.now)
        return len(cases)

    # --- all of it -----------------------------------------------------------------------------

    def save(self):
        Survey.objects.bulk_create(self.surveys)
        FollowUp.objects.bulk_create(self.followups)
        CallAttempt.objects.bulk_create(self.attempts)
        Response.objects.bulk_create([r for r, _rows, _problems in self.responses])
        answers, problems = [], []
        for response, rows, found in self.responses:
            for row in rows:
                row.response = response
            for problem in found:
                problem.response = response
            answers += rows
            problems += found
        Answer.objects.bulk_create(answers, batch_size=500)
        ProblemReport.objects.bulk_create(problems)
        return len(answers), len(problems)

    def seed(self):
        existing = list(Customer.objects.filter(anonymized_at__isnull=True).order_by("pk"))
        customers = existing + self.long_standing_customers()
        self.purchases(customers)
        self.periodic(customers)
        deliveries = self.deliveries(customers)
        cases = self.case_surveys()
        answers, problems = self.save()
        return (
            f"{len(customers) - len(existing)} long-standing customers, "
            f"{len(self.responses)} questionnaires answered ({answers} answers, {problems} "
            f"problems found), {len(self.surveys)} surveys of {cases} closed cases, "
            f"{len(deliveries)} deliveries, {self.counts['pending']} calls waiting"
        )


def seed(staff):
    version = services.satisfaction_version()
    if version is None or Response.objects.exists():
        return ""  # no questionnaire to answer, or follow-ups already under way
    return DemoFollowUps(staff, timezone.now(), version).seed()
