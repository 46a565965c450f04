"""Index faults: every file of the index deleted, truncated or overwritten with random
bytes, a manifest from another model, builds that crash part way, articles edited,
added and removed. The next start must notice, rebuild, and answer correctly; a
half-written index is never loaded.

Nothing here knows the index's layout beyond ``manifest.json``, the ``build-*`` directories
and ``documents/``: the files to damage are found by walking the index directory, and
crashes are placed by watching the build's own writes (`DiskWatch`). The index is
the session's `small_corpus` (two short cuts of real articles), copied before each
test damages it, so a rebuild takes a few seconds.
"""

from __future__ import annotations

import json
import os
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
from reliability_support import (
    RECRUITED_QUESTION,
    RECRUITED_SOURCE,
    SECTORS_QUESTION,
    SECTORS_SOURCE,
    TARIFF_QUESTION,
    TARIFF_SOURCE,
    AnswerChecker,
    DiskWatch,
    answer_key,
    opening,
)

from qa.config import Settings
from qa.engine import QAEngine

MANIFEST = "manifest.json"
OTHER_MODEL = "sentence-transformers/all-mpnet-base-v2"


# ---------------------------------------------------------------- the index under test


@dataclass
class Pristine:
    seeds: Path
    index_dir: Path
    #: Writes (files opened for writing, directories made, renames) of one whole build.
    build_writes: int
    #: The answer to `RECRUITED_QUESTION` from the undamaged index.
    answer: str


def start(seeds: Path, index_dir: Path, embedder) -> QAEngine:
    """What ``qa chat`` does on start: load the index, rebuilding it if it must."""
    return QAEngine(Settings(seeds_dir=seeds, index_dir=index_dir), embedder=embedder).load(progress=False)


def index_files(index_dir: Path) -> list[Path]:
    """The manifest, every file of every build directory and every stored document."""
    folders = sorted(p for p in index_dir.iterdir() if p.is_dir() and p.name.startswith(("build-", "documents")))
    return [index_dir / MANIFEST] + [f for b in folders for f in sorted(b.rglob("*")) if f.is_file()]


def directories(index_dir: Path) -> list[str]:
    """Folders beside the stored documents' (the current build, and anything left behind)."""
    return sorted(p.name for p in index_dir.iterdir() if p.is_dir() and p.name != "documents")


@pytest.fixture(scope="module")
def pristine(small_corpus) -> Pristine:
    answer = small_corpus.engine.ask(RECRUITED_QUESTION)
    assert answer.short == "126"
    assert small_corpus.build_writes > 4
    return Pristine(small_corpus.seeds, small_corpus.index_dir, small_corpus.build_writes, answer_key(answer))


@pytest.fixture
def index_copy(tmp_path, pristine) -> Path:
    target = tmp_path / "index"
    shutil.copytree(pristine.index_dir, target)
    return target


def assert_answers_like_pristine(engine: QAEngine, pristine: Pristine) -> None:
    answer = AnswerChecker(pristine.seeds)(engine.ask(RECRUITED_QUESTION))
    assert answer.short == "126"
    assert answer_key(answer) == pristine.answer


# ---------------------------------------------------------------- damage


def delete(path: Path, rng: random.Random) -> None:
    path.unlink()


def truncate(path: Path, rng: random.Random) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def random_bytes(path: Path, rng: random.Random) -> None:
    """The whole file replaced by random bytes of the same length."""
    path.write_bytes(rng.randbytes(path.stat().st_size))


