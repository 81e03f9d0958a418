"""Demo data for cases (`make run`): routing rules, about sixty customers and some three
hundred cases over the last four months, from every channel and in every state.

Every case goes through services.case_intake and every step through services.case_transition
(or case_add_event / case_record_feedback), done by a demo user who has the permission, with
`now` set to when it happened. Deterministic: the same seed gives the same data.
"""

import datetime
import random

from django.utils import timezone

from . import services
from .demo_people import (
    CUSTOMERS,
    ENTERPRISES,
    FAMILY,
    GIVEN,
    MAIL_DOMAINS,
    PHONE_PREFIXES,
)
from .demo_scenarios import (
    ANGRY,
    CANCEL_REASONS,
    CHANNEL_WEIGHTS,
    DUP_PREFIXES,
    FEEDBACK,
    GENERIC_PROGRESS,
    PRODUCTS,
    REMARKS,
    REOPEN_UNSATISFIED,
    SCENARIOS,
    STAFF_CHANNELS,
)
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

# The customers are in demo_people, what they tell us in demo_scenarios.


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
