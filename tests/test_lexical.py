"""The BM25 matrix the index builds from stored terms is the one LlamaIndex's BM25Retriever
builds from the chunks themselves, entry for entry."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.lexical import ScoreMatrix, Vocabulary, build_bm25, build_bm25_from_ids, chunk_terms, query_terms, save_bm25


def matrix(bm25) -> dict[tuple[str, int], float]:
    """(term, chunk) -> score, whatever the term numbering."""
    term_of = {column: term for term, column in bm25.vocab_dict.items()}
    scores = bm25.scores
    return {
        (term_of[column], int(scores["indices"][k])): float(scores["data"][k])
        for column in range(len(scores["indptr"]) - 1)
        for k in range(scores["indptr"][column], scores["indptr"][column + 1])
    }


def llamaindex_bm25(texts: list[str]):
    from llama_index.core.schema import TextNode
    from llama_index.retrievers.bm25 import BM25Retriever

    nodes = [TextNode(id_=str(i), text=text) for i, text in enumerate(texts)]
    return BM25Retriever.from_defaults(nodes=nodes, language="english").bm25


EDGE_CASES = [
    "Oil prices rose as India bought more Russian oil; oil, oil and oil.",
    "The and of",  # stop words only: a chunk without terms
    "Tariffs of 50 per cent were imposed on Indian goods.",
    "\u0420\u043e\u0441\u0441\u0438\u044f and India: 2025 talks, \u20ac4 billion.",
    "",
]


def test_matrix_equals_llamaindex_on_the_seed_chunks_and_edge_cases(engine):
    index = engine._index
    texts = [index.chunk_text(chunk) for chunk in index.chunks] + EDGE_CASES
    ours, theirs = matrix(build_bm25(chunk_terms(texts))), matrix(llamaindex_bm25(texts))
    assert ours.keys() == theirs.keys()
    assert max(abs(ours[key] - theirs[key]) for key in ours) <= 1e-6


def test_served_index_scores_questions_as_llamaindex_would(engine):
    index = engine._index
    theirs = llamaindex_bm25([index.chunk_text(chunk) for chunk in index.chunks])
    for question in ["How many Indians were recruited?", "What did Lavrov say about oil and the tariffs?"]:
        terms = query_terms(question)
        assert np.allclose(index.bm25.get_scores(terms), theirs.get_scores(terms), atol=1e-6), question


def test_a_vocabulary_keeps_ids_across_builds_and_the_matrix_holds_only_present_terms():
    vocabulary = Vocabulary()
    first = chunk_terms(["Lisbon approved a budget.", "The budget funds a library."])
    build_bm25_from_ids(*vocabulary.encode(first), vocabulary)
    ids_before = dict(zip(vocabulary.terms, range(len(vocabulary.terms))))
    second = chunk_terms(["A library in Porto."])  # the Lisbon chunks removed, a new one added
    bm25 = build_bm25_from_ids(*vocabulary.encode(second), vocabulary)
    assert all(vocabulary.terms[i] == term for term, i in ids_before.items())
    assert set(bm25.vocab_dict) == {"librari", "porto", ""}
    assert matrix(bm25) == pytest.approx(matrix(build_bm25(second)))
    assert bm25.get_scores(["lisbon"]).tolist() == [0.0]


def test_question_terms_are_bm25s_own_without_importing_it(engine, settings):
    """`query_terms` tokenises as ``bm25s.tokenize`` does (its stop-word list kept as data), and
    the index read with numpy alone (`ScoreMatrix`) scores as bm25s's own loaded index."""
    import bm25s
    import bm25s.stopwords

    from qa.evaluation.dataset import load_questions
    from qa.index import IndexStore
    from qa.lexical import BM25_TOKEN_PATTERN, STOPWORDS_FILE, _shared_stemmer

    assert json.loads(STOPWORDS_FILE.read_text(encoding="utf-8"))["words"] == list(bm25s.stopwords.STOPWORDS_EN)
    questions = [q.question for q in load_questions()] + EDGE_CASES + ["oil OIL oil: India's oil", "x" * 3000]
    engine.load()  # built by now; reading it back is what a new process does
    served = IndexStore(settings.index_dir, settings).load().bm25
    assert isinstance(served, ScoreMatrix)
    theirs = llamaindex_bm25([engine._index.chunk_text(chunk) for chunk in engine._index.chunks])
    for question in questions:
        [expected] = bm25s.tokenize(
            question, stemmer=_shared_stemmer(), token_pattern=BM25_TOKEN_PATTERN, return_ids=False, show_progress=False
        )
        assert query_terms(question) == expected, question
        if expected:
            assert np.allclose(served.get_scores(expected), theirs.get_scores(expected), atol=1e-6), question


def test_a_saved_index_of_another_bm25_variant_is_refused(tmp_path):
    import bm25s

    bm25 = bm25s.BM25(method="bm25+")
    bm25.index(bm25s.tokenize(["Oil prices rose.", "India buys oil."], show_progress=False), show_progress=False)
    bm25.save(str(tmp_path), show_progress=False)
    with pytest.raises(ValueError, match="only 'lucene'"):
        ScoreMatrix.load(tmp_path)
    built = build_bm25(chunk_terms(["Oil prices rose.", "India buys oil."]))
    save_bm25(built, tmp_path)
    assert ScoreMatrix.load(tmp_path).get_scores(["oil"]).tolist() == pytest.approx(built.get_scores(["oil"]).tolist())