def flipped_bytes(path: Path, rng: random.Random) -> None:
    """Eight bytes in the middle of the file changed: a format check alone can miss it."""
    data = bytearray(path.read_bytes())
    if not data:
        data = bytearray(b"\0")
    at = rng.randrange(len(data) // 2, len(data))
    for i in range(at, min(at + 8, len(data))):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


DAMAGE = {"deleted": delete, "truncated": truncate, "random bytes": random_bytes, "flipped bytes": flipped_bytes}


class WouldRebuild(Exception):
    """The engine asked for the model: it is about to rebuild."""


class Tripwire:
    """Stands in for the embedding model: any use of it means the start decided to rebuild."""

    def __getattr__(self, name):
        raise WouldRebuild(name)


def test_every_damaged_index_file_is_detected_at_start(pristine, tmp_path, figures):
    """Each file of the index, each kind of damage: the next start either rebuilds (from the
    intact parts, or embedding again), or (a file nothing reads) loads an index that answers
    exactly as the undamaged one. Each fault is tried on a fresh copy of the index."""
    relative = [p.relative_to(pristine.index_dir) for p in index_files(pristine.index_dir)]
    assert len(relative) > 3, f"unexpected index layout: {relative}"
    outcomes = {"rebuild": [], "harmless": [], "served damaged": []}
    index_dir = tmp_path / "index"
    for rel in relative:
        for name, damage in DAMAGE.items():
            shutil.rmtree(index_dir, ignore_errors=True)
            shutil.copytree(pristine.index_dir, index_dir)
            damage(index_dir / rel, random.Random(f"{rel.name}/{name}"))
            fault = f"{name} {rel}"
            try:
                engine = start(pristine.seeds, index_dir, Tripwire())
            except WouldRebuild:  # the damage forced embedding again
                outcomes["rebuild"].append(fault)
                continue
            try:
                assert_answers_like_pristine(engine, pristine)
            except Exception as err:  # recorded with the fault, reported together below
                outcomes["served damaged"].append(f"{fault}: {type(err).__name__}: {err}"[:300])
                continue
            # Rebuilt from the intact parts (nothing embedded), or loaded as if undamaged.
            outcomes["rebuild" if engine.index_status != "loaded" else "harmless"].append(fault)
    figures.setdefault("index faults", {})["files x kinds of damage"] = (
        f"{len(relative)} x {len(DAMAGE)} = {len(relative) * len(DAMAGE)}: {len(outcomes['rebuild'])} detected, "
        f"{len(outcomes['harmless'])} harmless, {len(outcomes['served damaged'])} served damaged"
    )
    assert not outcomes["served damaged"], "\n".join(outcomes["served damaged"])
    assert not outcomes["harmless"], f"damage that no check notices: {outcomes['harmless']}"


def test_damaged_index_is_rebuilt_at_start_and_answers_correctly(pristine, index_copy, embedder, figures):
    """One build file deleted, one truncated, one overwritten with random bytes (drawn the same
    every run): the next start rebuilds, answers as before, and the next one just loads."""
    victims = random.Random(0).sample(index_files(index_copy)[1:], 3)
    for victim, name in zip(victims, ["deleted", "truncated", "random bytes"]):
        DAMAGE[name](victim, random.Random(name))

    engine = start(pristine.seeds, index_copy, embedder)
    assert engine.index_status.startswith("rebuilt (corrupt"), engine.index_status
    assert_answers_like_pristine(engine, pristine)
    assert len(directories(index_copy)) == 1, f"left behind: {directories(index_copy)}"
    assert start(pristine.seeds, index_copy, Tripwire()).index_status == "loaded"
    figures.setdefault("index faults", {})["rebuilt at start after damage to"] = ", ".join(
        f"{name}: {v.relative_to(index_copy)}" for v, name in zip(victims, ["deleted", "truncated", "random bytes"])
    )


def test_manifest_from_another_model_is_rebuilt_with_the_configured_model(pristine, index_copy, embedder):
    path = index_copy / MANIFEST
    manifest = json.loads(path.read_text(encoding="utf-8"))
    assert "model" in manifest, "the manifest names the model the index was built with"
    path.write_text(json.dumps({**manifest, "model": OTHER_MODEL, "dimension": 768}), encoding="utf-8")

    engine = start(pristine.seeds, index_copy, embedder)
    assert engine.index_status.startswith("rebuilt (model changed"), engine.index_status
    assert_answers_like_pristine(engine, pristine)
    assert json.loads(path.read_text(encoding="utf-8"))["model"] == Settings().model


# ---------------------------------------------------------------- crashes


class Crash(BaseException):
    """A simulated crash (power cut, kill -9) at one write of a build: no handler may catch it."""


def crash_image(seeds: Path, index_dir: Path, image: Path, embedder, should_crash) -> None:
    """Start an engine that crashes at the first write ``should_crash(n, event, path)`` accepts;
    ``image`` becomes the index directory as the crash left it (no clean-up ran)."""
    state = {"writes": 0, "crashed": False}

    def listener(event, path, writes):
        if state["crashed"] or not writes or not path.startswith(str(index_dir)):
            return
        state["writes"] += 1
        if should_crash(state["writes"], event, path):
            state["crashed"] = True
            if index_dir.exists():
                shutil.copytree(index_dir, image, symlinks=True)
            else:
                image.mkdir()
            raise Crash(f"simulated crash before {event} {path}")

    with DiskWatch.listening(listener), pytest.raises(Crash):
        start(seeds, index_dir, embedder)


CRASH_POINTS = {
    "halfway through its writes": lambda n, event, path, total: n == total // 2,
    "just before the manifest is replaced": lambda n, event, path, total: (
        event == "os.rename" and os.path.basename(path) == MANIFEST
    ),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
def test_rebuild_crashing_after_an_edit_is_redone_with_the_new_text(pristine, index_copy, tmp_path, embedder, point, figures):
    """An article is edited; the rebuild that follows crashes. The disk then holds the old,
    stale index (still committed) and a half-written or complete but uncommitted new build:
    the next start must use neither, and answer from the edited text. (A first build that
    crashes leaves no manifest at all: `manifest.json` deleted, in the test above.)"""
    seeds = tmp_path / "seeds"
    shutil.copytree(pristine.seeds, seeds)
    article = seeds / RECRUITED_SOURCE
    article.write_text(article.read_text(encoding="utf-8").replace("126 Indians", "127 Indians"), encoding="utf-8")
    image = tmp_path / "after-crash"
    crash = CRASH_POINTS[point]
    crash_image(seeds, index_copy, image, embedder, lambda n, e, p: crash(n, e, p, pristine.build_writes))

    engine = start(seeds, image, embedder)
    assert engine.index_status.startswith("rebuilt (corpus_hash changed"), engine.index_status
    answer = AnswerChecker(seeds)(engine.ask(RECRUITED_QUESTION))
    assert answer.short == "127", "the stale index, or the half-written one, answered"
    assert len(directories(image)) == 1, f"left behind: {directories(image)}"
    figures.setdefault("index faults", {})[f"rebuild crashed {point}"] = "redone, answers the edited text"


# ---------------------------------------------------------------- articles changed


def test_removed_and_added_articles_are_picked_up_on_the_next_start(pristine, index_copy, tmp_path, embedder):
    """(An edited article is the crash test's corpus change above.)"""
    seeds = tmp_path / "seeds"
    shutil.copytree(pristine.seeds, seeds)
    (seeds / TARIFF_SOURCE).unlink()
    (seeds / SECTORS_SOURCE).write_text(opening(SECTORS_SOURCE, 3, "\n"), encoding="utf-8")

    engine = start(seeds, index_copy, embedder)
    assert engine.index_status.startswith("rebuilt (corpus_hash changed")
    assert [a.source for a in engine.articles] == [RECRUITED_SOURCE, SECTORS_SOURCE]
    added = AnswerChecker(seeds)(engine.ask(SECTORS_QUESTION))
    assert added.short.startswith("agriculture, pharmaceuticals")
    assert [c.source for c in added.citations] == [SECTORS_SOURCE]
    removed = engine.ask(TARIFF_QUESTION)
    assert removed.short != "50 per cent"
    assert all(c.source != TARIFF_SOURCE for c in removed.citations + removed.related + removed.passages)
