"""Shared fixtures: one real engine (packaged model, real corpus) per test session.

The index is built into a temporary directory so tests never depend on, or
disturb, the developer's ``index/``.
"""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest
from postgres_server import postgres_server  # noqa: F401  (a session fixture: one server for every test)

from qa.config import Settings

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
#: The reader the session engine uses: ``QA_READER_DIR`` (e.g. a checkpoint being tried), else the shipped one.
READER_DIR = Path(os.environ.get("QA_READER_DIR") or Settings().reader_dir)


@pytest.fixture(scope="session")
def settings(tmp_path_factory) -> Settings:
    return Settings(seeds_dir=SEEDS_DIR, index_dir=tmp_path_factory.mktemp("index"), reader_dir=READER_DIR)


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def free_port() -> int:
    """A loopback port nothing listens on right now."""
    return _free_port()


@pytest.fixture(scope="module")
def serve_app():
    """``serve_app(engine, **launch_kw)`` -> the URL of the real app serving ``engine`` on a
    free loopback port (``qa.app.launch``'s defaults otherwise); started once per engine and
    options, closed after the module."""
    from qa.app import launch

    running: dict[tuple, tuple[object, str]] = {}

    def serve(engine, **kw) -> str:
        key = (id(engine), tuple(sorted(kw.items())))
        if key not in running:  # one server per engine and options: a launch takes seconds
            port = _free_port()
            demo = launch(engine, port=port, prevent_thread_lock=True, quiet=True, **kw)
            running[key] = (demo, f"http://127.0.0.1:{port}/")
        return running[key][1]

    yield serve
    for demo, _url in running.values():
        demo.close()
