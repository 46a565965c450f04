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

    def dense(self, vector, k: int, allowed=None) -> list[tuple[int, float]]:
        """The ``k`` rows nearest ``vector`` (inner product of normalised vectors), best first;
        only ``allowed.rows`` (`qa.scope.Allowed`) when given."""
        vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
        if allowed is not None:
            return restricted_dense(self._index.faiss_index, vector, k, allowed.rows)
        scores, rows = self._index.faiss_index.search(vector, k)
        found = sorted((-float(s), int(r)) for r, s in zip(rows[0], scores[0]) if r >= 0)  # equal scores by row
        return [(r, -s) for s, r in found]

    def lexical(self, query: str, k: int, allowed=None) -> list[tuple[int, float]]:
        """The ``k`` rows with the highest BM25 scores for ``query``, best first (rows scoring
        0 included, as LlamaIndex's BM25Retriever returns them); only ``allowed.rows`` when given."""
        tokens = query_terms(query)
        bm25 = self._index.bm25
        scores = bm25.get_scores(tokens) if tokens else np.zeros(int(bm25.scores["num_docs"]), dtype=np.float32)
        if allowed is not None:  # the corpus's statistics, ranked among the allowed rows only
            rows = allowed.rows[top_indices(scores[allowed.rows], k)]
            return [(int(r), float(scores[r])) for r in rows]
        rows = top_indices(scores, k)
        return [(int(r), float(scores[r])) for r in rows]



#: Up to this many allowed rows, a scoped search over an HNSW graph scores the allowed
#: vectors exactly (a few milliseconds); beyond, it searches the graph with FAISS's id
#: selector. (A flat index always scans exactly, skipping rows the selector refuses.)
EXACT_SCOPED_MAX_ROWS = 20_000


def restricted_dense(faiss_index, vector: np.ndarray, k: int, rows: np.ndarray) -> list[tuple[int, float]]:
    """The ``k`` of ``rows`` nearest ``vector`` (a 1 x d array), best first: FAISS's search
    with an ``IDSelectorBatch`` of the rows, or exact scores of their vectors (see
    `EXACT_SCOPED_MAX_ROWS`). Only allowed rows are ranked, so none is crowded out."""
    import faiss

    k = min(k, len(rows))
    if k == 0:
        return []
    hnsw = hasattr(faiss_index, "hnsw")
    if hnsw and len(rows) <= EXACT_SCOPED_MAX_ROWS:
        scores = faiss_index.reconstruct_batch(rows) @ vector[0]
        best = top_indices(scores, k)
        return [(int(rows[i]), float(scores[i])) for i in best]
    selector = faiss.IDSelectorBatch(rows)
    if hnsw:
        params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(k, faiss_index.hnsw.efSearch))
    else:
        params = faiss.SearchParameters(sel=selector)
    scores, found = faiss_index.search(vector, k, params=params)
    found = sorted((-float(s), int(r)) for r, s in zip(found[0], scores[0]) if r >= 0)  # equal scores by row
    return [(r, -s) for s, r in found]
