"""Reproduce the shipped reader, start to finish, and print the wall time.

    python -m training --sdist /path/to/bigbench-1.0.0.tar.gz

Runs `training.prepare` (examples from the sdist), `training.train` (resumable: run
the same command again after an interruption), `training.export` (ONNX, int8, checks,
metrics, into ``models/reader/``), `training.calibrate` (abstention thresholds from the
calibration splits) and `training.card` (the model card). Not part of CI.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from training import calibrate, card, export, prepare, train

#: The shipped model's schedule (see models/reader/README.md): planned for 2400 steps, then
#: re-planned twice while it ran, to finish within the session that trained it.
STEPS = 2400
PLAN = "200:2100,600:1700"


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m training", description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, required=True, help="bigbench-1.0.0.tar.gz")
    parser.add_argument("--work", type=Path, default=Path("training/work"))
    parser.add_argument("--out", type=Path, default=Path("models/reader"))
    parser.add_argument("--minutes", type=float, default=240.0, help="time box of the training step")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    if not (args.work / "train.jsonl").exists():
        prepare.main(["--sdist", str(args.sdist), "--work", str(args.work)])
    if not (args.work / "final").exists():
        train.main(["--work", str(args.work), "--steps", str(STEPS), "--plan", PLAN, "--minutes", str(args.minutes)])
        if not (args.work / "final").exists():
            raise SystemExit("training stopped at its time box; run the same command again to resume")
    export.main(["--model", str(args.work / "final"), "--sdist", str(args.sdist), "--work", str(args.work), "--out", str(args.out)])
    calibrate.main(["--reader", str(args.out)])
    card.main(["--reader", str(args.out)])
    print(f"reproduced {args.out} in {(time.perf_counter() - started) / 60:.1f} min of wall time")


if __name__ == "__main__":
    main()
