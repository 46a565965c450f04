"""A citation opened at its source, in a real browser (Debian's Chromium through Playwright): over a
corpus of a seed article made into a three-page PDF and another seed article as text, ask
a question of each, click the citation, and see the PDF drawn by pdf.js at the cited page with
the cited words highlighted, and the text document scrolled to its highlighted passage.

The questions are the eval set's, chosen by the documents their evidence lies in (no question
is written here). Screenshots go to pytest's temporary folder (their paths are printed) and to
tests/artifacts/viewer-pdf.png and viewer-text.png.
"""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from pathlib import Path

import pytest
from browser_support import chromium
from document_files import write_pdf

from qa.config import Settings
from qa.engine import QAEngine

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SEEDS_DIR = ROOT / "seeds"
QUESTIONS = ROOT / "evals" / "questions.jsonl"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
#: The seed article made into a PDF, and the one kept as text.
PDF_SEED = "002_626d0c358e0fb90a.txt"
TEXT_SEED = "004_13830333336bfa58.txt"
PDF_NAME = "recruitment-report.pdf"
#: Pages the PDF's paragraphs are spread over, so that a citation is rarely on page 1.
PDF_PAGES = 3
#: Generous: the first question also warms up the engine's model; pdf.js starts its worker.
REPLY_TIMEOUT_MS = 60_000
VIEW_TIMEOUT_MS = 30_000
#: The core PDF fonts fpdf2 writes with hold Latin-1 only: typographic marks become ASCII.
_ASCII_MARKS = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                              "\u2026": "..."})


def _latin1(text: str) -> str:
    text = unicodedata.normalize("NFKC", text.translate(_ASCII_MARKS))
    return text.encode("latin-1", "ignore").decode("latin-1")


