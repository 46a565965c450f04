"""Running the question set through an engine and scoring every reply.

`run_eval` asks each question once (after a few untimed warm-up calls), scores
the reply with `qa.evaluation.metrics`, says why it failed, and aggregates the
figures overall, per split and per category into an `EvalRun`.
"""

from __future__ import annotations

import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Sequence

from qa.evaluation import metrics
from qa.results import Answer, Citation

if TYPE_CHECKING:
    from qa.evaluation.dataset import EvalQuestion

#: Untimed calls before the timed pass, so model and cache warm-up do not skew latency.
DEFAULT_WARMUP = 3

WRONG_SHORT_ANSWER = "wrong short answer"
ANSWER_NOT_IN_REPLY = "answer not in reply"
ANSWERED_UNANSWERABLE = "answered an unanswerable question"
FALSE_ABSTENTION = "false abstention"
NO_CITATION = "no citation"
UNSUPPORTED = "citation does not support"
INVALID_OFFSETS = "invalid citation offsets"
NO_EVIDENCE_CITED = "no gold evidence sentence cited"
SUMMARY_BELOW_BASELINE = "summary covers fewer key points than the first sentences"
TOO_FEW_DOCUMENTS = "summary cites too few documents"
CITES_FURNITURE = "cites page furniture"
ERROR_PREFIX = "error: "

#: Categories answered with sentences and scored by the gold evidence they cite, and the
#: summary categories, scored by key points (`qa.evaluation.suites.Suite`); neither enters
#: the span figures (EM, F1, NoAns...).
EXPLAIN_CATEGORIES = ("explain",)
SUMMARY_CATEGORIES = ("summary",)
#: A summary of several documents should quote at least this many of them (fewer when the
#: gold key points come from fewer).
MIN_SUMMARY_DOCUMENTS = 3

_CITATION_MARKER = re.compile(r"\s*\[\d+\]")


@dataclass
class QuestionResult:
    """One question, what the engine returned, its scores and why it failed (if it did)."""

    id: str
    split: str
    category: str
    difficulty: str
    question: str
    history: list[dict]
    answerable: bool
    expected: list[str]
    evidence: list[Any]
    short: str | None = None
    reply: str = ""
    abstained: bool = False
    citations: list[Citation] = field(default_factory=list)
    passages: list[Citation] = field(default_factory=list)
    query: str = ""
    alternatives: list[str] = field(default_factory=list)
    #: The reader's confidence in its best span (`qa.results.Answer.confidence`).
    confidence: float | None = None
    latency_s: float | None = None
    error: str | None = None
    em: float = 0.0
    f1: float = 0.0
    contains: float = 0.0
    invalid_citations: int = 0
    #: None when not applicable (no citations or no gold evidence).
    citation_supported: bool | None = None
    citation_precision: float | None = None
    #: 1-based rank of the first relevant passage; None when missed or not applicable.
    retrieval_rank: int | None = None
    #: The kind of answer the question asks for (`qa.answering.kinds`), and the one given.
    question_kind: str = ""
    kind: str = ""
    #: Explain questions: a citation holds a whole gold evidence sentence.
    evidence_cited: bool | None = None
    #: Summary questions: share of gold key points cited, the same for the first sentence of
    #: each document the key points come from (the baseline), and documents cited.
    key_coverage: float | None = None
    baseline_coverage: float | None = None
    documents_cited: int | None = None
    #: Citations that overlap page furniture (`qa.corpus.furniture`): should be none.
    furniture_citations: int = 0
    failures: list[str] = field(default_factory=list)

    @property
    def open_ended(self) -> bool:
        """An explain or summary question: not scored as a span."""
        return self.category in EXPLAIN_CATEGORIES + SUMMARY_CATEGORIES

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def retrieval_applicable(self) -> bool:
        return self.answerable and bool(self.evidence)

    @property
    def prediction(self) -> str | None:
        """What EM/F1 score: the short answer, else the reply without ``[n]`` markers."""
        if self.short is not None:
            return self.short
        return _CITATION_MARKER.sub("", self.reply).strip() or None

    def to_dict(self) -> dict:
        """Every field; retrieved passages without their text, to keep report.json readable."""
        out = asdict(self)
        out["passages"] = [
            {"source": p.source, "start": p.start, "end": p.end, "score": p.score}
            for p in self.passages
        ]
        return {**out, "passed": self.passed, "prediction": self.prediction}


