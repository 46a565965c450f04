"""A document of the corpus: its text exactly as cited, and what is known about it.

Citations are character offsets into `Article.text`, so the text is never altered
after extraction: metadata found in it (a leading `` date YYYY-MM-DD`` line) is
recorded and its span skipped by the chunker, not cut out. For a plain-text file the
text is the file as ``Path.read_text(encoding="utf-8")`` returns it; for other formats
it is what `qa.corpus.formats` extracted, and the index stores that text beside the
chunks so citations are checked against the text they were cut from.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from dataclasses import dataclass

#: A title is cut to this many characters.
TITLE_MAX_CHARS = 90

_DATE_HEADER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*")


@dataclass(frozen=True)
class Article:
    #: The file's path relative to the corpus folder (POSIX separators): its identity in
    #: every citation. A file at the top of the folder is named by its file name alone.
    source: str
    #: The document's text, exactly as cited.
    text: str
    #: Publication date ``YYYY-MM-DD`` when the document states one.
    date: str | None
    #: Where the body starts (after a metadata header, if any).
    body_start: int
    #: The format it was read from: "txt", "md", "html", "pdf", "docx", "csv", "xlsx", "image".
    kind: str = "txt"
    #: For paged formats (PDF): where each page starts in ``text``, page 1 first.
    page_starts: tuple[int, ...] = ()
    #: sha256 of the file's bytes (of the text, for an article made from a string): what the
    #: index compares to tell a changed document from an unchanged one.
    sha256: str = ""
    #: A title the format states (HTML <title>, PDF or DOCX properties), if any.
    stated_title: str | None = None
    #: Page furniture (`qa.corpus.furniture`): ``(start, end, kind)`` spans that no sentence or
    #: chunk includes. None: not looked for yet (the chunker then applies the shipped rules).
    furniture: tuple[tuple[int, int, str], ...] | None = None
    #: The pages (from 1) whose text was read by OCR (`qa.corpus.ocr`): a scanned PDF's
    #: pages without a text layer, an image's frames; () when none was.
    ocr_pages: tuple[int, ...] = ()
    #: The mean confidence (0-100) of the words OCR read, when it read any.
    ocr_confidence: float | None = None

    def __post_init__(self) -> None:
        if not self.sha256:
            object.__setattr__(self, "sha256", hashlib.sha256(self.text.encode("utf-8")).hexdigest())

    @property
    def title(self) -> str:
        """The stated title, else the body's first line, shortened: a headline stand-in."""
        if self.stated_title:
            return _shorten(self.stated_title.strip())
        body = self.text[self.body_start :].strip()
        return _shorten(body.splitlines()[0] if body else "")

    def pages(self, start: int, end: int) -> list[int]:
        """The pages (from 1) that ``text[start:end]`` lies on; [] for unpaged formats."""
        if not self.page_starts:
            return []
        first = bisect.bisect_right(self.page_starts, start)
        last = bisect.bisect_right(self.page_starts, max(start, end - 1))
        return list(range(max(1, first), max(1, last) + 1))


def _shorten(line: str) -> str:
    if len(line) <= TITLE_MAX_CHARS:
        return line
    return line[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def parse_article(source: str, text: str, **fields) -> Article:
    """Build an `Article`, reading the optional `` date YYYY-MM-DD`` header."""
    match = _DATE_HEADER.match(text)
    if match:
        fields.setdefault("date", match.group(1))
        return Article(source=source, text=text, body_start=match.end(), **fields)
    fields.setdefault("date", None)
    return Article(source=source, text=text, body_start=0, **fields)


def corpus_hash(articles) -> str:
    """A fingerprint of the documents' names and contents: any edit, addition, removal or
    rename changes it. Takes anything with ``source`` and ``sha256`` (articles or files)."""
    digest = hashlib.sha256()
    for doc in sorted(articles, key=lambda a: a.source):
        digest.update(doc.source.encode("utf-8") + b"\0" + doc.sha256.encode("ascii") + b"\0")
    return digest.hexdigest()
