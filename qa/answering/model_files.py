"""The files of a model shipped under ``models/<name>/``: its JSON manifest (format,
settings, sha256 of every file) read and checked before anything is loaded, so that a
missing or damaged file is refused with a message naming it and how to restore it."""

from __future__ import annotations

import hashlib
import json
import threading
from pathlib import Path

from qa.errors import ModelError


class ShippedModel:
    """A model under ``models/<name>/`` run on onnxruntime. Cheap to construct; `load` reads
    and checks its files once (threads asking at once wait for the one load)."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.config: dict = {}
        self._session = None
        self._tokenizer = None
        #: A second copy of the tokenizer that counts and clips single texts.
        self._words = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self):
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._load()
        return self

    def _load(self) -> None:
        raise NotImplementedError

    def _clip_question(self, question: str) -> str:
        """At most ``max_question_tokens`` word pieces of ``question`` (as in training), so
        that the second segment keeps room."""
        limit = int(self.config.get("max_question_tokens", 64))
        ids = self._words.encode(question, add_special_tokens=False)
        if len(ids.ids) <= limit:
            return question
        return question[: ids.offsets[limit - 1][1]]


def read_manifest(directory: Path, name: str, fmt: int, error: type[ModelError]) -> dict:
    """``directory/name`` parsed, of format ``fmt``, with every file it lists matching its
    sha256; ``error`` (a `ModelError`) otherwise."""
    path = directory / name
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"no model at {directory}: {name} is missing") from None
    except (OSError, ValueError) as err:
        raise error(f"{path} cannot be read ({err}); restore it from the repository") from None
    if not isinstance(manifest, dict) or manifest.get("format") != fmt:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise error(f"{path} has format {found!r}; this code reads {fmt}")
    for file, expected in manifest.get("sha256", {}).items():
        verify_checksum(directory / file, expected, error)
    return manifest


def verify_checksum(path: Path, expected: str, error: type[ModelError] = ModelError) -> None:
    """Raise ``error`` unless ``path`` exists and its sha256 is ``expected``."""
    try:
        digest = sha256_of(path)
    except FileNotFoundError:
        raise error(f"{path} is missing; restore it from the repository (git checkout -- {path})") from None
    if digest != expected:
        raise error(
            f"{path} is damaged: sha256 {digest[:12]}... is not the shipped {expected[:12]}...; "
            f"restore it from the repository (git checkout -- {path})"
        )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
