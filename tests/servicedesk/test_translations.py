"""The Simplified Chinese (zh-hans) catalogue stays complete, valid and compiled, and the
admin and the public web form actually speak it.

The completeness check extracts the messages of a copy of the project source (so the
committed catalogue is never touched) and asks the gettext tools whether any message is
left untranslated or fuzzy.
"""

import gettext
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
LOCALE = "zh_Hans"
PO = ROOT / "servicedesk" / "locale" / LOCALE / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")

# What makemessages scans: the project source, without the virtualenv, runtime data or tests.
SOURCE_DIRS = ["servicedesk", "complaints", "callbacks", "knowledge"]
SOURCE_FILES = ["manage.py"]

GETTEXT_TOOLS = ["xgettext", "msgmerge", "msguniq", "msgattrib", "msgfmt"]


def _missing_tools(*tools):
    return [tool for tool in tools if shutil.which(tool) is None]


needs_gettext = pytest.mark.skipif(
    bool(_missing_tools(*GETTEXT_TOOLS)),
    reason="GNU gettext tools not installed (missing: "
    f"{', '.join(_missing_tools(*GETTEXT_TOOLS))}); install the 'gettext' package",
)


def _run(args, **kwargs):
    result = subprocess.run(args, capture_output=True, text=True, timeout=300, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, args))} failed ({result.returncode}):\n"
        f"{result.stdout}\n{result.stderr}"
    )
    return result


def _msgids(po_text):
    """The msgids of a PO file's entries (header excluded), for readable failure messages."""
    ids, current = [], None
    for line in po_text.splitlines():
        if line.startswith("msgid "):
            current = [line[len("msgid ") :]]
        elif current is not None and line.startswith('"'):
            current.append(line)
        elif current is not None:
            text = "".join(part.strip()[1:-1] for part in current)
            if text:
                ids.append(text)
            current = None
    if current is not None:
        text = "".join(part.strip()[1:-1] for part in current)
        if text:
            ids.append(text)
    return ids


# Header fields that change on every makemessages run without changing any translation.
VOLATILE_HEADERS = ("POT-Creation-Date:", "PO-Revision-Date:")


def _catalog(mo_path):
    """The messages of a compiled catalogue, header included minus its volatile dates."""
    with open(mo_path, "rb") as fh:
        catalog = dict(gettext.GNUTranslations(fh)._catalog)
    catalog[""] = "\n".join(
        line for line in catalog.get("", "").splitlines() if not line.startswith(VOLATILE_HEADERS)
    )
    return catalog


@pytest.fixture(scope="module")
def extracted_po(tmp_path_factory):
    """makemessages run on a copy of the source tree; returns the refreshed copy of the .po."""
    if _missing_tools(*GETTEXT_TOOLS):
        pytest.skip(f"GNU gettext tools not installed: {', '.join(_missing_tools(*GETTEXT_TOOLS))}")
    base = tmp_path_factory.mktemp("i18n")
    src, var = base / "src", base / "var"
    var.mkdir()
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in SOURCE_DIRS:
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    for name in SOURCE_FILES:
        shutil.copy2(ROOT / name, src / name)

    committed = PO.read_bytes()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        DEBUG="1",
        VAR_DIR=str(var),
        DJANGO_SETTINGS_MODULE="servicedesk.settings",
        PYTHONDONTWRITEBYTECODE="1",
    )
    _run(
        [sys.executable, "manage.py", "makemessages", "-l", LOCALE, "--no-obsolete"],
        cwd=src,
        env=env,
    )
    # makemessages writes to settings.LOCALE_PATHS: it must have been the copy's.
    assert PO.read_bytes() == committed, "makemessages touched the committed catalogue"
    po = src / PO.relative_to(ROOT)
    assert po.is_file()
    return po


@needs_gettext
def test_every_message_in_the_code_is_translated(extracted_po):
    untranslated = _run(["msgattrib", "--untranslated", "--no-wrap", str(extracted_po)]).stdout
    missing = _msgids(untranslated)
    assert not missing, (
        f"{len(missing)} message(s) without a zh-hans translation; run makemessages -l "
        f"{LOCALE} and translate them in {PO.relative_to(ROOT)}:\n" + "\n".join(missing)
    )


