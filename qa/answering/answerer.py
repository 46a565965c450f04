"""From retrieved passages to a cited answer, or an honest abstention, with the reader.

The reader reads the best-ranked passages in one batch and proposes spans; each is
scored by its margin over the no-answer score, its passage's retrieval rank and how
much of the question its own sentence holds. The best span is the short answer when
its score clears the calibrated threshold, and the sentence or sentences holding it
are the citation. Reading stops after the first passages when their answer is
already confident, and goes on to a few more when it is not.

Other articles that give an answer to the same question are shown too: the same
answer as a second citation, a different figure beside the first ("the articles
give different figures").
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from qa.answering import sentences as sentence_answers
from qa.answering.checks import ArticleTerms, missing_terms, shares_no_word
from qa.answering.evidence import support, wanted
from qa.answering.kinds import SENTENCES, SUMMARY, answer_kind
from qa.answering.summary import Summarizer, word_vectors
from qa.answering.reader import Reader, Span
from qa.answering.tables import cell_answer, narrow_to_rows
from qa.answering.values import comparable_figures, same_answer
from qa.corpus.chunking import Span as TextSpan
from qa.corpus.documents import Article
from qa.results import Answer, Citation

ABSTAIN_TEXT = "The articles don't say. I found no passage that answers this question."

#: Passages read first, in rank order, and at most. Each passage costs ~25 ms to read on
#: two cores. Measured on the calibration splits (NYT calibration, seeds dev) with an early
#: model: reading 2 then up to 5 gave the best SQuAD 2.0 F1 of (1|2|3|4 first, 5|6|8 at most):
#: more passages bring more distractors than answers.
FIRST_READ = 2
MAX_READ = 5
#: Weight of the passage's retrieval score (relative to the best passage's) added to a span's
#: margin: the reader was trained on one passage at a time, so its margins from different
#: passages are not comparable alone, and retrieval's ranking is evidence too (0, 2 and 4
#: tried on the calibration splits: 4 best).
RETRIEVAL_WEIGHT = 4.0
#: Weight of the reading's context in its score: plus this times the share of the question's
#: content words its sentence holds (`qa.answering.evidence`). Chosen with `python -m
#: training.ranking` on the calibration splits (NYT calibration, seeds dev), keeping false
#: abstentions on the NYT calibration half under 8 %: 0/1/2/3/4/6/8 tried, 6 best (every
#: passage read: NYT calibration HasAns F1 0.645 -> 0.657, NoAns 0.76 -> 0.84; seeds dev
#: 0.615 -> 0.609, NoAns 0.35 either way). A penalty for spans that repeat the question's words
#: was tried beside it and changed no report-split figure (`evals/README.md`): not kept.
SUPPORT_WEIGHT = 6.0
#: Only readings from articles that state every name and figure (a year, an amount) the
#: question gives, and one of the words it looks for, may answer (`qa.answering.checks`).
USE_TERMS_CHECK = True
#: Related passages offered when abstaining.
MAX_RELATED = 3
#: Other articles that give the same answer, cited at most.
MAX_CORROBORATING = 1
#: An answer from another article counts as a second reading of the same question when its
#: margin is within this much of the best one's.
OTHER_READING_MARGIN = 2.0


@dataclass(frozen=True)
class Thresholds:
    """Calibrated on the calibration halves (`qa.answering.calibration`)."""

    #: A span whose margin (span score - no-answer score) is below this is no answer.
    answer: float = 0.0
    #: A span this far above the no-answer score ends reading after the first passages.
    confident: float = 3.0


@dataclass(frozen=True)
class Passage:
    """A retrieved passage: ``text_of(source)[start:end]``, best first."""

    source: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class _Reading:
    span: Span
    passage: Passage
    #: The span's margin plus the passage's retrieval prior and its sentence's support: what
    #: readings are ranked by and what the answer threshold applies to (`Answer.confidence`).
    score: float

    @property
    def start(self) -> int:
        return self.passage.start + self.span.start

    @property
    def end(self) -> int:
        return self.passage.start + self.span.end


def _rank(reading: _Reading) -> tuple:
    """Best score first; equal scores by article and offset, not by the order they were read in."""
    return (-reading.score, reading.passage.source, reading.start, reading.end)


class ReaderAnswerer:
    """Builds an `Answer` from a question and retrieved passages.

    ``texts`` maps a source to its full text; ``sentences`` are the corpus's sentence spans
    (what a citation quotes); ``embed`` maps texts to vectors for summaries (the question
    encoder's; without it, word-count vectors); ``tables`` maps the sources that hold tables
    to their articles (one row a line, `qa.corpus.tables`).

    The kind of answer follows the question (`qa.answering.kinds`): a span or a list (this
    module), sentences (`qa.answering.sentences`) or a summary (`qa.answering.summary`).
    Passages of a table are read row by row and answered with a cell (`qa.answering.tables`).
    """

    def __init__(
        self, reader: Reader, texts: dict[str, str], sentences: Sequence[TextSpan], thresholds: Thresholds | None = None,
        embed=None, tables: Mapping[str, Article] | None = None,
    ) -> None:
        self.reader = reader
        self.texts = texts
        self.tables = dict(tables or {})
        self.thresholds = thresholds or Thresholds()
        self._starts: dict[str, list[int]] = {}
        #: Each article's words and figures for the checks, built on first use.
        self._terms: dict[str, ArticleTerms] = {}
        self._sentences: dict[str, list[TextSpan]] = {}
        for s in sentences:
            self._sentences.setdefault(s.source, []).append(s)
        for source, spans in self._sentences.items():
            spans.sort(key=lambda s: s.start)
            self._starts[source] = [s.start for s in spans]
        self.summarizer = Summarizer(texts, self._sentences, embed or word_vectors)

    def answer(self, question: str, passages: Sequence[Passage], query: str | None = None) -> Answer:
        """The answer to ``question`` from ``passages`` (best first); ``query`` is what was
        searched for (the question with its follow-up context), when it differs."""
        if not self.tables:
            return self._answer_from(question, passages, query)
        passages = self.as_read(passages, query or question)
        return cell_answer(self._answer_from(question, passages, query), self.tables, question)

    def as_read(self, passages: Sequence[Passage], query: str) -> list[Passage]:
        """``passages`` as `answer` reads them for ``query``: a table's narrowed to its row
        (`qa.answering.tables.narrow_to_rows`), the others as they are."""
        return narrow_to_rows(list(passages), self.tables, query) if self.tables else list(passages)

    def _answer_from(self, question: str, passages: Sequence[Passage], query: str | None) -> Answer:
        shown = [self._passage_citation(p) for p in passages]
        kind = answer_kind(question)
        if kind == SUMMARY:
            summary = self.summarizer.summarize(question, passages, shown)
            if summary is not None:
                return summary
        readings = self.read(question, passages)
        if USE_TERMS_CHECK:
            passes = {
                source: self.passes_checks(question, query or question, source)
                for source in {r.passage.source for r in readings}
            }
            readings = [r for r in readings if passes[r.passage.source]]
        best = readings[0] if readings else None
        confidence = round(best.score, 4) if best else None
        threshold = self.thresholds.answer
        if kind == SENTENCES:
            threshold += sentence_answers.ABOVE_ANSWER_THRESHOLD
        if best is None or best.score < threshold:
            return Answer(
                question=question, text=ABSTAIN_TEXT, short=None, citations=[], abstained=True,
                related=shown[:MAX_RELATED], passages=shown, query=question, confidence=confidence, kind=kind,
            )
        if kind == SENTENCES:
            return sentence_answers.compose(self, question, best, readings, shown)
        return replace(self._answer(question, best, readings, shown), kind=kind)

    def read(self, question: str, passages: Sequence[Passage]) -> list[_Reading]:
        """Readings of the first passages, and of more when none is confident; best first."""
        if not passages:
            return []
        top = max(p.score for p in passages) or 1.0
        readings = self._read(question, passages[:FIRST_READ], top)
        if (not readings or readings[0].score < self.thresholds.confident) and len(passages) > FIRST_READ:
            readings += self._read(question, passages[FIRST_READ:MAX_READ], top)
        return sorted(readings, key=_rank)

    def _read(self, question: str, passages: Sequence[Passage], top_score: float) -> list[_Reading]:
        texts = [self.texts[p.source][p.start : p.end] for p in passages]
        looked_for = wanted(question)
        return [
            self._reading(looked_for, span, passages[span.passage], top_score)
            for span in self.reader.read(question, texts)
        ]

    def _reading(self, looked_for: frozenset[str], span: Span, passage: Passage, top_score: float) -> _Reading:
        score = span.margin + RETRIEVAL_WEIGHT * passage.score / top_score
        start, end = passage.start + span.start, passage.start + span.end
        if SUPPORT_WEIGHT:
            score += SUPPORT_WEIGHT * support(looked_for, self.sentence_text(passage.source, start, end))
        return _Reading(span, passage, score)

    def passes_checks(self, question: str, query: str, source: str) -> bool:
        """The article mentions the question's names and figures, and one of the query's words."""
        terms = self._terms.get(source)
        if terms is None:  # two threads may both build it: the same value, harmless
            terms = self._terms[source] = ArticleTerms.of(self.texts[source])
        return not missing_terms(question, terms) and not shares_no_word(query, terms)

    # -- composing -----------------------------------------------------------

    def _answer(self, question: str, best: _Reading, readings: list[_Reading], shown: list[Citation]) -> Answer:
        short = self._text(best.passage.source, best.start, best.end)
        cited, alternatives = [best], []
        for other in readings[1:]:
            if other.score < max(self.thresholds.answer, best.score - OTHER_READING_MARGIN):
                break
            if any(o.passage.source == other.passage.source for o in cited + alternatives):
                continue
            text = self._text(other.passage.source, other.start, other.end)
            if same_answer(short, text):
                if len(cited) <= MAX_CORROBORATING:
                    cited.append(other)
            elif comparable_figures(short, text):
                alternatives.append(other)
        citations = [self._citation(r) for r in cited + alternatives]
        if alternatives:
            lines = ["The articles give different figures:"]
            for n, (r, c) in enumerate(zip(cited + alternatives, citations), 1):
                lines.append(f"- {self._text(r.passage.source, r.start, r.end)}: {c.text} [{n}] ({c.source})")
            text = "\n".join(lines)
        else:
            text = f"{short} \u2014 " + " ".join(f"{c.text} [{n}]" for n, c in enumerate(citations, 1))
        return Answer(
            question=question, text=text, short=short, citations=citations, abstained=False, passages=shown,
            query=question, alternatives=[self._text(r.passage.source, r.start, r.end) for r in alternatives],
            confidence=round(best.score, 4),
        )

    def _citation(self, reading: _Reading) -> Citation:
        """The sentence(s) holding the reading's span, quoted whole."""
        source = reading.passage.source
        start, end = self._sentence_bounds(source, reading.start, reading.end)
        return Citation(
            source=source, start=start, end=end, text=self._text(source, start, end),
            score=round(reading.score, 4), answer_start=reading.start, answer_end=reading.end,
        )

    def sentences_of(self, source: str) -> list[TextSpan]:
        """``source``'s sentences, in order."""
        return self._sentences.get(source, [])

    def sentence_index(self, source: str, at: int) -> int | None:
        """The index (into `sentences_of`) of the sentence holding character ``at``, else of
        the last one before it; None before the first."""
        i = bisect.bisect_right(self._starts.get(source, []), at) - 1
        return i if i >= 0 else None

    def sentence_text(self, source: str, start: int, end: int) -> str:
        """The sentence or sentences of ``source`` holding characters ``start:end``, whole."""
        return self._text(source, *self._sentence_bounds(source, start, end))

    def _sentence_bounds(self, source: str, start: int, end: int) -> tuple[int, int]:
        spans, starts = self._sentences.get(source, []), self._starts.get(source, [])
        i = bisect.bisect_right(starts, start) - 1
        if i < 0 or not spans:
            return start, end
        first = spans[i]
        last = first
        j = i
        while last.end < end and j + 1 < len(spans):
            j += 1
            last = spans[j]
        return min(first.start, start), max(last.end, end)

    def _passage_citation(self, p: Passage) -> Citation:
        return Citation(p.source, p.start, p.end, self._text(p.source, p.start, p.end), round(p.score, 4))

    def _text(self, source: str, start: int, end: int) -> str:
        return self.texts[source][start:end]
