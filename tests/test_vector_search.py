"""The FAISS index type follows the corpus size, and approximate search finds what exact search finds."""

from __future__ import annotations

import numpy as np

from qa.vector_search import EXACT_MAX_VECTORS, choose_index, new_index, prepare_for_search


def _clustered(n: int, dim: int = 32, clusters: int = 40, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    vectors = centres[rng.integers(0, clusters, n)] + 0.4 * rng.standard_normal((n, dim))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def test_small_corpora_are_searched_exactly_and_large_ones_by_hnsw():
    assert choose_index(1)["type"] == "flat"
    assert choose_index(EXACT_MAX_VECTORS)["type"] == "flat"
    large = choose_index(EXACT_MAX_VECTORS + 1)
    assert large["type"] == "hnsw"
    assert {"m", "ef_construction", "ef_search"} <= set(large)


def test_hnsw_recall_at_10_against_exact_search_is_at_least_095():
    vectors = _clustered(5000)
    queries = _clustered(200, seed=1)
    exact = new_index(choose_index(1), vectors.shape[1])
    exact.add(vectors)
    spec = choose_index(EXACT_MAX_VECTORS + 1)
    hnsw = prepare_for_search(new_index(spec, vectors.shape[1]), spec)
    hnsw.add(vectors)
    _s, truth = exact.search(queries, 10)
    _s, found = hnsw.search(queries, 10)
    recall = np.mean([len(set(t) & set(f)) / 10 for t, f in zip(truth, found)])
    assert recall >= 0.95
