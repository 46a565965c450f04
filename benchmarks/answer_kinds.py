"""Warm ask() latency by answer kind (span, list, sentences, summary) on the seeds questions,
beside the reference in the same run: the same engine answering every question as a span
(the answer kinds switched off), questions interleaved so machine load hits both alike.

    python benchmarks/answer_kinds.py [--rounds 3]

"Warm": every question was asked once before timing, so a summary's sentence vectors are
cached as in a chat that has summarised before; the first summary's extra cost (embedding
the sentences that reach its corpus stage) is printed on its own. Asserts nothing.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from qa.answering import answerer as answerer_module  # noqa: E402
from qa.answering.kinds import SPAN, answer_kind  # noqa: E402
from qa.engine import QAEngine  # noqa: E402
from qa.evaluation.dataset import load_questions  # noqa: E402
from qa.evaluation.metrics import percentile  # noqa: E402


def timed(engine, question) -> float:
    started = time.perf_counter()
    engine.ask(question.question, history=question.history)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    engine = QAEngine.from_settings().load(progress=False)
    questions = load_questions()
    summaries = [q for q in questions if answer_kind(q.question) == "summary"]
    first = timed(engine, summaries[0]) if summaries else None
    for q in questions:  # warm: every question once, untimed
        engine.ask(q.question, history=q.history)
    kinds = {"with kinds": {}, "all spans (reference)": {}}
    for _ in range(args.rounds):
        for q in questions:
            kind = answer_kind(q.question)
            kinds["with kinds"].setdefault(kind, []).append(timed(engine, q))
            answerer_module.answer_kind = lambda question: SPAN
            try:
                kinds["all spans (reference)"].setdefault(kind, []).append(timed(engine, q))
            finally:
                answerer_module.answer_kind = answer_kind
    print(f"{len(questions)} seeds questions x {args.rounds} rounds, warm; ms")
    print(f"{'':24}{'kind':>11}{'n':>5}{'p50':>7}{'p95':>7}")
    for label, by_kind in kinds.items():
        every = [t for ts in by_kind.values() for t in ts]
        for kind, ts in [*sorted(by_kind.items()), ("all", every)]:
            print(f"{label:24}{kind:>11}{len(ts):>5}{statistics.median(ts) * 1000:>7.0f}{percentile(ts, 95) * 1000:>7.0f}")
    if first is not None:
        print(f"first summary of a fresh engine ({summaries[0].question!r}): {first * 1000:.0f} ms")


if __name__ == "__main__":
    main()
