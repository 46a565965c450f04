"""Shared fixtures: one real engine (packaged model, real corpus) per test session.

The index is built into a temporary directory so tests never depend on, or
disturb, the developer's ``index/``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from qa.config import Settings

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(seeds_dir=SEEDS_DIR, index_dir=tmp_path_factory.mktemp("index"))


@pytest.fixture(scope="session")
def engine(settings):
    from qa.engine import QAEngine

    return QAEngine.from_settings(settings).load()


@pytest.fixture(scope="session")
def source_text():
    """``source_text(name)`` -> the article's text exactly as citations index it."""
    cache: dict[str, str] = {}

    def read(name: str) -> str:
        if name not in cache:
            cache[name] = (SEEDS_DIR / name).read_text(encoding="utf-8")
        return cache[name]

    return read
