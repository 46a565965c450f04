"""Page furniture: the parts of a saved web page or PDF that are not the article.

Link teasers ("Also Read: ..."), "Advertisement" lines, embedded social posts
("pic.twitter.com/... — ANI (@ANI) August 21, 2025"), bare datelines, section headings,
photo captions and credits, "Subscribe" and share lines, and a PDF's running headers,
footers and page numbers. None of it answers a question, and a citation of it
misleads ("Why did X visit?" answered with a link to another story).

The text is never rewritten: citations are offsets into it (`qa.corpus.documents`).
`find` returns the furniture's spans; `qa.corpus.chunking` leaves them out of every
sentence and chunk, so they are neither indexed nor cited. The rules are data
(``furniture_rules.json``: general habits of news pages and PDFs); a corpus adds its
own patterns in its ``corpus.toml``::

    [furniture]
    patterns = ["Read the full story at .*", "©.*All rights reserved\\\\.?"]

each matched, case-insensitively, against whole lines.

>>> text = "Talks went well.\\nAdvertisement\\nBoth sides agreed."
>>> [text[s:e] for s, e, _ in find(text)]
['Advertisement']
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import json
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("qa.corpus")

RULES_FILE = Path(__file__).with_name("furniture_rules.json")
#: The corpus.toml table that adds patterns.
TOML_TABLE = "furniture"
#: Sentence-final punctuation, possibly inside closing quotes or brackets: a line ending so is
#: prose, not a heading.
_ENDS_SENTENCE = re.compile(r"[.!?;:,][\"'\u201d\u2019)\]]*\s*$|[.!?][\"'\u201d\u2019)\]]*\s*$")
_LINE = re.compile(r"[^\n]+")
_MARKDOWN_HEADING = re.compile(r"#{1,6}\s")
_DIGITS = re.compile(r"\d+")


@dataclass(frozen=True)
class Rules:
    """Compiled furniture rules: the shipped ones, plus a corpus's own line patterns."""

    lines: tuple[tuple[str, re.Pattern], ...]
    posts: tuple[re.Pattern, ...]
    caption: re.Pattern
    heading_max_words: int
    pdf_edge_lines: int
    pdf_min_share: float
    pdf_min_pages: int
    #: The corpus's own patterns, as written (for messages and fingerprints).
    extra: tuple[str, ...] = field(default=())

    @functools.cached_property
    def fingerprint(self) -> str:
        """A digest of every rule (the shipped ones and the corpus's patterns): an index
        records it, and is rebuilt when it changes (`qa.index.manifest`), since the text it
        stores was split under the rules it was built with."""
        rules = [
            [[label, p.pattern, p.flags] for label, p in self.lines],
            [[p.pattern, p.flags] for p in self.posts],
            [self.caption.pattern, self.caption.flags],
            [self.heading_max_words, self.pdf_edge_lines, self.pdf_min_share, self.pdf_min_pages],
        ]
        return hashlib.sha256(json.dumps(rules, ensure_ascii=False).encode("utf-8")).hexdigest()[:16]

    def with_patterns(self, patterns: list[str], origin: str = "corpus.toml") -> "Rules":
        """These rules plus ``patterns`` (whole-line regular expressions); a pattern that is
        not a valid regular expression is left out with a warning naming it."""
        added = []
        for pattern in patterns:
            try:
                added.append(("corpus pattern", re.compile(pattern, re.IGNORECASE)))
            except (re.error, TypeError) as err:
                log.warning("%s: furniture pattern %r is not a valid regular expression (%s); left out.", origin, pattern, err)
        if not added:
            return self
        return Rules(
            self.lines + tuple(added), self.posts, self.caption, self.heading_max_words,
            self.pdf_edge_lines, self.pdf_min_share, self.pdf_min_pages,
            self.extra + tuple(p.pattern for _, p in added),
        )


