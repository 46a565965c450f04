"""Warm ``ask()`` with each integer arithmetic the reader has shipped with (issue 19), paired.

    python benchmarks/reader_arithmetic.py             # both suites, 3 passes
    python benchmarks/reader_arithmetic.py --passes 1 --suite seeds

The readers, taken from the repository's history into a temporary folder:
- ``8-bit batched`` (the reference, the reader before issue 19): 8-bit int8 weights on
  onnxruntime's U8S8 kernels, which saturate on AVX2 without VNNI, a question's windows in one
  batch (so a window's scores depended on its neighbours);
- ``U8U8 alone``: the same weights stored as uint8 (exact U8U8 kernels), each window alone;
- ``7-bit alone`` (shipped): weights within +-63 on the U8S8 kernels (exact), each window alone.

Every question is asked of every reader in a random order before the next question, in one
process with the same index, so a busy machine slows them alike. Prints p50/p95/mean per reader
and the median per-question ratio to the reference. Needs the git history (a clone, not an
export) and builds the suites' indexes if missing.
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing

from qa.answering import reader as reader_module  # noqa: E402
from qa.config import Settings  # noqa: E402
from qa.engine import QAEngine  # noqa: E402
from qa.evaluation.dataset import load_questions  # noqa: E402
from qa.evaluation.suites import get_suite  # noqa: E402

#: Commits whose ``models/reader`` holds each earlier reader: the last before issue 19, and
#: the last with U8U8 weights.
EIGHT_BIT_COMMIT = "d3ed961"
U8U8_COMMIT = "da48b2c"
READER_FILES = ("model.onnx", "reader.json", "tokenizer.json")
#: Questions asked first, untimed, so imports and caches settle.
WARMUP = 5


class BatchedReader(reader_module.Reader):
    """The reader as it read before issue 19: all of a question's windows in one run."""

    def read(self, question, passages):
        self.load()
        question = self._clip_question(question)
        windows = []
        for p, text in enumerate(passages):
            if text.strip():
                encoding = self._tokenizer.encode(question, text)
                windows += [(p, e) for e in [encoding, *encoding.overflowing]]
        if not windows:
            return []
        width = max(len(e.ids) for _, e in windows)
        ids = np.zeros((len(windows), width), dtype=np.int64)
        types, mask = np.zeros_like(ids), np.zeros_like(ids)
        for row, (_, e) in enumerate(windows):
            n = len(e.ids)
            ids[row, :n], types[row, :n], mask[row, :n] = e.ids, e.type_ids, 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        starts, ends = self._session.run(None, {k: v for k, v in feeds.items() if k in self._input_names})
        spans = []
        for row, (p, e) in enumerate(windows):
            spans += reader_module._best_spans(p, e, starts[row], ends[row])
        spans.sort(key=lambda s: (-s.margin, s.passage, s.start, s.end))
        return spans


def reader_from_history(commit: str, into: Path) -> Path:
    into.mkdir(parents=True)
    for name in READER_FILES:
        data = subprocess.run(["git", "show", f"{commit}:models/reader/{name}"], cwd=ROOT, capture_output=True, check=True).stdout
        (into / name).write_bytes(data)
    return into


def measure(suite_name: str, readers: dict[str, tuple[Path, bool]], passes: int, seed: int = 19) -> None:
    suite = get_suite(suite_name)
    base = Settings.from_env()
    engines = {}
    for name, (directory, batched) in readers.items():
        settings = Settings(
            seeds_dir=suite.corpus_dir or base.seeds_dir, index_dir=suite.index_dir or base.index_dir, reader_dir=directory
        )
        engine = QAEngine.from_settings(settings).load(progress=False)
        if batched:
            engine._serving.answerer.reader.__class__ = BatchedReader
        engines[name] = engine
    questions = load_questions(suite=suite)
    for q in questions[:WARMUP]:
        for engine in engines.values():
            engine.ask(q.question, history=q.history)
    times: dict[str, list[float]] = {name: [] for name in engines}
    order = list(engines)
    rng = random.Random(seed)
    for _ in range(passes):
        for q in questions:
            rng.shuffle(order)
            for name in order:
                started = time.perf_counter()
                engines[name].ask(q.question, history=q.history)
                times[name].append(time.perf_counter() - started)
    reference = np.array(times[next(iter(readers))])
    print(f"\n{suite_name}: {len(questions)} questions x {passes} passes, warm ask()")
    print(f"{'reader':16s} {'p50 ms':>8s} {'p95 ms':>8s} {'mean ms':>8s}  per-question ratio to the reference (median)")
    for name, samples in times.items():
        p95 = statistics.quantiles(samples, n=20)[18]
        ratio = float(np.median(np.array(samples) / reference))
        print(f"{name:16s} {statistics.median(samples) * 1000:8.1f} {p95 * 1000:8.1f} {statistics.mean(samples) * 1000:8.1f}  {ratio:.3f}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--suite", action="append", choices=("seeds", "nyt"))
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        readers = {
            "8-bit batched": (reader_from_history(EIGHT_BIT_COMMIT, Path(tmp) / "eight"), True),
            "U8U8 alone": (reader_from_history(U8U8_COMMIT, Path(tmp) / "u8u8"), False),
            "7-bit alone": (ROOT / "models" / "reader", False),
        }
        for suite in args.suite or ["seeds", "nyt"]:
            measure(suite, readers, args.passes)


if __name__ == "__main__":
    main()