def _folded(text: str) -> str:
    """Text as the viewer compares it: no whitespace, case folded, compatibility forms unified."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def _eval_question(source: str) -> str:
    """The first answerable eval question whose evidence lies in ``source`` alone."""
    for line in QUESTIONS.read_text(encoding="utf-8").splitlines():
        item = json.loads(line)
        if item["answerable"] and not item["history"] and {e["source"] for e in item["evidence"]} == {source}:
            return item["question"]
    raise AssertionError(f"no eval question has its evidence in {source} alone")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    folder = tmp_path_factory.mktemp("viewer-corpus")
    shutil.copy(SEEDS_DIR / TEXT_SEED, folder / TEXT_SEED)
    text = (SEEDS_DIR / PDF_SEED).read_text(encoding="utf-8")
    body = re.sub(r"\A\s*date \d{4}-\d{2}-\d{2}\s*", "", text)  # the metadata line, not article text
    paragraphs = [_latin1(p.strip()) for p in body.split("\n\n") if p.strip()]
    per_page = -(-len(paragraphs) // PDF_PAGES)
    pages = ["\n\n".join(paragraphs[i : i + per_page]) for i in range(0, len(paragraphs), per_page)]
    write_pdf(folder / PDF_NAME, pages)
    return folder


@pytest.fixture(scope="module")
def own_engine(corpus, tmp_path_factory, engine):
    settings = Settings(seeds_dir=corpus, index_dir=tmp_path_factory.mktemp("viewer-index"), reader_dir=engine.settings.reader_dir)
    return QAEngine(settings, embedder=engine.embedder).load(progress=False)


@pytest.fixture(scope="module")
def browser(own_engine, serve_app):
    url = serve_app(own_engine)
    with chromium() as browser:
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        yield context, url


def _ask(page, url: str, question: str):
    from playwright.sync_api import expect

    page.goto(url)
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")
    expect(page.locator("#qa-sources .qa-card").first).to_be_visible(timeout=REPLY_TIMEOUT_MS)


def _open(context, link):
    """Click ``link`` (it opens a new tab) and return that tab once its viewer is ready."""
    with context.expect_page() as opened:
        link.click()
    viewer = opened.value
    viewer.wait_for_selector("body[data-state=ready]", timeout=VIEW_TIMEOUT_MS)
    return viewer


def _in_view(page, locator) -> bool:
    box = locator.bounding_box()
    height = page.evaluate("window.innerHeight")
    return box is not None and 0 <= box["y"] and box["y"] + min(box["height"], 40) <= height


def test_a_pdf_citation_opens_the_pdf_at_its_page_with_the_passage_highlighted(browser, own_engine, corpus, tmp_path):
    import pypdf

    context, url = browser
    question = _eval_question(PDF_SEED)
    answer = own_engine.ask(question)
    cited = [c for c in answer.citations if c.source == PDF_NAME]
    assert cited, f"{question!r} is not answered from the PDF: {answer.text!r}"
    citation = cited[0]
    page_number = citation.pages[0]
    # The page named is the PDF's own page that holds the passage (read back from the file).
    reader = pypdf.PdfReader(str(corpus / PDF_NAME))
    assert len(reader.pages) == PDF_PAGES
    first_words = _folded(citation.text)[:40]
    assert first_words in _folded(reader.pages[page_number - 1].extract_text())

    page = context.new_page()
    _ask(page, url, question)
    card = page.locator("#qa-sources .qa-card").filter(has=page.locator(".qa-file", has_text=PDF_NAME)).first
    assert f"p. {page_number}" in card.inner_text()
    viewer = _open(context, card.locator("a.qa-open"))

    assert viewer.locator("body").get_attribute("data-page") == str(page_number)
    assert viewer.locator("#qa-page-label").inner_text() == f"Page {page_number} of {PDF_PAGES}"
    # pdf.js drew the page: the canvas holds dark (text) pixels.
    inked = viewer.evaluate("""() => { const c = document.getElementById('qa-canvas');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i] < 128) n++; return n; }""")
    assert inked > 1000
    marks = viewer.locator(".textLayer mark.qa-cited")
    assert marks.count() > 0 and int(viewer.locator("body").get_attribute("data-highlighted")) > 0
    # The highlighted words are the cited passage's part on this page, all of it and nothing else.
    starts = own_engine.article(PDF_NAME).page_starts
    page_end = starts[page_number] if page_number < len(starts) else len(own_engine.text_of(PDF_NAME))
    on_page = own_engine.text_of(PDF_NAME)[max(citation.start, starts[page_number - 1]) : min(citation.end, page_end)]
    assert _folded("".join(marks.all_text_contents())) == _folded(on_page)
    # ...drawn over the canvas, in view.
    canvas = viewer.locator("#qa-canvas").bounding_box()
    box = marks.first.bounding_box()
    assert canvas["x"] <= box["x"] <= canvas["x"] + canvas["width"] and canvas["y"] <= box["y"] <= canvas["y"] + canvas["height"]
    assert _in_view(viewer, marks.first)
    shot = tmp_path / "viewer-pdf.png"
    viewer.screenshot(path=str(shot))
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "viewer-pdf.png")
    print(f"PDF citation screenshot: {shot}")

    # "Show as text" marks the same passage in the text the index read.
    viewer.get_by_role("link", name="Show as text").click()
    viewer.wait_for_selector("#qa-cited")
    assert viewer.locator("#qa-cited").inner_text() == citation.text
    viewer.close()
    page.close()


def test_a_text_citation_opens_the_stored_text_scrolled_to_the_highlighted_passage(browser, own_engine, tmp_path):
    context, url = browser
    question = _eval_question(TEXT_SEED)
    answer = own_engine.ask(question)
    assert answer.citations and answer.citations[0].source == TEXT_SEED, answer.text
    citation = answer.citations[0]

    page = context.new_page()
    _ask(page, url, question)
    marker = page.locator("#qa-chat a.qa-marker").first  # the [1] after the answer
    assert marker.inner_text().strip() == "[1]"
    viewer = _open(context, marker)

    cited = viewer.locator("mark#qa-cited")
    assert cited.inner_text() == citation.text
    # The page holds the whole stored text, the passage at its offsets.
    assert viewer.locator("pre.qa-text").inner_text() == own_engine.text_of(TEXT_SEED)
    assert _in_view(viewer, cited)
    shot = tmp_path / "viewer-text.png"
    viewer.screenshot(path=str(shot))
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(shot, ARTIFACTS / "viewer-text.png")
    print(f"text citation screenshot: {shot}")
    viewer.close()
    page.close()
