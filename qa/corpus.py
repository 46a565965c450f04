"""The articles: read from the seeds directory exactly as they are on disk.

Citations are character offsets into `Article.text`, so the text is never
altered; metadata found in it (a leading `` date YYYY-MM-DD`` line) is
recorded and its span skipped by the chunker, not cut out.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from qa.errors import CorpusError

#: File types read from the seeds directory.
ARTICLE_SUFFIXES = (".txt",)
#: A title is cut to this many characters.
TITLE_MAX_CHARS = 90

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
    articles = []
    for path in paths:
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as err:
            raise CorpusError(f"Article {str(path)!r} is not UTF-8 text ({err.reason}); re-save it as UTF-8.") from err
        articles.append(parse_article(path.name, text))
    return articles


def corpus_hash(articles: list[Article]) -> str:
    """A fingerprint of names and texts: any edit, addition or removal changes it."""
    digest = hashlib.sha256()
    for article in sorted(articles, key=lambda a: a.source):
        digest.update(article.source.encode("utf-8") + b"\0")
        digest.update(article.text.encode("utf-8") + b"\0")
    return digest.hexdigest()