@dataclass(frozen=True)
class Summary:
    """The figures of a group of results (all, one split, one category)."""

    count: int
    passed: int
    errors: int
    has_ans_count: int
    no_ans_count: int
    #: SQuAD 2.0 overall EM/F1: unanswerable questions score 1 iff abstained.
    em: float
    f1: float
    has_ans_em: float | None
    has_ans_f1: float | None
    #: Answerable questions whose reply contains a gold answer (abstentions score 0).
    contains: float | None
    no_ans_accuracy: float | None
    #: Share of questions where answering or abstaining was the right call.
    abstention_accuracy: float
    abstention_precision: float | None
    abstention_recall: float | None
    false_abstentions: int
    #: Share of all citations whose offsets reproduce the source.
    citation_validity: float | None
    #: Of answered answerable questions with gold evidence, share with a supporting citation.
    citation_support: float | None
    citation_precision: float | None
    retrieval: metrics.RetrievalFigures | None
    latency: metrics.LatencyFigures | None
    #: Explain questions: share with a whole gold evidence sentence cited (None: no such question).
    evidence_cited: float | None = None
    #: Summary questions: mean share of key points cited, the first-sentence baseline's, and
    #: mean documents cited.
    key_coverage: float | None = None
    baseline_coverage: float | None = None
    documents_cited: float | None = None
    #: Citations of page furniture, over every question.
    furniture_citations: int = 0

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class EvalRun:
    """Every result of one pass over the questions, with its aggregates."""

    label: str
    results: list[QuestionResult]
    overall: Summary
    by_split: dict[str, Summary]
    by_category: dict[str, Summary]
    warmup_errors: list[str]
    duration_s: float
    #: By the kind of answer the question asks for (span, list, sentences, summary): how
    #: "why" and "how" questions do, in a suite without an explain category too.
    by_kind: dict[str, Summary] = field(default_factory=dict)

    @property
    def failures(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.passed]

    def to_dict(self, with_results: bool = True) -> dict:
        out = {
            "label": self.label,
            "duration_s": self.duration_s,
            "warmup_errors": self.warmup_errors,
            "overall": self.overall.to_dict(),
            "by_split": {k: s.to_dict() for k, s in self.by_split.items()},
            "by_category": {k: s.to_dict() for k, s in self.by_category.items()},
            "by_kind": {k: s.to_dict() for k, s in self.by_kind.items()},
        }
        if with_results:
            out["results"] = [r.to_dict() for r in self.results]
        return out


class SourceTexts:
    """Article texts by file name, read once; None for a file that does not exist."""

    def __init__(self, seeds_dir: Path) -> None:
        self.seeds_dir = Path(seeds_dir)
        self._cache: dict[str, str | None] = {}
        self._furniture: dict[str, list] = {}

    def get(self, source: str) -> str | None:
        if source not in self._cache:
            path = self.seeds_dir / source
            self._cache[source] = path.read_text(encoding="utf-8") if path.is_file() else None
        return self._cache[source]

    def furniture(self, source: str) -> list[tuple[int, int, str]]:
        """The page furniture of a plain-text document (`qa.corpus.furniture`), found as the
        index finds it; [] for other formats (their cited text is extracted, not the file)."""
        if source not in self._furniture:
            from qa.corpus.documents import parse_article
            from qa.corpus.furniture import find, rules_for

            text = self.get(source)
            found = []
            if text is not None and source.endswith((".txt", ".md", ".markdown")):
                found = find(text, parse_article(source, text).body_start, rules=rules_for(self.seeds_dir))
            self._furniture[source] = found
        return self._furniture[source]


def _citation_is_valid(c: Citation, texts: SourceTexts) -> bool:
    """Offsets reproduce the source text, and the answer span (if any) lies inside the citation."""
    source = texts.get(c.source)
    if source is None or not metrics.citation_is_valid(c.text, c.start, c.end, source):
        return False
    if c.answer_start is None and c.answer_end is None:
        return True
    return (
        c.answer_start is not None
        and c.answer_end is not None
        and c.start <= c.answer_start < c.answer_end <= c.end
    )


def _new_result(q: EvalQuestion) -> QuestionResult:
    from qa.answering.kinds import answer_kind

    return QuestionResult(
        id=q.id, split=q.split, category=q.category, difficulty=q.difficulty,
        question=q.question, history=list(q.history), answerable=q.answerable,
        expected=list(q.answers), evidence=list(q.evidence), question_kind=answer_kind(q.question),
    )


