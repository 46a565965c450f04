"""The metrics contract of the evaluation: pure functions, no I/O.

* **Answers**: SQuAD's exact match and token F1 after `normalize_answer`,
  and `contains_answer` (a gold answer appears inside the reply).
* **Citations**: validity (offsets reproduce the source), support (a citation
  holds a gold evidence span) and precision (share of citations on evidence).
* **Retrieval**: rank of the first relevant passage, hit@k and MRR.
* **Abstention**: SQuAD 2.0's HasAns / NoAns split, plus abstention precision
  and recall.
* **Latency**: percentiles and mean.

Spans are anything with ``source``, ``start`` and ``end`` (a `Citation` or a
dataset ``Evidence``), offsets being ``[start, end)`` into the article text.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

#: A citation supports an evidence span when it covers at least this share of it.
MIN_EVIDENCE_COVERAGE = 0.5
#: The cut-offs reported as hit@k.
HIT_AT_K = (1, 3, 5)

ARTICLES = frozenset({"a", "an", "the"})

#: Curly quotes to straight ones; hyphen-like dashes to "-", sentence dashes to a space.
_UNICODE_FOLDING = str.maketrans(
    {
        "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
        "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
        "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2212": "-",
        "\u2014": " ", "\u2015": " ",
    }
)
#: Currency symbols, said as the word that follows the amount ("$5 billion" -> "5 billion dollars").
_CURRENCIES = {"$": "dollars", "us$": "dollars", "€": "euros", "£": "pounds", "₹": "rupees", "rs": "rupees"}
_MAGNITUDES = r"thousand|million|billion|trillion|lakh|crore|bn|mn"
_CURRENCY_AMOUNT = re.compile(
    r"(us\$|\$|€|£|₹|\brs\.?)\s*(\d[\d,]*(?:\.\d+)?)(\s*(?:" + _MAGNITUDES + r")\b)?"
)
_PER_CENT = re.compile(r"\bper\s+cent\b|%")
_THOUSANDS_COMMA = re.compile(r"(?<=\d),(?=\d{3}\b)")
_ORDINAL_SUFFIX = re.compile(r"\b(\d+)(?:st|nd|rd|th)\b")
_NON_DECIMAL_POINT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_WORD_SEPARATORS = re.compile(r"[-/]")

_UNITS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {
    w: 10 * i
    for i, w in enumerate("twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)
}
#: Only "thousand" is folded: "five million" -> "5 million", matching how "5 million" is written.
_SCALES = {"thousand": 1_000}
_DIGITS = re.compile(r"\d[\d.]*")


# ---------------------------------------------------------------- normalisation


def fold_unicode(text: str) -> str:
    """NFKC, then curly quotes to straight ones and dashes to "-" or a space."""
    return unicodedata.normalize("NFKC", text).translate(_UNICODE_FOLDING)


def _is_punctuation(ch: str) -> bool:
    return ch in string.punctuation or unicodedata.category(ch).startswith("P")


#: For each kind of number word, the kinds of the previous word it may continue.
_CONTINUES = {
    "unit": {"tens", "hundred", "scale"},
    "tens": {"hundred", "scale"},
    "hundred": {"unit"},
    "scale": {"unit", "tens", "hundred"},
}


def _number_kind(token: str) -> str | None:
    if token in _UNITS:
        return "unit"
    if token in _TENS:
        return "tens"
    if token == "hundred":
        return "hundred"
    return "scale" if token in _SCALES else None


def _number_words_to_digits(tokens: list[str]) -> list[str]:
    """Replace each run of number words by its value: "one hundred and twenty six" -> "126"."""
    out: list[str] = []
    total = current = 0
    last: str | None = None  # kind of the previous number word; None outside a number

    def flush() -> None:
        nonlocal total, current, last
        if last is not None:
            out.append(str(total + current))
        total = current = 0
        last = None

    for i, token in enumerate(tokens):
        kind = _number_kind(token)
        after_digits = last is None and bool(out) and _DIGITS.fullmatch(out[-1]) is not None
        if kind in ("hundred", "scale") and after_digits:
            kind = None  # "5 thousand" stays as written
        if kind is None:
            next_kind = _number_kind(tokens[i + 1]) if i + 1 < len(tokens) else None
            if token == "and" and last in ("hundred", "scale") and next_kind in ("unit", "tens"):
                continue  # "one hundred and six"
            flush()
            out.append(token)
            continue
        if last is not None and (
            last not in _CONTINUES[kind] or (last == "tens" and not 0 < _UNITS[token] < 10)
        ):
            flush()
        if kind == "unit":
            current += _UNITS[token]
        elif kind == "tens":
            current += _TENS[token]
        elif kind == "hundred":
            current = (current or 1) * 100
        else:
            total += (current or 1) * _SCALES[token]
            current = 0
        last = kind
    flush()
    return out


def normalize_answer(text: str) -> str:
    """SQuAD's normalisation, made robust to how news text writes things.

    Lowercase; fold curly quotes and dashes; "per cent" and "%" become
    "percent"; "$68.7 billion" becomes "68.7 billion dollars"; "1,000" becomes
    "1000" and "21st" "21"; hyphens and slashes separate words; punctuation is
    dropped (a decimal point between digits stays); number words become digits
    ("one hundred and twenty-six" -> "126"); articles are dropped; whitespace
    collapses.
    """
    text = fold_unicode(text).lower()
    text = _PER_CENT.sub(" percent ", text)
    text = _CURRENCY_AMOUNT.sub(
        lambda m: f" {m.group(2)}{m.group(3) or ''} {_CURRENCIES[m.group(1).rstrip('.')]} ", text
    )
    text = _THOUSANDS_COMMA.sub("", text)
    text = _ORDINAL_SUFFIX.sub(r"\1", text)
    text = _WORD_SEPARATORS.sub(" ", text)
    text = _NON_DECIMAL_POINT.sub("", text)
    text = "".join(ch for ch in text if ch == "." or not _is_punctuation(ch))
    tokens = _number_words_to_digits(text.split())
    return " ".join(t for t in tokens if t not in ARTICLES)


# ---------------------------------------------------------------- answers


def exact_match(prediction: str | None, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised gold answer, else 0.0."""
    if prediction is None:
        return 0.0
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(g) for g in golds))


