"""Hybrid retrieval of chunks: FAISS (dense) and BM25 (lexical), fused by LlamaIndex.

On this corpus BM25 already ranks the right chunk first for most factual
questions; the dense side catches paraphrases that share few words with the
text. `Retriever` hides which of the three modes is in use.
"""

from __future__ import annotations

from dataclasses import dataclass

from qa.index import CorpusIndex

#: How the dense and BM25 lists are merged (LlamaIndex ``FUSION_MODES``):
#: min-max scaled scores, summed with the weights below.
FUSION_MODE = "relative_score"
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
    """Ranks chunks for a query.

    >>> retriever = Retriever.from_index(corpus_index, mode="hybrid", top_k=6)  # doctest: +SKIP
    >>> retriever.retrieve("How many Indians were recruited?", query_embedding)[0].source  # doctest: +SKIP
    '002_626d0c358e0fb90a.txt'
    """

    def __init__(self, llama_retriever, mode: str, top_k: int) -> None:
        self._retriever = llama_retriever
        self.mode = mode
        self.top_k = top_k

    @classmethod
    def from_index(cls, index: CorpusIndex, mode: str = "hybrid", top_k: int = 6) -> "Retriever":
        import logging

        import Stemmer
        from llama_index.core.llms import MockLLM
        from llama_index.core.retrievers import QueryFusionRetriever
        from llama_index.retrievers.bm25 import BM25Retriever

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import

        depth = top_k * RESERVE_FACTOR
        candidates = depth * CANDIDATE_FACTOR if mode == "hybrid" else depth
        dense = index.vector_index.as_retriever(similarity_top_k=min(candidates, len(index.nodes)))
        if mode == "dense":
            return cls(dense, mode, top_k)
        bm25 = BM25Retriever.from_defaults(
            nodes=index.nodes,
            similarity_top_k=min(candidates, len(index.nodes)),
            stemmer=Stemmer.Stemmer("english"),
            language="english",
        )
        if mode == "bm25":
            return cls(bm25, mode, top_k)
        fused = QueryFusionRetriever(
            [dense, bm25],
            mode=FUSION_MODE,
            retriever_weights=[DENSE_WEIGHT, 1.0 - DENSE_WEIGHT],
            similarity_top_k=depth,
            num_queries=1,  # no LLM here to write query variants
            use_async=False,
            llm=MockLLM(),  # never called with num_queries=1; keeps Settings.llm (OpenAI) out
        )
        return cls(fused, mode, top_k)

    def retrieve(self, query: str, query_embedding: list[float] | None = None) -> list[RetrievedChunk]:
        """Chunks for ``query``, best first: ``top_k`` of them, then up to as many in reserve.

        A given embedding spares a second model call.
        """
        from llama_index.core.schema import QueryBundle

        bundle = QueryBundle(query_str=query, embedding=query_embedding)
        results = self._retriever.retrieve(bundle)[: self.top_k * RESERVE_FACTOR]
        return [
            RetrievedChunk(
                node_id=r.node.node_id,
                source=r.node.metadata["source"],
                start=r.node.start_char_idx,
                end=r.node.end_char_idx,
                score=float(r.score or 0.0),
                rank=rank,
            )
            for rank, r in enumerate(results)
        ]
