"""Text out of each supported file format, with the facts the format states.

One function per format, all ``(source, data) -> Article``; `read_document` picks one by
the file's suffix. The libraries are the ones LlamaIndex's file readers wrap or would:

- ``.txt`` / ``.md``: the file itself, strict UTF-8 (Markdown stays as written: its
  markup is short and a citation should match what the user sees in their editor).
- ``.html`` / ``.htm``: trafilatura, a readability-style extractor, keeps the article's
  text and drops menus, scripts, footers and ads (LlamaIndex's ``HTMLTagReader`` only
  collects tags, navigation included). Its title and date are kept as metadata.
- ``.pdf``: pypdf, page by page, so every citation can name its pages (LlamaIndex's
  ``PDFReader`` is pypdf too, one document per page; the corpus needs one text per file
  with page offsets). A page without a text layer (a scan) is read by OCR
  (`qa.corpus.ocr`: rendered by pypdfium2, read by Tesseract), so a scanned PDF, or a
  PDF of text pages and scanned ones, is cited by page like any other. Encrypted files
  are refused with the fix.
- ``.png``, ``.jpg``, ``.tif``: read by OCR (each page of a TIFF is a page).
- ``.docx``: python-docx, paragraphs and tables in document order; a table's rows as a
  sheet's, each cell with its header (`qa.corpus.tables.docx_table_blocks`).

Every failure is a `DocumentError` naming the file and what to do: whatever a parser
library raises is converted, and the work per file is bounded (`qa.corpus.bounds`: what a
file declares is checked before it is parsed, and parsing stops once a limit is reached).
"""

from __future__ import annotations

import hashlib
import io
import re
from pathlib import PurePosixPath
from typing import Callable

from qa.corpus.bounds import PdfBudget, check_docx_archive, check_html_markup, parser_errors, pdf_configuration
from qa.corpus.documents import Article, parse_article
from qa.corpus.ocr import (
    MIN_OCR_CONFIDENCE,
    OcrPage,
    PagesChecked,
    Tesseract,
    check_page_count,
    check_pdf_images,
    image_frames,
    mean_confidence,
    pdf_page_images,
)
from qa.corpus.tables import docx_table_blocks, read_csv, read_xlsx
from qa.errors import DocumentError

#: Paragraphs of extracted formats are separated like a plain-text article's.
PARAGRAPH_BREAK = "\n\n"
#: Pages of a PDF are separated by a blank line too; the page offsets say where each starts.
PAGE_BREAK = "\n\n"
#: Largest file accepted, by format. A news article is a few kB of text; a report's PDF
#: with figures a few MB. Past these a file is an archive or a scan, not a document to
#: cite, and would take minutes to embed.
MAX_BYTES = {
    "txt": 1_000_000,
    "md": 1_000_000,
    "html": 5_000_000,
    "pdf": 20_000_000,
    "docx": 10_000_000,
    "csv": 5_000_000,
    "xlsx": 10_000_000,
    # A page scanned at 300 DPI is 0.1-1 MB as PNG or JPEG, 1 MB as a bilevel TIFF.
    "image": 20_000_000,
}
#: Largest extracted text (characters): about 300 pages of prose.
MAX_TEXT_CHARS = 1_000_000
#: A PDF page that yields fewer characters than this has no text layer worth citing (a
#: scan): when it draws anything, it is read by OCR; a whole PDF with fewer characters per
#: page than this, after OCR, is refused.
MIN_PDF_CHARS_PER_PAGE = 20
#: Extracted HTML shorter than this is a menu or a placeholder ("Home", "Loading..."), which
#: trafilatura's fallback returns when a page has no article; the shortest news brief is longer.
MIN_HTML_TEXT_CHARS = 40

_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")

#: Suffix (lower case) -> format name.
SUFFIXES = {".txt": "txt", ".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".pdf": "pdf", ".docx": "docx", ".csv": "csv", ".xlsx": "xlsx",
            ".png": "image", ".jpg": "image", ".jpeg": "image", ".tif": "image", ".tiff": "image"}
#: Formats that may need OCR: their readers take the OCR that reads their pages.
OCR_KINDS = {"pdf", "image"}


def kind_of(name: str) -> str | None:
    """The format of a file name, or None when it is not a supported document."""
    return SUFFIXES.get(PurePosixPath(name).suffix.lower())


def kind_label(kind: str) -> str:
    """How messages name a format: ".pdf", or "an image"."""
    return "an image" if kind == "image" else f"a .{kind}"


def supported_suffixes() -> list[str]:
    return sorted(SUFFIXES)


