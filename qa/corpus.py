"""The articles: read from the seeds directory exactly as they are on disk.

Citations are character offsets into `Article.text`, so the text is never
altered; metadata found in it (a leading `` date YYYY-MM-DD`` line) is
recorded and its span skipped by the chunker, not cut out.

A file that is not an article (empty, binary, not UTF-8, far too large) is
skipped with a warning naming it and the fix; the other articles still load.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError

log = logging.getLogger(__name__)

#: File types read from the seeds directory.
ARTICLE_SUFFIXES = (".txt",)
#: A title is cut to this many characters.
TITLE_MAX_CHARS = 90
#: A news article is a few kB. A file past this is a dump, not an article, and would
#: take many minutes to embed; it is skipped.
MAX_ARTICLE_BYTES = 1_000_000

_DATE_HEADER = re.compile(r"\A\s*date\s+(\d{4}-\d{2}-\d{2})\b[ \t]*")


@dataclass(frozen=True)
class Article:
    #: The file name: the article's identity in every citation.
    source: str
    #: The whole file, as ``Path.read_text(encoding="utf-8")`` returns it.
    text: str
    #: Publication date ``YYYY-MM-DD`` when the file states one.
    date: str | None
    #: Where the body starts (after a metadata header, if any).
    body_start: int

    @property
    def title(self) -> str:
        """The body's first line, shortened: a headline stand-in for display."""
        body = self.text[self.body_start :].strip()
        first = body.splitlines()[0] if body else ""
        if len(first) <= TITLE_MAX_CHARS:
            return first
        return first[: TITLE_MAX_CHARS - 1].rsplit(" ", 1)[0] + "…"


def parse_article(source: str, text: str) -> Article:
    """Build an `Article`, reading the optional `` date YYYY-MM-DD`` header."""
    match = _DATE_HEADER.match(text)
    if match:
        return Article(source=source, text=text, date=match.group(1), body_start=match.end())
    return Article(source=source, text=text, date=None, body_start=0)


def load_corpus(seeds_dir: Path) -> list[Article]:
    """Every article in ``seeds_dir``, sorted by file name.

    >>> [a.source for a in load_corpus(Path("seeds"))][:1]  # doctest: +SKIP
    ['000_ba0d99dbaf0691ae.txt']
    """
    seeds_dir = Path(seeds_dir)
    if not seeds_dir.is_dir():
        raise CorpusError(
            f"Seeds directory {str(seeds_dir)!r} does not exist; "
            "put the articles there or set QA_SEEDS_DIR."
        )
    paths = sorted(p for p in seeds_dir.iterdir() if p.suffix in ARTICLE_SUFFIXES and p.is_file())
    if not paths:
        raise CorpusError(
            f"Seeds directory {str(seeds_dir)!r} holds no {'/'.join(ARTICLE_SUFFIXES)} articles."
        )
    articles, skipped = [], []
    for path in paths:
        try:
            articles.append(parse_article(path.name, read_article(path)))
        except CorpusError as err:
            log.warning("Skipped an article: %s", err)
            skipped.append(path.name)
    if not articles:
        raise CorpusError(
            f"Seeds directory {str(seeds_dir)!r} holds no readable article "
            f"(skipped {', '.join(skipped)}: see the warnings above)."
        )
    return articles


def read_article(path: Path) -> str:
    """The text of one article file, as ``path.read_text(encoding="utf-8")`` gives it.

    Raises `CorpusError`, naming the file and the fix, when the file is too large,
    binary, not UTF-8 or empty.
    """
    size = path.stat().st_size
    if size > MAX_ARTICLE_BYTES:
        raise CorpusError(
            f"Article {str(path)!r} is {size:,} bytes, over the {MAX_ARTICLE_BYTES:,}-byte limit for one article; "
            "split it into articles or move it out of the seeds directory."
        )
    data = path.read_bytes()
    if b"\0" in data:
        raise CorpusError(
            f"Article {str(path)!r} holds NUL bytes: it is binary, or text in an encoding other than UTF-8; "
            "re-save it as UTF-8 or move it out of the seeds directory."
        )
    try:
        # Decoded as read_text does (universal newlines), so offsets match what readers see.
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8", errors="strict").read()
    except UnicodeDecodeError as err:
        raise CorpusError(f"Article {str(path)!r} is not UTF-8 text ({err.reason}); re-save it as UTF-8.") from err
    if not text.strip():
        raise CorpusError(f"Article {str(path)!r} is empty; add its text or remove the file.")
    return text


def corpus_hash(articles: list[Article]) -> str:
    """A fingerprint of names and texts: any edit, addition or removal changes it."""
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.source):
        digest.update(article.source.encode("utf-8") + b"\0")
        digest.update(article.text.encode("utf-8") + b"\0")
    return digest.hexdigest()
