"""Choose the weight of a reading's sentence support in its score (`qa.answering.evidence`)
on the calibration splits, and print what each choice gives.

    python -m training.ranking

Every question of the calibration splits (NYT calibration, seeds dev) is read once
through the whole pipeline with every passage read and no threshold; each reading keeps
its score without the support term, its sentence's support and its F1. Each (support
weight, answer threshold) is then
replayed offline, as the answerer would pick and abstain, and scored by the mean SQuAD 2.0
F1 of the two splits, among the choices whose false abstentions on the NYT calibration
half stay under `MAX_FALSE_ABSTENTIONS`. The chosen weight goes into
``qa/answering/answerer.py`` by hand (a named constant, with the figures); the threshold and
the early stop are then refitted by ``python -m training.calibrate``. The report splits are
never read here.
"""

from __future__ import annotations

import argparse
import itertools
import math
from dataclasses import dataclass

import qa.answering.answerer as answerer_module
from qa.answering.evidence import support
from qa.evaluation.metrics import token_f1

CALIBRATION_SETS = (("nyt", "calibration"), ("seeds", "dev"))
SUPPORT_WEIGHTS = (0.0, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0)
THRESHOLDS = [x / 2 for x in range(-8, 25)]
#: The issue's bound is 10 % of answerable questions abstained on; fitting to 8 % leaves room
#: for the difference between the halves.
MAX_FALSE_ABSTENTIONS = 0.08


@dataclass(frozen=True)
class Candidate:
    base: float  # reader margin + retrieval prior
    support: float
    passes_checks: bool
    f1: float


@dataclass(frozen=True)
class Question:
    answerable: bool
    candidates: tuple[Candidate, ...]


def record(suite: str, split: str) -> list[Question]:
    """Every reading of every question of the split, with its context measures."""
    from qa.answering.answerer import Passage, Thresholds
    from qa.conversation import standalone_question
    from qa.evaluation import cli as eval_cli
    from qa.question import clean_question

    questions, engine, _settings = eval_cli.split_and_engine(suite, split)
    answerer = engine.answerer
    answerer.thresholds = Thresholds(answer=-math.inf, confident=math.inf)
    saved = answerer_module.SUPPORT_WEIGHT
    answerer_module.SUPPORT_WEIGHT = 0.0
    try:
        out = []
        for q in questions:
            text = clean_question(q.question)
            query = standalone_question(text, q.history)
            passages = [Passage(c.source, c.start, c.end, c.score) for c in engine.passages(query)]
            readings = answerer.read(text, passages)
            checks = {s: answerer.passes_checks(text, query, s) for s in {r.passage.source for r in readings}}
            candidates = []
            for r in readings:
                short = answerer.texts[r.passage.source][r.start : r.end]
                sentence = answerer.sentence_text(r.passage.source, r.start, r.end)
                candidates.append(Candidate(
                    base=r.score, support=support(text, sentence),
                    passes_checks=checks[r.passage.source], f1=token_f1(short, q.answers) if q.answerable else 0.0,
                ))
            out.append(Question(q.answerable, tuple(candidates)))
        return out
    finally:
        answerer_module.SUPPORT_WEIGHT = saved


def replay(questions: list[Question], support_weight: float, threshold: float):
    """(HasAns F1, NoAns accuracy, share of answerable questions abstained on)."""
    f1s, noans, abstained = [], [], 0
    for q in questions:
        scored = [(c.base + support_weight * c.support, c) for c in q.candidates if c.passes_checks]
        score, best = max(scored, key=lambda sc: sc[0], default=(None, None))
        answered = best is not None and score >= threshold
        if q.answerable:
            f1s.append(best.f1 if answered else 0.0)
            abstained += not answered
        else:
            noans.append(0.0 if answered else 1.0)
    return (sum(f1s) / max(len(f1s), 1), sum(noans) / max(len(noans), 1), abstained / max(len(f1s), 1))


def squad2(questions: list[Question], has_f1: float, noans: float) -> float:
    n_has = sum(q.answerable for q in questions)
    return (has_f1 * n_has + noans * (len(questions) - n_has)) / max(len(questions), 1)


def main(argv=None) -> None:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    sets = {f"{s}/{p}": record(s, p) for s, p in CALIBRATION_SETS}
    nyt = f"{CALIBRATION_SETS[0][0]}/{CALIBRATION_SETS[0][1]}"
    rows = []
    for weight, t in itertools.product(SUPPORT_WEIGHTS, THRESHOLDS):
        figures = {name: replay(qs, weight, t) for name, qs in sets.items()}
        objective = sum(squad2(sets[n], f[0], f[1]) for n, f in figures.items()) / len(figures)
        rows.append((figures[nyt][2] <= MAX_FALSE_ABSTENTIONS, objective, weight, t, figures))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    print("| support weight | threshold | mean SQuAD 2.0 F1 | " + " | ".join(
        f"{n} HasAns F1 / NoAns / abstained" for n in sets) + " |")
    print("|---|---|---|" + "---|" * len(sets))
    best_per_weight = {}
    for ok, objective, weight, t, figures in rows:
        if ok and weight not in best_per_weight:
            best_per_weight[weight] = (objective, t, figures)
    for weight, (objective, t, figures) in sorted(best_per_weight.items(), key=lambda kv: -kv[1][0]):
        cells = " | ".join(f"{f[0]:.3f} / {f[1]:.2f} / {f[2]:.2f}" for f in figures.values())
        print(f"| {weight:g} | {t:g} | {objective:.4f} | {cells} |")

if __name__ == "__main__":
    main()
