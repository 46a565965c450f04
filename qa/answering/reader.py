"""The extractive reader: finds the span of a passage that answers a question, or says
that the passage holds none.

A fine-tuned all-MiniLM-L6-v2 (``models/reader/``, made by ``training/``) runs on
onnxruntime with the ``tokenizers`` library: no torch at question time. It reads
``[CLS] question [SEP] passage [SEP]`` windows and scores every span by its start and
end logits; the ``[CLS]`` position's score is the window's no-answer score.

The same window gets the same scores on every machine, as far as float arithmetic allows:
- its int8 weights lie within +-63 (`training.exact_integers`), so onnxruntime's U8S8 kernels,
  which add pairs of products in 16 bits on AVX2 processors without VNNI, cannot saturate: with
  full 8-bit weights they did, and moved logits by up to 2.1 there;
- each window is run alone (`Reader._run`): the model quantises its activations with one
  scale per tensor, so a window read in a batch would be scored by its neighbours' (and the
  padding's) range too.

>>> reader = Reader.from_directory(Path("models/reader")).load()          # doctest: +SKIP
>>> spans = reader.read("Who won?", ["Smith won the race on Sunday."])  # doctest: +SKIP
>>> spans[0].start, spans[0].end                                         # doctest: +SKIP
(0, 5)
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.errors import ConfigError, ModelError
from qa.onnx_session import open_session
from qa.topk import top_indices

#: Files of a shipped reader.
MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "reader.json"
#: The reader.json format this code reads.
FORMAT = 1
#: Longest answer, in word pieces: SQuAD's answers are short, and a longer span is a sentence,
#: which the citation already shows.
MAX_ANSWER_TOKENS = 30
#: Spans kept per window (best first), for answers that other passages confirm or contradict.
SPANS_PER_WINDOW = 3


class ReaderError(ModelError):
    """The reader's files are missing, damaged or of another format."""


@dataclass(frozen=True)
class Span:
    """A candidate answer: characters ``start:end`` of passage ``passage``.

    ``score`` is the span's start + end logit; ``null_score`` the no-answer score of the window
    it was read in. ``margin`` (score - null_score) is what abstention is calibrated on.
    """

    passage: int
    start: int
    end: int
    score: float
    null_score: float

    @property
    def margin(self) -> float:
        return self.score - self.null_score


