"""Fixtures of the reliability tests, and the figures they report.

The figures (inputs fuzzed, faults injected, load and latencies) are printed
at the end of the run and written to ``tests/artifacts/reliability.json``.
"""

from __future__ import annotations

import json
import logging
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from reliability_support import (
    ARTIFACTS,
    HANG_SECONDS,
    AnswerChecker,
    DiskWatch,
    write_hostile_corpus,
    write_small_corpus,
)

from qa.config import Settings
from qa.engine import QAEngine

_FIGURES: dict[str, dict] = {}


@pytest.fixture(scope="session")
def figures() -> dict[str, dict]:
    """``figures[section][name] = value``, reported at the end of the run."""
    return _FIGURES


def pytest_terminal_summary(terminalreporter):
    if not _FIGURES:
        return
    terminalreporter.section("reliability figures")
    for section, values in _FIGURES.items():
        terminalreporter.write_line(f"{section}:")
        for name, value in values.items():
            terminalreporter.write_line(f"  {name}: {value}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "reliability.json").write_text(json.dumps(_FIGURES, indent=2) + "\n", encoding="utf-8")


@pytest.fixture(scope="session")
def check_answer(settings) -> AnswerChecker:
    """``check_answer(answer)`` for the session engine's answers (the real seeds)."""
    return AnswerChecker(settings.seeds_dir)


@pytest.fixture(scope="session")
def bounded():
    """``bounded(fn, *args, **kw)``: ``fn``'s result; the test fails if it runs over `HANG_SECONDS`."""
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bounded-call")

    def call(fn, *args, **kw):
        future = pool.submit(fn, *args, **kw)
        try:
            return future.result(timeout=HANG_SECONDS)
        except FutureTimeout:
            pytest.fail(f"{getattr(fn, '__name__', fn)} hung (over {HANG_SECONDS} s) on {args!r:.300}")

    yield call
    pool.shutdown(wait=False, cancel_futures=True)


@pytest.fixture(scope="session")
def embedder(engine):
    """The session engine's model, shared by engines built on other corpora."""
    return engine.embedder


@dataclass
class BuiltCorpus:
    """An engine built on a corpus of its own, and what its build did."""

    seeds: Path
    index_dir: Path
    engine: QAEngine
    #: Writes (files opened for writing, directories made, renames) the build made in ``index_dir``.
    build_writes: int = 0
    #: Warnings logged while the corpus was read.
    warnings: list[str] = field(default_factory=list)


def build_corpus(seeds: Path, index_dir: Path, embedder) -> BuiltCorpus:
    writes, warnings = [], []

    def count(event, path, is_write):
        if is_write and path.startswith(str(index_dir)):
            writes.append(path)

    class Collect(logging.Handler):
        def emit(self, record):
            warnings.append(record.getMessage())

    handler = Collect(logging.WARNING)
    logging.getLogger("qa").addHandler(handler)
    try:
        with DiskWatch.listening(count):
            engine = QAEngine(Settings(seeds_dir=seeds, index_dir=index_dir), embedder=embedder).load(progress=False)
    finally:
        logging.getLogger("qa").removeHandler(handler)
    assert engine.index_status == "built (no index yet)"
    return BuiltCorpus(seeds, index_dir, engine, len(writes), warnings)


@pytest.fixture(scope="session")
def small_corpus(tmp_path_factory, embedder) -> BuiltCorpus:
    """Two short cuts of real articles (`SMALL_CORPUS`), indexed: the undamaged index of the
    index-fault tests, and the clean twin of `hostile_corpus`."""
    root = tmp_path_factory.mktemp("small")
    return build_corpus(write_small_corpus(root / "seeds"), root / "index", embedder)


@pytest.fixture(scope="session")
def hostile_corpus(tmp_path_factory, embedder) -> BuiltCorpus:
    """`SMALL_CORPUS` plus an article full of instructions and markup, and four files that
    are not articles (empty, Latin-1, binary, 2 MB), indexed."""
    root = tmp_path_factory.mktemp("hostile")
    return build_corpus(write_hostile_corpus(root / "seeds"), root / "index", embedder)
