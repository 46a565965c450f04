"""Choose the weights of a reading's sentence support (`qa.answering.evidence`) and of the
verifier's logit (`qa.answering.verifier`) in its score on the calibration splits, and print
what each choice gives.

    python -m training.ranking

Every question of the calibration splits (NYT calibration, seeds dev) is read once
through the whole pipeline with every passage read and no threshold; each reading keeps
its score without the support term, its sentence's support, the verifier's logit and its
F1. Each (support weight, verifier weight, readings verified, answer threshold) is then
replayed offline, as the answerer would pick and abstain, and scored by the mean SQuAD 2.0
F1 of the two splits, among the choices whose false abstentions on the NYT calibration
half stay under `MAX_FALSE_ABSTENTIONS`. The chosen weights go into
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
VERIFY_WEIGHTS = (0.0, 0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0)
#: Readings the verifier reads (each costs ~3 ms): `VERIFY_TOP`'s choices.
VERIFY_TOPS = (2, 4, 6)
THRESHOLDS = [x / 2 for x in range(-8, 41)]
#: The issue's bound is 10 % of answerable questions abstained on; fitting to 8 % leaves room
#: for the difference between the halves.
MAX_FALSE_ABSTENTIONS = 0.08


@dataclass(frozen=True)
class Candidate:
    base: float  # reader margin + retrieval prior
    support: float
    passes_checks: bool
    f1: float
    verdict: float = 0.0  # the verifier's logit for this span and sentence


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
            verdicts = answerer.verifier.score(text, [answerer.candidate(r) for r in readings]) if readings else []
            for r, verdict in zip(readings, verdicts):
                short = answerer.texts[r.passage.source][r.start : r.end]
                sentence = answerer.sentence_text(r.passage.source, r.start, r.end)
                candidates.append(Candidate(
                    base=r.score, support=support(text, sentence),
                    passes_checks=checks[r.passage.source], f1=token_f1(short, q.answers) if q.answerable else 0.0,
                    verdict=float(verdict),
                ))
            out.append(Question(q.answerable, tuple(candidates)))
        return out
    finally:
        answerer_module.SUPPORT_WEIGHT = saved


def picks(questions: list[Question], support_weight: float, verify_weight: float = 0.0,
          verify_top: int | None = None) -> list[tuple[float | None, Question, Candidate | None]]:
    """Each question's best reading and its score, picked as the answerer does: checks, then
    the best `VERIFY_TOP` by reader and support, re-scored by the verifier when its weight is
    not 0."""
    out = []
    for q in questions:
        scored = sorted(
            ((c.base + support_weight * c.support, c) for c in q.candidates if c.passes_checks),
            key=lambda sc: sc[0], reverse=True,
        )
        if verify_weight:
            scored = [(sc + verify_weight * c.verdict, c) for sc, c in scored[: verify_top or answerer_module.VERIFY_TOP]]
        score, best = max(scored, key=lambda sc: sc[0], default=(None, None))
        out.append((score, q, best))
    return out


def replay(picked: list[tuple[float | None, Question, Candidate | None]], threshold: float):
    """(HasAns F1, NoAns accuracy, share of answerable questions abstained on) at ``threshold``."""
    f1s, noans, abstained = [], [], 0
    for score, q, best in picked:
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
    for weight, verify, top in itertools.product(SUPPORT_WEIGHTS, VERIFY_WEIGHTS, VERIFY_TOPS):
        if not verify and top != VERIFY_TOPS[0]:
            continue  # without the verifier, how many it would read changes nothing
        picked = {name: picks(qs, weight, verify, top) for name, qs in sets.items()}
        for t in THRESHOLDS:
            figures = {name: replay(p, t) for name, p in picked.items()}
            objective = sum(squad2(sets[n], f[0], f[1]) for n, f in figures.items()) / len(figures)
            rows.append((figures[nyt][2] <= MAX_FALSE_ABSTENTIONS, objective, (weight, verify, top), t, figures))
    rows.sort(key=lambda r: (r[0], r[1]), reverse=True)
    print("| support weight | verifier weight | verified | threshold | mean SQuAD 2.0 F1 | " + " | ".join(
        f"{n} HasAns F1 / NoAns / abstained" for n in sets) + " |")
    print("|---|---|---|---|---|" + "---|" * len(sets))
    best_per_weight = {}
    for ok, objective, weights, t, figures in rows:
        if ok and weights not in best_per_weight:
            best_per_weight[weights] = (objective, t, figures)
    for (weight, verify, top), (objective, t, figures) in sorted(best_per_weight.items(), key=lambda kv: -kv[1][0]):
        cells = " | ".join(f"{f[0]:.3f} / {f[1]:.2f} / {f[2]:.2f}" for f in figures.values())
        print(f"| {weight:g} | {verify:g} | {top if verify else '-'} | {t:g} | {objective:.4f} | {cells} |")


if __name__ == "__main__":
    main()
