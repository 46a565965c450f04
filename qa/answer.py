"""Turning retrieved passages into a cited answer, or an honest abstention.

The answerer is extractive: every word it shows is a verbatim sentence of an
article (or a span inside one). For each sentence in the retrieved chunks it
weighs how well the sentence covers the question's terms (`qa.coverage`), how
close it is in embedding space, and whether it holds the kind of answer the
question wants (`qa.extract`). Questions that no sentence covers are
answered with "the articles don't say".
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, replace

import numpy as np

from qa.chunking import Span
from qa.conditions import conditions_hold
from qa.coverage import Coverage, TermMatcher
from qa.extract import Candidate, numeric_value
from qa.index import CorpusIndex
from qa.picking import Pick, candidates_for, pick_short
from qa.question import QUANTITY_TYPES, Question, Term
from qa.results import Answer, Citation
from qa.retrieve import RetrievedChunk
from qa.text import fold

#: A sentence must cover at least this weighted share of the question's terms...
MIN_COVERAGE = 0.6
#: ... and be at least this close to the question in embedding space.
MIN_DENSE = 0.2
#: A sentence this close in embedding space needs only `MIN_COVERAGE_WHEN_CLOSE` coverage:
#: paraphrases share meaning, not words.
CLOSE_DENSE = 0.6
MIN_COVERAGE_WHEN_CLOSE = 0.4
#: Weights of the sentence score.
COVERAGE_WEIGHT = 0.45
DENSE_WEIGHT = 0.3
RETRIEVAL_WEIGHT = 0.1
#: Weight of how close the short answer sits to the question's words (0..1.5).
CLOSENESS_WEIGHT = 0.15
#: Other sentences within this share of the best score may add to the answer.
SECOND_SENTENCE_RATIO = 0.85
#: A sentence from another article within this share is compared for disagreement.
CONFLICT_RATIO = 0.75
#: Sentences of other articles this similar to the answer's sentence state the same fact
#: (and are checked for a differing figure even when retrieval did not return them).
SAME_FACT_SIMILARITY = 0.7
#: At most this many such sentences are checked, the most similar first: in a large archive
#: boilerplate repeats, and thousands of near-identical sentences would each be scored.
SAME_FACT_MAX = 16
#: For "which three leaders ...?", sentences within this share of the best score add names.
GATHER_RATIO = 0.7
#: Two figures further apart than this factor are two facts, not two reports of one.
MAX_DISAGREEMENT = 1.5
#: Other articles that give the same short answer, cited at most.
MAX_CORROBORATING = 1
#: Sentences shown for a non-factual question, at most.
MAX_SENTENCES = 3
#: Related passages offered when abstaining.
MAX_RELATED = 3
#: Two sentences this similar say the same thing; only one is shown.
DUPLICATE_SIMILARITY = 0.9

#: A line without final punctuation and at most this many words is a heading.
HEADING_MAX_WORDS = 16

ABSTAIN_TEXT = "The articles don't say. I found no passage that answers this question."


@dataclass
class Scored:
    index: int  # into CorpusIndex.sentences
    span: Span
    coverage: Coverage
    dense: float
    retrieval: float
    pick: Pick | None
    score: float
    #: The question's own conditions hold here (its role, its subject, its speaker).
    fits: bool = True

    @property
    def short(self) -> Candidate | None:
        """The short answer, offsets relative to the sentence."""
        return self.pick.candidate if self.pick else None

    @property
    def supports(self) -> bool:
        needed = MIN_COVERAGE_WHEN_CLOSE if self.dense >= CLOSE_DENSE else MIN_COVERAGE
        return (
            self.fits
            and self.coverage.names_ok
            and not self.coverage.clash
            and self.coverage.score >= needed
            and self.dense >= MIN_DENSE
        )


class Answerer:
    """Builds an `Answer` from a question and retrieved chunks.

    >>> answerer = Answerer(corpus_index, matcher, lexicon)          # doctest: +SKIP
    >>> answerer.answer(question, chunks, query_vector).short        # doctest: +SKIP
    '126'
    """

    def __init__(self, index: CorpusIndex, matcher: TermMatcher, lexicon) -> None:
        self.index = index
        self.matcher = matcher
        self.lexicon = lexicon
        self._by_source: dict[str, list[int]] = {}
        for i, span in enumerate(index.sentences):
            self._by_source.setdefault(span.source, []).append(i)
        self._name_words = {
            w for name in lexicon.person_names() + lexicon.place_names() for w in fold(name).replace(".", "").split()
            if len(w) > 2
        }

    # -- public ------------------------------------------------------------

    def prepare(self, question: Question) -> Question:
        """Typos corrected and known names marked, ready for `answer`."""
        return replace(
            question,
            terms=self._mark_names(self.matcher.correct_typos(question.terms)),
            context_terms=self._mark_names(self.matcher.correct_typos(question.context_terms)),
        )

    def words_to_embed(self, question: Question) -> list[str]:
        """Question words that need an embedding before `answer` (embed them with the query)."""
        return self.matcher.unknown_words(question.terms + question.context_terms)

    def add_word_vectors(self, words: list[str], vectors) -> None:
        """Embeddings of `words_to_embed`, computed with the query in one model call."""
        self.matcher.add_word_vectors(words, vectors)

    def answer(
        self, question: Question, chunks: list[RetrievedChunk], query_vector: np.ndarray, top_k: int | None = None
    ) -> Answer:
        """The answer to a `prepare`d question from the retrieved chunks.

        The first ``top_k`` chunks are read; the rest are a reserve, read only when a
        question asking for a fact (a number, a date, a name) finds none of its kind.
        """
        terms, context = question.terms, question.context_terms
        self.matcher.prefetch(terms + context)
        primary = chunks[:top_k] if top_k else chunks
        scored = self._score_sentences(question, terms + context, primary, query_vector)
        if question.wants_fact and len(chunks) > len(primary) and not any(s.supports and s.short for s in scored):
            scored = self._score_sentences(question, terms + context, chunks, query_vector)
        passages = [self._chunk_citation(c) for c in primary]
        if not terms and not context:
            # Nothing to look for ("the of and to", or a script the corpus does not use).
            return self._abstain(question, scored, passages)
        supporting = [s for s in scored if s.supports]
        if question.wants_fact:
            with_short = [s for s in supporting if s.short is not None]
            if with_short:
                return self._factual(question, with_short, passages, scored)
            if question.answer_type in QUANTITY_TYPES + ("date", "duration", "person", "place"):
                return self._abstain(question, scored, passages)
        if supporting:
            return self._sentences(question, supporting, passages)
        return self._abstain(question, scored, passages)

    def _mark_names(self, terms: list[Term]) -> list[Term]:
        """Known names are names even when typed in lower case ("putin")."""
        return [t if t.proper or t.text not in self._name_words else replace(t, proper=True) for t in terms]

    # -- scoring -----------------------------------------------------------

    def _score_sentences(self, question, terms, chunks, query_vector) -> list[Scored]:
        best_retrieval: dict[int, float] = {}
        top = max((c.score for c in chunks), default=1.0) or 1.0
        for chunk in chunks:
            for i in self._sentences_in(chunk):
                best_retrieval[i] = max(best_retrieval.get(i, 0.0), chunk.score / top)
        scored = self._score(question, terms, best_retrieval, query_vector)
        if question.answer_type in QUANTITY_TYPES + ("date",) and scored:
            scored = self._with_other_articles(question, terms, scored, query_vector)
        return scored

    def _score(self, question, terms, retrieval: dict[int, float], query_vector) -> list[Scored]:
        """Score sentences ``retrieval`` (index -> retrieval score 0..1), best first."""
        # a headline is never an answer
        ids = [i for i in sorted(retrieval) if not is_heading(self._text(self.index.sentences[i]))]
        if not ids:
            return []
        dense = self.index.sentence_vectors[ids] @ query_vector
        scored = []
        for i, d in zip(ids, dense):
            span = self.index.sentences[i]
            coverage = self.matcher.coverage(terms, i, self._neighbours(i), question.relations)
            pick = pick_short(
                question, self._text(span), coverage, self.matcher.sentences[i], self.lexicon, self.matcher.similarity
            )
            score = (
                COVERAGE_WEIGHT * coverage.score
                + DENSE_WEIGHT * float(d)
                + RETRIEVAL_WEIGHT * retrieval[i]
                + CLOSENESS_WEIGHT * (pick.closeness if pick else 0.0)
            )
            fits = self._fits(question, terms, i)
            scored.append(Scored(i, span, coverage, float(d), retrieval[i], pick, score, fits))
        scored.sort(key=lambda s: s.score, reverse=True)
        return scored

    def _with_other_articles(self, question, terms, scored: list[Scored], query_vector) -> list[Scored]:
        """Add the sentences of other articles that state the same fact as the best one,
        even if retrieval missed them, so a differing figure is shown, not hidden."""
        best = next((s for s in scored if s.supports and s.short is not None), None)
        if best is None:
            return scored
        seen = {s.index for s in scored}
        others = (
            i
            for i in self.index.sentence_neighbours.similar_to(best.index, SAME_FACT_SIMILARITY)
            if i not in seen and self.index.sentences[i].source != best.span.source
        )
        same_fact = dict.fromkeys(itertools.islice(others, SAME_FACT_MAX), 0.0)
        if not same_fact:
            return scored
        return sorted(scored + self._score(question, terms, same_fact, query_vector), key=lambda s: s.score, reverse=True)

    def _fits(self, question: Question, terms: list[Term], i: int) -> bool:
        return conditions_hold(question, terms, self.matcher, i, self._neighbours(i))

    def _sentences_in(self, chunk: RetrievedChunk) -> list[int]:
        return [
            i
            for i in self._by_source.get(chunk.source, [])
            if self.index.sentences[i].start >= chunk.start and self.index.sentences[i].end <= chunk.end
        ]

    def _neighbours(self, i: int) -> list[int]:
        span = self.index.sentences[i]
        return [j for j in (i - 1, i + 1) if 0 <= j < len(self.index.sentences) and self.index.sentences[j].source == span.source]

    # -- answers -----------------------------------------------------------

    def _factual(
        self, question: Question, ranked: list[Scored], passages: list[Citation], scored: list[Scored]
    ) -> Answer:
        """The short answer from the best supporting sentence ``ranked[0]``; other articles'
        sentences among ``scored`` corroborate it or, giving another figure, are shown beside it."""
        best = ranked[0]
        if question.wanted > 1 and question.answer_type in ("person", "place"):
            gathered = self._gathered(question, ranked)
            if len(gathered) > 1:
                return self._several(question, gathered, passages)
        short_text = best.short.text
        cited = [best]
        alternatives: list[Scored] = []
        vectors = self.index.sentence_vectors
        for other in scored:
            if other is best or other.span.source == best.span.source:
                continue
            close_in_rank = other.short is not None and other.supports and other.score >= best.score * CONFLICT_RATIO
            # A sentence saying the same thing as the answer's is evidence for (or against)
            # its figure even if it shares fewer words with the question.
            same_fact = (
                float(vectors[other.index] @ vectors[best.index]) >= SAME_FACT_SIMILARITY
                and other.fits
                and not other.coverage.clash
            )
            if same_fact and other.short is None:
                other = self._repicked(question, other, best.short)
            if other.short is None or not (close_in_rank or same_fact):
                continue
            if any(o.span.source == other.span.source for o in cited + alternatives):
                continue
            if _same_answer(short_text, other.short.text):
                if len(cited) <= MAX_CORROBORATING:
                    cited.append(other)  # another article says the same: corroboration
            elif question.answer_type in QUANTITY_TYPES + ("date",) and _comparable(best.short, other.short):
                alternatives.append(other)  # another article gives another figure for it
        citations = [self._citation(s) for s in cited + alternatives]
        if alternatives:
            lines = ["The articles give different figures:"]
            for n, s in enumerate(cited + alternatives, 1):
                lines.append(f"- {s.short.text}: {self._text(s.span)} [{n}] ({s.span.source})")
            text = "\n".join(lines)
        else:
            quoted = " ".join(f"{self._text(s.span)} [{n}]" for n, s in enumerate(cited, 1))
            text = f"{short_text} \u2014 {quoted}"
        return Answer(
            question=question.text,
            text=text,
            short=short_text,
            citations=citations,
            abstained=False,
            passages=passages,
            query=question.text,
            alternatives=[s.short.text for s in alternatives],
        )

    def _gathered(self, question: Question, ranked: list[Scored]) -> list[Scored]:
        """For "which three leaders ...?": distinct names from the best supporting sentences,
        one sentence each, in rank order, at most as many as asked."""
        out: list[Scored] = []
        for s in ranked:
            if s.score < ranked[0].score * GATHER_RATIO or len(out) >= question.wanted:
                break
            if not any(_same_name(s.short.text, o.short.text) for o in out):
                out.append(s)
        return out

    def _several(self, question: Question, gathered: list[Scored], passages: list[Citation]) -> Answer:
        """An answer naming several people or places, each cited to its own sentence."""
        names = [s.short.text for s in gathered]
        short = ", ".join(names[:-1]) + " and " + names[-1]
        quoted = " ".join(f"{self._text(s.span)} [{n}]" for n, s in enumerate(gathered, 1))
        return Answer(
            question=question.text,
            text=f"{short} \u2014 {quoted}",
            short=short,
            citations=[self._citation(s) for s in gathered],
            abstained=False,
            passages=passages,
            query=question.text,
        )

    def _repicked(self, question: Question, s: Scored, like: Candidate) -> Scored:
        """``s`` with the candidate that corresponds to ``like`` (the nearest figure of its kind),
        however far it sits from the question's words."""
        value = numeric_value(like.text)
        candidates = [c for c in candidates_for(question, self._text(s.span), self.lexicon) if c.kind == like.kind]
        if value is None or not candidates:
            return s
        scale = max(abs(value), 1e-9)
        best = min(candidates, key=lambda c: abs((numeric_value(c.text) or float("inf")) - value) / scale)
        return replace(s, pick=Pick(best, 0.0))

    def _sentences(self, question: Question, ranked: list[Scored], passages: list[Citation]) -> Answer:
        chosen = [ranked[0]]
        for other in ranked[1:]:
            if len(chosen) >= MAX_SENTENCES or other.score < ranked[0].score * SECOND_SENTENCE_RATIO:
                break
            vectors = self.index.sentence_vectors
            if any(float(vectors[other.index] @ vectors[c.index]) >= DUPLICATE_SIMILARITY for c in chosen):
                continue
            chosen.append(other)
        citations = [self._citation(s) for s in chosen]
        text = " ".join(f"{self._text(s.span)} [{n}]" for n, s in enumerate(chosen, 1))
        return Answer(
            question=question.text,
            text=text,
            short=None,
            citations=citations,
            abstained=False,
            passages=passages,
            query=question.text,
        )

    def _abstain(self, question: Question, scored: list[Scored], passages: list[Citation]) -> Answer:
        related = [self._citation(s, with_short=False) for s in scored[:MAX_RELATED]]
        return Answer(
            question=question.text,
            text=ABSTAIN_TEXT,
            short=None,
            citations=[],
            abstained=True,
            related=related,
            passages=passages,
            query=question.text,
        )

    # -- helpers -----------------------------------------------------------

    def _text(self, span: Span) -> str:
        return self.index.articles[span.source].text[span.start : span.end]

    def _citation(self, s: Scored, with_short: bool = True) -> Citation:
        answer_start = answer_end = None
        if with_short and s.short is not None:
            answer_start, answer_end = s.span.start + s.short.start, s.span.start + s.short.end
        return Citation(
            source=s.span.source,
            start=s.span.start,
            end=s.span.end,
            text=self._text(s.span),
            score=round(s.score, 4),
            answer_start=answer_start,
            answer_end=answer_end,
        )

    def _chunk_citation(self, chunk: RetrievedChunk) -> Citation:
        text = self.index.articles[chunk.source].text[chunk.start : chunk.end]
        return Citation(chunk.source, chunk.start, chunk.end, text, round(chunk.score, 4))


