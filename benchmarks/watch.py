"""How soon a watched folder answers from a file copied into it (``qa chat --watch``), and
forgets a removed one: from the end of the copy (or removal) to the first answer that cites
it (or the first whose passages no longer hold it), against the engine's own incremental
refresh of the same change called directly (the reference, measured in the same run).

    python benchmarks/watch.py [--repeats 5]

The difference is what watching costs: noticing the change, the quiet period that groups a
burst (`qa.watch.QUIET_MS`) and the wait for the file to stop changing (`STABLE_S`).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from qa.config import Settings
from qa.engine import QAEngine
from qa.watch import FolderWatcher

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ARTICLE = (
    " date 2026-11-02 The Vellamar observatory in the Atacama desert recorded {n},317 meteors during "
    "this year's Leonid shower, its director Ana Quispe said on Monday. Clear skies on four nights in "
    "a row made the count the highest since the observatory opened in 1998.\n"
)
QUESTION = "How many meteors did the Vellamar observatory record?"
POLL_S = 0.02


def _until(condition) -> float:
    started = time.perf_counter()
    while not condition():
        time.sleep(POLL_S)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="qa-watch-bench-"))
    corpus = work / "corpus"
    shutil.copytree(SEEDS, corpus)
    engine = QAEngine.from_settings(Settings(seeds_dir=corpus, index_dir=work / "index")).load(progress=False)
    engine.embedder
    draft = work / "article.txt"
    cites = lambda: any(c.source == "article.txt" for c in engine.ask(QUESTION).citations)  # noqa: E731
    gone = lambda: all(p.source != "article.txt" for p in engine.ask(QUESTION).passages)  # noqa: E731
    direct_add, direct_remove, watched_add, watched_remove = [], [], [], []
    for n in range(args.repeats):  # the reference: the same change, refreshed by hand
        draft.write_text(ARTICLE.format(n=n), encoding="utf-8")
        shutil.copy(draft, corpus / "article.txt")
        started = time.perf_counter()
        engine.refresh()
        assert cites()
        direct_add.append(time.perf_counter() - started)
        (corpus / "article.txt").unlink()
        started = time.perf_counter()
        engine.refresh()
        assert gone()
        direct_remove.append(time.perf_counter() - started)
    watcher = FolderWatcher(corpus, lambda changed: engine.refresh()).start()
    time.sleep(0.5)
    try:
        for n in range(args.repeats):
            draft.write_text(ARTICLE.format(n=n + 10), encoding="utf-8")
            shutil.copy(draft, corpus / "article.txt")
            watched_add.append(_until(cites))
            (corpus / "article.txt").unlink()
            watched_remove.append(_until(gone))
    finally:
        watcher.stop()
        shutil.rmtree(work, ignore_errors=True)
    med = statistics.median
    print(f"one-page article, median of {args.repeats} (seconds; target 5):")
    print(f"  copied -> answered from it:  watched {med(watched_add):.2f} (max {max(watched_add):.2f}); "
          f"refresh called directly {med(direct_add):.2f}")
    print(f"  removed -> out of the index: watched {med(watched_remove):.2f} (max {max(watched_remove):.2f}); "
          f"refresh called directly {med(direct_remove):.2f}")


if __name__ == "__main__":
    main()
