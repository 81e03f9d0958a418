"""A page of the desk as a user sees it, with the checks every visited page must pass:

- no English word on a zh-hans page outside an allow-list (the page's visible text, including
  the screen-reader-only headings a blind agent hears);
- the case list fits a 1440 px screen: its results box does not scroll sideways.

`Desk.look()` runs them; every navigation helper calls it. Screenshots go to
docs/screenshots/ when SAVE_SCREENSHOTS=1.
"""

import os
import re
from pathlib import Path

from playwright.sync_api import expect

PASSWORD = "pw-for-tests"  # tests/conftest.py make_user
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

# English a Chinese agent is expected to meet on a zh-hans page.
ALLOWED_PHRASES = []
ALLOWED_WORDS = {
    "English",  # the language switcher offers English, in English
    "APP",  # Chinese usage (APP 闪退)
}
# A single capital letter is Chinese usage too: B角 (a backup), 华东仓 A 区, C 类.
SINGLE_LETTER = re.compile(r"[A-Z]")
# Stripped before looking: addresses and e-mail addresses are not words; L1/L2 are the
# escalation levels as Chinese operations teams write them.
NOT_TEXT = re.compile(r"\S+@\S+|https?://\S+|(?<![A-Za-z])L[12](?!\d)")
WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")

# English still on main that a browser test meets, each with its reason; remove an entry when
# it is fixed, and the test guards it from then on.
PENDING_WORDS = set()
PENDING_PATTERNS = []

# The case list's results box must not scroll sideways at 1440 px (on every visit).
CASE_LIST_FITS = True


def english_words(text):
    """The English words of `text` outside the allow-lists, in order of appearance."""
    for phrase in ALLOWED_PHRASES:
        text = text.replace(phrase, " ")
    for pattern in PENDING_PATTERNS:
        text = pattern.sub(" ", text)
    text = NOT_TEXT.sub(" ", text)
    found = []
    for word in WORD.findall(text):
        if (
            word in ALLOWED_WORDS
            or SINGLE_LETTER.fullmatch(word)
            or word.upper() in PENDING_WORDS
            or word in found
        ):
            continue
        found.append(word)
    return found


def in_context(text, words, width=30):
    """Where the first few `words` stand in `text`, for the failure message."""
    for word in words[:5]:
        match = re.search(rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", text)
        if match:
            yield text[max(0, match.start() - width) : match.end() + width].replace("\n", " ")


def results_box_overflow(page):
    """(scrollWidth, clientWidth) of the case list's results box, or None off the case list."""
    return page.evaluate(
        """() => {
            if (!document.body.matches('.app-complaints.model-case.change-list')) return null;
            const box = document.querySelector('#changelist .results');
            return box ? [box.scrollWidth, box.clientWidth] : null;
        }"""
    )


class Desk:
    """One browser page of one user, with the checks run on every page it shows."""

    def __init__(self, page, name=""):
        self.page = page
        self.name = name
        self.looked = []  # the addresses checked

    # --- checks ------------------------------------------------------------------------------

    def look(self, *, case_list_fits=None):
        """Check the page shown now (see the module docstring); returns it."""
        page = self.page
        page.wait_for_load_state("load")
        lang = page.evaluate("document.documentElement.lang")
        if lang == "zh-hans":
            text = page.inner_text("body")
            words = english_words(text)
            assert not words, f"English on the zh-hans page {page.url}: {words}" + "".join(
                f"\n  …{context}…" for context in in_context(text, words)
            )
        fits = CASE_LIST_FITS if case_list_fits is None else case_list_fits
        sizes = results_box_overflow(page)
        if fits and sizes is not None:
            scroll, client = sizes
            assert scroll <= client, (
                f"the case list scrolls sideways at {page.viewport_size['width']} px: "
                f"{scroll} px of table in a {client} px box ({page.url})"
            )
        self.looked.append(page.url)
        return page

    def shot(self, name):
        """Save a PNG of the viewport to docs/screenshots/<name>.png when SAVE_SCREENSHOTS=1."""
        if os.environ.get("SAVE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))

    # --- navigation ----------------------------------------------------------------------------

    def goto(self, path):
        self.page.goto(path)
        return self.look()

    def click(self, locator):
        """Click something that loads a new page, then check that page."""
        with self.page.expect_navigation():
            locator.click()
        return self.look()

    def login(self, username, password=PASSWORD):
        page = self.goto("/admin/login/")
        page.get_by_label("用户名").fill(username)
        page.get_by_label("密码").fill(password)
        self.click(page.get_by_role("button", name="登录"))
        expect(page.locator("#user-tools")).to_contain_text("注销")
        return page

    # --- what the user reads -------------------------------------------------------------------

    def messages(self):
        """The texts of the green/yellow/red message boxes at the top of the page."""
        return self.page.locator("ul.messagelist li").all_inner_texts()

    def result_count(self):
        """The case list's "N 条结果" figure."""
        text = self.page.locator("#changelist-search .small, .paginator").first.inner_text()
        match = re.search(r"(\d+)\s*条结果", text) or re.search(r"(\d+)", text)
        assert match, f"no result count in {text!r}"
        return int(match.group(1))