class Reader:
    """Runs a shipped reader. Cheap to construct; `load` reads and checks the files."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.config: dict = {}
        self._session = None
        self._tokenizer = None
        self._words = None
        self._lock = threading.Lock()

    @classmethod
    def from_directory(cls, directory: Path) -> "Reader":
        return cls(directory)

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def load(self) -> "Reader":
        if self._session is None:
            with self._lock:
                if self._session is None:
                    self._load()
        return self

    def _load(self) -> None:
        from tokenizers import Tokenizer

        config_path = self.directory / CONFIG_FILE
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ReaderError(f"no reader at {self.directory}: {CONFIG_FILE} is missing") from None
        except (OSError, ValueError) as err:
            raise ReaderError(f"{config_path} cannot be read ({err}); restore it from the repository") from None
        if config.get("format") != FORMAT:
            raise ReaderError(f"{config_path} has format {config.get('format')!r}; this code reads {FORMAT}")
        for name, expected in config.get("sha256", {}).items():
            verify_checksum(self.directory / name, expected)
        try:
            tokenizer = Tokenizer.from_file(str(self.directory / TOKENIZER_FILE))
            tokenizer.no_padding()
            # A second copy counts and clips single texts: the first truncates pairs only.
            words = Tokenizer.from_file(str(self.directory / TOKENIZER_FILE))
            words.no_padding()
            words.no_truncation()
            tokenizer.enable_truncation(
                max_length=int(config["max_tokens"]), stride=int(config["stride"]), strategy="only_second"
            )
            session = open_session(self.directory / MODEL_FILE)
        except ConfigError:
            raise  # a setting to fix, not a damaged file
        except Exception as err:  # onnxruntime and tokenizers raise their own types
            raise ReaderError(f"the reader in {self.directory} cannot be loaded ({type(err).__name__}: {err})") from err
        self.config = config
        self._input_names = [i.name for i in session.get_inputs()]
        self._tokenizer = tokenizer
        self._words = words
        self._session = session

    @property
    def max_question_tokens(self) -> int:
        return int(self.config.get("max_question_tokens", 64))

    def count_tokens(self, text: str) -> int:
        """Word pieces of ``text`` (for budgeting what to read)."""
        self.load()
        return len(self._words.encode(text, add_special_tokens=False).ids)

    def read(self, question: str, passages: Sequence[str]) -> list[Span]:
        """Candidate spans over all ``passages``, best ``margin`` first (ties: passage, offset).

        Every window contributes its best spans, so each passage has at least one candidate
        unless it is empty. Offsets are characters of the passage text. A passage's spans do not
        depend on the other passages read with it.
        """
        self.load()
        question = self._clip_question(question)
        windows = []  # (passage index, encoding)
        for p, text in enumerate(passages):
            if not text.strip():
                continue
            enc = self._tokenizer.encode(question, text)
            for e in [enc, *enc.overflowing]:
                windows.append((p, e))
        spans = []
        for p, e in windows:
            starts, ends = self._run(e)
            spans += _best_spans(p, e, starts, ends)
        spans.sort(key=lambda s: (-s.margin, s.passage, s.start, s.end))
        return spans

    def _run(self, encoding) -> tuple[np.ndarray, np.ndarray]:
        """Start and end logits of one window, run alone: dynamic quantisation scales a run's
        activations by their range over the whole batch (padding included), so a window read in a
        batch would be scored by what it was read with."""
        ids = np.asarray([encoding.ids], dtype=np.int64)
        feeds = {
            "input_ids": ids,
            "attention_mask": np.ones_like(ids),
            "token_type_ids": np.asarray([encoding.type_ids], dtype=np.int64),
        }
        starts, ends = self._session.run(None, {k: v for k, v in feeds.items() if k in self._input_names})
        return starts[0], ends[0]

    def _clip_question(self, question: str) -> str:
        ids = self._words.encode(question, add_special_tokens=False)
        if len(ids.ids) <= self.max_question_tokens:
            return question
        return question[: ids.offsets[self.max_question_tokens - 1][1]]


def _best_spans(passage: int, encoding, start_logits: np.ndarray, end_logits: np.ndarray) -> list[Span]:
    context = np.array([s == 1 for s in encoding.sequence_ids], dtype=bool)
    n = len(encoding.ids)
    if not context.any():
        return []
    start, end = start_logits[:n], end_logits[:n]
    scores = start[:, None] + end[None, :]
    i, j = np.indices(scores.shape)
    valid = context[:, None] & context[None, :] & (j >= i) & (j - i < MAX_ANSWER_TOKENS)
    scores = np.where(valid, scores, -np.inf)
    null = float(start[0] + end[0])
    flat = scores.ravel()
    # Only the best few dozen spans can be among the kept ones.
    best = top_indices(flat, SPANS_PER_WINDOW * 8)
    offsets = encoding.offsets
    out: list[Span] = []
    for k in best:
        s, t = divmod(int(k), n)
        if not np.isfinite(scores[s, t]):
            break
        span = Span(passage, offsets[s][0], offsets[t][1], float(scores[s, t]), null)
        if any(o.start < span.end and span.start < o.end for o in out):
            continue  # an overlapping, lower-scored reading of the same words
        out.append(span)
        if len(out) == SPANS_PER_WINDOW:
            break
    return out


def verify_checksum(path: Path, expected: str) -> None:
    """Raise `ReaderError` unless ``path`` exists and its sha256 is ``expected``."""
    try:
        digest = sha256_of(path)
    except FileNotFoundError:
        raise ReaderError(f"{path} is missing; restore it from the repository (git checkout -- {path})") from None
    if digest != expected:
        raise ReaderError(
            f"{path} is damaged: sha256 {digest[:12]}... is not the shipped {expected[:12]}...; "
            f"restore it from the repository (git checkout -- {path})"
        )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
