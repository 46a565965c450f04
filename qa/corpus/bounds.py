"""Bounded work per document: what a file declares is checked before it is parsed, and
parsing stops once a limit is reached.

A hostile file (a decompression bomb, thousands of empty pages, markup nested a million
deep, a content stream drawn by every page) is then refused in about a second and a few
tens of MB, like any other bad file, instead of taking minutes and gigabytes. Each limit
sits several times above what the largest accepted document (`formats.MAX_TEXT_CHARS`
of text, about 300 pages) needs; the figures are measured in ``tests/reliability/test_hostile_files.py``
and ``benchmarks/hostile_files.py``.

- `parser_errors`: every exception a parser library raises becomes a `DocumentError`.
- `check_docx_archive`: a .docx's zip entries, their declared sizes and ratios, and the
  paragraphs and runs its XML holds, before python-docx inflates anything.
- `check_html_markup`: the number of elements and the text outside tags and scripts, before
  trafilatura walks them.
- `pdf_configuration` and `PdfBudget`: pypdf's own limits, tightened, and the pages, the
  content drawn and the text gathered so far, checked page by page.
"""

from __future__ import annotations

import contextlib
import io
import re
import zipfile
from collections.abc import Iterator

from qa.errors import DocumentError

# ---------------------------------------------------------------- any parser's errors


@contextlib.contextmanager
def parser_errors(name: str, what: str, fix: str = "check the file") -> Iterator[None]:
    """Turn whatever a parser library raises (its own error types, lxml's, zipfile's, a
    RecursionError on deep nesting, a MemoryError) into a `DocumentError` naming the file,
    what it was read as, the library's reason (cut to one short line) and ``fix``."""
    try:
        yield
    except DocumentError:
        raise
    except _limit_errors() as err:
        raise DocumentError(
            f"{name!r} goes past a limit while being read as a {what} ({_reason(err)}): a decompression bomb "
            "or a malformed file, not a document to cite; remove it, or export its text and add that."
        ) from err
    except Exception as err:  # noqa: BLE001 - third-party parsers raise anything; each becomes one line
        raise DocumentError(f"{name!r} is not a readable {what} ({_reason(err)}); {fix}.") from err


def _limit_errors() -> tuple[type[BaseException], ...]:
    """The errors a library raises when one of its own limits is reached."""
    import pypdf.errors
    from PIL import Image

    return (pypdf.errors.LimitReachedError, Image.DecompressionBombError, MemoryError)


#: A library's reason is cut to this many characters: the message stays one line.
REASON_MAX_CHARS = 120


def _reason(err: BaseException) -> str:
    detail = " ".join(str(err).split())
    if len(detail) > REASON_MAX_CHARS:
        detail = detail[: REASON_MAX_CHARS - 1] + "…"
    return f"{type(err).__name__}: {detail}" if detail else type(err).__name__


# ---------------------------------------------------------------- .docx and .xlsx (zips of XML)

#: Entries of a .docx: a document has 10-50 parts, plus one per picture; thousands are
#: an archive of something else, and each costs python-docx a lookup.
MAX_ZIP_ENTRIES = 5_000
#: Bytes all entries may declare once inflated. Pictures barely compress, so a 10 MB
#: .docx of pictures inflates to about 11 MB; 300 pages of text are 2-15 MB of XML.
MAX_DOCX_INFLATED_BYTES = 60_000_000
#: Bytes the XML parts together may declare once inflated: python-docx parses each into
#: a tree about five times that size in memory.
MAX_DOCX_XML_BYTES = 30_000_000
#: Deflate cannot exceed about 1,030:1; real XML deflates 5-30:1 and pictures 1:1. An
#: entry over `RATIO_CHECK_BYTES` with a higher ratio is one pattern repeated: a bomb.
MAX_ZIP_RATIO = 200
RATIO_CHECK_BYTES = 1_000_000
#: Paragraphs, runs and table cells in the XML: python-docx spends about 20 us on each
#: paragraph or run and about 100 us on a cell (it works out the table's grid), in Python,
#: so a cell counts `DOCX_CELL_WEIGHT` times. A 300-page document has about 12,000; this
#: bound keeps a read under ~1.3 s.
MAX_DOCX_BLOCKS = 60_000
DOCX_CELL_WEIGHT = 4
#: Tags in all XML parts: bounds the trees' memory (a 300-page document has about 90,000).
MAX_DOCX_TAGS = 600_000

