"""A fast stand-in for the embedding model, for corpora too large to embed here.

all-MiniLM-L6-v2 embeds a few hundred short texts a second on two cores, so
100k chunks (with their ~400k sentences) would take hours. The stand-in
gives each text the normalised mean of the real model's vectors of its
words: vectors with the model's geometry (topics cluster as they do in the
model), at numpy speed. Build-pipeline overhead and search latency and
recall are measured with it at 10k and 100k chunks; the real model's own
throughput is measured on the 1k corpus and projected (benchmarks/README.md).
"""

from __future__ import annotations

import re
import zlib
from typing import Any

import numpy as np
from llama_index.core.embeddings import BaseEmbedding
from pydantic import PrivateAttr

_WORD = re.compile(r"\w+")


class BagOfWordVectors(BaseEmbedding):
    """Text vector = normalised mean of per-word vectors (known words: the real model's)."""

    _vectors: dict = PrivateAttr(default_factory=dict)
    _dimension: int = PrivateAttr(default=384)

    def __init__(self, word_vectors: dict[str, np.ndarray], **kwargs: Any) -> None:
        super().__init__(model_name="bag-of-word-vectors", embed_batch_size=2048, **kwargs)
        self._vectors = dict(word_vectors)
        self._dimension = len(next(iter(word_vectors.values())))

    @classmethod
    def from_model(cls, embed_words, words: list[str]) -> "BagOfWordVectors":
        """Word vectors from ``embed_words`` (the real model) for ``words``."""
        vectors = np.asarray(embed_words(words), dtype=np.float32)
        return cls(dict(zip(words, vectors)))

    def _word(self, word: str) -> np.ndarray:
        vector = self._vectors.get(word)
        if vector is None:  # a word the model was not asked about: a fixed pseudo-random direction
            rng = np.random.default_rng(zlib.crc32(word.encode("utf-8")))
            vector = rng.standard_normal(self._dimension).astype(np.float32)
            vector /= np.linalg.norm(vector)
            self._vectors[word] = vector
        return vector

    def vector(self, text: str) -> np.ndarray:
        words = _WORD.findall(text.lower()) or ["empty"]
        mean = np.mean([self._word(w) for w in words], axis=0)
        return (mean / max(float(np.linalg.norm(mean)), 1e-12)).astype(np.float32)

    def _get_text_embedding(self, text: str) -> list[float]:
        return self.vector(text).tolist()

    def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
        return [self.vector(t).tolist() for t in texts]

    def _get_query_embedding(self, query: str) -> list[float]:
        return self.vector(query).tolist()

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return self._get_query_embedding(query)
