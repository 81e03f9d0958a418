"""Demo data for `make run`: departments, staff in every role, then each app's own demo data.

Loaded once: a database that already has staff users is left alone. Each app may provide
`<app>.demo.seed(staff)`; they run from the lowest app up (knowledge, complaints, callbacks, reports).
"""

import importlib

from django.contrib.auth.models import Group
from django.db import transaction

from servicedesk.staff import roles
from servicedesk.staff.models import Department, Membership, User

DEMO_PASSWORD = "servicedesk"

DEPARTMENTS = [
    ("kefu", "客服中心", "一线客服：受理登记、首次响应、回访"),
    ("tech", "技术部", "技术部：系统故障、账号、数据问题"),
    ("aftersales", "售后部", "售后部：退货、换货、维修"),
    ("logistics", "物流部", "物流部：配送、运输途中损坏"),
    ("product", "产品部", "产品部：产品质量与功能建议"),
]

# username, family name, given name, role, departments, department lead
STAFF = [
    ("admin", "系统", "管理员", roles.ADMINISTRATOR, ["kefu"], False),
    ("manager", "王", "经理", roles.MANAGER, ["kefu", "aftersales"], False),
    ("supervisor", "李", "主管", roles.SUPERVISOR, ["kefu"], True),
    ("tech_lead", "赵", "主管", roles.SUPERVISOR, ["tech"], True),
    ("agent1", "张", "小燕", roles.AGENT, ["kefu"], False),
    ("agent2", "陈", "晓明", roles.AGENT, ["kefu"], False),
    ("tech1", "刘", "工", roles.HANDLER, ["tech"], False),
    ("tech2", "孙", "工", roles.HANDLER, ["tech"], False),
    ("aftersales1", "周", "师傅", roles.HANDLER, ["aftersales"], False),
    ("logistics1", "吴", "师傅", roles.HANDLER, ["logistics"], False),
    ("product1", "郑", "经理", roles.HANDLER, ["product"], False),
]

APPS_IN_ORDER = ["knowledge", "complaints", "callbacks", "servicedesk.reports"]


def is_seeded():
    return User.objects.filter(username="admin").exists()


@transaction.atomic
def seed_staff():
    depts = {}
    for code, name, description in DEPARTMENTS:
        depts[code], _ = Department.objects.get_or_create(
            code=code, defaults={"name": name, "description": description}
        )
    users = {}
    for username, last, first, role, dept_codes, lead in STAFF:
        user = User.objects.create_user(
            username=username,
            password=DEMO_PASSWORD,
            last_name=last,
            first_name=first,
            email=f"{username}@kefu.example.com",
            is_staff=True,
            is_superuser=(role == roles.ADMINISTRATOR),
        )
        user.groups.add(Group.objects.get(name=role))
        for code in dept_codes:
            Membership.objects.create(user=user, department=depts[code], is_lead=lead)
        users[username] = user
    return {"departments": depts, "users": users}


def seed(log=print):
    staff = seed_staff()
    for label in APPS_IN_ORDER:
        try:
            module = importlib.import_module(f"{label}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{label}.demo":
                raise
            continue
        with transaction.atomic():
            summary = module.seed(staff)
        if summary:
            log(f"  {label}: {summary}")