#: Start tags of paragraphs (p) and runs (r), and of table cells (tc), whatever the namespace prefix.
_DOCX_BLOCK = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?(?:p|r)[\s/>]")
_DOCX_CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?tc[\s/>]")
_XML_PART = (".xml", ".rels")
#: Longer than any tag name the block count looks for: a "<" further back than this from the
#: end of a piece is not the start of a tag it could miss.
_TAG_NAME_MAX = 64
#: The XML is counted in pieces this large, so counting never holds a whole part twice.
_COUNT_CHUNK = 1 << 20


def _declared_zip(name: str, data: bytes, what: str) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """The archive of an Office file (.docx, .xlsx), refused when what its zip declares (parts,
    inflated sizes, ratios) is more than a document needs; nothing is inflated yet."""
    archive = zipfile.ZipFile(io.BytesIO(data))
    entries = archive.infolist()
    if len(entries) > MAX_ZIP_ENTRIES:
        raise DocumentError(
            f"{name!r} holds {len(entries):,} parts, over the {MAX_ZIP_ENTRIES:,} a document has; "
            f"it is an archive of something else, not a {what}."
        )
    inflated = sum(e.file_size for e in entries)
    xml = sum(e.file_size for e in entries if e.filename.lower().endswith(_XML_PART))
    for size, limit, of in ((inflated, MAX_DOCX_INFLATED_BYTES, ""), (xml, MAX_DOCX_XML_BYTES, " of XML")):
        if size > limit:
            raise DocumentError(
                f"{name!r} would inflate to {size:,} bytes{of}, over the {limit:,}-byte limit; "
                "split it into smaller documents."
            )
    for entry in entries:
        if entry.file_size > RATIO_CHECK_BYTES and entry.file_size > MAX_ZIP_RATIO * max(entry.compress_size, 1):
            raise DocumentError(
                f"{name!r} holds {entry.filename} that would inflate {entry.file_size // max(entry.compress_size, 1):,} "
                f"times (over {MAX_ZIP_RATIO}:1): a decompression bomb, not a document; remove the file."
            )
    return archive, entries


#: Tags in a workbook's XML: openpyxl reads a cell (two or three tags) in about 10 us, in
#: Python, so this keeps a read of the largest accepted workbook near a second; a table
#: that answers questions in a news corpus has hundreds of rows, not hundreds of thousands.
MAX_XLSX_TAGS = 300_000


def check_xlsx_archive(name: str, data: bytes) -> None:
    """Refuse an .xlsx whose zip declares more than a workbook of tables needs, or whose XML
    holds more than `MAX_XLSX_TAGS` tags, before openpyxl reads any of it."""
    with parser_errors(name, ".xlsx file"):
        archive, entries = _declared_zip(name, data, "spreadsheet")
        tags = 0
        for entry in entries:
            if not entry.filename.lower().endswith(_XML_PART):
                continue
            with archive.open(entry) as part:
                while chunk := part.read(_COUNT_CHUNK):
                    tags += chunk.count(b"<")
                    if tags > MAX_XLSX_TAGS:
                        raise DocumentError(
                            f"{name!r} holds over {MAX_XLSX_TAGS:,} XML tags, far more than a table to "
                            "answer questions from; split it, or keep the sheets that matter."
                        )


