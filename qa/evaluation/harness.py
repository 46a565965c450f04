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
ERROR_PREFIX = "error: "

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
    failures: list[str] = field(default_factory=list)

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
        }
        if with_results:
            out["results"] = [r.to_dict() for r in self.results]
        return out


class SourceTexts:
    """Article texts by file name, read once; None for a file that does not exist."""

    def __init__(self, seeds_dir: Path) -> None:
        self.seeds_dir = Path(seeds_dir)
        self._cache: dict[str, str | None] = {}

    def get(self, source: str) -> str | None:
        if source not in self._cache:
            path = self.seeds_dir / source
            self._cache[source] = path.read_text(encoding="utf-8") if path.is_file() else None
        return self._cache[source]


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
    return QuestionResult(
        id=q.id, split=q.split, category=q.category, difficulty=q.difficulty,
        question=q.question, history=list(q.history), answerable=q.answerable,
        expected=list(q.answers), evidence=list(q.evidence),
    )


def score(result: QuestionResult, answer: Answer, texts: SourceTexts) -> QuestionResult:
    """Fill ``result`` from ``answer``: scores, citation checks, retrieval rank and failure reasons."""
    result.short, result.reply, result.abstained = answer.short, answer.text, answer.abstained
    result.citations, result.passages = list(answer.citations), list(answer.passages)
    result.query, result.alternatives = answer.query, list(answer.alternatives)
    result.confidence = answer.confidence
    result.invalid_citations = sum(not _citation_is_valid(c, texts) for c in result.citations)
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
    return result


def _mean(values: Iterable[float]) -> float | None:
    values = list(values)
    return sum(values) / len(values) if values else None


def summarise(results: Sequence[QuestionResult]) -> Summary:
    """Aggregate a group of results (see `Summary` for what each figure covers)."""
    scored = [metrics.ScoredAnswer(r.answerable, r.abstained, r.em, r.f1) for r in results]
    ab = metrics.abstention_figures(scored)
    answered = [r for r in results if r.answerable and not r.abstained and r.error is None]
    n_citations = sum(len(r.citations) for r in results)
    n_invalid = sum(r.invalid_citations for r in results)
    return Summary(
        count=len(results),
        passed=sum(r.passed for r in results),
        errors=sum(r.error is not None for r in results),
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
        latency=metrics.latency_figures([r.latency_s for r in results if r.latency_s is not None]),
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
            score(result, answer, texts)
        results.append(result)
    return EvalRun(
        label=label,
        results=results,
        overall=summarise(results),
        by_split=_group(results, "split"),
        by_category=_group(results, "category"),
        warmup_errors=warmup_errors,
        duration_s=time.perf_counter() - began,
    )
