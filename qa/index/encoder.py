"""Turning documents and questions into vectors without torch.

The model is sentence-transformers' (`qa.index.embedding`). Importing it costs 6-10 s,
longer than the whole answer may take from a cold start and longer than embedding a
few dozen articles, so the first build exports the model to ONNX (`qa.index.onnx_export`)
and from then on documents and questions alike are embedded by `OnnxEncoder`:
onnxruntime plus the ``tokenizers`` library, which import in a fraction of a second and
give the same vectors (checked to 1e-4 when the export is made). Documents go through
`OnnxEncoder.embed_many`: sorted by token count and batched, so a batch pads little, on
every core. `SentenceTransformerEncoder` serves models that cannot be exported.

>>> encoder = OnnxEncoder(Path("index/build-x/encoder")).load()   # doctest: +SKIP
>>> encoder.embed(["How many Indians were recruited?"]).shape      # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Callable, Protocol, Sequence

import numpy as np

from qa.errors import ConfigError, IndexCorrupt
from qa.onnx_session import open_session

#: Files of an exported encoder, inside the index build.
ONNX_MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
ENCODER_CONFIG_FILE = "encoder.json"
#: Poolings an export supports (sentence-transformers' names).
POOLINGS = ("mean", "cls")
#: Texts per forward pass when embedding documents. Texts are sorted by token count first,
#: so a batch pads little; past 32 the passes got no faster per text on 2 cores
#: (benchmarks/README.md).
DOCUMENT_BATCH = 32


class Encoder(Protocol):
    """What the engine needs from a model at question time."""

    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, as the index embeds passages (a question too)."""


class OnnxEncoder:
    """Runs an exported model (`qa.index.onnx_export.export_encoder`). Cheap to construct; `load` reads it."""

    def __init__(self, directory: Path, threads: int | None = None) -> None:
        """``threads``: onnxruntime's threads for one pass (None: `open_session`'s default for
        questions; a build passes every core)."""
        self.directory = Path(directory)
        self.threads = threads
        self.dimension = 0
        self._session = None
        self._tokenizer = None
        self._input_names: tuple[str, ...] = ()
        self._pooling = "mean"
        self._normalize = True
        self._lock = threading.Lock()

    def load(self) -> "OnnxEncoder":
        if self._session is None:  # checked before locking: `embed` calls this on every question
            with self._lock:
                if self._session is None:
                    self._load()
        return self

    def _load(self) -> None:
        from tokenizers import Tokenizer

        try:
            config = json.loads((self.directory / ENCODER_CONFIG_FILE).read_text(encoding="utf-8"))
            tokenizer = Tokenizer.from_file(str(self.directory / TOKENIZER_FILE))
            path = self.directory / ONNX_MODEL_FILE
            session = open_session(path) if self.threads is None else open_session(path, self.threads)
        except ConfigError:
            raise  # a setting to fix, not a damaged file
        except Exception as err:  # JSON, tokenizers and onnxruntime each fail in their own way
            raise IndexCorrupt(
                f"Query encoder in {str(self.directory)!r} cannot be loaded ({type(err).__name__}: {err}); "
                "rebuild with `qa index`."
            ) from err
        tokenizer.enable_truncation(int(config["max_seq_length"]))
        tokenizer.enable_padding(pad_id=int(config["pad_id"]), pad_token=config["pad_token"])
        self._tokenizer = tokenizer
        self._input_names = tuple(i.name for i in session.get_inputs())
        self._pooling = config["pooling"]
        self._normalize = bool(config["normalize"])
        self.dimension = int(config["dimension"])
        self._session = session

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._run(self._tokenizer.encode_batch(list(texts)))

    def embed_many(
        self, texts: Sequence[str], batch: int = DOCUMENT_BATCH, on_batch: Callable[[int], None] | None = None
    ) -> np.ndarray:
        """`embed` for many texts: tokenized once, sorted by token count, embedded ``batch`` at
        a time (each batch padded to its own longest text), returned in input order.
        ``on_batch(n)`` is called after each batch with the number of texts it held.

        A text's vector does not depend on its batch beyond float rounding (padding is masked
        out of the attention and the pooling); tests/test_index.py checks against `embed`."""
        self.load()
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if not texts:
            return out
        # Padded to the longest text of all; each batch is cut back to its own longest.
        encodings = self._tokenizer.encode_batch(list(texts))
        lengths = [sum(e.attention_mask) for e in encodings]
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        for first in range(0, len(order), batch):
            rows = order[first : first + batch]
            out[rows] = self._run([encodings[i] for i in rows], width=max(lengths[i] for i in rows))
            if on_batch is not None:
                on_batch(len(rows))
        return out

    def _run(self, encodings, width: int | None = None) -> np.ndarray:
        """Vectors of padded tokenized texts, cut to ``width`` tokens (None: as padded)."""
        feeds = {
            "input_ids": np.array([e.ids[:width] for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask[:width] for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids[:width] for e in encodings], dtype=np.int64),
        }
        hidden = self._session.run(None, {name: feeds[name] for name in self._input_names})[0]
        return pool(hidden, feeds["attention_mask"], self._pooling, self._normalize)



def pool(hidden: np.ndarray, attention_mask: np.ndarray, pooling: str, normalize: bool) -> np.ndarray:
    """Sentence vectors from token vectors, as sentence-transformers' Pooling (and Normalize) do."""
    if pooling == "cls":
        vectors = hidden[:, 0]
    else:
        mask = attention_mask[..., None].astype(np.float32)
        vectors = (hidden * mask).sum(axis=1) / np.clip(mask.sum(axis=1), 1e-9, None)
    if normalize:
        vectors = vectors / np.clip(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12, None)
    return vectors.astype(np.float32, copy=False)


class SentenceTransformerEncoder:
    """The full model behind a LlamaIndex ``HuggingFaceEmbedding`` (slow to load, any architecture)."""

    def __init__(self, embedder) -> None:
        self._embedder = embedder
        self.dimension = len(embedder.get_text_embedding("dimension"))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.asarray(self._embedder.get_text_embedding_batch(list(texts)), dtype=np.float32)
