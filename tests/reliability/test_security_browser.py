"""HTML and script in a question or in an article are shown as text in a real browser,
never run: Debian's Chromium (through Playwright) on the app serving `hostile_corpus`.

Every payload sets ``window.__qaXss`` and calls ``alert``; the page must end with
neither, with no element the payload would have made, and with the payload's
text visible to the reader.
"""

from __future__ import annotations


import pytest
from browser_support import CHROMIUM, LAUNCH_ARGS
from reliability_support import CARGO_QUESTION, INSTRUCTIONS_SOURCE

pytestmark = pytest.mark.browser

#: Generous: the first reply of a page includes the page's own start.
REPLY_TIMEOUT_MS = 60_000

QUESTION_PAYLOAD = "<img src=x onerror=\"window.__qaXss='question';alert('question')\"> <script>alert('script')</script>"


@pytest.fixture(scope="module")
def page(hostile_corpus, serve_app):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install it with `make browser` (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")
    url = serve_app(hostile_corpus.engine)
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=LAUNCH_ARGS)
        page = browser.new_page()
        page.dialogs = []
        page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
        page.goto(url)
        yield page
        browser.close()


def ask(page, question: str) -> None:
    """Type ``question`` and wait until the sources panel shows its answer."""
    from playwright.sync_api import expect

    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#qa-sources .qa-question")).to_have_text(question, timeout=REPLY_TIMEOUT_MS)


def assert_nothing_ran(page) -> None:
    page.wait_for_timeout(500)  # an image error fires within milliseconds of insertion
    assert page.evaluate("window.__qaXss") is None, "a payload ran"
    assert page.dialogs == [], f"a payload opened dialogs: {page.dialogs}"
    assert page.locator("img[src='x']").count() == 0, "the payload became an element"


def test_markup_in_a_question_is_shown_as_text(page):
    from playwright.sync_api import expect

    ask(page, QUESTION_PAYLOAD)
    expect(page.locator("#qa-chat")).to_contain_text("<img src=x onerror=")  # the question as typed
    assert_nothing_ran(page)


def test_markup_in_an_article_is_shown_as_text(page):
    from playwright.sync_api import expect

    ask(page, CARGO_QUESTION)
    sources = page.locator("#qa-sources")
    expect(sources).to_contain_text(INSTRUCTIONS_SOURCE)
    expect(sources).to_contain_text("<img src=x onerror=")
    expect(sources).to_contain_text("<script>window.__qaXss")
    expect(page.locator("#qa-chat")).to_contain_text("37.9 million")
    assert_nothing_ran(page)