def score(
    result: QuestionResult, answer: Answer, texts: SourceTexts, first_sentences: dict[str, Citation] | None = None,
) -> QuestionResult:
    """Fill ``result`` from ``answer``: scores, citation checks, retrieval rank and failure
    reasons. ``first_sentences`` (each document's first sentence) scores the summary baseline."""
    result.short, result.reply, result.abstained = answer.short, answer.text, answer.abstained
    result.citations, result.passages = list(answer.citations), list(answer.passages)
    result.query, result.alternatives = answer.query, list(answer.alternatives)
    result.confidence = answer.confidence
    result.kind = getattr(answer, "kind", "")
    result.invalid_citations = sum(not _citation_is_valid(c, texts) for c in result.citations)
    result.furniture_citations = sum(
        any(s < c.end and c.start < e for s, e, _ in texts.furniture(c.source)) for c in result.citations
    )
    if result.category in EXPLAIN_CATEGORIES + SUMMARY_CATEGORIES:
        _score_open(result, first_sentences)
        return result
    if result.evidence and result.citations:
        result.citation_supported = metrics.citation_support(result.citations, result.evidence)
        result.citation_precision = metrics.citation_precision(result.citations, result.evidence)
    if result.retrieval_applicable:
        result.retrieval_rank = metrics.first_relevant_rank(result.passages, result.evidence)

    failures = result.failures
    if result.answerable and result.abstained:
        failures.append(FALSE_ABSTENTION)
    elif result.answerable:
        result.em = metrics.exact_match(result.prediction, result.expected)
        result.f1 = metrics.token_f1(result.prediction, result.expected)
        result.contains = metrics.contains_answer(result.reply, result.expected)
        if not (result.em or metrics.contains_answer(result.prediction, result.expected)):
            failures.append(WRONG_SHORT_ANSWER if result.short is not None else ANSWER_NOT_IN_REPLY)
        if not result.citations:
            failures.append(NO_CITATION)
        elif result.citation_supported is False:
            failures.append(UNSUPPORTED)
    elif not result.abstained:
        failures.append(ANSWERED_UNANSWERABLE)
    if result.invalid_citations:
        failures.append(INVALID_OFFSETS)
    if result.furniture_citations:
        failures.append(CITES_FURNITURE)
    return result


def _score_open(result: QuestionResult, first_sentences: dict[str, Citation] | None) -> None:
    """Explain: a whole gold evidence sentence is cited. Summary: the key points cited, against
    the first sentence of each document the gold key points come from."""
    failures = result.failures
    if result.abstained:
        failures.append(FALSE_ABSTENTION)
    if result.category in EXPLAIN_CATEGORIES:
        result.evidence_cited = metrics.evidence_cited(result.citations, result.evidence)
        result.em = metrics.exact_match(result.prediction, result.expected)
        result.f1 = metrics.token_f1(result.prediction, result.expected)
        result.contains = metrics.contains_answer(result.reply, result.expected)
        if not result.abstained and not result.evidence_cited:
            failures.append(NO_EVIDENCE_CITED)
    else:
        result.key_coverage = metrics.key_coverage(result.citations, result.evidence) or 0.0
        result.documents_cited = metrics.documents_cited(result.citations)
        if first_sentences:
            baseline = [first_sentences[s] for s in dict.fromkeys(e.source for e in result.evidence) if s in first_sentences]
            result.baseline_coverage = metrics.key_coverage(baseline, result.evidence)
        wanted = min(MIN_SUMMARY_DOCUMENTS, len({e.source for e in result.evidence}))
        if not result.abstained and result.documents_cited < wanted:
            failures.append(TOO_FEW_DOCUMENTS)
        if result.baseline_coverage is not None and result.key_coverage < result.baseline_coverage:
            failures.append(SUMMARY_BELOW_BASELINE)
    if result.invalid_citations:
        failures.append(INVALID_OFFSETS)
    if result.furniture_citations:
        failures.append(CITES_FURNITURE)


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def summarise(results: Sequence[QuestionResult]) -> Summary:
    """Aggregate a group of results (see `Summary` for what each figure covers). The span
    figures leave explain and summary questions out; they have figures of their own."""
    everything = results
    results = [r for r in everything if not r.open_ended]
    scored = [metrics.ScoredAnswer(r.answerable, r.abstained, r.em, r.f1) for r in results]
    ab = metrics.abstention_figures(scored)
    answered = [r for r in results if r.answerable and not r.abstained and r.error is None]
    n_citations = sum(len(r.citations) for r in results)
    n_invalid = sum(r.invalid_citations for r in results)
    return Summary(
        count=len(everything),
        passed=sum(r.passed for r in everything),
        errors=sum(r.error is not None for r in everything),
        has_ans_count=ab.has_ans_count,
        no_ans_count=ab.no_ans_count,
        em=ab.overall_em,
        f1=ab.overall_f1,
        has_ans_em=ab.has_ans_em,
        has_ans_f1=ab.has_ans_f1,
        contains=_mean(r.contains for r in results if r.answerable),
        no_ans_accuracy=ab.no_ans_accuracy,
        abstention_accuracy=_mean(float(r.abstained != r.answerable) for r in results) or 0.0,
        abstention_precision=ab.abstention_precision,
        abstention_recall=ab.abstention_recall,
        false_abstentions=ab.false_abstentions,
        citation_validity=(n_citations - n_invalid) / n_citations if n_citations else None,
        citation_support=_mean(
            float(bool(r.citation_supported)) for r in answered if r.evidence
        ),
        citation_precision=_mean(
            r.citation_precision for r in answered if r.citation_precision is not None
        ),
        retrieval=metrics.retrieval_figures(
            [r.retrieval_rank for r in results if r.retrieval_applicable]
        ),
        latency=metrics.latency_figures([r.latency_s for r in everything if r.latency_s is not None]),
        evidence_cited=_mean(float(bool(r.evidence_cited)) for r in everything if r.category in EXPLAIN_CATEGORIES),
        key_coverage=_mean(r.key_coverage or 0.0 for r in everything if r.category in SUMMARY_CATEGORIES),
        baseline_coverage=_mean(r.baseline_coverage for r in everything if r.baseline_coverage is not None),
        documents_cited=_mean(float(r.documents_cited or 0) for r in everything if r.category in SUMMARY_CATEGORIES),
        furniture_citations=sum(r.furniture_citations for r in everything),
    )


