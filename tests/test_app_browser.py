"""The chat in a real browser: Chromium (Debian's, via Playwright) types an
example question and sees the answer and its highlighted source.

Needs /usr/bin/chromium (``make browser``). The screenshot lands in
tests/artifacts/chat.png for a person to look at.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from browser_support import chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: Generous: the first question also warms up the engine's model.
REPLY_TIMEOUT_MS = 60_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(engine):
    from qa.app import launch

    port = free_port()
    demo = launch(engine, host="127.0.0.1", port=port, prevent_thread_lock=True, quiet=True)
    yield f"http://127.0.0.1:{port}/"
    demo.close()


@pytest.fixture(scope="module")
def page(app_url):
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(app_url)
        yield page


def test_example_question_gets_answer_and_highlighted_source(page):
    from playwright.sync_api import expect

    chat = page.locator("#qa-chat")
    expect(page.get_by_text("Ready: index loaded")).to_be_visible()
    expect(chat.get_by_text("How many Indians were recruited?")).to_be_visible()  # an example on the first screen

    box = page.locator("#qa-question textarea")
    box.fill("How many Indians were recruited?")
    box.press("Enter")

    expect(chat.locator("strong", has_text="126")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    mark = page.locator("#qa-sources mark").first
    expect(mark).to_be_visible()
    expect(mark).to_contain_text("126")
    expect(page.locator("#qa-sources")).to_contain_text("002_626d0c358e0fb90a.txt")

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "chat.png"), full_page=True)


def test_unanswerable_question_shows_the_articles_dont_say(page):
    from playwright.sync_api import expect

    box = page.locator("#qa-question textarea")
    box.fill("What is the population of Kazan?")
    box.press("Enter")

    expect(page.locator("#qa-chat .qa-abstain").last).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    expect(page.locator("#qa-sources")).to_contain_text("Related passages (not evidence)")
    page.screenshot(path=str(ARTIFACTS / "abstained.png"), full_page=True)


def test_why_question_gets_cited_sentences_as_a_paragraph(page):
    """A sentence answer: the quoted sentences read as one paragraph, each with its marker,
    one source card per marker."""
    from playwright.sync_api import expect

    box = page.locator("#qa-question textarea")
    box.fill("Why are relations between India and the United States strained?")
    box.press("Enter")

    sources = page.locator("#qa-sources")
    expect(sources.locator(".qa-question")).to_have_text(
        "Why are relations between India and the United States strained?", timeout=REPLY_TIMEOUT_MS
    )
    reply = page.locator("#qa-chat .message").last  # gradio's bot bubble
    expect(reply).to_contain_text("tariffs")
    markers = reply.locator("sup")
    cards = sources.locator(".qa-card")
    assert markers.count() >= 1 and markers.count() == cards.count()
    assert "\u2014" not in reply.inner_text()  # no "span — sentence" form: the sentences themselves
    page.screenshot(path=str(ARTIFACTS / "sentences.png"), full_page=True)


def test_summary_request_gets_the_main_points_of_several_documents(page):
    from playwright.sync_api import expect

    box = page.locator("#qa-question textarea")
    box.fill("Summarize the documents")
    box.press("Enter")

    sources = page.locator("#qa-sources")
    expect(sources.locator(".qa-question")).to_have_text("Summarize the documents", timeout=REPLY_TIMEOUT_MS)
    reply = page.locator("#qa-chat .message").last
    expect(reply).to_contain_text("The main points of")
    files = {f.strip() for f in sources.locator(".qa-file").all_inner_texts()}
    assert len(files) >= 3, files
    assert reply.locator("sup").count() == sources.locator(".qa-card").count()
    page.screenshot(path=str(ARTIFACTS / "summary.png"), full_page=True)
