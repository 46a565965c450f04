"""The citation viewer's routes (`qa.ui.viewer`) over HTTP, without a browser: the stored text
with the passage marked and escaped, the PDF page's data, the PDF file served only when it is
the indexed document's file inside the corpus folder, names and offsets refused with a
message, the assets from a fixed list (the vendored pdf.js as its README states), the chat's
links, and the routes mounted by `qa.app.launch`. Real files (made by `document_files.py`) read
with the corpus's own readers; the browser side is `test_viewer_browser.py`."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from html import unescape
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from document_files import write_pdf
from starlette.applications import Starlette
from starlette.testclient import TestClient

from qa.corpus.formats import read_document
from qa.results import Answer, Citation
from qa.ui import render
from qa.ui.viewer import ASSETS, STATIC_DIR, SourceViewer, view_link

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
SEED = "002_626d0c358e0fb90a.txt"
PDF = "report.pdf"
HOSTILE = "hostile.txt"
HOSTILE_TEXT = 'Intro line.\n\nThe <script>alert("x")</script> deal & <b onclick="y()">more</b> was signed.\n'
PDF_PAGES = [
    "Annual report of the Chilean ports. The ports authority met in Santiago in March.",
    'The Valparaiso port authority handled 1.4 million containers in 2023. </script><script>alert(1)</script> "quoted" & more.',
]


class Corpus:
    """The two things the viewer asks of an engine: a document by name (`QAEngine.article`) and
    the corpus folder (``settings.seeds_dir``); the documents read by the corpus's own readers."""

    def __init__(self, folder: Path, names: list[str]) -> None:
        self.settings = SimpleNamespace(seeds_dir=folder)
        self.documents = {n: read_document(n, (folder / n).read_bytes()) for n in names}

    def article(self, name: str):
        return self.documents[name]


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    folder.mkdir()
    shutil.copy(SEEDS_DIR / SEED, folder / SEED)
    (folder / HOSTILE).write_text(HOSTILE_TEXT, encoding="utf-8")
    write_pdf(folder / PDF, PDF_PAGES)
    (tmp_path / "secret.txt").write_text("not for the chat", encoding="utf-8")
    return Corpus(folder, [SEED, HOSTILE, PDF])


@pytest.fixture
def client(corpus):
    return TestClient(Starlette(routes=SourceViewer(corpus).routes()))


def span_of(article, passage: str) -> tuple[int, int]:
    start = article.text.index(passage)
    return start, start + len(passage)


def test_a_text_citation_shows_the_stored_text_with_the_passage_marked(client, corpus):
    article = corpus.article(SEED)
    start, end = span_of(article, "126 Indians were recruited by the Russian military")
    response = client.get("/source/view", params={"source": SEED, "start": start, "end": end})
    assert response.status_code == 200
    page = response.text
    cited = re.search(r'<mark id="qa-cited" class="qa-cited">(.*?)</mark>', page, re.S)
    assert cited and unescape(cited.group(1)) == article.text[start:end]
    shown = re.search(r'<pre class="qa-text">(.*?)</pre>', page, re.S).group(1)
    assert unescape(re.sub(r"</?mark[^>]*>", "", shown)) == article.text  # every character, as stored
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "<script" not in page  # the text view needs no script at all


def test_markup_in_a_document_is_shown_as_text(client, corpus):
    article = corpus.article(HOSTILE)
    start, end = span_of(article, 'The <script>alert("x")</script> deal')
    page = client.get("/source/view", params={"source": HOSTILE, "start": start, "end": end}).text
    assert "<script>" not in page and "<b " not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_a_pdf_citation_shows_its_page_with_the_passage_as_data(client, corpus):
    article = corpus.article(PDF)
    start, end = span_of(article, "1.4 million containers")
    response = client.get("/source/view", params={"source": PDF, "start": start, "end": end})
    page = response.text
    assert response.status_code == 200 and '<canvas id="qa-canvas">' in page
    assert "Page 2 of 2" in page and 'src="assets/pdf-viewer.js"' in page
    data = json.loads(re.search(r'<script type="application/json" id="qa-citation">(.*?)</script>', page, re.S).group(1))
    assert data["page"] == 2 and data["pages"] == 2 and data["cited"] == {"2": "1.4 million containers"}
    assert client.get("/source/" + data["file"]).content == (corpus.settings.seeds_dir / PDF).read_bytes()


def test_pdf_text_cannot_end_the_data_script(client, corpus):
    article = corpus.article(PDF)
    start, end = span_of(article, "</script><script>alert(1)</script>")
    page = client.get("/source/view", params={"source": PDF, "start": start, "end": end}).text
    assert "<script>alert" not in page
    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", page, re.S)
    assert len(scripts) == 2 and scripts[1] == ""  # the data, then the module: nothing broke out
    assert json.loads(scripts[0])["cited"]["2"] == article.text[start:end]


