"""A citation opened at its source: pages of the chat's server that show a cited passage where
it stands in its document, highlighted.

- A PDF is shown at the cited page, drawn by pdf.js (vendored in ``static/pdfjs/``) from the
  file the index read, with the words of the passage highlighted over pdf.js's text layer
  (``static/pdf-viewer.js``). pdf.js served from here rather than the ``gradio_pdf`` component:
  that component shows a file at a page but cannot highlight a passage, and it fetches its
  worker from a CDN, which an offline chat cannot reach.
- Any other document (and a PDF whose file is no longer the one indexed, or is not on this
  server, as on a server of a shared database) is shown as its stored text, the text every
  citation is exact against, scrolled to the passage, highlighted.

Routes (Starlette's, handed to Gradio's FastAPI app by `qa.ui.app.launch`)::

    GET /source/view?source=NAME&start=S&end=E[&as=text]   the page
    GET /source/file?source=NAME                             a PDF's bytes
    GET /source/assets/NAME                                  the viewer's scripts and styles

Safety: ``source`` is looked up by name among the index's documents (never joined to a path),
only a file inside the corpus folder whose sha256 is the indexed one is served, assets come
from a fixed list, document text is escaped (text view) or passed as JSON data that the
script reads as text (PDF view), and the pages run no inline script (Content-Security-Policy).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
from pathlib import Path
from urllib.parse import quote, urlencode

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, PlainTextResponse, Response
from starlette.routing import Route


log = logging.getLogger(__name__)

#: Where the routes live (relative links from the chat's page and from each other rely on it).
ROUTE_PREFIX = "/source"
#: The chat's link to a citation: relative, so that it works under a proxy's path prefix too.
VIEW_LINK = "source/view"
STATIC_DIR = Path(__file__).resolve().parent / "static"
#: The only files served under ``/source/assets/``: name -> (path under `STATIC_DIR`, media type).
ASSETS = {
    "viewer.css": ("viewer.css", "text/css"),
    "pdf-viewer.js": ("pdf-viewer.js", "text/javascript"),
    "pdf.min.mjs": ("pdfjs/pdf.min.mjs", "text/javascript"),
    "pdf.worker.min.mjs": ("pdfjs/pdf.worker.min.mjs", "text/javascript"),
}
#: Browsers may keep the assets an hour (they change only with a release).
ASSETS_MAX_AGE_S = 3600
#: The viewer's pages: scripts and styles from this server only, none inline; pdf.js's worker
#: and its canvas images as blobs; nothing may frame them but the chat itself.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self' data: blob:; connect-src 'self'; worker-src 'self' blob:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
#: The format drawn by pdf.js (`Article.kind`); the largest file served is the largest one the
#: corpus reads (`qa.corpus.formats.MAX_BYTES`).
_PDF = "pdf"


def view_link(citation) -> str:
    """The chat's link that opens ``citation`` (anything with ``source``, ``start``, ``end``)."""
    query = urlencode({"source": citation.source, "start": citation.start, "end": citation.end}, quote_via=quote)
    return f"{VIEW_LINK}?{query}"


