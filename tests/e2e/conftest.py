"""Browser tests: Playwright drives Debian's Chromium (`/usr/bin/chromium`, never a downloaded
browser) against pytest-django's live server, on the PostgreSQL run of `make test`.

`tests/ensure-browser.sh` (called by tests/run-suite.sh) installs `chromium` and
`fonts-noto-cjk` with apt when they are absent and it can. Without Chromium the tests are
skipped with the reason, or fail under CI=true.

One browser for the whole folder; each test gets its own context (1440×900, zh-CN, Beijing
time) and a clock fixed on a Monday morning, so nothing depends on today's date.
"""

import datetime
import importlib
import os
import shutil
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings

CHROMIUM = "/usr/bin/chromium"
TZ = ZoneInfo("Asia/Shanghai")
# A Monday, 10:00 in Beijing: a working day in the shipped calendar.
MONDAY_10 = datetime.datetime(2026, 11, 9, 10, 0, tzinfo=TZ)
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def on_postgres():
    return settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def pytest_collection_modifyitems(config, items):
    for item in items:
        if "tests/e2e/" not in str(item.path):
            continue
        item.add_marker(pytest.mark.e2e)
        if not on_postgres():
            item.add_marker(
                pytest.mark.skip(reason="browser tests run on the PostgreSQL run of make test")
            )


def _no_browser(reason):
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}; under CI the browser tests must run (tests/ensure-browser.sh)")
    pytest.skip(f"{reason} (tests/ensure-browser.sh installs it when run as root)")


@pytest.fixture(scope="package")
def browser():
    """One headless Chromium for every test of this folder.

    Package scope rather than session: Playwright's sync API keeps an asyncio loop running in
    the main thread while it is started, and Django refuses ORM calls from a thread with a
    running loop. So Django's guard is lifted only while the browser runs (here), and the
    browser stops after the last browser test, before any other test of the session.
    """
    if not (os.path.exists(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        _no_browser(f"{CHROMIUM} is not installed")
    if shutil.which("fc-list") and not os.popen("fc-list :lang=zh family").read().strip():
        _no_browser("no Chinese font is installed (fonts-noto-cjk)")
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=5_000)

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    pw = sync_playwright().start()
    try:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=["--lang=zh-CN"])
        try:
            yield chromium
        finally:
            chromium.close()
    finally:
        pw.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package", autouse=True)
def _flush_without_role_sync(django_db_blocker):
    """After each browser test the live server's data is flushed, and a flush re-sends
    post_migrate once per app: the role sync (servicedesk.staff) would run ~18 times (~8 s).
    Within this folder it is off; `shipped_data` syncs the roles once instead, and so does
    the end of the folder, for the tests after it (the role groups exist after a flush)."""
    from django.db.models.signals import post_migrate

    from servicedesk.staff import roles

    post_migrate.disconnect(dispatch_uid="staff.sync_roles")
    try:
        yield
    finally:
        post_migrate.connect(roles.sync_role_permissions, dispatch_uid="staff.sync_roles")
        with django_db_blocker.unblock():
            roles.sync_role_permissions()


@pytest.fixture
def clock(browser):
    """The server's clock: Monday 2026-11-09 10:00 in Beijing, then running. (Requests the
    browser first so its setup never runs under the moved clock.)"""
    with time_machine.travel(MONDAY_10, tick=True) as traveller:
        yield traveller


@pytest.fixture
def shipped_data(transactional_db, browser):
    """What the data migrations put in (calendar, default plan, urgency rules, the handbook
    questionnaire): an earlier transactional test's flush removes it, so put it back."""
    from django.apps import apps
    from django.contrib.auth.models import Group
    from django.db import connection

    from callbacks.models import FollowUpPlan, Questionnaire
    from complaints.models import UrgencyRule
    from knowledge.models import Plan
    from servicedesk.calendar.models import CalendarYear
    from servicedesk.staff import roles

    def migration(app, name):
        return importlib.import_module(f"{app}.migrations.{name}")

    class Editor:  # what the migration functions read of a schema editor
        pass

    Editor.connection = connection
    if not Group.objects.exists():
        roles.sync_role_permissions()
    if not CalendarYear.objects.exists():
        migration("servicedesk.calendar", "0002_seed_from_package").seed(apps, Editor)
    if not Plan.objects.exists():
        migration("knowledge", "0003_default_plan").create(apps, Editor)
    if not UrgencyRule.objects.exists():
        migration("complaints", "0002_default_urgency_rules").create(apps, Editor)
    if not Questionnaire.objects.filter(code="satisfaction-callback").exists():
        migration("callbacks", "0002_handbook_questionnaire").ship(apps, Editor)
        # …as the later migrations left it: the hotline from the setting, the translations.
        migration("callbacks", "0013_hotline_from_setting").forwards(apps, Editor)
        migration("callbacks", "0015_handbook_questionnaire_translations").translate(apps, Editor)
    if not FollowUpPlan.objects.exists():
        migration("callbacks", "0004_default_plans_and_schedules").create(apps, Editor)


@pytest.fixture
def desk(browser, live_server, shipped_data, clock, request):
    """desk(viewport=DESKTOP) -> a new page in a fresh browser context (zh-CN, Beijing time)
    on the live server; closed after the test."""
    from .pages import Desk

    contexts = []

    def open_page(viewport=DESKTOP, **options):
        context = browser.new_context(
            base_url=live_server.url,
            locale="zh-CN",
            timezone_id="Asia/Shanghai",
            viewport=viewport,
            **options,
        )
        context.set_default_timeout(15_000)
        contexts.append(context)
        return Desk(context.new_page(), name=request.node.name)

    yield open_page
    for context in contexts:
        context.close()


@pytest.fixture
def team(make_user, shipped_data):
    """Two departments and one person per role, with Chinese names; complaints are routed to
    售后部 and given to its handler."""
    from types import SimpleNamespace

    from complaints.models import RoutingRule
    from servicedesk.staff import roles
    from servicedesk.staff.models import Department

    kefu = Department.objects.create(code="kefu", name="客服中心")
    aftersales = Department.objects.create(code="aftersales", name="售后部")

    def person(username, last, first, role, depts, lead=False):
        return make_user(
            username, role=role, departments=depts, lead=lead, last_name=last, first_name=first
        )

    RoutingRule.objects.create(
        name="投诉转售后部", case_type="complaint", department=aftersales, order=1
    )
    return SimpleNamespace(
        kefu=kefu,
        aftersales=aftersales,
        agent=person("zhangxy", "张", "小燕", roles.AGENT, [kefu]),
        handler=person("zhoushifu", "周", "师傅", roles.HANDLER, [aftersales]),
        supervisor=person("lizg", "李", "主管", roles.SUPERVISOR, [kefu], lead=True),
        manager=person("wangjl", "王", "经理", roles.MANAGER, [kefu]),
    )
