"""Sentences and chunks of an article, each with its exact character span.

A *sentence* is the unit an answer cites; a *chunk* is a run of whole
sentences (at most ``max_chars`` long) that retrieval ranks. Both are spans
``(start, end)`` into `Article.text`, so ``text[start:end]`` is always the
passage itself, never a cleaned copy. Page furniture (`qa.corpus.furniture`:
"Advertisement", link teasers, embedded posts, headings...) is in no sentence, and
no chunk runs across it, so it is neither indexed nor cited.
"""

from __future__ import annotations

import bisect
import re
from dataclasses import dataclass, field

from qa.corpus.documents import Article

#: Words that end with a dot without ending a sentence.
ABBREVIATIONS = frozenset(
    "dr mr mrs ms prof st no vs etc jr sr gen col lt sgt rep sen gov pres inc ltd co corp approx dept fig".split()
)

# A boundary candidate: sentence-final punctuation, optional closing quotes or
# brackets, then whitespace.
_BOUNDARY = re.compile(r"[.!?]+[\"'\u201d\u2019)\]]*(?=\s)")
_NEXT_STARTS_SENTENCE = re.compile(r"\s+[\"'\u201c\u2018(\[]?[A-Z0-9#\u0400-\u04ff]")
_WORD_BEFORE_DOT = re.compile(r"([A-Za-z.]+)\.$")


@dataclass(frozen=True)
class Span:
    source: str
    start: int
    end: int
    #: Sentences of one block follow each other with no furniture between them: a chunk
    #: never joins two blocks.
    block: int = field(default=0, compare=False)


def _is_real_boundary(line: str, punct_end: int) -> bool:
    """Whether the punctuation ending at ``punct_end`` ends a sentence."""
    if not _NEXT_STARTS_SENTENCE.match(line, punct_end):
        return False
    head = line[:punct_end].rstrip("\"'\u201d\u2019)]")
    if head.endswith((".", "!", "?")) and not head.endswith("."):
        return True
    match = _WORD_BEFORE_DOT.search(head)
    if not match:
        return True
    word = match.group(1)
    if "." in word:  # "U.S." or "e.g." inside a sentence
        return False
    if len(word) == 1 and word.isupper():  # an initial: "S. Jaishankar"
        return False
    return word.lower() not in ABBREVIATIONS


def sentence_spans(article: Article) -> list[Span]:
    """The article's sentences, in order, whitespace trimmed, metadata header and page
    furniture skipped.

    Lines are never joined: a headline or a line without final punctuation
    is a sentence of its own.
    """
    from qa.corpus import furniture

    text = article.text
    found = article.furniture
    if found is None:
        found = furniture.find(text, article.body_start, article.page_starts, tables=furniture._has_tables(article))
    cuts = sorted((s, e) for s, e, _ in found)
    cut_ends = [e for _, e in cuts]
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        if line.end() <= article.body_start:
            continue
        for start, end in _pieces(line.end(), max(line.start(), article.body_start), cuts):
            body = text[line.start() : end]
            pieces_start = start - line.start()
            for match in _BOUNDARY.finditer(body, pieces_start):
                if _is_real_boundary(body, match.end()):
                    spans.append(_trimmed(article.source, text, line.start() + pieces_start, line.start() + match.end()))
                    pieces_start = match.end()
            spans.append(_trimmed(article.source, text, line.start() + pieces_start, end))
    # A sentence's block: how much furniture precedes it (a chunk never joins two blocks).
    return [Span(s.source, s.start, s.end, bisect.bisect_right(cut_ends, s.start)) for s in spans if s.end > s.start]


def _pieces(line_end: int, start: int, cuts: list[tuple[int, int]]):
    """The parts ``(start, end)`` of a line outside the furniture spans ``cuts``."""
    at = start
    for cut_start, cut_end in cuts:
        if cut_end <= at or cut_start >= line_end:
            continue
        if cut_start > at:
            yield at, cut_start
        at = max(at, cut_end)
    if at < line_end:
        yield at, line_end


def _trimmed(source: str, text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(source, start, end)


def chunk_spans(sentences: list[Span], max_chars: int, overlap: int) -> list[tuple[Span, list[int]]]:
    """Group consecutive sentences of one article into chunks of at most ``max_chars``.

    Returns each chunk's span and the indices (into ``sentences``) it holds.
    The last ``overlap`` sentences of a chunk open the next one, unless page furniture
    separates them (a chunk never runs across it). A sentence longer than ``max_chars``
    becomes a chunk by itself.
    """
    chunks: list[tuple[Span, list[int]]] = []
    i = 0
    while i < len(sentences):
        members = [i]
        j = i + 1
        while (
            j < len(sentences)
            and sentences[j].end - sentences[i].start <= max_chars
            and sentences[j].block == sentences[i].block
        ):
            members.append(j)
            j += 1
        first, last = sentences[members[0]], sentences[members[-1]]
        chunks.append((Span(first.source, first.start, last.end, first.block), members))
        if j >= len(sentences):
            break
        i = j if sentences[j].block != sentences[i].block else max(j - overlap, i + 1)
    return chunks