@functools.lru_cache(maxsize=1)
def default_rules() -> Rules:
    """The shipped rules (``furniture_rules.json``)."""
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    lines = tuple(
        (label, re.compile(pattern, re.IGNORECASE))
        for label, patterns in data["line"].items()
        if not label.startswith("_")
        for pattern in patterns
    )
    posts = tuple(re.compile(p, re.IGNORECASE) for p in data["social post"]["search"])
    credits = "|".join(re.escape(c) for c in data["caption"]["credits"])
    # After a sentence's end: a clause with no sentence punctuation of its own, ending with
    # "(AP)", "(Photo: ...)" and the like at the end of the line.
    caption = re.compile(r"\((?:" + credits + r")(?:[:/ ][^()\n]{0,60})?\)\s*$")
    pdf = data["pdf"]
    return Rules(
        lines, posts, caption, int(data["heading"]["max_words"]),
        int(pdf["edge_lines"]), float(pdf["min_share"]), int(pdf["min_pages"]),
    )


def rules_for(root: Path | str | None) -> Rules:
    """The rules for the corpus folder ``root``: the shipped ones plus its corpus.toml's
    ``[furniture] patterns`` (read again when the file changes)."""
    if root is None:
        return default_rules()
    path = Path(root) / "corpus.toml"
    try:
        stamp = path.stat().st_mtime_ns
    except OSError:
        return default_rules()
    return _rules_from_file(str(path), stamp)


@functools.lru_cache(maxsize=32)
def _rules_from_file(path: str, _stamp: int) -> Rules:
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return default_rules()  # qa.corpus.description reports the broken file
    table = data.get(TOML_TABLE, {})
    patterns = table.get("patterns", []) if isinstance(table, dict) else []
    if not isinstance(patterns, list):
        log.warning("%s: [furniture] patterns must be a list of strings; left out.", path)
        return default_rules()
    return default_rules().with_patterns([p for p in patterns if isinstance(p, str)], origin=path)


def marked(article, rules: Rules | None = None):
    """``article`` with its furniture found (`Article.furniture`) under ``rules``."""
    import dataclasses

    spans = find(article.text, article.body_start, article.page_starts, rules, tables=_has_tables(article))
    return dataclasses.replace(article, furniture=tuple(spans))


def _has_tables(article) -> bool:
    from qa.corpus.tables import KINDS_WITH_TABLES

    return getattr(article, "kind", "") in KINDS_WITH_TABLES


def find(
    text: str, body_start: int = 0, page_starts: tuple[int, ...] = (), rules: Rules | None = None, *, tables: bool = False
) -> list[tuple[int, int, str]]:
    """The furniture of ``text`` after ``body_start``: ``(start, end, kind)`` spans, in order,
    not overlapping. ``page_starts`` (a PDF's) enables the running header and footer rule.
    ``tables`` (a table's or a .docx's text): the lines of its tables are data, never furniture
    (a sheet's short last row before the next sheet's heading would read as a section heading)."""
    rules = rules or default_rules()
    lines = [(m.start(), m.end()) for m in _LINE.finditer(text) if m.end() > body_start and text[m.start() : m.end()].strip()]
    data: list[tuple[int, int]] = []
    if tables:
        from qa.corpus.tables import table_spans

        data = table_spans(text)
    found: dict[int, tuple[int, int, str]] = {}
    repeated = _running_lines(text, lines, page_starts, rules) if page_starts else set()
    for n, (start, end) in enumerate(lines):
        table = bisect.bisect_right(data, (start, len(text))) - 1
        if table >= 0 and start < data[table][1]:  # a table's heading or row
            continue
        start = max(start, body_start)
        raw = text[start:end]
        line = raw.strip()
        if not line:
            continue
        lo = start + (len(raw) - len(raw.lstrip()))
        hi = end - (len(raw) - len(raw.rstrip()))
        kind = _line_kind(line, rules)
        if kind is None and _DIGITS.sub("#", line) in repeated:
            kind = "page header or footer"
        if kind is None and n > 0 and _is_heading(line, text, lines, n, rules):
            kind = "section heading"
        if kind is not None:
            found[lo] = (lo, hi, kind)
            continue
        caption = _caption_start(text, lo, hi, rules)
        if caption is not None:
            found[caption] = (caption, hi, "photo caption")
    return [found[k] for k in sorted(found)]


