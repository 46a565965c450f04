"""How a build shows its progress: a terminal bar (tqdm) with a rate and an estimate, and
the same figures as `EmbeddingProgress` events for a caller's ``report`` (the chat's "Add
documents" shows them with ``gr.Progress``). The embedding of passages reports so, and so
does the OCR of a scanned document's pages (`task` says which).

>>> str(EmbeddingProgress(done=120, total=328, rate=95.0))
'Embedding passages: 120/328 (95 a second, about 2 s left)'
>>> str(EmbeddingProgress(done=1, total=3, rate=0.25, unit="pages", task="OCR of scan.pdf,"))
'OCR of scan.pdf, pages: 1/3 (4.0 s a page, about 8 s left)'
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

#: Reports to a caller's ``report`` are at most this often (the chat polls every 0.25 s).
REPORT_EVERY_SECONDS = 0.5
#: Below this many units a second, progress shows the seconds each takes instead of a rate.
SLOW_RATE = 10


@dataclass(frozen=True)
class EmbeddingProgress:
    """How far the embedding of a build's new passages is (or another step's, `task`)."""

    done: int
    total: int
    #: Units a second so far (0 before the first batch is done).
    rate: float
    #: What is counted: passages here, documents on a cluster, pages for OCR.
    unit: str = "passages"
    #: What is being done, as the line starts.
    task: str = "Embedding"

    @property
    def seconds_left(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None

    def __str__(self) -> str:
        line = f"{self.task} {self.unit}: {self.done}/{self.total}"
        if self.seconds_left is None:
            return line
        # Under ten a second (OCR reads a page in seconds) the time each takes reads better than
        # a rounded rate ("1 a second" for anything from 0.5 to 1.5).
        rate = f"{self.rate:.0f} a second" if self.rate >= SLOW_RATE else f"{1 / self.rate:.1f} s a {self.unit.rstrip('s')}"
        return f"{line} ({rate}, about {_duration(self.seconds_left)} left)"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


class ProgressBar:
    """Counts embedded passages into a tqdm bar (when ``show``) and ``report`` (when given).

    >>> with ProgressBar(10, show=False, report=print) as bar:   # doctest: +SKIP
    ...     bar.update(10)
    """

    def __init__(
        self, total: int, show: bool, report: Callable[[object], None] | None = None, unit: str = "passages",
        task: str = "Embedding",
    ) -> None:
        self.total, self.show, self.report, self.unit, self.task = total, show, report, unit, task
        self.done = 0
        self._bar = None
        self._started = self._reported = 0.0

    def __enter__(self) -> "ProgressBar":
        from tqdm import tqdm

        self._bar = tqdm(total=self.total, desc=f"{self.task} {self.unit}", unit=self.unit.rstrip("s"),
                         disable=not self.show)
        self._started = time.perf_counter()
        if self.report is not None:
            self.report(EmbeddingProgress(0, self.total, 0.0, self.unit, self.task))
        return self

    def update(self, n: int) -> None:
        self.done += n
        self._bar.update(n)
        now = time.perf_counter()
        if self.report is not None and (now - self._reported >= REPORT_EVERY_SECONDS or self.done == self.total):
            self._reported = now
            rate = self.done / max(now - self._started, 1e-9)
            self.report(EmbeddingProgress(self.done, self.total, rate, self.unit, self.task))

    def __exit__(self, *exc) -> None:
        self._bar.close()


class PageProgress:
    """The OCR of one document's pages as a `ProgressBar` (unit "pages"), opened when the
    reader first says how many pages it reads: ``on_page(done, total)`` is what
    `qa.corpus.ocr.Tesseract` calls. Nothing is shown for a document that needs no OCR."""

    def __init__(self, source: str, show: bool, report: Callable[[object], None] | None = None) -> None:
        self.source, self.show, self.report = source, show, report
        self._bar: ProgressBar | None = None

    def on_page(self, done: int, total: int) -> None:
        if self._bar is None:
            self._bar = ProgressBar(total, self.show, self.report, unit="pages", task=f"OCR of {self.source},").__enter__()
        if done > self._bar.done:
            self._bar.update(done - self._bar.done)

    def __enter__(self) -> "PageProgress":
        return self

    def __exit__(self, *exc) -> None:
        if self._bar is not None:
            self._bar.__exit__(*exc)
