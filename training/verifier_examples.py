"""Training examples for the answer verifier: does this sentence answer this question
with this span?

The reader judges a window of 192 tokens as a whole and proposes the best span in it;
what it gets wrong most is a plausible span of the right passage that answers another
question ("When will the consulates open?" -> "two", from a sentence about how many), or
a span for a question whose names have swapped roles ("How many Russians were recruited
by the Indian army?" -> "126", read from "126 Indians were recruited by the Russian
military"). The verifier sees only ``question [SEP] span [SEP] its sentence`` and says
yes or no. Its examples (``kind``):

- ``answer`` (yes): a question, its gold span and the sentence holding it.
- ``other_answer`` (no): the question with another question's gold span on the same
  paragraph, and that span's sentence: the right kind of passage, the wrong span.
- ``swapped`` (no): the question with two of its names (or numbers) that the sentence
  also holds swapped, and the gold span: every word is there, the roles are not.
- ``replaced`` (no): one name of the question replaced by another name of the same
  paragraph that the sentence lacks; the gold span.
- ``unknown`` (no): a Disfl-QA unanswerable question, with a span of the paragraph's
  sentence that shares most words with it.

Built from the same article split as the reader's examples (``training.examples``), so
the held-out articles stay held out. Never from SQuADShifts-NYT or the seeds.
"""

from __future__ import annotations

import random
import re

from training.examples import sentences
from training.sources import Paragraph

#: Shares of answerable questions that also yield each kind of "no". Together about as
#: many "no" as "yes": the verifier's threshold is calibrated afterwards anyway.
OTHER_ANSWER_SHARE = 0.5
SWAPPED_SHARE = 0.25
REPLACED_SHARE = 0.35

_NAME = re.compile(r"\b[A-Z][\w'\-]+(?:\s+[A-Z][\w'\-]+)*|\b\d[\d,.]*\b")
_WORD = re.compile(r"\w+")


def sentence_of(context: str, start: int, end: int) -> tuple[int, int]:
    """The sentence or sentences of ``context`` holding characters ``start:end``."""
    spans = sentences(context)
    first = next((s for s in spans if s[0] <= start < s[1] + 1), spans[0])
    last = next((s for s in spans if s[0] < end <= s[1] + 1), first)
    return min(first[0], start), max(last[1], end)


def _names(text: str, skip_first: bool) -> list[tuple[int, int, str]]:
    """Capitalised word runs and numbers, as (start, end, text); a question's first word is
    capitalised anyway and is skipped."""
    out = []
    for m in _NAME.finditer(text):
        if skip_first and m.start() == 0:
            continue
        out.append((m.start(), m.end(), m.group(0)))
    return out


def swapped(question: str, sentence: str) -> str | None:
    """``question`` with two of its names, both in ``sentence``, swapped; None without two."""
    names = [n for n in _names(question, skip_first=True) if n[2] in sentence]
    names = [n for n in names if n[2].lower() not in {m[2].lower() for m in names if m is not n}]
    if len(names) < 2:
        return None
    (a_s, a_e, a), (b_s, b_e, b) = names[0], names[1]
    return question[:a_s] + b + question[a_e:b_s] + a + question[b_e:]


def replaced(question: str, sentence: str, context: str, rng: random.Random) -> str | None:
    """``question`` with one of its names replaced by a name of ``context`` that ``sentence``
    lacks; None when there is no such pair."""
    mine = [n for n in _names(question, skip_first=True) if n[2] in sentence]
    pool = sorted({n[2] for n in _names(context, skip_first=False)} - {n[2] for n in _names(sentence, False)})
    pool = [p for p in pool if p.lower() not in question.lower() and p.lower() not in sentence.lower()]
    if not mine or not pool:
        return None
    start, end, name = rng.choice(mine)
    # Numbers for numbers, names for names: "in 2019" -> "in 2014", not "in Paris".
    kind = [p for p in pool if p[0].isdigit() == name[0].isdigit()]
    if not kind:
        return None
    return question[:start] + rng.choice(kind) + question[end:]


def _overlap(a: str, b: str) -> int:
    return len(set(_WORD.findall(a.lower())) & set(_WORD.findall(b.lower())))


def make_examples(paragraphs: list[Paragraph], seed: int) -> list[dict]:
    """The verifier's examples from ``paragraphs`` (one article split's), shuffled."""
    rng = random.Random(seed)
    out = []
    for p in paragraphs:
        ctx = p.context
        golds = [(q, answers) for _, q, answers in p.questions if answers]
        for qid, question, answers in p.questions:
            if not answers:
                out += _unknown(qid, question, ctx, rng)
                continue
            text, start = answers[0]
            s, e = sentence_of(ctx, start, start + len(text))
            sentence = ctx[s:e]
            out.append(_example(qid, "answer", question, text, sentence, 1))
            if rng.random() < OTHER_ANSWER_SHARE:
                given = {a.lower() for a, _ in answers}
                others = [
                    (a, a_start) for q, ans in golds if q != question for a, a_start in ans[:1]
                    if a.lower() not in given and not any(g in a.lower() or a.lower() in g for g in given)
                ]
                if others:
                    a, a_start = rng.choice(others)
                    os_, oe = sentence_of(ctx, a_start, a_start + len(a))
                    out.append(_example(qid, "other_answer", question, a, ctx[os_:oe], 0))
            if rng.random() < SWAPPED_SHARE:
                q2 = swapped(question, sentence)
                if q2:
                    out.append(_example(qid, "swapped", q2, text, sentence, 0))
            if rng.random() < REPLACED_SHARE:
                q2 = replaced(question, sentence, ctx, rng)
                if q2:
                    out.append(_example(qid, "replaced", q2, text, sentence, 0))
    rng.shuffle(out)
    return out


def _unknown(qid: str, question: str, context: str, rng: random.Random) -> list[dict]:
    spans = sentences(context)
    s, e = max(spans, key=lambda se: _overlap(question, context[se[0] : se[1]]))
    sentence = context[s:e]
    candidates = [n[2] for n in _names(sentence, skip_first=False)]
    if not candidates:
        return []
    return [_example(qid, "unknown", question, rng.choice(candidates), sentence, 0)]


def _example(qid: str, kind: str, question: str, span: str, sentence: str, label: int) -> dict:
    return {"id": qid, "kind": kind, "question": question, "span": span, "sentence": sentence, "label": label}