def _line_kind(line: str, rules: Rules) -> str | None:
    for label, pattern in rules.lines:
        if pattern.fullmatch(line):
            return label
    if any(p.search(line) for p in rules.posts):
        return "social post"
    return None


#: A caption is one clause: it is at most this long, and follows a sentence of the paragraph.
_MAX_CAPTION_CHARS = 240


def _caption_start(text: str, lo: int, hi: int, rules: Rules) -> int | None:
    """Where a photo caption run into the end of a paragraph starts: its last clause, when
    that ends with a picture credit in brackets ("... in Moscow (AP)") and follows a sentence."""
    credit = rules.caption.search(text, lo, hi)
    if credit is None:
        return None
    from qa.corpus.chunking import _BOUNDARY, _is_real_boundary  # the sentence splitter's own rule

    line = text[lo:hi]
    start = None
    for m in _BOUNDARY.finditer(line, 0, credit.start() - lo):
        if _is_real_boundary(line, m.end()):
            start = m.end() + len(line[m.end():]) - len(line[m.end():].lstrip())
    if start is None or credit.start() - lo - start > _MAX_CAPTION_CHARS:
        return None
    return lo + start


def _is_heading(line: str, text: str, lines: list[tuple[int, int]], n: int, rules: Rules) -> bool:
    """A short line without sentence punctuation, followed by a line of prose."""
    if _MARKDOWN_HEADING.match(line):
        return True
    if len(line.split()) > rules.heading_max_words or _ENDS_SENTENCE.search(line):
        return False
    if n + 1 >= len(lines):
        return False  # a document's last short line is a sign-off or a tag line, not a heading
    following = text[lines[n + 1][0] : lines[n + 1][1]].strip()
    return len(following.split()) > rules.heading_max_words or bool(_ENDS_SENTENCE.search(following))


def _running_lines(text: str, lines: list[tuple[int, int]], page_starts: tuple[int, ...], rules: Rules) -> set[str]:
    """Lines (digits folded) at the top or bottom of most pages: running headers and footers."""
    pages = len(page_starts)
    if pages < rules.pdf_min_pages:
        return set()
    bounds = list(page_starts) + [len(text)]
    seen: dict[str, int] = {}
    for p in range(pages):
        on_page = [text[s:e].strip() for s, e in lines if bounds[p] <= s < bounds[p + 1]]
        edge = on_page[: rules.pdf_edge_lines] + on_page[-rules.pdf_edge_lines :]
        # A running header is a short line: a title, a chapter, a date, a page number.
        for key in {_DIGITS.sub("#", line) for line in edge if len(line.split()) <= rules.heading_max_words}:
            seen[key] = seen.get(key, 0) + 1
    return {key for key, count in seen.items() if count >= max(2, rules.pdf_min_share * pages)}


def dropped(text: str, body_start: int, sentences) -> tuple[int, int]:
    """What the index left out of a document: (pieces, characters) of non-blank text after
    ``body_start`` that no sentence covers (its furniture), from the stored sentence spans."""
    pieces = chars = 0
    at = body_start
    for s in sorted(sentences, key=lambda s: s.start):
        gap = text[at : s.start]
        if gap.strip():
            pieces += 1
            chars += len(gap.strip())
        at = max(at, s.end)
    tail = text[at:]
    if tail.strip():
        pieces += 1
        chars += len(tail.strip())
    return pieces, chars


def dropped_by_document(articles: dict, sentences) -> dict[str, tuple[int, int]]:
    """`dropped` for every document of an index (``articles`` by source, all its sentences)."""
    by_source: dict[str, list] = {}
    for s in sentences:
        by_source.setdefault(s.source, []).append(s)
    return {
        source: dropped(article.text, article.body_start, by_source.get(source, []))
        for source, article in sorted(articles.items())
    }
