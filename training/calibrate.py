"""Calibrate the reader's abstention on the calibration halves, and write the thresholds
into ``models/reader/reader.json``.

    python -m training.calibrate

The whole pipeline answers every question of the NYT suite's calibration split and the
seeds' dev split with abstention switched off, recording the reader's confidence (best
span score over the no-answer score). The answer threshold is the one that maximises the
mean SQuAD 2.0 F1 (answered questions score their F1, unanswerable ones 1 when abstained)
over the two sets. The report splits (NYT report, seeds heldout) are never read here.
"""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

from qa.answering.reader import CONFIG_FILE
from qa.evaluation.metrics import operating_point

#: (suite, split) pairs thresholds are fitted on.
CALIBRATION_SETS = (("nyt", "calibration"), ("seeds", "dev"))
#: Thresholds tried (margins; the reader's no-answer score sits near 0 margin).
GRID = [x / 4 for x in range(-16, 41)]
#: Early-stop scores tried: reading stops after the first passages above this. A reading's
#: score holds its sentence's support (up to `SUPPORT_WEIGHT`), so the range reaches past it.
CONFIDENT_CHOICES = (2.0, 4.0, 6.0, 8.0, 10.0, 12.0, math.inf)
#: An early stop may cost at most this much mean F1 against reading every passage. Among the
#: stops within it, the best is taken (the earliest on a tie): every finite stop reads the
#: first passages only for most questions, so their median latencies are alike, while
#: reading every passage doubles it.
MAX_EARLY_STOP_LOSS = 0.01


def run_set(suite: str, split: str, answer: float, confident: float):
    from qa.evaluation import cli as eval_cli
    from qa.evaluation.harness import run_eval

    questions, engine, settings = eval_cli.split_and_engine(suite, split)
    engine.answerer.thresholds = type(engine.answerer.thresholds)(answer=answer, confident=confident)
    run = run_eval(engine, questions, warmup=0, seeds_dir=settings.seeds_dir, label=f"{suite}/{split}")
    # With no threshold, an abstention comes from a check (or nothing read): never answered.
    points = [(None if r.abstained else r.confidence, r.answerable, r.f1) for r in run.results]
    latencies = sorted(r.latency_s for r in run.results)
    return points, latencies[len(latencies) // 2], latencies[int(0.95 * (len(latencies) - 1))]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, default=Path("models/reader"))
    parser.add_argument("--out", type=Path, default=None, help="trade-off table (default: <reader>/calibration.md)")
    args = parser.parse_args(argv)
    # The engines below read QA_READER_DIR: calibrate the reader named here, not the shipped one.
    os.environ["QA_READER_DIR"] = str(args.reader.resolve())

    runs = {}
    for confident in CONFIDENT_CHOICES:
        for suite, split in CALIBRATION_SETS:
            runs[(confident, suite, split)] = run_set(suite, split, -math.inf, confident)
            print(f"confident {confident}: {suite}/{split} read, p50 {runs[(confident, suite, split)][1] * 1000:.0f} ms", flush=True)

    def best_threshold(confident):
        scored = []
        for t in (t for t in GRID if t <= confident):  # a stop below the threshold would stop on no answer
            points = [operating_point(runs[(confident, s, p)][0], t) for s, p in CALIBRATION_SETS]
            scored.append((sum(pt.overall_f1 for pt in points) / len(points), t))
        return max(scored)

    full = best_threshold(math.inf)
    stops = [c for c in CONFIDENT_CHOICES if math.isfinite(c) and best_threshold(c)[0] >= full[0] - MAX_EARLY_STOP_LOSS]
    confident = max(stops, key=lambda c: (best_threshold(c)[0], -c), default=math.inf)
    objective, threshold = best_threshold(confident)

    lines = [
        "# Reader calibration",
        "",
        "Written by `python -m training.calibrate` from the calibration splits only "
        f"({', '.join(f'{s}/{p}' for s, p in CALIBRATION_SETS)}), every question answered through the whole pipeline.",
        "",
        f"Chosen answer threshold **{threshold}** (mean SQuAD 2.0 F1 {objective:.3f}); "
        f"reading stops after the first passages above score **{confident}** "
        f"(reading every passage: {full[0]:.3f} at threshold {full[1]}).",
        "",
        "Early stop: mean SQuAD 2.0 F1 at its best threshold, and latency (p50 / p95), per early-stop score:",
        "",
        "| early stop at | mean F1 | " + " | ".join(f"ms {s}/{p}" for s, p in CALIBRATION_SETS) + " |",
        "|---|---|" + "---|" * len(CALIBRATION_SETS),
    ]
    for c in CONFIDENT_CHOICES:
        lines.append(
            f"| {c} | {best_threshold(c)[0]:.3f} | "
            + " | ".join(f"{runs[(c, s, p)][1] * 1000:.0f} / {runs[(c, s, p)][2] * 1000:.0f}" for s, p in CALIBRATION_SETS)
            + " |"
        )
    for s, p in CALIBRATION_SETS:
        lines += [
            "",
            f"## {s}/{p}: accuracy of the answered questions against the share answered",
            "",
            "| threshold | answered | F1 of answered | HasAns F1 | NoAns | SQuAD 2.0 F1 |",
            "|---|---|---|---|---|---|",
        ]
        for t in GRID[::4] + ([threshold] if threshold not in GRID[::4] else []):
            pt = operating_point(runs[(confident, s, p)][0], t)
            mark = " **(chosen)**" if t == threshold else ""
            fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
            lines.append(
                f"| {t}{mark} | {pt.answered:.2f} | {fmt(pt.answered_f1)} | {fmt(pt.has_ans_f1)} | "
                f"{fmt(pt.no_ans_accuracy)} | {pt.overall_f1:.3f} |"
            )
    out = args.out or args.reader / "calibration.md"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")

    config_path = args.reader / CONFIG_FILE
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["thresholds"] = {"answer": threshold, "confident": confident if math.isfinite(confident) else 1e9}
    config_path.write_text(json.dumps(config, indent=1) + "\n", encoding="utf-8")
    print("\n".join(lines[:8]))
    print(f"thresholds written to {config_path}")


if __name__ == "__main__":
    main()
