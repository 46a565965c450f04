"""Turning questions into vectors at question time, without torch.

The index is built by sentence-transformers (`qa.index.embedding`). Importing it
costs 8-10 s, longer than the whole answer may take from a cold start, so the
build also exports the same model to ONNX (`qa.index.onnx_export`) and questions are
embedded by `OnnxEncoder`: onnxruntime plus the ``tokenizers`` library, which
import in a fraction of a second and give the same vectors (checked to 1e-4
when the index is built). `SentenceTransformerEncoder` serves models that
cannot be exported.

>>> encoder = OnnxEncoder(Path("index/build-x/encoder")).load()   # doctest: +SKIP
>>> encoder.embed(["How many Indians were recruited?"]).shape      # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Protocol, Sequence

import numpy as np

from qa.errors import IndexCorrupt
from qa.onnx_session import open_session

#: Files of an exported encoder, inside the index build.
ONNX_MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
ENCODER_CONFIG_FILE = "encoder.json"
#: Poolings an export supports (sentence-transformers' names).
POOLINGS = ("mean", "cls")


class Encoder(Protocol):
    """What the engine needs from a model at question time."""

    dimension: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """One L2-normalised float32 row per text, as the index embeds passages (a question too)."""


class OnnxEncoder:
    """Runs an exported model (`qa.index.onnx_export.export_encoder`). Cheap to construct; `load` reads it."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
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
            session = open_session(self.directory / ONNX_MODEL_FILE)
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
        encodings = self._tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
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