def _f1(prediction_tokens: list[str], gold_tokens: list[str]) -> float:
    if not prediction_tokens or not gold_tokens:
        return float(prediction_tokens == gold_tokens)
    common = sum((Counter(prediction_tokens) & Counter(gold_tokens)).values())
    if common == 0:
        return 0.0
    precision = common / len(prediction_tokens)
    recall = common / len(gold_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str | None, golds: Sequence[str]) -> float:
    """SQuAD's bag-of-tokens F1 against the best-matching gold answer."""
    if prediction is None or not golds:
        return 0.0
    pred = normalize_answer(prediction).split()
    return max(_f1(pred, normalize_answer(g).split()) for g in golds)


def contains_answer(reply_text: str | None, golds: Sequence[str]) -> float:
    """1.0 when some normalised gold answer appears, as whole words, in the normalised reply."""
    if not reply_text:
        return 0.0
    reply = f" {normalize_answer(reply_text)} "
    return float(any(g and f" {g} " in reply for g in map(normalize_answer, golds)))


# ---------------------------------------------------------------- citations and retrieval


class Span(Protocol):
    source: str
    start: int
    end: int


def overlap(a: Span, b: Span) -> int:
    """Characters ``a`` and ``b`` share (0 when they lie in different articles)."""
    if a.source != b.source:
        return 0
    return max(0, min(a.end, b.end) - max(a.start, b.start))


def supports(passage: Span, evidence: Span) -> bool:
    """The passage contains the evidence span, or covers at least `MIN_EVIDENCE_COVERAGE` of it."""
    if passage.source != evidence.source:
        return False
    if passage.start <= evidence.start and evidence.end <= passage.end:
        return True
    length = evidence.end - evidence.start
    return length > 0 and overlap(passage, evidence) >= MIN_EVIDENCE_COVERAGE * length


def citation_is_valid(citation_text: str, start: int, end: int, source_text: str) -> bool:
    """The offsets are in range and ``source_text[start:end]`` reproduces the cited text."""
    return 0 <= start < end <= len(source_text) and source_text[start:end] == citation_text


def citation_support(citations: Sequence[Span], evidence: Sequence[Span]) -> bool:
    """Some citation supports some gold evidence span."""
    return any(supports(c, e) for c in citations for e in evidence)


def evidence_cited(citations: Sequence[Span], evidence: Sequence[Span]) -> bool:
    """Some citation holds a whole gold evidence sentence (explain questions: the answer
    quotes a sentence that gives the explanation)."""
    return any(
        c.source == e.source and c.start <= e.start and e.end <= c.end for c in citations for e in evidence
    )


def key_coverage(citations: Sequence[Span], evidence: Sequence) -> float | None:
    """Share of a summary's key points (gold evidence grouped by ``key``) that some citation
    `supports`: a point stated by several articles counts once. None without evidence."""
    keys: dict[str, list] = {}
    for e in evidence:
        keys.setdefault(getattr(e, "key", "") or f"{e.source}:{e.start}", []).append(e)
    if not keys:
        return None
    covered = sum(any(supports(c, e) for c in citations for e in group) for group in keys.values())
    return covered / len(keys)


def documents_cited(citations: Sequence[Span]) -> int:
    """How many different documents the citations quote."""
    return len({c.source for c in citations})


def citation_precision(citations: Sequence[Span], evidence: Sequence[Span]) -> float | None:
    """Share of citations that overlap any gold evidence span; None without citations."""
    if not citations:
        return None
    on_evidence = sum(any(overlap(c, e) > 0 for e in evidence) for c in citations)
    return on_evidence / len(citations)


def first_relevant_rank(passages: Sequence[Span], evidence: Sequence[Span]) -> int | None:
    """1-based rank of the first passage that `supports` a gold evidence span, None if none does."""
    for rank, passage in enumerate(passages, start=1):
        if any(supports(passage, e) for e in evidence):
            return rank
    return None


