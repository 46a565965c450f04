"""Question answering with exact citations over a small news corpus.

>>> from qa import ask
>>> a = ask("How many Indians were recruited?")   # doctest: +SKIP
>>> a.short, a.citations[0].source                 # doctest: +SKIP
('126', '002_626d0c358e0fb90a.txt')

`ask` shares one engine (configured from ``QA_*`` environment variables)
across calls; build a `QAEngine` for a configuration of your own. Heavy
libraries load on the first question, not on import.
"""

from __future__ import annotations

import threading

from qa.config import Settings
from qa.engine import QAEngine
from qa.errors import (
    BadQuestion,
    BadScope,
    CorpusError,
    IndexCorrupt,
    IndexMissing,
    ModelError,
    QAError,
)
from qa.results import Answer, Citation

__all__ = [
    "Answer",
    "BadQuestion",
    "BadScope",
    "Citation",
    "CorpusError",
    "IndexCorrupt",
    "IndexMissing",
    "ModelError",
    "QAEngine",
    "QAError",
    "Settings",
    "ask",
    "default_engine",
]

_default: QAEngine | None = None
_default_lock = threading.Lock()


def default_engine() -> QAEngine:
    """The engine `ask` uses, created on first use and loaded once."""
    return _default_engine().load()


def _default_engine() -> QAEngine:
    global _default
    with _default_lock:
        if _default is None:
            _default = QAEngine.from_settings()
    return _default


def ask(question: str, history=None, *, sources=None, since=None, until=None) -> Answer:
    """Answer ``question`` from the articles, with citations; see `Answer`.

    ``history`` (optional) holds earlier turns, as ``[{"role": "user", "content": ...}, ...]``,
    ``(user, assistant)`` pairs or earlier questions as strings.
    ``sources`` (document names, as citations give them), ``since`` and ``until``
    (``"YYYY-MM-DD"`` or dates, inclusive, on the documents' own dates) scope the question:
    only those documents are searched.
    Raises `BadQuestion` (a ValueError) when the question is empty or too long, `BadScope`
    (a ValueError) for an unknown document, a bad date or a scope that leaves no document.
    """
    # checks the question before loading
    return _default_engine().ask(question, history=history, sources=sources, since=since, until=until)
