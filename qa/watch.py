"""A watched corpus folder: files added, changed or removed there are indexed without a
restart (``qa chat --watch``, ``qa index --watch``).

`FolderWatcher` waits for changes with the ``watchfiles`` package (inotify on Linux),
groups a burst of them into one batch, waits until the changed files stop growing (a
file still being copied is not read half-written), then calls its ``on_change`` once:
the engine's incremental `qa.engine.QAEngine.refresh` (only new and changed documents
are read and embedded), which keeps answering from the previous index meanwhile.

>>> watcher = FolderWatcher(Path("seeds"), lambda changed: engine.refresh()).start()  # doctest: +SKIP
>>> watcher.stop()                                                                     # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

from qa.errors import QAError

log = logging.getLogger(__name__)

#: A batch closes once no change arrived for this long: a burst of copies (files written
#: milliseconds apart) becomes one rebuild.
QUIET_MS = 300
#: ... or once it has been open this long, so a folder that never rests is still indexed.
MAX_BATCH_MS = 3_000
#: A changed file is read once its size and modification time held still this long: a
#: copy in progress writes every few milliseconds, so it is not read half-written.
STABLE_S = 0.4
#: A file still changing after this long is indexed as it is (the next change indexes it again).
STABLE_MAX_WAIT_S = 60.0
#: How often the watch wakes while nothing changes; its first wake says it is watching (`ready`).
IDLE_WAKE_MS = 250
#: How long `start` waits for the watch to be in place before returning anyway.
READY_TIMEOUT_S = 30.0


class FolderWatcher:
    """Calls ``on_change(paths)`` (the changed paths, relative to ``folder``) once per burst of
    changes to the documents under ``folder``; hidden files and folders (``.removed/``
    included) and the ``ignore`` folders (an index kept inside the corpus) do not count.
    ``wanted(name)`` says which file names are documents (default: any)."""

    def __init__(
        self,
        folder: Path,
        on_change: Callable[[list[str]], object],
        *,
        ignore: Iterable[Path] = (),
        wanted: Callable[[str], bool] | None = None,
        quiet_ms: int = QUIET_MS,
        max_batch_ms: int = MAX_BATCH_MS,
        stable_s: float = STABLE_S,
    ) -> None:
        self.folder = Path(folder).resolve()
        self._on_change = on_change
        self._ignore = [Path(p).resolve() for p in ignore]
        self._wanted = wanted or (lambda name: True)
        self._quiet_ms, self._max_batch_ms, self._stable_s = quiet_ms, max_batch_ms, stable_s
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        #: Batches handled so far (each one call of ``on_change``).
        self.batches = 0
        #: Set once the operating system's watch is in place: a change from then on is seen.
        self.ready = threading.Event()

    def start(self, wait: bool = True) -> "FolderWatcher":
        """Watch in a background thread; returns once the watch is in place (`ready`), or at once
        when not ``wait``."""
        self._thread = threading.Thread(target=self.run, name="qa-watch", daemon=True)
        self._thread.start()
        if wait:
            self.ready.wait(READY_TIMEOUT_S)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run(self, on_ready: Callable[[], object] | None = None) -> None:
        """Watch until `stop` (or Ctrl+C in the calling thread); ``on_ready()`` once the watch is
        in place. A change made after `run` began but before the watch was in place (the
        operating system's watch takes a moment to set up, longer on a busy machine) is
        found by comparing the folder's listing then and now, and handled as a batch."""
        import watchfiles

        before = self._listing()
        for changes in watchfiles.watch(
            self.folder, watch_filter=self._counts, debounce=self._max_batch_ms, step=self._quiet_ms,
            stop_event=self._stop, raise_interrupt=False, rust_timeout=IDLE_WAKE_MS, yield_on_timeout=True,
        ):
            paths = sorted({path for _change, path in changes})
            if not self.ready.is_set():  # the first wake: the watch is in place
                after = self._listing()
                missed = {path for path in before.keys() | after.keys() if before.get(path) != after.get(path)}
                paths = sorted(missed.union(paths))
                self.ready.set()
                if on_ready is not None:
                    on_ready()
            if not paths:
                continue
            self._wait_until_stable(paths)
            if self._stop.is_set():
                return
            self.batches += 1
            relative = [Path(p).relative_to(self.folder).as_posix() for p in paths]
            try:
                self._on_change(relative)
            except QAError as err:  # the folder stays watched; the message says what to fix
                log.warning("Indexing after a change in %s failed: %s", self.folder, err)
            except Exception:
                log.exception("Indexing after a change in %s failed", self.folder)

    def _counts(self, _change, path: str) -> bool:
        target = Path(path)
        try:
            relative = target.relative_to(self.folder)
        except ValueError:
            return False
        if any(part.startswith(".") for part in relative.parts):
            return False
        if any(target == folder or folder in target.parents for folder in self._ignore):
            return False
        return self._wanted(target.name)

    def _listing(self) -> dict[str, tuple[int, int]]:
        """Size and modification time of every document under the folder that counts."""
        found = {}
        for root, folders, files in os.walk(self.folder):
            folders[:] = [f for f in folders if not f.startswith(".")]
            for name in files:
                path = os.path.join(root, name)
                if self._counts(None, path):
                    try:
                        stat = os.stat(path)
                    except OSError:  # removed meanwhile
                        continue
                    found[path] = (stat.st_size, stat.st_mtime_ns)
        return found

    def _wait_until_stable(self, paths: list[str]) -> None:
        """Until every path still there kept its size and modification time for `STABLE_S`."""
        deadline = time.monotonic() + STABLE_MAX_WAIT_S
        before = _stats(paths)
        while not self._stop.wait(self._stable_s):
            now = _stats(paths)
            if now == before or time.monotonic() > deadline:
                return
            before = now


def _stats(paths: list[str]) -> list[tuple[int, int] | None]:
    out = []
    for path in paths:
        try:
            stat = os.stat(path)
            out.append((stat.st_size, stat.st_mtime_ns))
        except OSError:  # removed (or not there yet): nothing to wait for
            out.append(None)
    return out