@dataclass(frozen=True)
class RetrievalFigures:
    count: int
    hit_at: dict[int, float]
    mrr: float


def retrieval_figures(ranks: Sequence[int | None], ks: Iterable[int] = HIT_AT_K) -> RetrievalFigures | None:
    """hit@k (share of questions with a relevant passage in the top k) and mean reciprocal rank."""
    if not ranks:
        return None
    n = len(ranks)
    hits = {k: sum(r is not None and r <= k for r in ranks) / n for k in ks}
    mrr = sum(1 / r for r in ranks if r is not None) / n
    return RetrievalFigures(count=n, hit_at=hits, mrr=mrr)


# ---------------------------------------------------------------- abstention


@dataclass(frozen=True)
class ScoredAnswer:
    """One question's outcome, as `abstention_figures` needs it.

    ``em``/``f1`` are the answer scores (0 when the engine abstained); they are
    ignored for unanswerable questions, which score 1 iff the engine abstained.
    """

    answerable: bool
    abstained: bool
    em: float
    f1: float


@dataclass(frozen=True)
class AbstentionFigures:
    has_ans_count: int
    no_ans_count: int
    has_ans_em: float | None
    has_ans_f1: float | None
    no_ans_accuracy: float | None
    #: SQuAD 2.0 overall: answerable questions by EM/F1, unanswerable ones 1 iff abstained.
    overall_em: float
    overall_f1: float
    #: Of the abstentions, the share on unanswerable questions.
    abstention_precision: float | None
    #: Of the unanswerable questions, the share the engine abstained on.
    abstention_recall: float | None
    false_abstentions: int


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def abstention_figures(scored: Sequence[ScoredAnswer]) -> AbstentionFigures:
    """SQuAD 2.0's HasAns / NoAns split, plus abstention precision and recall."""
    has_ans = [s for s in scored if s.answerable]
    no_ans = [s for s in scored if not s.answerable]
    abstentions = [s for s in scored if s.abstained]
    no_ans_hits = [float(s.abstained) for s in no_ans]

    def answer_score(s: ScoredAnswer, value: float) -> float:
        if s.answerable:
            return 0.0 if s.abstained else value
        return float(s.abstained)

    return AbstentionFigures(
        has_ans_count=len(has_ans),
        no_ans_count=len(no_ans),
        has_ans_em=_mean([answer_score(s, s.em) for s in has_ans]),
        has_ans_f1=_mean([answer_score(s, s.f1) for s in has_ans]),
        no_ans_accuracy=_mean(no_ans_hits),
        overall_em=_mean([answer_score(s, s.em) for s in scored]) or 0.0,
        overall_f1=_mean([answer_score(s, s.f1) for s in scored]) or 0.0,
        abstention_precision=_mean([float(not s.answerable) for s in abstentions]),
        abstention_recall=_mean(no_ans_hits),
        false_abstentions=sum(s.abstained for s in has_ans),
    )


@dataclass(frozen=True)
class OperatingPoint:
    """What answering only above ``threshold`` gives: the share of questions answered, the
    accuracy (mean F1) of the answered answerable ones, HasAns F1, NoAns accuracy and
    SQuAD 2.0 overall F1."""

    threshold: float
    answered: float
    answered_f1: float | None
    has_ans_f1: float | None
    no_ans_accuracy: float | None
    overall_f1: float


def operating_point(points: Sequence[tuple[float | None, bool, float]], threshold: float) -> OperatingPoint:
    """``points`` holds (confidence, answerable, F1 if answered) per question, from a run
    that answered everything; None confidence means nothing was read (always abstains)."""
    answered = [(a, f) for c, a, f in points if c is not None and c >= threshold]
    has_ans = [p for p in points if p[1]]
    no_ans = [p for p in points if not p[1]]
    f1_answered = sum(f for a, f in answered if a)
    no_ans_hits = sum(1 for c, a, _ in no_ans if c is None or c < threshold)
    return OperatingPoint(
        threshold=threshold,
        answered=len(answered) / len(points) if points else 0.0,
        answered_f1=_mean([f if a else 0.0 for a, f in answered]),
        has_ans_f1=f1_answered / len(has_ans) if has_ans else None,
        no_ans_accuracy=no_ans_hits / len(no_ans) if no_ans else None,
        overall_f1=(f1_answered + no_ans_hits) / len(points) if points else 0.0,
    )


# ---------------------------------------------------------------- latency


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), interpolating linearly between ranks like numpy's default."""
    if not values:
        raise ValueError("percentile of no values")
    if not 0 <= q <= 100:
        raise ValueError(f"q must lie in 0..100; got {q}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass(frozen=True)
class LatencyFigures:
    count: int
    p50: float
    p95: float
    mean: float
    max: float


def latency_figures(seconds: Sequence[float]) -> LatencyFigures | None:
    """p50, p95, mean and max of the timed calls (seconds); None when nothing was timed."""
    if not seconds:
        return None
    return LatencyFigures(
        count=len(seconds),
        p50=percentile(seconds, 50),
        p95=percentile(seconds, 95),
        mean=sum(seconds) / len(seconds),
        max=max(seconds),
    )