class _Refused(Exception):
    """A request the viewer answers with ``status`` and a one-line message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class SourceViewer:
    """The viewer's routes for one loaded engine: ``SourceViewer(engine).routes()``."""

    def __init__(self, engine) -> None:
        self.engine = engine
        #: sha256 of PDF files already read, by (path, size, mtime): a second opening of the same
        #: file is not hashed again.
        self._digests: dict[tuple[str, int, int], str] = {}

    def routes(self) -> list[Route]:
        return [
            Route(f"{ROUTE_PREFIX}/view", self.view, methods=["GET"]),
            Route(f"{ROUTE_PREFIX}/file", self.file, methods=["GET"]),
            Route(f"{ROUTE_PREFIX}/assets/{{name}}", self.asset, methods=["GET"]),
        ]

    # -- routes (sync: Starlette runs them in its thread pool) ------------------------------

    def view(self, request: Request) -> Response:
        try:
            article = self._article(request.query_params.get("source"))
            start, end = _span(request.query_params, len(article.text))
            as_text = request.query_params.get("as") == "text"
            if article.kind == _PDF and not as_text and self._pdf_bytes(article) is not None:
                page = pdf_page(article, start, end)
            else:
                note = ""
                if article.kind == _PDF and not as_text:
                    note = "The PDF file itself is not available here; this is the text the index read from it."
                page = text_page(article, start, end, note=note)
        except _Refused as refused:
            return _refusal(refused)
        return HTMLResponse(page, headers=_page_headers())

    def file(self, request: Request) -> Response:
        try:
            article = self._article(request.query_params.get("source"))
            if article.kind != _PDF:
                raise _Refused(404, f"{article.source!r} is not a PDF; open its text with {ROUTE_PREFIX}/view.")
            data = self._pdf_bytes(article)
            if data is None:
                raise _Refused(404, f"The file of {article.source!r} is not the one indexed (changed, moved or not on this server).")
        except _Refused as refused:
            return _refusal(refused)
        headers = {"Content-Disposition": "inline", "Cache-Control": "no-cache", "X-Content-Type-Options": "nosniff"}
        return Response(data, media_type="application/pdf", headers=headers)

    def asset(self, request: Request) -> Response:
        entry = ASSETS.get(request.path_params.get("name", ""))
        if entry is None:
            return PlainTextResponse("No such file.", status_code=404)
        path, media_type = entry
        headers = {"Cache-Control": f"max-age={ASSETS_MAX_AGE_S}", "X-Content-Type-Options": "nosniff"}
        return FileResponse(STATIC_DIR / path, media_type=media_type, headers=headers)

    # -- what the routes look up ------------------------------------------------------------

    def _article(self, source: str | None):
        if not source:
            raise _Refused(400, "Name a document: ?source=NAME (as its citations name it).")
        try:
            return self.engine.article(source)
        except KeyError:
            raise _Refused(404, f"{source[:200]!r} is not a document of this corpus.") from None

    def _pdf_bytes(self, article) -> bytes | None:
        """The bytes of ``article``'s file when it is the file the index read: inside the corpus
        folder (links followed only within it) and with the indexed sha256; else None."""
        from qa.corpus.formats import MAX_BYTES

        root = Path(self.engine.settings.seeds_dir).resolve()
        try:
            path = (root / article.source).resolve(strict=True)  # the name comes from the index
            if not path.is_relative_to(root) or not path.is_file():
                return None
            stat = path.stat()
            if stat.st_size > MAX_BYTES[_PDF]:
                return None
            with path.open("rb") as handle:
                data = handle.read(MAX_BYTES[_PDF] + 1)
        except OSError:
            return None
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        digest = self._digests.get(key)
        if digest is None:
            digest = hashlib.sha256(data).hexdigest()
            if len(self._digests) > 1000:  # a bound, not a cache policy: files rarely change
                self._digests.clear()
            self._digests[key] = digest
        return data if digest == article.sha256 else None


def escape_html(text: str) -> str:
    return html.escape(text, quote=True)


def _span(params, length: int) -> tuple[int, int]:
    """The cited span from ``start`` and ``end`` (character offsets into the stored text)."""
    try:
        start, end = int(params.get("start", "")), int(params.get("end", ""))
    except ValueError:
        raise _Refused(400, "start and end must be character offsets (whole numbers), as citations give them.") from None
    if not 0 <= start < end <= length:
        raise _Refused(400, f"start and end must satisfy 0 <= start < end <= {length} (the document's length); got {start} and {end}.")
    return start, end


def _refusal(refused: _Refused) -> Response:
    return PlainTextResponse(str(refused), status_code=refused.status, headers={"X-Content-Type-Options": "nosniff"})


def _page_headers() -> dict[str, str]:
    return {
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Cache-Control": "no-cache",
    }


def _place(article, start: int, end: int) -> str:
    from qa.corpus.tables import locate

    pages = article.pages(start, end)
    label = ""
    if pages:
        label = f"p. {pages[0]}" if len(pages) == 1 else f"pp. {pages[0]}–{pages[-1]}"
    return ", ".join(part for part in (label, locate(article, start, end)) if part)