def check_docx_archive(name: str, data: bytes) -> None:
    """Refuse a .docx whose zip declares more than a document needs, before python-docx
    inflates any of it. Reading a part stops at its declared size (zipfile checks it), so an
    archive that lies about a size fails its checksum instead of inflating further."""
    with parser_errors(name, ".docx file"):
        archive, entries = _declared_zip(name, data, "Word document")
        blocks = tags = 0
        for entry in entries:
            if not entry.filename.lower().endswith(_XML_PART):
                continue
            with archive.open(entry) as part:
                tail = b""
                while chunk := part.read(_COUNT_CHUNK):
                    piece = tail + chunk
                    # A tag cut by the chunk boundary is counted with the next piece.
                    cut = piece.rfind(b"<")
                    if cut < 0 or piece.find(b">", cut) >= 0 or len(piece) - cut > _TAG_NAME_MAX:
                        cut = len(piece)
                    tags += piece.count(b"<", 0, cut)
                    if entry.filename == "word/document.xml":
                        blocks += sum(1 for _ in _DOCX_BLOCK.finditer(piece, 0, cut))
                        blocks += DOCX_CELL_WEIGHT * sum(1 for _ in _DOCX_CELL.finditer(piece, 0, cut))
                    tail = piece[cut:]
            for count, limit, what in ((blocks, MAX_DOCX_BLOCKS, "paragraphs, runs and table cells"),
                                       (tags, MAX_DOCX_TAGS, "XML tags")):
                if count > limit:
                    raise DocumentError(
                        f"{name!r} holds over {limit:,} {what}, far more than 300 pages of text need; "
                        "split it into smaller documents."
                    )


# ---------------------------------------------------------------- HTML

#: Elements of a page, and characters of text outside its tags, scripts and styles:
#: trafilatura spends 45-130 us on each element and about 0.5 us on each character, in
#: Python. A news page has 1,000-6,000 elements and 5,000-50,000 characters; at both bounds
#: together a read takes about 1.1 s (the worst shape measured: paragraphs of text).
MAX_HTML_ELEMENTS = 8_000
MAX_HTML_TEXT_CHARS = 1_200_000
_START_TAG = re.compile(r"<[A-Za-z]")
_INVISIBLE = re.compile(r"<(script|style|template|svg)\b.*?</\1\s*>", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]*>")
_SPACE_RUN = re.compile(r"\s+")


def check_html_markup(name: str, html: str) -> None:
    """Refuse a page with more elements or text than trafilatura can walk in about a second."""
    elements = sum(1 for _ in _START_TAG.finditer(html))
    if elements > MAX_HTML_ELEMENTS:
        raise DocumentError(
            f"{name!r} holds {elements:,} HTML elements, over the {MAX_HTML_ELEMENTS:,} limit for one page; "
            "save the article's text, or split the page."
        )
    text = len(_SPACE_RUN.sub(" ", _TAG.sub(" ", _INVISIBLE.sub(" ", html))))
    if text > MAX_HTML_TEXT_CHARS:
        raise DocumentError(
            f"{name!r} holds about {text:,} characters of text, over the {MAX_HTML_TEXT_CHARS:,} limit for one "
            "page; split it into smaller documents."
        )


# ---------------------------------------------------------------- PDF

#: Pages of one PDF. The text limit is about 300 pages of prose; slides and forms with
#: little text per page still fit. The page tree is read before any page is. pypdf spends
#: about 0.8 ms on a page with one line of text: 1,000 such pages take about 0.8 s.
MAX_PDF_PAGES = 1_000
#: Bytes one stream may inflate to (pypdf's default is 75 MB). A page's content stream is
#: 5-100 kB; a vector drawing a few MB. Pictures are never inflated to extract text.
MAX_PDF_STREAM_BYTES = 10_000_000
#: Objects parsed out of one content stream (pypdf's default is 2,000,000).
MAX_PDF_STREAM_OBJECTS = 500_000
#: Content bytes the pages may draw in all, counted for every page that draws them (one
#: stream drawn by 1,000 pages counts 1,000 times: pypdf parses it for each page). 300
#: pages of text draw 2-15 MB.
MAX_PDF_CONTENT_BYTES = 30_000_000
#: Content drawn with almost no text is a drawing or a flood of operators, not a document
#: to cite: after `TEXTLESS_CHECK_BYTES`, at least one character per this many bytes
#: (text pages give one per 5-30 bytes; a map or chart with labels one per ~200).
MAX_CONTENT_BYTES_PER_CHAR = 2_000
TEXTLESS_CHECK_BYTES = 3_000_000
#: Form XObjects a page may invoke (pypdf's default is 5,000): each is parsed anew.
MAX_PDF_FORM_INVOCATIONS = 200