def test_a_pdf_passage_over_two_pages_is_cited_on_each(corpus):
    from qa.ui.viewer import cited_by_page

    article = corpus.article(PDF)
    start = article.text.index("in March")
    end = article.text.index("handled") + len("handled")
    assert cited_by_page(article, start, end) == {
        1: article.text[start : article.page_starts[1]], 2: article.text[article.page_starts[1] : end]
    }


def test_only_documents_of_the_index_are_served(client, corpus):
    for name in ["../secret.txt", "/etc/passwd", "secret.txt", "..%2fsecret.txt", "corpus/../secret.txt", "report.PDF", ""]:
        for route in ("view", "file"):
            response = client.get(f"/source/{route}", params={"source": name, "start": 0, "end": 1})
            assert response.status_code in (400, 404), (route, name)
            assert "not for the chat" not in response.text
            assert "not a document of this corpus" in response.text or "Name a document" in response.text
    # A text document has no file route: its text is what the viewer shows.
    assert client.get("/source/file", params={"source": SEED}).status_code == 404


def test_a_pdf_changed_or_moved_out_since_indexing_is_not_served(client, corpus):
    folder = corpus.settings.seeds_dir
    article = corpus.article(PDF)
    start, end = span_of(article, "1.4 million containers")
    original = (folder / PDF).read_bytes()
    write_pdf(folder / PDF, ["A different report altogether, with other words on its page."])
    assert client.get("/source/file", params={"source": PDF}).status_code == 404
    page = client.get("/source/view", params={"source": PDF, "start": start, "end": end}).text
    assert '<mark id="qa-cited" class="qa-cited">1.4 million containers</mark>' in page  # the stored text instead
    assert "not available here" in page and "qa-canvas" not in page

    # The same bytes, but through a link out of the corpus folder: not served either.
    outside = folder.parent / "elsewhere.pdf"
    outside.write_bytes(original)
    (folder / PDF).unlink()
    (folder / PDF).symlink_to(outside)
    assert client.get("/source/file", params={"source": PDF}).status_code == 404
    (folder / PDF).unlink()
    (folder / PDF).write_bytes(original)
    assert client.get("/source/file", params={"source": PDF}).content == original


@pytest.mark.parametrize(
    "start, end", [("x", "5"), ("", ""), ("5", "5"), ("-1", "5"), ("10", "2"), ("0", "999999999"), ("1e3", "2e3")]
)
def test_bad_offsets_are_refused_with_a_message(client, start, end):
    response = client.get("/source/view", params={"source": SEED, "start": start, "end": end})
    assert response.status_code == 400
    assert "start and end" in response.text and len(response.text.splitlines()) == 1


def test_assets_come_from_a_fixed_list_with_script_types(client):
    for name, (path, media_type) in ASSETS.items():
        response = client.get(f"/source/assets/{name}")
        assert response.status_code == 200 and response.headers["content-type"].startswith(media_type)
        assert response.content == (STATIC_DIR / path).read_bytes()
    for name in ["viewer.py", "..%2Fviewer.py", "pdfjs%2FLICENSE", "README.md"]:
        assert client.get(f"/source/assets/{name}").status_code == 404


def test_the_vendored_pdfjs_is_the_release_its_readme_names():
    readme = (STATIC_DIR / "pdfjs" / "README.md").read_text(encoding="utf-8")
    for name in ("pdf.min.mjs", "pdf.worker.min.mjs"):
        digest = hashlib.sha256((STATIC_DIR / "pdfjs" / name).read_bytes()).hexdigest()
        assert re.search(rf"`{re.escape(name)}` \| `pdfjs-dist@[\d.]+`.*sha256 `{digest}`", readme), name
    assert "Apache License" in (STATIC_DIR / "pdfjs" / "LICENSE").read_text(encoding="utf-8")


def test_the_chat_links_each_citation_to_its_source():
    c = Citation('a b&<"x">.pdf', 3, 10, "abcdefg", 1.0, pages=(2,))
    answer = Answer("q", "It was 5 [1].", "5", [c], False)
    for html in (render.answer_message(answer), render.sources_html(answer, [])):
        href = unescape(re.search(r'href="([^"]+)"', html).group(1))
        assert href == view_link(c) and href.startswith("source/view?")
        query = parse_qs(urlsplit(href).query)
        assert query == {"source": [c.source], "start": ["3"], "end": ["10"]}
        assert 'target="_blank"' in html and "p. 2" in html
    assert "<sup>[1]</sup>" in render.answer_message(answer)  # the marker itself stays as it was


def test_the_running_app_serves_the_viewer(engine, serve_app):
    import urllib.request

    url = serve_app(engine)
    article = engine.article(SEED)
    start, end = span_of(article, "126 Indians were recruited by the Russian military")
    with urllib.request.urlopen(url + view_link(Citation(SEED, start, end, "", 0.0))) as response:
        page = response.read().decode("utf-8")
    assert '<mark id="qa-cited" class="qa-cited">126 Indians were recruited by the Russian military</mark>' in page
    with urllib.request.urlopen(url + "source/assets/pdf.min.mjs") as response:
        assert response.headers["content-type"].startswith("text/javascript")
