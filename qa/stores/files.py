"""The default store: the index directory's FAISS and bm25s files, loaded in memory
(`qa.index.IndexStore`). Searched in-process: an exact FAISS scan (or its HNSW graph
beyond 20k chunks) and bm25s's score matrix."""

from __future__ import annotations

import numpy as np

from qa.lexical import query_terms
from qa.topk import top_indices


class FileSearch:
    """Dense and lexical candidates from a loaded `qa.index.CorpusIndex`."""

    def __init__(self, index) -> None:
        self._index = index

    def dense(self, vector, k: int) -> list[tuple[int, float]]:
        """The ``k`` rows nearest ``vector`` (inner product of normalised vectors), best first."""
        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        scores, rows = self._index.faiss_index.search(vector, k)
        found = sorted((-float(s), int(r)) for r, s in zip(rows[0], scores[0]) if r >= 0)  # equal scores by row
        return [(r, -s) for s, r in found]

    def lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        """The ``k`` rows with the highest BM25 scores for ``query``, best first (rows scoring
        0 included, as LlamaIndex's BM25Retriever returns them)."""
        tokens = query_terms(query)
        bm25 = self._index.bm25
        scores = bm25.get_scores(tokens) if tokens else np.zeros(int(bm25.scores["num_docs"]), dtype=np.float32)
        rows = top_indices(scores, k)
        return [(int(r), float(scores[r])) for r in rows]