def read_document(source: str, data: bytes, *, path_for_messages: str | None = None, ocr=None) -> Article:
    """The `Article` of one file's bytes. Raises `DocumentError` naming the file.

    ``ocr`` reads pages without a text layer (`qa.corpus.ocr.Tesseract`, the default; give
    one with ``on_page`` for progress, or `qa.corpus.ocr.PagesChecked` to check them only)."""
    name = path_for_messages or source
    kind = kind_of(source)
    if kind is None:
        raise DocumentError(
            f"{name!r} is not a supported document type; use one of {', '.join(supported_suffixes())}."
        )
    limit = MAX_BYTES[kind]
    if len(data) > limit:
        raise DocumentError(
            f"{name!r} is {len(data):,} bytes, over the {limit:,}-byte limit for {kind_label(kind)} document; "
            "split it into smaller documents."
        )
    if not data.strip():
        raise DocumentError(f"{name!r} is empty; add its text or remove the file.")
    if kind in OCR_KINDS:
        article = _READERS[kind](source, data, name, ocr=ocr if ocr is not None else Tesseract())
        if article.ocr_pages and not getattr(ocr, "reads_text", True):
            return article  # pages checked, not read: no text to check yet
    else:
        article = _READERS[kind](source, data, name)
    if len(article.text) > MAX_TEXT_CHARS:
        raise DocumentError(
            f"{name!r} holds {len(article.text):,} characters of text, over the {MAX_TEXT_CHARS:,} limit; "
            "split it into smaller documents."
        )
    if not article.text[article.body_start :].strip():
        raise DocumentError(f"{name!r} holds no text to answer from; check the file or remove it.")
    return article


def check_document(source: str, data: bytes) -> None:
    """Refuse what could not be indexed, with the reason, without reading pages by OCR
    (they are made and checked, and Tesseract looked for): what "Add documents" does
    before saving a file, so that the build shows the OCR's progress."""
    read_document(source, data, ocr=PagesChecked())


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_text_file(source: str, data: bytes, name: str, kind: str = "txt") -> Article:
    if b"\0" in data:
        raise DocumentError(
            f"{name!r} holds NUL bytes: it is binary, or text in an encoding other than UTF-8; "
            "re-save it as UTF-8 or remove it."
        )
    try:
        # Decoded as Path.read_text does (universal newlines), so offsets match what editors show.
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict").read()
    except UnicodeDecodeError as err:
        raise DocumentError(f"{name!r} is not UTF-8 text ({err.reason}); re-save it as UTF-8.") from err
    return parse_article(source, text, kind=kind, sha256=_sha(data))


def read_markdown(source: str, data: bytes, name: str) -> Article:
    return read_text_file(source, data, name, kind="md")


def read_html(source: str, data: bytes, name: str) -> Article:
    import trafilatura

    try:
        html = data.decode("utf-8")
    except UnicodeDecodeError:
        html = data.decode("latin-1")  # trafilatura needs a str; a legacy page is most often Latin-1
    check_html_markup(name, html)
    # lxml's and trafilatura's own errors on broken markup become one line.
    with parser_errors(name, "HTML page"):
        text = trafilatura.extract(
            html, output_format="txt", include_comments=False, include_tables=True,
            include_images=False, favor_recall=True, deduplicate=False,
        )
        metadata = trafilatura.extract_metadata(html)
    if not text or len(text.strip()) < MIN_HTML_TEXT_CHARS:
        raise DocumentError(
            f"{name!r} holds no article text that could be found (menus and scripts are skipped); "
            "save the page's article as HTML or text."
        )
    text = _BLANK_LINES.sub(PARAGRAPH_BREAK, text.replace("\n", PARAGRAPH_BREAK)).strip()
    date = getattr(metadata, "date", None) if metadata else None
    title = getattr(metadata, "title", None) if metadata else None
    return Article(
        source=source, text=text, date=date if _is_iso_date(date) else None, body_start=0, kind="html",
        sha256=_sha(data), stated_title=title or None,
    )