@needs_gettext
def test_no_fuzzy_translations(extracted_po):
    fuzzy = _run(["msgattrib", "--only-fuzzy", "--no-wrap", str(extracted_po)]).stdout
    guesses = _msgids(fuzzy)
    assert not guesses, (
        f"{len(guesses)} fuzzy (unchecked) translation(s); check them and remove the "
        "'#, fuzzy' flag:\n" + "\n".join(guesses)
    )


@pytest.mark.skipif(bool(_missing_tools("msgfmt")), reason="GNU gettext msgfmt not installed")
def test_catalogue_placeholders_and_syntax_are_valid(tmp_path):
    _run(["msgfmt", "--check-format", "-o", str(tmp_path / "check.mo"), str(PO)])


@pytest.mark.skipif(bool(_missing_tools("msgfmt")), reason="GNU gettext msgfmt not installed")
def test_compiled_catalogue_matches_the_po(tmp_path):
    assert MO.is_file(), f"{MO.relative_to(ROOT)} missing: run compilemessages"
    fresh = tmp_path / "django.mo"
    _run(["msgfmt", "--check-format", "-o", str(fresh), str(PO)])
    committed, expected = _catalog(MO), _catalog(fresh)
    stale = sorted(
        str(key)
        for key in expected.keys() | committed.keys()
        if committed.get(key) != expected.get(key)
    )
    assert not stale, (
        f"{MO.relative_to(ROOT)} is out of date with the .po ({len(stale)} differing "
        "message(s)); run compilemessages --locale zh_Hans:\n" + "\n".join(stale[:20])
    )


# --- the pages speak the language --------------------------------------------------------

ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-hans"}
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


@pytest.fixture
def admin_client_with_case(client, make_user):
    from tests.complaints.helpers import intake

    result = intake()
    client.force_login(make_user("root", is_superuser=True))
    return client, result.case


def _page(client, url, **headers):
    response = client.get(url, **headers)
    assert response.status_code == 200, url
    return response.content.decode()


def test_admin_case_list_in_chinese_and_english(admin_client_with_case):
    client, _case = admin_client_with_case
    url = reverse("admin:complaints_case_changelist")

    zh = _page(client, url, **ZH)
    for term in ["工单", "紧急程度", "渠道", "我的工单", "未分派", "登记工单", "电话"]:
        assert term in zh, term
    assert "Register a case" not in zh

    en = _page(client, url, **EN)
    for term in ["Register a case", "urgency", "My cases", "Unassigned"]:
        assert term.lower() in en.lower(), term
    assert "紧急程度" not in en and "登记工单" not in en


def test_language_cookie_wins_over_the_browser(admin_client_with_case):
    client, _case = admin_client_with_case
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = _page(client, reverse("admin:complaints_case_changelist"), **ZH)
    assert "Register a case" in page
    assert "登记工单" not in page


def test_admin_intake_form_in_chinese_and_english(admin_client_with_case):
    client, _case = admin_client_with_case
    url = reverse("admin:complaints_case_add")

    zh = _page(client, url, **ZH)
    for term in [
        "渠道",
        "紧急程度",
        "优先级",
        "需求类型",
        "问题性质",
        "会员号",
        "客户原话",
        "登记",
    ]:
        assert term in zh, term

    en = _page(client, url, **EN)
    for term in ["channel", "urgency", "priority", "member number", "Register"]:
        assert term.lower() in en.lower(), term
    assert "紧急程度" not in en and "会员号" not in en


def test_admin_case_page_in_chinese(admin_client_with_case):
    client, case = admin_client_with_case
    zh = _page(client, reverse("admin:complaints_case_change", args=[case.pk]), **ZH)
    for term in ["处理记录", "下一步", "已受理", "工单详情", "紧急程度"]:
        assert term in zh, term


def test_public_form_speaks_chinese_by_default(client, db):
    page = _page(client, reverse("complaints:submit"))
    for term in ["联系我们", "您的姓名", "手机号码", "需求类型", "问题涉及哪方面", "附件", "提交"]:
        assert term in page, term
    assert "Your name" not in page


def test_public_form_in_english_on_request(client, db):
    page = _page(client, reverse("complaints:submit"), **EN)
    assert "Your name" in page
    assert "您的姓名" not in page
