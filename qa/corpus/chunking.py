"""Sentences and chunks of an article, each with its exact character span.

A *sentence* is the unit an answer cites; a *chunk* is a run of whole
sentences (at most ``max_chars`` long) that retrieval ranks. Both are spans
``(start, end)`` into `Article.text`, so ``text[start:end]`` is always the
passage itself, never a cleaned copy.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    """The article's sentences, in order, whitespace trimmed, metadata header skipped.

    Lines are never joined: a headline or a line without final punctuation
    is a sentence of its own.
    """
    text = article.text
    spans: list[Span] = []
    for line in re.finditer(r"[^\n]+", text):
        line_start = line.start()
        if line.end() <= article.body_start:
            continue
        body = line.group(0)
        offset = max(0, article.body_start - line_start)
        pieces_start = offset
        for match in _BOUNDARY.finditer(body, offset):
            if _is_real_boundary(body, match.end()):
                spans.append(_trimmed(article.source, text, line_start + pieces_start, line_start + match.end()))
                pieces_start = match.end()
        spans.append(_trimmed(article.source, text, line_start + pieces_start, line.end()))
    return [s for s in spans if s.end > s.start]


def _trimmed(source: str, text: str, start: int, end: int) -> Span:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return Span(source, start, end)


def chunk_spans(sentences: list[Span], max_chars: int, overlap: int) -> list[tuple[Span, list[int]]]:
    """Group consecutive sentences of one article into chunks of at most ``max_chars``.

    Returns each chunk's span and the indices (into ``sentences``) it holds.
    The last ``overlap`` sentences of a chunk open the next one. A sentence
    longer than ``max_chars`` becomes a chunk by itself.
    """
    chunks: list[tuple[Span, list[int]]] = []
    i = 0
    while i < len(sentences):
        members = [i]
        j = i + 1
        while j < len(sentences) and sentences[j].end - sentences[i].start <= max_chars:
            members.append(j)
            j += 1
        first, last = sentences[members[0]], sentences[members[-1]]
        chunks.append((Span(first.source, first.start, last.end), members))
        if j >= len(sentences):
            break
        i = max(j - overlap, i + 1)
    return chunks
