"""Questions are answered without LlamaIndex or torch at question time, and nothing changes for it.

The fast path (`qa.retrieve.Retriever` over the persisted FAISS and bm25s files,
`qa.index.encoder.OnnxEncoder` for the question) must give what the plain stack
gives: LlamaIndex's ``QueryFusionRetriever`` over its vector and BM25
retrievers, and sentence-transformers' vectors. Checked on every question of
the eval set.
"""

from __future__ import annotations

import numpy as np
import pytest

from qa.index.encoder import OnnxEncoder, SentenceTransformerEncoder
from qa.engine import QAEngine
from qa.evaluation.dataset import load_questions
from qa.llamaindex_view import bm25_retriever, vector_index as llama_vector_index
from qa.index.onnx_export import EXPORT_TOLERANCE
from qa.retrieve import CANDIDATE_FACTOR, DENSE_WEIGHT, RESERVE_FACTOR, Retriever


@pytest.fixture(scope="module")
def questions() -> list[str]:
    return [q.question for q in load_questions()]


@pytest.fixture(scope="module")
def llama_retrievers(engine, settings):
    """LlamaIndex's own retrievers, opened on the same persisted build."""
    from llama_index.core.llms import MockLLM
    from llama_index.core.retrievers import QueryFusionRetriever

    build = settings.index_dir / engine._index.manifest["build"]
    vector_index = llama_vector_index(engine._index, build, engine.embedder)
    depth = settings.top_k * RESERVE_FACTOR
    n = len(engine._index.chunks)
    dense = vector_index.as_retriever(similarity_top_k=min(depth * CANDIDATE_FACTOR, n))
    bm25 = bm25_retriever(engine._index, build, min(depth * CANDIDATE_FACTOR, n))
    fused = QueryFusionRetriever(
        [dense, bm25], mode="relative_score", retriever_weights=[DENSE_WEIGHT, 1 - DENSE_WEIGHT],
        similarity_top_k=depth, num_queries=1, use_async=False, llm=MockLLM(),
    )
    return fused, vector_index, depth


def test_fast_hybrid_ranking_is_llamaindex_query_fusion_ranking(engine, questions, llama_retrievers):
    from llama_index.core.schema import QueryBundle

    fused, _index, depth = llama_retrievers
    retriever = Retriever.from_index(engine._index, "hybrid", engine.settings.top_k)
    differ = []
    for question in questions:
        vector = engine._encoder.embed([question])[0]
        ours = retriever.retrieve(question, vector)
        theirs = fused.retrieve(QueryBundle(query_str=question, embedding=vector.tolist()))[:depth]
        if tied_groups([(c.score, c.node_id) for c in ours]) != tied_groups([(r.score, r.node.node_id) for r in theirs]):
            differ.append(question)
        assert [c.score for c in ours] == pytest.approx([r.score for r in theirs], abs=1e-5)
    assert differ == []


def tied_groups(ranked: list[tuple[float, str]]) -> list[tuple[float, frozenset]]:
    """A ranking as runs of equal scores: LlamaIndex keeps ties in the order they arrived, the
    retriever orders them by document and offset (the same on every machine). The last run may
    be cut at the depth, so only its score counts."""
    groups: list[tuple[float, set]] = []
    for score, node in ranked:
        score = round(score, 6)
        if groups and groups[-1][0] == score:
            groups[-1][1].add(node)
        else:
            groups.append((score, {node}))
    return [(score, frozenset(nodes)) for score, nodes in groups[:-1]] + [(groups[-1][0], frozenset())] if groups else []


def test_fast_dense_search_is_llamaindex_vector_retrieval(engine, questions, llama_retrievers):
    from llama_index.core.schema import QueryBundle

    _fused, vector_index, depth = llama_retrievers
    plain = vector_index.as_retriever(similarity_top_k=depth)
    retriever = Retriever.from_index(engine._index, "dense", engine.settings.top_k)
    for question in questions:
        vector = engine._encoder.embed([question])[0]
        ours = [c.node_id for c in retriever.retrieve(question, vector)]
        theirs = [r.node.node_id for r in plain.retrieve(QueryBundle(query_str=question, embedding=vector.tolist()))]
        assert ours == theirs, question


def test_fast_bm25_ranking_is_llamaindex_bm25_for_every_matching_chunk(engine, settings, questions):
    build = settings.index_dir / engine._index.manifest["build"]
    retriever = Retriever.from_index(engine._index, "bm25", engine.settings.top_k)
    plain = bm25_retriever(engine._index, build, retriever._depth)
    for question in questions:
        ours = [(-round(c.score, 5), c.node_id) for c in retriever.retrieve(question, None) if c.score > 0]
        theirs = [(-round(r.score, 5), r.node.node_id) for r in plain.retrieve(question) if r.score > 0]
        # Equal scores may come in another order, and at the cut-off a tie may keep another chunk
        # (see qa.topk.top_indices); chunks scoring 0 (no query word) are not compared.
        assert [o[0] for o in ours] == sorted(o[0] for o in ours)  # best first
        assert len(ours) == len(theirs), question
        if ours:
            last = ours[-1][0]
            assert sorted(o for o in ours if o[0] < last) == sorted(t for t in theirs if t[0] < last), question


def test_onnx_question_vectors_match_sentence_transformers(engine, questions):
    onnx = engine._encoder
    assert isinstance(onnx, OnnxEncoder)
    model = SentenceTransformerEncoder(engine.embedder)
    got = onnx.embed(questions)
    expected = model.embed(questions)
    assert float(np.abs(got - expected).max()) <= EXPORT_TOLERANCE
    one_by_one = np.vstack([onnx.embed([q]) for q in questions[:10]])  # unpadded, as a lone question is
    assert float(np.abs(one_by_one - expected[:10]).max()) <= EXPORT_TOLERANCE


def test_answers_are_the_same_with_the_onnx_export_and_with_sentence_transformers(engine, settings, questions):
    with_model = QAEngine(settings, embedder=engine.embedder, encoder=SentenceTransformerEncoder(engine.embedder))
    with_model.load(progress=False)
    differ = []
    for question in questions:
        a, b = engine.ask(question), with_model.ask(question)
        if (a.short, a.abstained, [c.start for c in a.citations]) != (b.short, b.abstained, [c.start for c in b.citations]):
            differ.append((question, a.short, b.short))
    assert differ == []