def read_pdf(source: str, data: bytes, name: str, ocr=None) -> Article:
    import pypdf
    from pypdf.errors import DependencyError

    budget = PdfBudget(name)
    with parser_errors(name, "PDF"), pdf_configuration():
        try:
            # Opening tries the empty password, which many "encrypted" PDFs use only to restrict
            # printing; AES needs the `cryptography` package, which pypdf may lack.
            pdf = pypdf.PdfReader(io.BytesIO(data))
            opened = pdf.decrypt("") if pdf.is_encrypted else 1
        except DependencyError:
            opened = 0
        if not opened:
            raise DocumentError(f"{name!r} is password-protected; save an unprotected copy and add that instead.")
        budget.pages(pdf)
        pages, scanned = [], []
        for number, page in enumerate(pdf.pages, 1):
            drawn = budget.page(page)
            pages.append(_clean_pdf_page(page.extract_text() or ""))
            budget.text(len(pages[-1]), MAX_TEXT_CHARS)
            if len(pages[-1]) < MIN_PDF_CHARS_PER_PAGE and drawn:  # a scan, or a drawing: OCR reads it
                scanned.append(number)
                check_pdf_images(name, page, number)
        title = (pdf.metadata.title if pdf.metadata else None) or None
    check_page_count(name, len(scanned), "no text layer on {:,} pages")
    if not pages:
        raise DocumentError(f"{name!r} has no pages; check the file.")
    read: list[OcrPage] = []
    if scanned:
        images, close = pdf_page_images(name, data, scanned)
        try:
            read = ocr.read(name, images, scanned)
        finally:
            close()
        if not ocr.reads_text:
            return _paged_article(source, data, pages, "pdf", title, scanned, None)
        read = [page if _legible(page) else OcrPage("", 0, None) for page in read]
        for number, page in zip(scanned, read):
            if page.text:
                pages[number - 1] = page.text
        budget.text(sum(len(p.text) for p in read), MAX_TEXT_CHARS)
    if sum(len(p) for p in pages) < MIN_PDF_CHARS_PER_PAGE * len(pages):
        raise DocumentError(
            f"{name!r} has no text layer, and OCR found no legible text on its pages (a drawing, a photograph, "
            "or a scan too faint to read); export its text, or scan it again at 300 DPI."
            if scanned else f"{name!r} has no text layer and its pages draw nothing; check the file."
        )
    return _paged_article(source, data, pages, "pdf", title, [n for n, p in zip(scanned, read) if p.words],
                          mean_confidence(read))


def read_image(source: str, data: bytes, name: str, ocr=None) -> Article:
    """An image file (.png, .jpg, .tif), read by OCR: one page per frame (a TIFF's pages)."""
    frames = image_frames(name, data)
    labels = list(range(1, len(frames) + 1))
    read = ocr.read(name, frames, labels)
    if not ocr.reads_text:
        return _paged_article(source, data, [""] * len(read), "image", None, labels, None)
    read = [page if _legible(page) else OcrPage("", 0, None) for page in read]
    if sum(len(p.text) for p in read) < MIN_PDF_CHARS_PER_PAGE * len(read):
        raise DocumentError(
            f"{name!r}: OCR found no legible text in the image (a photograph, or a scan too faint or too small "
            "to read); scan the page at 300 DPI, or remove the file."
        )
    return _paged_article(source, data, [p.text for p in read], "image", None,
                          [n for n, p in zip(labels, read) if p.words], mean_confidence(read))


def _legible(page: OcrPage) -> bool:
    """Whether a page's OCR words are text rather than noise (`MIN_OCR_CONFIDENCE`)."""
    return page.confidence is not None and page.confidence >= MIN_OCR_CONFIDENCE


def _paged_article(source, data, pages, kind, title, ocr_pages, confidence) -> Article:
    """One text of ``pages`` separated by `PAGE_BREAK`, with each page's offset (an image of
    one page has none: its citations need no page)."""
    text, starts = "", []
    for page in pages:
        if text:
            text += PAGE_BREAK
        starts.append(len(text))
        text += page
    return Article(
        source=source, text=text, date=None, body_start=0, kind=kind,
        page_starts=tuple(starts) if kind == "pdf" or len(pages) > 1 else (),
        sha256=_sha(data), stated_title=title if isinstance(title, str) and title.strip() else None,
        ocr_pages=tuple(ocr_pages), ocr_confidence=round(confidence, 1) if confidence is not None else None,
    )


def _clean_pdf_page(text: str) -> str:
    lines = [_SPACES.sub(" ", line).strip() for line in text.splitlines()]
    return _BLANK_LINES.sub(PARAGRAPH_BREAK, "\n".join(lines)).strip()


def read_docx(source: str, data: bytes, name: str) -> Article:
    import docx

    check_docx_archive(name, data)
    # zipfile's, lxml's and python-docx's own errors become one line.
    with parser_errors(name, ".docx file"):
        document = docx.Document(io.BytesIO(data))
        blocks, tables = [], 0
        for block in document.iter_inner_content():
            if hasattr(block, "rows"):  # a table: its rows with their headers, as a sheet's (qa/corpus/tables.py)
                tables += 1
                blocks.extend(docx_table_blocks(tables, block, name))
            elif text := block.text.strip():
                blocks.append(_SPACES.sub(" ", text).strip())
        title = document.core_properties.title or None
    return Article(
        source=source, text=PARAGRAPH_BREAK.join(blocks), date=None, body_start=0, kind="docx",
        sha256=_sha(data), stated_title=title,
    )


def _is_iso_date(value) -> bool:
    return isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) is not None


_READERS: dict[str, Callable[[str, bytes, str], Article]] = {
    "txt": read_text_file,
    "md": read_markdown,
    "html": read_html,
    "pdf": read_pdf,
    "docx": read_docx,
    "csv": read_csv,  # qa/corpus/tables.py
    "xlsx": read_xlsx,
    "image": read_image,
}