def _head(article, start: int, end: int, nav: str = "") -> str:
    place = _place(article, start, end)
    title = article.title
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape_html(article.source)}{' · ' + escape_html(place) if place else ''}</title>"
        "<link rel=\"stylesheet\" href=\"assets/viewer.css\"></head>"
        "<body class=\"qa-view\" data-state=\"loading\">"
        "<header class=\"qa-view-header\"><div class=\"qa-view-about\">"
        f"<span class=\"qa-view-file\">{escape_html(article.source)}</span>"
        + (f" <span class=\"qa-view-place\">{escape_html(place)}</span>" if place else "")
        + f" <span class=\"qa-view-chars\">chars {start}–{end}</span>"
        + (f"<div class=\"qa-view-title\">{escape_html(title)}</div>" if title else "")
        + f"</div>{nav}</header>"
    )


def text_page(article, start: int, end: int, *, note: str = "") -> str:
    """The stored text of ``article``, its span ``[start, end)`` in a ``<mark id="qa-cited">``
    (the link's ``#qa-cited`` scrolls there without a script), every character escaped."""
    text = article.text
    nav = '<nav class="qa-view-nav"><a href="#qa-cited">Go to the passage</a></nav>'
    notice = f'<p class="qa-note">{escape_html(note)}</p>' if note else ""
    return (
        _head(article, start, end, nav).replace('data-state="loading"', 'data-state="ready"', 1)
        + f"{notice}<main class=\"qa-text-view\"><pre class=\"qa-text\">{escape_html(text[:start])}"
        f"<mark id=\"qa-cited\" class=\"qa-cited\">{escape_html(text[start:end])}</mark>"
        f"{escape_html(text[end:])}</pre></main></body></html>"
    )


def cited_by_page(article, start: int, end: int) -> dict[int, str]:
    """The part of ``text[start:end]`` on each page it lies on (page numbers from 1)."""
    starts = list(article.page_starts)
    out = {}
    for page in article.pages(start, end):
        page_start = starts[page - 1]
        page_end = starts[page] if page < len(starts) else len(article.text)
        part = article.text[max(start, page_start) : min(end, page_end)]
        if part.strip():
            out[page] = part
    return out


def pdf_page(article, start: int, end: int) -> str:
    """The PDF viewer: pdf.js draws the cited page and highlights the passage's words in its
    text layer. The passage travels as JSON data, read by the script, never parsed as markup."""
    cited = cited_by_page(article, start, end)
    first = min(cited) if cited else 1
    query = {"source": article.source, "start": start, "end": end}
    data = {
        "file": "file?" + urlencode({"source": article.source}, quote_via=quote),
        "page": first,
        "pages": len(article.page_starts),
        "cited": {str(page): text for page, text in cited.items()},
    }
    text_link = "view?" + urlencode({**query, "as": "text"}, quote_via=quote)
    nav = (
        '<nav class="qa-view-nav">'
        '<button type="button" id="qa-prev">‹ Previous</button>'
        f'<span id="qa-page-label">Page {first} of {len(article.page_starts)}</span>'
        '<button type="button" id="qa-next">Next ›</button>'
        f'<a href="{escape_html(text_link)}">Show as text</a></nav>'
    )
    return (
        _head(article, start, end, nav)
        + '<p id="qa-note" class="qa-note" hidden></p>'
        '<main class="qa-pdf-view"><div id="qa-page" class="qa-page">'
        '<canvas id="qa-canvas"></canvas><div id="qa-text-layer" class="textLayer"></div></div></main>'
        f'<script type="application/json" id="qa-citation">{_json_in_html(data)}</script>'
        '<script type="module" src="assets/pdf-viewer.js"></script></body></html>'
    )


def _json_in_html(data) -> str:
    """JSON that cannot end its ``<script>`` element nor start markup: ``<``, ``>`` and ``&``
    as JSON escapes (the parsed value is unchanged)."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