def _group(results: Sequence[QuestionResult], key: str) -> dict[str, Summary]:
    """Summaries by ``key`` ("split" or "category"), in order of first appearance."""
    groups: dict[str, list[QuestionResult]] = {}
    for r in results:
        groups.setdefault(getattr(r, key), []).append(r)
    return {k: summarise(v) for k, v in groups.items()}


def _warm_up(engine, questions: Sequence[EvalQuestion], calls: int) -> list[str]:
    """Ask the first questions untimed; return the errors (the timed pass records them too)."""
    errors = []
    for q in questions[:calls]:
        try:
            engine.ask(q.question, history=q.history)
        except Exception as exc:  # noqa: BLE001 - reported in the run, not swallowed
            errors.append(f"{q.id}: {type(exc).__name__}: {exc}")
    return errors


def _default_seeds_dir(engine) -> Path:
    settings = getattr(engine, "settings", None)
    if settings is not None and getattr(settings, "seeds_dir", None) is not None:
        return Path(settings.seeds_dir)
    from qa.config import Settings

    return Settings.from_env().seeds_dir


def run_eval(
    engine,
    questions: Sequence[EvalQuestion],
    *,
    warmup: int = DEFAULT_WARMUP,
    seeds_dir: Path | None = None,
    label: str = "default",
) -> EvalRun:
    """Ask every question through ``engine.ask(question, history=...)`` and score the replies.

    An exception raised by ``ask`` is recorded as that question's failure
    (``"error: <Type>: <message>"``) and the run goes on. Citations are checked
    against the articles in ``seeds_dir`` (default: the engine's settings).
    """
    texts = SourceTexts(seeds_dir or _default_seeds_dir(engine))
    first_sentences = _first_sentences(engine) if any(q.category in SUMMARY_CATEGORIES for q in questions) else None
    began = time.perf_counter()
    warmup_errors = _warm_up(engine, questions, warmup)
    results = []
    for q in questions:
        result = _new_result(q)
        start = time.perf_counter()
        try:
            answer = engine.ask(q.question, history=q.history)
        except Exception as exc:  # noqa: BLE001 - recorded as this question's failure
            result.latency_s = time.perf_counter() - start
            result.error = f"{type(exc).__name__}: {exc}"
            result.failures.append(ERROR_PREFIX + result.error)
        else:
            result.latency_s = time.perf_counter() - start
            score(result, answer, texts, first_sentences)
        results.append(result)
    return EvalRun(
        label=label,
        results=results,
        overall=summarise(results),
        by_split=_group(results, "split"),
        by_category=_group(results, "category"),
        warmup_errors=warmup_errors,
        duration_s=time.perf_counter() - began,
        by_kind=_group(results, "question_kind"),
    )


def _first_sentences(engine) -> dict[str, Citation] | None:
    """Each document's first sentence (after its header and page furniture): the summary
    baseline ("lead" sentences). None when the engine does not show its documents."""
    from qa.corpus.chunking import sentence_spans

    try:
        articles = engine.articles
    except AttributeError:
        return None
    out = {}
    for article in articles:
        spans = sentence_spans(article)
        if spans:
            s = spans[0]
            out[article.source] = Citation(article.source, s.start, s.end, article.text[s.start : s.end], 0.0)
    return out
