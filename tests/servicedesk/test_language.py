"""A zh-hans admin speaks Chinese: the main pages, rendered as each demo role over the demo
data, show no English word (outside a short allow-list of product and file-format names)
and no raw code. The cheap version of the browser check in tests/e2e.

Visible text only: scripts, styles and hidden elements are left out; screen-reader-only
text (`visually-hidden`) counts, because it is read out.
"""

import re

import lxml.html
import pytest
from django.urls import reverse

from complaints.models import Case
from servicedesk import demo
from servicedesk.staff.models import User

# Names and abbreviations a Chinese agent writes in Latin letters too.
ALLOWED = {
    "English",  # the language menu names each language in itself
    "APP", "App", "app", "ID", "API", "JSON", "Excel", "CSV", "PDF", "KB", "MB", "Markdown",
    "AirSound",  # a product in the demo data
}  # fmt: skip

# The pages staff use every day, and a few lists of each app.
CHANGELISTS = [
    "complaints_case", "complaints_customer", "complaints_returnrequest",
    "complaints_urgencyrule", "complaints_routingrule", "complaints_slabreach",
    "callbacks_followup", "callbacks_survey", "callbacks_response",
    "callbacks_satisfactionsummary", "callbacks_delivery",
    "knowledge_article", "knowledge_postincidentreview",
    "reports_alert", "reports_report", "reports_export", "reports_risk",
    "staff_notification", "django_celery_beat_periodictask",
]  # fmt: skip

ROLES = ["agent1", "tech1", "supervisor", "manager", "admin"]


def visible_text(html):
    """The text a sighted or screen-reader user gets from the page."""
    doc = lxml.html.fromstring(html)
    for element in doc.xpath(
        "//script | //style | //template | //noscript | //*[@hidden]"
        " | //*[contains(concat(' ', normalize-space(@class), ' '), ' hidden ')]"
        " | //input[@type='hidden']"
    ):
        element.drop_tree()
    return " ".join(" ".join(doc.itertext()).split())


def foreign_words(text):
    """Latin-letter words that are not names we allow, codes with digits, addresses or links."""
    found = set()
    for token in re.findall(r"[A-Za-z0-9_@.:/\-'+*]+", text):
        if "@" in token or "://" in token or any(c.isdigit() for c in token):
            continue  # an e-mail address, a link, an order or case number
        word = token.strip(".:/-'+")
        if len(word) > 1 and re.search(r"[A-Za-z]", word) and word not in ALLOWED:
            found.add(word)
    return found


def test_visible_text_and_foreign_words():
    html = (
        '<html><body><p>工单 Case <span class="visually-hidden">Model name</span></p>'
        '<div class="hidden">Expected version</div><script>var x = "Hidden";</script>'
        "<p hidden>Gone</p><p>DD2026 agent1@kefu.example.com APP sla_sweep</p></body></html>"
    )
    text = visible_text(html)
    assert "Expected" not in text and "Hidden" not in text and "Gone" not in text
    assert foreign_words(text) == {"Case", "Model", "name", "sla_sweep"}


@pytest.fixture
def demo_desk(db):
    demo.seed(log=lambda *args: None)


def _pages_of(user):
    case = Case.objects.visible_to(user).order_by("-pk").first()
    pages = [reverse("admin:index")]
    if case is not None:
        pages.append(reverse("admin:complaints_case_change", args=[case.pk]))
    return pages + [reverse(f"admin:{name}_changelist") for name in CHANGELISTS]


def test_main_admin_pages_have_no_english_for_any_demo_role(client, demo_desk):
    problems = {}
    for username in ROLES:
        user = User.objects.get(username=username)
        client.force_login(user)
        opened = []
        for url in _pages_of(user):
            response = client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans")
            if response.status_code == 403:
                continue  # not this role's page (the 403 page is checked below)
            assert response.status_code == 200, (username, url, response.status_code)
            opened.append(url)
            words = foreign_words(visible_text(response.content.decode()))
            if words:
                problems[f"{username} {url}"] = sorted(words)
        # Every role gets at least the index, the case list and a case.
        assert len(opened) >= 3, (username, opened)
    assert not problems, "English on zh-hans pages:\n" + "\n".join(
        f"  {page}: {', '.join(words)}" for page, words in problems.items()
    )
