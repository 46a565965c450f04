"""Training examples for the reader: answerable questions and the unanswerable kinds
it must learn to refuse.

Kinds of example (``kind``):

- ``answer``: a question with its paragraph and gold spans.
- ``no_sentence``: the same paragraph with every sentence holding an answer removed,
  a window of the same article without the answer: the hardest near miss.
- ``same_article``: the question with another paragraph of its own article.
- ``other_article``: the question with a paragraph of another article (retrieval noise).
- ``unknown``: Disfl-QA's unanswerable questions (SQuAD 2.0 adversarial paragraphs).

Articles, not questions, are split into train and holdout, so the holdout's
paragraphs are never seen in training.
"""

from __future__ import annotations

import random
import re
from collections import defaultdict

from training.sources import Paragraph

#: Shares of answerable questions that also yield each kind of negative. About one training
#: example in three is unanswerable: enough for a calibrated no-answer score without
#: teaching the reader to refuse (SQuAD 2.0 has one in three).
NO_SENTENCE_SHARE = 0.2
SAME_ARTICLE_SHARE = 0.2
OTHER_ARTICLE_SHARE = 0.08
#: Share of articles held out per source for the in-domain EM/F1.
HOLDOUT_SHARE = 0.05

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“‘'(])")


def sentences(text: str) -> list[tuple[int, int]]:
    """Rough sentence spans: enough to drop the one holding an answer."""
    spans, start = [], 0
    for m in _SENTENCE_END.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return [(s, e) for s, e in spans if e > s]


def without_answers(context: str, answers: list[tuple[str, int]]) -> str | None:
    """``context`` minus each sentence that overlaps a gold span; None when an answer's
    words are still there (then it would not be unanswerable)."""
    kept = [
        context[s:e]
        for s, e in sentences(context)
        if not any(a_start < e and a_start + len(a) > s for a, a_start in answers)
    ]
    rest = " ".join(kept)
    if len(rest) < 100 or any(a.lower() in rest.lower() for a, _ in answers):
        return None
    return rest


def split_articles(paragraphs: list[Paragraph], seed: int) -> tuple[list[Paragraph], list[Paragraph]]:
    rng = random.Random(seed)
    articles = sorted({p.article for p in paragraphs if p.source != "disfl_qa"})
    rng.shuffle(articles)
    by_source = defaultdict(list)
    for a in articles:
        by_source[a.split(":", 1)[0]].append(a)
    held = {a for arts in by_source.values() for a in arts[: max(1, int(len(arts) * HOLDOUT_SHARE))]}
    # Disfl-QA rows are held out in the same share, by row.
    disfl = [p for p in paragraphs if p.source == "disfl_qa"]
    held_disfl = {id(p) for p in disfl[: int(len(disfl) * HOLDOUT_SHARE)]}
    train = [p for p in paragraphs if p.article not in held and id(p) not in held_disfl]
    holdout = [p for p in paragraphs if p.article in held or id(p) in held_disfl]
    return train, holdout


def make_examples(paragraphs: list[Paragraph], seed: int) -> list[dict]:
    """Every answerable question once, plus the negatives described above, shuffled."""
    rng = random.Random(seed)
    by_article = defaultdict(list)
    for p in paragraphs:
        by_article[p.article].append(p)
    answerable = [p for p in paragraphs if p.source != "disfl_qa"]
    out = []
    for p in paragraphs:
        for qid, question, answers in p.questions:
            if not answers:
                out.append(_example(qid, "unknown", question, p.context, []))
                continue
            out.append(_example(qid, "answer", question, p.context, answers))
            if rng.random() < NO_SENTENCE_SHARE:
                rest = without_answers(p.context, answers)
                if rest:
                    out.append(_example(qid, "no_sentence", question, rest, []))
            if rng.random() < SAME_ARTICLE_SHARE:
                others = [
                    o for o in by_article[p.article]
                    if o is not p and not any(a.lower() in o.context.lower() for a, _ in answers)
                ]
                if others:
                    out.append(_example(qid, "same_article", question, rng.choice(others).context, []))
            if rng.random() < OTHER_ARTICLE_SHARE:
                other = rng.choice(answerable)
                if other.article != p.article and not any(a.lower() in other.context.lower() for a, _ in answers):
                    out.append(_example(qid, "other_article", question, other.context, []))
    rng.shuffle(out)
    return out


def _example(qid: str, kind: str, question: str, context: str, answers) -> dict:
    return {
        "id": qid,
        "kind": kind,
        "question": question,
        "context": context,
        "answers": [{"text": t, "start": s} for t, s in answers],
    }
