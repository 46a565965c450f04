"""Adding and removing a document in a real browser (Debian's Chromium through Playwright):
upload a PDF in the chat, ask about it, see the cited answer with its page, remove the
file, and see the answer go. Other questions are answered meanwhile.

The screenshot after the answer lands in tests/artifacts/upload.png for a person to look at.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from browser_support import chromium
from document_files import write_pdf

from qa.config import Settings
from qa.engine import QAEngine


pytestmark = pytest.mark.browser

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: Indexing a one-page PDF embeds a few passages; the first also loads the embedding model.
INDEX_TIMEOUT_MS = 120_000
REPLY_TIMEOUT_MS = 60_000
SEED = "002_626d0c358e0fb90a.txt"
PDF_NAME = "harbour-report.pdf"
QUESTION = "How many containers did the Valparaiso port authority handle in 2023?"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("upload-corpus")
    shutil.copy(SEEDS_DIR / SEED, folder / SEED)
    return folder


@pytest.fixture(scope="module")
def pdf(tmp_path_factory):
    return write_pdf(
        tmp_path_factory.mktemp("upload-src") / PDF_NAME,
        ["Annual report of the Chilean ports. The ports authority met in Santiago in March.",
         "The Valparaiso port authority handled 1.4 million containers in 2023, a record for the port."],
    )


@pytest.fixture(scope="module")
def page(corpus, tmp_path_factory, serve_app, engine):
    settings = Settings(seeds_dir=corpus, index_dir=tmp_path_factory.mktemp("upload-index"), reader_dir=engine.settings.reader_dir)
    own = QAEngine(settings, embedder=engine.embedder).load(progress=False)
    url = serve_app(own)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 1200})
        page.goto(url)
        page.wait_for_selector("#qa-header h1")
        yield page


def ask(page, question: str) -> str:
    """Ask in a new chat; the chat's text once the answer (or abstention) is shown."""
    from playwright.sync_api import expect

    page.get_by_role("button", name="New chat").click()
    expect(page.locator("#qa-sources .qa-question")).to_have_count(0)
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#qa-sources .qa-question")).to_be_visible(timeout=REPLY_TIMEOUT_MS)
    return page.inner_text("#qa-chat")


def open_documents(page):
    if not page.locator("#qa-add").is_visible():
        page.locator("#qa-documents").get_by_text("Documents", exact=True).first.click()
        page.locator("#qa-add").wait_for(state="visible")


def test_upload_a_pdf_ask_about_it_remove_it_and_the_answer_goes(page, pdf, corpus):
    from playwright.sync_api import expect

    open_documents(page)
    assert "1 document" in page.inner_text("#qa-header")
    page.locator("input[type=file]").set_input_files(str(pdf))
    expect(page.locator("#qa-progress")).to_contain_text(
        re.compile(f"Added {re.escape(PDF_NAME)}.*Done", re.S), timeout=INDEX_TIMEOUT_MS
    )
    assert f"Added {PDF_NAME}" in page.inner_text("#qa-progress")
    assert "2 documents" in page.inner_text("#qa-header")
    assert PDF_NAME in page.inner_text("#qa-documents")
    assert (corpus / PDF_NAME).read_bytes() == pdf.read_bytes()

    reply = ask(page, QUESTION)
    assert "1.4 million" in reply
    sources = page.inner_text("#qa-sources")
    assert PDF_NAME in sources and "p. 2" in sources and "1.4 million containers" in sources
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "upload.png"), full_page=True)

    page.locator("#qa-remove-choice input").click()
    page.get_by_role("option", name=PDF_NAME).click()
    page.click("#qa-remove")
    expect(page.locator("#qa-progress")).to_contain_text(
        re.compile(f"Removed {re.escape(PDF_NAME)}.*Done", re.S), timeout=INDEX_TIMEOUT_MS
    )
    assert "1 document" in page.inner_text("#qa-header")
    assert not (corpus / PDF_NAME).exists()
    assert list((corpus / ".removed").rglob(PDF_NAME))  # moved aside, not deleted

    reply = ask(page, QUESTION)
    assert "1.4 million" not in reply and "don't say" in reply
    assert PDF_NAME not in page.inner_text("#qa-sources")


def test_a_file_that_cannot_be_indexed_is_refused_with_its_reason(page, tmp_path):
    open_documents(page)
    bad = tmp_path / "scan-of-letter.pdf"
    bad.write_bytes(b"%PDF-1.4 broken")
    page.locator("input[type=file]").set_input_files(str(bad))
    page.locator("#qa-progress").get_by_text(re.compile("Not added")).wait_for(timeout=INDEX_TIMEOUT_MS)
    assert "scan-of-letter.pdf" in page.inner_text("#qa-progress")
    assert "1 document" in page.inner_text("#qa-header")
