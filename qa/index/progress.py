"""How a build shows its progress: a terminal bar (tqdm) with a rate and an estimate, and
the same figures as `EmbeddingProgress` events for a caller's ``report`` (the chat's "Add
documents" shows them with ``gr.Progress``).

>>> str(EmbeddingProgress(done=120, total=328, rate=95.0))
'Embedding passages: 120/328 (95 a second, about 2 s left)'
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

#: Reports to a caller's ``report`` are at most this often (the chat polls every 0.25 s).
REPORT_EVERY_SECONDS = 0.5


@dataclass(frozen=True)
class EmbeddingProgress:
    """How far the embedding of a build's new passages is."""

    done: int
    total: int
    #: Units a second so far (0 before the first batch is done).
    rate: float
    #: What is counted: passages here, documents on a cluster.
    unit: str = "passages"

    @property
    def seconds_left(self) -> float | None:
        return (self.total - self.done) / self.rate if self.rate > 0 else None

    def __str__(self) -> str:
        line = f"Embedding {self.unit}: {self.done}/{self.total}"
        if self.seconds_left is None:
            return line
        return f"{line} ({self.rate:.0f} a second, about {_duration(self.seconds_left)} left)"


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
        self, total: int, show: bool, report: Callable[[object], None] | None = None, unit: str = "passages"
    ) -> None:
        self.total, self.show, self.report, self.unit = total, show, report, unit
        self.done = 0
        self._bar = None
        self._started = self._reported = 0.0

    def __enter__(self) -> "ProgressBar":
        from tqdm import tqdm

        self._bar = tqdm(total=self.total, desc=f"Embedding {self.unit}", unit=self.unit.rstrip("s"),
                         disable=not self.show)
        self._started = time.perf_counter()
        if self.report is not None:
            self.report(EmbeddingProgress(0, self.total, 0.0, self.unit))
        return self

    def update(self, n: int) -> None:
        self.done += n
        self._bar.update(n)
        now = time.perf_counter()
        if self.report is not None and (now - self._reported >= REPORT_EVERY_SECONDS or self.done == self.total):
            self._reported = now
            rate = self.done / max(now - self._started, 1e-9)
            self.report(EmbeddingProgress(self.done, self.total, rate, self.unit))

    def __exit__(self, *exc) -> None:
        self._bar.close()
