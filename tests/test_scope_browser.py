"""The chat's scope panel in a real browser (Chromium via Playwright, as `test_app_browser.py`):
a document chosen in the picker is the only one the answer's sources come from. The
screenshot lands in tests/artifacts/scope.png."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import chromium

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: Generous: the first question also warms up the engine's model.
REPLY_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def page(engine, serve_app):
    url = serve_app(engine)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(url)
        yield page


def test_a_document_chosen_in_the_scope_panel_is_the_only_source(page, engine):
    from playwright.sync_api import expect

    others = [a.source for a in engine.articles]
    chosen = others.pop()  # any document: the last one listed
    page.locator("#qa-scope").get_by_text("Scope: answer from chosen documents or dates").click()
    page.locator("#qa-scope-sources input").click()
    page.get_by_role("option", name=chosen).click()
    page.keyboard.press("Escape")
    box = page.locator("#qa-question textarea")
    box.fill("What did the minister say?")
    box.press("Enter")
    sources = page.locator("#qa-sources")
    expect(sources.locator(".qa-card").first).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    shown = sources.locator(".qa-file").all_inner_texts()
    assert shown and set(shown) == {chosen}, shown
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "scope.png"), full_page=True)

    page.locator("#qa-scope-since textarea, #qa-scope-since input").first.fill("not a date")
    box.fill("What did the minister say?")
    box.press("Enter")
    expect(page.locator("#qa-chat .qa-error").last).to_contain_text("not a date", timeout=REPLY_TIMEOUT_MS)
