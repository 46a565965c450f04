"""The FAISS index type follows the corpus size, and approximate search finds what exact search finds."""

from __future__ import annotations

import numpy as np

from qa.vector_search import EXACT_MAX_VECTORS, Neighbours, choose_index, new_index, prepare_for_search


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


def test_neighbours_are_most_similar_first_exact_or_approximate():
    vectors = _clustered(800)
    exact = Neighbours(vectors).similar_to(3, 0.8)
    assert exact[0] == 3  # a row is its own nearest neighbour
    sims = vectors[exact] @ vectors[3]
    assert list(sims) == sorted(sims, reverse=True)
    assert all(s >= 0.8 for s in sims)
    assert len(exact) == int(np.sum(vectors @ vectors[3] >= 0.8))
    spec = choose_index(EXACT_MAX_VECTORS + 1)
    hnsw = new_index(spec, vectors.shape[1])
    hnsw.add(vectors)
    approximate = Neighbours(vectors, prepare_for_search(hnsw, spec)).similar_to(3, 0.8)
    assert approximate[0] == 3
    assert set(approximate) <= set(exact)
