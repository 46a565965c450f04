"""Sentence answers, for "why", "how", "explain", "describe" and "what did X say".

The reader's best span marks where the answer is; the answer is the sentence around it,
widened to a neighbour that continues it (a sentence opening with "This", "But", "He"...
leans on the one before it), plus the sentence of the next best reading when it comes
close and says something else (another reason, another article's account). Each run of
sentences is one citation, quoted whole, so ``text_of(source)[start:end]`` still holds;
`Answer.short` stays the span when the reader is confident of it.

>>> # answerer.answer("Why did the minister visit Moscow?", passages).text   # doctest: +SKIP
>>> # 'He travelled to Moscow to prepare for the annual summit. [1]'          # doctest: +SKIP
"""

from __future__ import annotations

import functools
import json
from typing import TYPE_CHECKING, Sequence

from qa.answering.kinds import SENTENCES, WORDS_FILE
from qa.results import Answer, Citation
from qa.text import fold

if TYPE_CHECKING:
    from qa.answering.answerer import ReaderAnswerer, _Reading

#: Sentences quoted in a row at most (the answer's sentence and its continuations).
MAX_RUN = 3
#: Other readings' sentences added at most: an explanation often takes two sentences (a
#: reason and its context, or two articles' accounts). Chosen on seeds dev (explain): 1 and 2
#: tried, the same.
MAX_OTHERS = 1
#: A reading's sentence is added when its score is within this much of the best one's. Wider
#: than for a second article's figure (2.0, `qa.answering.answerer`): a second sentence that
#: does not give the reason costs a reader little, a missing reason costs the answer. Chosen
#: on seeds dev (explain: a gold evidence sentence cited): 2 -> 0.56, 4 -> 0.67, 6 -> 0.78,
#: 8 -> 0.89, 12 -> 0.89.
OTHER_MARGIN = 8.0
#: A sentence answer needs a reading this far above the calibrated answer threshold. A "why"
#: or "what did X say" question shares many words with the sentences about its subject, so
#: its readings score high by support alone even when no sentence gives the reason. Chosen on
#: the calibration splits' sentence questions (seeds dev 18, NYT calibration 9; threshold
#: 1.5 + this): their unanswerable ones' best readings score 5.1, 5.7, 7.2, 8.9 and 9.6, the
#: answerable ones' 7.6 and up; the issue's own example ("Why are relations between India and
#: the United States strained?", answered by the doubled tariffs) scores 7.3. 5 abstains on
#: two unanswerable questions and on no answerable one.
ABOVE_ANSWER_THRESHOLD = 5.0
#: Two quoted sentences sharing this share of their words say the same thing: one is enough.
SAME_WORDS = 0.6


@functools.lru_cache(maxsize=2)
def _openings(name: str) -> tuple[tuple[str, ...], ...]:
    words = json.loads(WORDS_FILE.read_text(encoding="utf-8"))["sentences"][name]["words"]
    return tuple(tuple(w.split()) for w in words)


def _opens_with(sentence: str, name: str) -> bool:
    words = fold(sentence).lstrip("\"'( ").replace(",", " ").split()
    return any(tuple(words[: len(p)]) == p for p in _openings(name))


def leans_on_previous(sentence: str) -> bool:
    """Whether ``sentence`` opens with a word pointing back to the sentence before it."""
    return _opens_with(sentence, "continues_previous")


def carries_on(sentence: str) -> bool:
    """Whether ``sentence`` goes on with what the one before it explains ("This means...")."""
    return _opens_with(sentence, "carries_on")


def sentence_run(answerer: "ReaderAnswerer", source: str, start: int, end: int) -> tuple[int, int]:
    """The sentences holding ``start:end``, widened to the neighbours that continue them:
    ``(first, last)`` character offsets of the run."""
    spans = answerer.sentences_of(source)
    # The sentence the span starts in: a span the reader ran across a sentence's end is
    # clipped to it (`compose`).
    i = j = answerer.sentence_index(source, start)
    if i is None:
        return start, end
    text = answerer.texts[source]

    def joined(a, b) -> bool:  # nothing but space between them: no furniture, no heading
        return not text[a.end : b.start].strip()

    if i > 0 and joined(spans[i - 1], spans[i]) and leans_on_previous(text[spans[i].start : spans[i].end]):
        i -= 1
    while j + 1 < len(spans) and j - i + 1 < MAX_RUN and joined(spans[j], spans[j + 1]) and carries_on(text[spans[j + 1].start : spans[j + 1].end]):
        j += 1
    return spans[i].start, max(spans[j].end, spans[i].end)


def _words(text: str) -> set[str]:
    return {w for w in fold(text).split() if len(w) > 3}


def _same(a: str, b: str) -> bool:
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= SAME_WORDS


def compose(
    answerer: "ReaderAnswerer", question: str, best: "_Reading", readings: Sequence["_Reading"], shown: list[Citation],
) -> Answer:
    """The sentence answer built around ``best`` (a reading that cleared the threshold)."""
    chosen = [(best, *sentence_run(answerer, best.passage.source, best.start, best.end))]
    floor = max(answerer.thresholds.answer, best.score - OTHER_MARGIN)
    for reading in readings:
        if len(chosen) > MAX_OTHERS or reading.score < floor:
            break
        if reading is best:
            continue
        source = reading.passage.source
        start, end = sentence_run(answerer, source, reading.start, reading.end)
        text = answerer.texts[source][start:end]
        if any(
            (r.passage.source == source and a < end and start < b) or _same(text, answerer.texts[r.passage.source][a:b])
            for r, a, b in chosen
        ):
            continue  # the same sentence, or another article saying the same thing
        chosen.append((reading, start, end))
    citations = [_citation(answerer, r, a, b) for r, a, b in chosen]
    text = " ".join(f"{c.text} [{n}]" for n, c in enumerate(citations, 1))
    first = citations[0]
    short = None
    if first.answer_start is not None:
        short = first.text[first.answer_start - first.start : first.answer_end - first.start].strip() or None
    return Answer(
        question=question, text=text, short=short, citations=citations, abstained=False, passages=shown,
        query=question, confidence=round(best.score, 4), kind=SENTENCES,
    )


def _citation(answerer: "ReaderAnswerer", reading: "_Reading", start: int, end: int) -> Citation:
    """The run ``start:end`` quoted whole, with the reading's span clipped to it."""
    a, b = max(start, reading.start), min(end, reading.end)
    source = reading.passage.source
    return Citation(
        source=source, start=start, end=end, text=answerer.texts[source][start:end], score=round(reading.score, 4),
        answer_start=a if a < b else None, answer_end=b if a < b else None,
    )