def _same_name(a: str, b: str) -> bool:
    """"Sergey Lavrov", "Lavrov" and "Sergei Lavrov" name one person (same last word)."""
    wa, wb = fold(a).replace(".", "").split(), fold(b).replace(".", "").split()
    return bool(wa and wb) and (wa[-1] == wb[-1] or set(wa) <= set(wb) or set(wb) <= set(wa))


def _same_answer(a: str, b: str) -> bool:
    va, vb = numeric_value(a), numeric_value(b)
    if va is not None and vb is not None:
        return abs(va - vb) < 1e-9 * max(abs(va), abs(vb), 1.0)
    return " ".join(fold(a).split()) == " ".join(fold(b).split())


def _comparable(a: Candidate, b: Candidate) -> bool:
    """Two answers of the same kind that can disagree: two sums of money within a factor of
    `MAX_DISAGREEMENT` ($68 billion against $68.7 billion, not against $4.88 billion, which is
    another fact), two full dates (not "August 21" against "later this year")."""
    if a.kind != b.kind:
        return False
    va, vb = numeric_value(a.text), numeric_value(b.text)
    if va is not None and vb is not None and a.kind != "date":
        low, high = sorted((abs(va), abs(vb)))
        return low > 0 and high / low <= MAX_DISAGREEMENT
    if a.kind == "date":
        return any(ch.isdigit() for ch in a.text) and any(ch.isdigit() for ch in b.text)
    return True


def is_heading(text: str) -> bool:
    """A short line without final punctuation: a headline or a section title."""
    return len(text.split()) <= HEADING_MAX_WORDS and not text.rstrip().endswith(
        (".", "!", "?", "\"", "”", "’", "'", ")")
    )