def pdf_configuration():
    """pypdf's limits (`pypdf.apply_configuration`), tightened to what a document needs."""
    import pypdf

    return pypdf.apply_configuration(
        zlib_maximum_output_length=MAX_PDF_STREAM_BYTES,
        lzw_maximum_output_length=MAX_PDF_STREAM_BYTES,
        run_length_maximum_output_length=MAX_PDF_STREAM_BYTES,
        brotli_maximum_output_length=MAX_PDF_STREAM_BYTES,
        array_based_stream_maximum_output_length=MAX_PDF_STREAM_BYTES,
        stream_decoding_work_maximum_length=4 * MAX_PDF_STREAM_BYTES,
        stream_parsing_work_maximum_count=MAX_PDF_STREAM_OBJECTS,
        xform_maximum_invocations_per_extraction=MAX_PDF_FORM_INVOCATIONS,
        page_tree_maximum_entries=2 * MAX_PDF_PAGES,
    )


class PdfBudget:
    """What one PDF may cost: `pages` before any is read, then `page` before each page's text
    is extracted and `text` after; each raises `DocumentError` once a limit is passed."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.content_bytes = 0
        self.chars = 0

    def pages(self, reader) -> None:
        """The page count the document declares, then the one its page tree holds."""
        tree = reader.trailer["/Root"]["/Pages"]
        declared = tree["/Count"] if "/Count" in tree else 0
        declared = declared if isinstance(declared, int) else 0
        for count in (lambda: declared, lambda: len(reader.pages)):  # the tree is read only if needed
            if count() > MAX_PDF_PAGES:
                raise DocumentError(
                    f"{self.name!r} has {count():,} pages, over the {MAX_PDF_PAGES:,}-page limit; "
                    "split it into smaller documents."
                )

    def page(self, page) -> int:
        """Count the content this page draws (its streams and the forms its resources hold);
        returns this page's bytes."""
        drawn = sum(len(s.get_data()) for s in _page_streams(page))
        self.content_bytes += drawn
        if self.content_bytes > MAX_PDF_CONTENT_BYTES:
            raise DocumentError(
                f"{self.name!r} draws over {MAX_PDF_CONTENT_BYTES:,} bytes of page content, more than "
                "300 pages of text; it is a drawing or a malformed file: split it or export its text."
            )
        return drawn

    def text(self, chars: int, max_chars: int) -> None:
        self.chars += chars
        if self.chars > max_chars:
            raise DocumentError(
                f"{self.name!r} holds over {max_chars:,} characters of text, over the {max_chars:,} limit; "
                "split it into smaller documents."
            )
        if self.content_bytes > TEXTLESS_CHECK_BYTES and self.chars * MAX_CONTENT_BYTES_PER_CHAR < self.content_bytes:
            raise DocumentError(
                f"{self.name!r} draws {self.content_bytes:,} bytes of page content for {self.chars:,} characters "
                "of text: a drawing or a scan, not a text document; export its text or run OCR on it."
            )


def _page_streams(page):
    """The content streams a page draws: its /Contents and the form XObjects of its resources."""
    contents = page.get("/Contents")
    contents = contents.get_object() if contents is not None else None
    streams = list(contents) if isinstance(contents, list) else [contents] if contents is not None else []
    resources = page.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    xobjects = resources.get("/XObject") if hasattr(resources, "get") else None
    xobjects = xobjects.get_object() if xobjects is not None else None
    if hasattr(xobjects, "values"):
        for xobject in xobjects.values():
            xobject = xobject.get_object()
            if hasattr(xobject, "get") and xobject.get("/Subtype") == "/Form":
                streams.append(xobject)
    return [s.get_object() for s in streams if hasattr(s.get_object(), "get_data")]
