"""Hybrid retrieval of chunks: dense and lexical candidates, fused by relative score.

On this corpus BM25 already ranks the right chunk first for most factual
questions; the dense side catches paraphrases that share few words with the
text. `Retriever` hides which of the three modes is in use, and which store the
candidates come from (`qa.stores`: the index's files by default, or a PostgreSQL database).

The index is built by LlamaIndex (its FAISS vector store and its BM25
retriever, `qa.index`), and questions are answered from those same persisted
structures through ``faiss`` and ``bm25s`` directly: importing LlamaIndex
costs 1.6 s, half the budget of a cold ``qa ask``. The ranking is exactly
what LlamaIndex's ``QueryFusionRetriever`` in ``relative_score`` mode gives
over its vector and BM25 retrievers (``tests/test_retrieve.py`` compares the
two on every eval question).
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.index import CorpusIndex
from qa.scope import RowsBySource
from qa.stores.files import FileSearch
from qa.vector_search import use_search_threads

#: Share of the dense list in the fused score (BM25 gets the rest).
DENSE_WEIGHT = 0.5
#: Each side retrieves this many times top_k before fusion, so a chunk ranked
#: low by one side can still be lifted by the other.
CANDIDATE_FACTOR = 2
#: Chunks returned beyond top_k, best first, for the answerer to fall back on when the
#: first top_k hold no answer of the kind asked for.
RESERVE_FACTOR = 2


@dataclass(frozen=True)
class RetrievedChunk:
    node_id: str
    source: str
    start: int
    end: int
    score: float
    rank: int


class Retriever:
    """Ranks chunks for a query. Safe to share between threads.

    >>> retriever = Retriever.from_index(corpus_index, mode="hybrid", top_k=6)  # doctest: +SKIP
    >>> retriever.retrieve("How many Indians were recruited?", query_vector)[0].source  # doctest: +SKIP
    '002_626d0c358e0fb90a.txt'
    """

    def __init__(self, index: CorpusIndex, mode: str, top_k: int, search) -> None:
        self._index = index
        #: Where candidates come from (`qa.stores`): shared by retrievers of other modes.
        self.search = search
        self.mode = mode
        self.top_k = top_k
        depth = top_k * RESERVE_FACTOR
        self._depth = depth
        self._candidates = min(depth * CANDIDATE_FACTOR if mode == "hybrid" else depth, len(index.chunks))
        self._rows_by_source = RowsBySource(index.chunks)

    @classmethod
    def from_index(cls, index: CorpusIndex, mode: str = "hybrid", top_k: int = 6, search=None) -> "Retriever":
        """A retriever over ``index``, its candidates from ``search`` (anything with ``dense``
        and ``lexical`` as `qa.stores.files.FileSearch` has them; by default the index's own
        files, with FAISS set to its question-time threads)."""
        if search is None:
            use_search_threads()
            search = FileSearch(index)
        return cls(index, mode, top_k, search)

    def retrieve(self, query: str, query_embedding, sources: frozenset[str] | None = None) -> list[RetrievedChunk]:
        """Chunks for ``query``, best first: ``top_k`` of them, then up to as many in reserve.

        ``query_embedding`` is the query's vector (the engine embeds it together with other words).
        ``sources`` (`qa.scope`): only these documents' chunks are searched and ranked.
        """
        lists = []
        if sources is None:
            candidates, scoped = self._candidates, {}
        else:
            allowed = self._rows_by_source.allowed(sources)
            candidates, scoped = min(self._candidates, len(allowed.rows)), {"allowed": allowed}
        if self.mode in ("dense", "hybrid"):
            lists.append(self.search.dense(query_embedding, candidates, **scoped))
        if self.mode in ("bm25", "hybrid"):
            lists.append(self.search.lexical(query, candidates, **scoped))
        ranked = lists[0] if len(lists) == 1 else fuse(lists, [DENSE_WEIGHT, 1.0 - DENSE_WEIGHT])
        chunks = self._index.chunks
        # Equal scores by document and offset: the order candidates arrived in is the order of
        # two searches whose own ties depend on the index's row order and the processor.
        ranked = sorted(ranked, key=lambda item: (-item[1], chunks[item[0]].source, chunks[item[0]].start))
        return [
            RetrievedChunk(
                node_id=chunks[row].node_id,
                source=chunks[row].source,
                start=chunks[row].start,
                end=chunks[row].end,
                score=score,
                rank=rank,
            )
            for rank, (row, score) in enumerate(ranked[: self._depth])
        ]


def fuse(lists: list[list[tuple[int, float]]], weights: list[float]) -> list[tuple[int, float]]:
    """Relative-score fusion, as LlamaIndex's ``QueryFusionRetriever`` does it: each list's
    scores min-max scaled to 0..1 and weighted, then summed per chunk; ties keep first-seen order."""
    fused: dict[int, float] = {}
    for ranked, weight in zip(lists, weights):
        if not ranked:
            continue
        low = min(score for _row, score in ranked)
        high = max(score for _row, score in ranked)
        for row, score in ranked:
            if high == low:
                scaled = 1.0 if high > 0 else 0.0
            else:
                scaled = (score - low) / (high - low)
            fused[row] = fused.get(row, 0.0) + scaled * weight
    return sorted(fused.items(), key=lambda item: item[1], reverse=True)
