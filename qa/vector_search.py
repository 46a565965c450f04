"""The FAISS index behind dense retrieval, chosen from the corpus size.

Up to `EXACT_MAX_VECTORS` chunks an exact inner-product scan costs at most a
couple of milliseconds and is always right; beyond that an HNSW graph answers
in about a millisecond at a recall@10 above 0.95 (the figures are in
``benchmarks/results.md``). The choice is recorded in the index manifest, so
a loaded index is searched the way it was built.

>>> choose_index(500)["type"], choose_index(100_000)["type"]
('flat', 'hnsw')
"""

from __future__ import annotations

import contextlib
import os

#: Largest corpus (in chunks) searched exactly.
EXACT_MAX_VECTORS = 20_000
#: HNSW neighbours per node: more is better recall and a larger, slower-to-build graph.
HNSW_M = 32
#: HNSW candidate list while building the graph.
HNSW_EF_CONSTRUCTION = 80
#: HNSW candidate list while searching: the recall/latency knob.
HNSW_EF_SEARCH = 256


#: FAISS (OpenMP) threads while answering. A single query is too small to share out, and
#: OpenMP's waiting threads stall for milliseconds whenever the cores are busy: exact search
#: over 10k chunks took 0.4 ms on one thread and 6 ms on two on this loaded 2-core machine.
SEARCH_THREADS = 1


def use_search_threads() -> None:
    """Set FAISS to `SEARCH_THREADS` for this process (builds still use every core)."""
    import faiss

    faiss.omp_set_num_threads(SEARCH_THREADS)


@contextlib.contextmanager
def all_cores():
    """Every core for OpenMP (FAISS, and torch, which shares its thread setting) while building,
    where the work splits well; then back to what it was."""
    import faiss

    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(previous)


def choose_index(n_vectors: int) -> dict:
    """The index description for a corpus of ``n_vectors`` chunks (stored in the manifest)."""
    if n_vectors <= EXACT_MAX_VECTORS:
        return {"type": "flat", "metric": "inner_product"}
    return {
        "type": "hnsw",
        "metric": "inner_product",
        "m": HNSW_M,
        "ef_construction": HNSW_EF_CONSTRUCTION,
        "ef_search": HNSW_EF_SEARCH,
    }


def new_index(spec: dict, dimension: int):
    """An empty FAISS index as ``spec`` describes (inner product over normalised vectors = cosine)."""
    import faiss

    if spec["type"] == "flat":
        return faiss.IndexFlatIP(dimension)
    if spec["type"] == "hnsw":
        index = faiss.IndexHNSWFlat(dimension, int(spec["m"]), faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = int(spec["ef_construction"])
        index.hnsw.efSearch = int(spec["ef_search"])
        return index
    raise ValueError(f"unknown vector index type {spec['type']!r}; expected 'flat' or 'hnsw'")


def prepare_for_search(index, spec: dict):
    """Apply the search-time settings of ``spec`` to a loaded index and return it."""
    if spec.get("type") == "hnsw":
        index.hnsw.efSearch = int(spec["ef_search"])
    return index
