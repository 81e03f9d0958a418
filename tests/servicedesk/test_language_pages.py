"""What a Chinese-speaking agent reads on the admin's frame: the product name, a greeting
with their name, list pages titled by what they list, filters "按…", screen-reader headers,
the language menu, the role names, the scheduler's jobs, and the 403/404/500 pages."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils import translation

from servicedesk import logs, views
from servicedesk.staff import roles

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def zh_client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return client


def _page(client, url, status=200):
    response = client.get(url)
    assert response.status_code == status, (url, response.status_code)
    return response.content.decode()


def test_frame_greets_by_full_name_in_chinese(zh_client, make_user, department):
    user = make_user("agent9", role=roles.AGENT, departments=[department])
    user.last_name, user.first_name = "张", "小燕"
    user.save()
    zh_client.force_login(user)
    page = _page(zh_client, reverse("admin:index"))
    assert "欢迎，<strong>张小燕</strong>" in page
    assert "客户服务中心" in page and "Service Desk" not in page
    # The sidebar table's screen-reader-only headers are read out in Chinese too.
    assert "功能名称" in page and "Model name" not in page and "Add link" not in page
    # The language menu names the language, not its code.
    assert ">简体中文</option>" in page and ">zh-hans<" not in page


def test_list_page_titled_by_what_it_lists_with_chinese_filters(zh_client, supervisor):
    zh_client.force_login(supervisor)
    page = _page(zh_client, reverse("admin:complaints_urgencyrule_changelist"))
    assert "来修改" not in page and "来查看" not in page and "选择 " not in page
    assert "按状态" in page or "按紧急程度" in page
    assert " 以 " not in page
    page = _page(zh_client, reverse("admin:complaints_case_changelist"))
    assert "工单中心" in page  # the app, so the breadcrumb is not 工单 › 工单
    assert "工单 › 工单" not in page.replace("&rsaquo;", "›")


def test_list_pages_count_their_rows_in_chinese(zh_client, supervisor):
    from complaints.models import UrgencyRule

    zh_client.force_login(supervisor)
    rules = UrgencyRule.objects.count()
    page = _page(zh_client, reverse("admin:complaints_urgencyrule_changelist"))
    assert f"共 {rules} 条" in page
    page = _page(zh_client, reverse("admin:complaints_case_changelist"))
    assert "共 0 条" in page and "0 工单" not in page


def test_urgency_rules_are_named_in_chinese(zh_client, supervisor):
    zh_client.force_login(supervisor)
    page = _page(zh_client, reverse("admin:complaints_urgencyrule_changelist"))
    assert "媒体曝光" in page and "Media exposure" not in page and "Refund" not in page


def test_staff_list_names_roles_in_chinese_with_the_email_column_as_邮箱(admin_client, make_user):
    for i, role in enumerate(roles.ALL_ROLES):
        make_user(f"someone{i}", role=role)
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    page = _page(admin_client, reverse("admin:staff_user_changelist"))
    assert "客服、" in page or ">客服<" in page or "客服</td>" in page
    assert "邮箱" in page and "电子邮件地址" not in page
    for english in ["Agent", "Handler", "Supervisor", "Manager", "Administrator"]:
        assert f">{english}<" not in page and f"{english}</a>" not in page


def test_scheduler_jobs_have_chinese_titles_and_schedules(admin_client):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    page = _page(admin_client, reverse("admin:django_celery_beat_periodictask_changelist"))
    assert "时限检查与升级" in page and "每天 08:00" in page and "每月 1 日 02:00" in page
    assert "complaints.sla_sweep" not in page and "(m/h/dM/MY/d)" not in page


def test_403_page_is_chinese_in_the_admin_look(zh_client, agent):
    zh_client.force_login(agent)
    page = _page(zh_client, reverse("admin:reports_risk_changelist"), status=403)
    assert "您无权打开此页面" in page and "客户服务中心" in page
    assert 'href="/static/admin/css/base.css"' in page or "admin/css/base" in page
    assert "Forbidden" not in page


def test_404_page_is_chinese_in_the_admin_look(zh_client, agent):
    zh_client.force_login(agent)
    page = _page(zh_client, "/no-such-page/", status=404)
    assert "页面不存在" in page and "返回客户服务中心" in page and "Not Found" not in page


def test_500_page_is_chinese_and_stands_alone():
    request = RequestFactory().get("/admin/")
    with translation.override("zh-hans"):
        response = views.server_error(request)
    page = response.content.decode()
    assert response.status_code == 500
    assert "系统出错了" in page and "没有保存任何内容" in page and "Server Error" not in page


def test_favicon_on_admin_and_public_pages(zh_client, client, agent):
    zh_client.force_login(agent)
    assert "servicedesk/favicon.svg" in _page(zh_client, reverse("admin:index"))
    assert "servicedesk/favicon.svg" in _page(client, "/submit/")
    response = client.get("/favicon.ico")
    assert response.status_code == 301 and response["Location"].endswith("favicon.svg")


# --- the console ------------------------------------------------------------------------------


def test_an_ordinary_403_is_logged_without_a_traceback():
    try:
        raise PermissionError("no")
    except PermissionError:
        record = logging.LogRecord(
            "django.request", logging.WARNING, __file__, 1, "Forbidden: %s", ("/x",), sys.exc_info()
        )
    record.status_code = 403
    assert logs.NoTracebackFor403().filter(record)
    assert record.exc_info is None
    assert "Traceback" not in logging.Formatter().format(record)


def test_a_finished_task_is_logged_in_words_not_as_a_dict():
    record = logging.LogRecord(
        "celery.app.trace", logging.INFO, __file__, 1,
        "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s",
        None, None,
    )  # fmt: skip
    record.args = {
        "name": "callbacks.tasks.survey_dispatch", "id": "abc", "runtime": 0.397851368,
        "return_value": "{'sent': 0, 'late': 24}",
    }  # fmt: skip
    logs.ReadableTaskResults().filter(record)
    assert (
        record.getMessage()
        == "Task callbacks.tasks.survey_dispatch done in 0.40 s: sent 0, late 24"
    )
    assert logs.task_result_words("None") == ""
    assert logs.task_result_words("(0, 0)") == "0 / 0"


def test_site_url_in_development_follows_the_web_port(tmp_path):
    env = {**os.environ, "DEBUG": "1", "WEB_PORT": "8091", "VAR_DIR": str(tmp_path)}
    env.pop("SITE_URL", None)
    out = subprocess.run(
        [sys.executable, "-c", "from django.conf import settings; print(settings.SITE_URL)"],
        env={**env, "DJANGO_SETTINGS_MODULE": "servicedesk.settings"},
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=True,
    )  # fmt: skip
    assert out.stdout.strip() == "http://127.0.0.1:8091"
