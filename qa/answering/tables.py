"""Answers from tables: a lookup ("What were India's exports in 2024–25?") read from one row
and answered with one cell's value.

A table document (`qa.corpus.tables`: one line per row, each cell "Header: value") is read
by the same reader as prose, with two steps of its own, which the answerer
(`qa.answering.answerer`) takes for the passages of the sources it was told are tables:
before reading, each table passage is narrowed to its row that holds most of the question
(`narrow_to_rows`); after, a short answer read from a row is cut to one cell's value
(`cell_answer`). A .docx's tables are read so too, its paragraphs as prose
(`qa.corpus.tables.in_rows`). On the table suite (`tests/test_tables.py`) 41 of 42 lookups
are answered with the cell and cited to its row.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Mapping

from qa.corpus.documents import Article
from qa.corpus.tables import CELL_SEPARATOR, in_rows
from qa.lexical import query_terms
from qa.results import Answer


def narrow_to_rows(passages: list, tables: Mapping[str, Article], query: str) -> list:
    """``passages`` (best first, anything with ``source``, ``start``, ``end``) with each one of
    a document holding tables (``tables`` maps its source to its article) narrowed to its row
    holding the most of ``query``'s terms (`qa.lexical.query_terms`; the first such row on a
    tie); a row already given by a better passage is not repeated.

    A retrieved chunk of a table holds a dozen rows alike but for their values, and the
    reader, reading them at once, often takes the right column from the wrong row (or a span
    across two rows): on the generated table suite 45 % of lookups were right so. The row is
    the unit a table answers with and a citation names, so that is what the reader reads.
    """
    wanted = set(query_terms(query))
    out, seen = [], set()
    for passage in passages:
        if passage.source not in tables or not wanted:
            out.append(passage)
            continue
        article = tables[passage.source]
        text = article.text
        best, best_hits = None, 0
        for start, end in _lines(text, passage.start, passage.end):
            if not in_rows(article, start, end):  # a .docx's paragraphs are read as they are
                continue
            hits = len(wanted.intersection(query_terms(text[start:end])))
            if hits > best_hits:
                best, best_hits = (start, end), hits
        if best is None:
            out.append(passage)
        elif (passage.source, best) not in seen:
            seen.add((passage.source, best))
            out.append(replace(passage, start=best[0], end=best[1]))
    return out


def _lines(text: str, start: int, end: int):
    """The non-empty lines of ``text[start:end]``, as spans (stripped)."""
    position = start
    while position < end:
        stop = text.find("\n", position, end)
        stop = end if stop < 0 else stop
        left, right = position, stop
        while left < right and text[left].isspace():
            left += 1
        while right > left and text[right - 1].isspace():
            right -= 1
        if right > left:
            yield left, right
        position = stop + 1


def cell_answer(answer: Answer, tables: Mapping[str, Article], question: str) -> Answer:
    """``answer`` with its short answer set to one cell's value, when
    it was read from a table row and its span strays beyond a value (over a cell's header, or
    into the next cell: "Population 2025: 3768069", "$5.44 billion; Imports 2024–25: $5.28
    billion"). A lookup in a table is answered by a cell; the reader, trained on prose, does
    not know where a cell ends. Of the cells the span touches, the one whose header holds
    the most of ``question``'s terms is taken (on a tie, the one the span starts in).
    Answers giving several figures (alternatives) are left as they are."""
    if answer.abstained or answer.alternatives or not answer.citations or not answer.short:
        return answer
    first = answer.citations[0]
    article = tables.get(first.source)
    if article is None or first.answer_start is None or not in_rows(article, first.answer_start, first.answer_end):
        return answer
    text = article.text
    cell = _value_span(text, first.answer_start, first.answer_end, question)
    if cell is None or cell == (first.answer_start, first.answer_end):
        return answer
    short = text[cell[0] : cell[1]]
    reply = answer.text
    if reply.startswith(f"{answer.short} \u2014 "):
        reply = short + reply[len(answer.short) :]
    citations = [replace(first, answer_start=cell[0], answer_end=cell[1]), *answer.citations[1:]]
    return replace(answer, short=short, text=reply, citations=citations)


def _value_span(text: str, start: int, end: int, question: str) -> tuple[int, int] | None:
    """The value part of one cell ("Header: value") of the row ``[start, end)`` lies in: of
    the cells it overlaps, the one whose header shares most terms with ``question``, then
    the first."""
    wanted = set(query_terms(question))
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", start)
    line_end = len(text) if line_end < 0 else line_end
    best, best_hits = None, -1
    position = line_start
    while position <= line_end:
        stop = text.find(CELL_SEPARATOR, position, line_end)
        stop = line_end if stop < 0 else stop
        colon = text.find(": ", position, stop)
        value_start = position if colon < 0 else colon + 2
        if min(end, stop) > max(start, position) and value_start < stop:
            hits = len(wanted.intersection(query_terms(text[position:value_start]))) if colon >= 0 else 0
            if hits > best_hits:
                best, best_hits = (value_start, stop), hits
        position = stop + len(CELL_SEPARATOR)
    return best
