"""The PostgreSQL + pgvector store (`qa.stores.postgres`) at scale: write time, question-time
latency of `dense` and `lexical`, and HNSW recall@10 against exact search.

    python benchmarks/store_postgres.py                    # 100k chunks, a throw-away server
    python benchmarks/store_postgres.py --chunks 20000
    python benchmarks/store_postgres.py --uri postgresql://postgres@db:5432/bench

Chunks are paragraphs of `synthetic.py`'s articles; vectors are random, normalised, 384-d
(no model runs). Random vectors are the hardest case for HNSW (every point is about as far
from a random query as any other), so recall is given for two kinds of query vector:
random ones; and, for stored vectors with noise added (cosine 0.8 to their source, as a
question to its passage), how often the source is among the 10 found.
Without ``--uri`` a server is started with ``pgserver``'s binaries in a temporary folder and
removed (`qa.stores.local_postgres`: as root too, wherever the checkout lives).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from synthetic import COUNTRIES, SECTORS, TITLES, article  # noqa: E402

from qa.stores import postgres  # noqa: E402
from qa.stores.postgres import PostgresStore  # noqa: E402

DIMENSION = 384
QUERIES = 200
TOP_K = 10
EF_SEARCH_VALUES = (40, 100, 200, 400)


def make_corpus(n_chunks: int, seed: int = 0) -> tuple[dict, list]:
    """Documents of `synthetic.article`s, one chunk per paragraph, about ``n_chunks`` chunks."""
    rng = random.Random(seed)
    documents, chunks, n = {}, [], 0
    while len(chunks) < n_chunks:
        source = f"syn_{n:06d}.txt"
        text = article(rng, paragraphs=rng.randint(8, 16))
        documents[source] = {"text": text, "sha256": f"{n:064x}", "kind": "txt", "date": None}
        start = text.index("\n\n\n\n", text.index("\n\n\n\n") + 4) + 4  # after the date and title
        for i, paragraph in enumerate(text[start:].rstrip("\n").split("\n\n\n\n")):
            begin = text.index(paragraph, start)
            chunks.append((f"{source}#{i}", source, begin, begin + len(paragraph), paragraph))
            start = begin + len(paragraph)
        n += 1
    chunks = chunks[:n_chunks]
    keep = {c[1] for c in chunks}
    return {s: d for s, d in documents.items() if s in keep}, chunks


def normalised(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, DIMENSION)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def questions(n: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    return [
        f"What did the {rng.choice(TITLES)} of {rng.choice(COUNTRIES)} say about {rng.choice(SECTORS)}?"
        for _ in range(n)
    ]


def p50_ms(call, items) -> float:
    times = []
    for item in items:
        started = time.perf_counter()
        call(item)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def recall_at_k(store: PostgresStore, vectors: np.ndarray, queries: np.ndarray) -> float:
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :TOP_K]
    hits = sum(len({row for row, _ in store.dense(q, TOP_K)} & set(e.tolist())) for q, e in zip(queries, exact))
    return hits / (len(queries) * TOP_K)


def source_found(store: PostgresStore, queries: np.ndarray, sources: np.ndarray) -> float:
    return float(np.mean([source in {row for row, _ in store.dense(q, TOP_K)} for q, source in zip(queries, sources)]))


def dense_plan(store: PostgresStore, vector: np.ndarray) -> str:
    """The scan the planner chose for `dense` (an HNSW index scan, or a sequential one)."""
    import psycopg

    literal = "[" + ",".join(f"{x:.9g}" for x in vector.tolist()) + "]"
    with psycopg.connect(store.uri, autocommit=True) as conn:
        plan = conn.execute(
            f"EXPLAIN SELECT id - 1, embedding <=> %s::vector AS d FROM {store.build}.data_chunks ORDER BY d LIMIT 10",
            (literal,),
        ).fetchall()
    return next((line for (line,) in plan if "Scan" in line), "?").strip().split("  (")[0]


def run(uri: str, n_chunks: int) -> None:
    print(f"Generating {n_chunks} chunks ...", flush=True)
    documents, chunks = make_corpus(n_chunks)
    rng = np.random.default_rng(0)
    vectors = normalised(rng, len(chunks))
    steps: list[tuple[str, float]] = []

    def step(message: str) -> None:
        steps.append((message, time.perf_counter()))
        print(f"  {message}", flush=True)

    started = time.perf_counter()
    PostgresStore(uri).write({"format_version": 0, "counts": {"chunks": len(chunks)}}, chunks, vectors, documents, report=step)
    total = time.perf_counter() - started
    print(f"\nwrite: {total:.1f} s for {len(chunks)} chunks of {len(documents)} documents "
          f"(maintenance_work_mem {postgres.BUILD_MAINTENANCE_WORK_MEM}, HNSW m={postgres.HNSW_M}, "
          f"ef_construction={postgres.HNSW_EF_CONSTRUCTION})")
    ends = [t for _, t in steps[1:]] + [started + total]
    for (message, began), end in zip(steps, ends):
        print(f"  {end - began:7.1f} s  {message}")

    random_queries = normalised(rng, QUERIES)
    noise = normalised(rng, QUERIES)
    sources = rng.integers(len(vectors), size=QUERIES)
    near_queries = 0.8 * vectors[sources] + 0.6 * noise
    near_queries /= np.linalg.norm(near_queries, axis=1, keepdims=True)

    store = PostgresStore(uri)
    load_started = time.perf_counter()
    store.load()
    print(f"\nload (chunks + documents): {time.perf_counter() - load_started:.2f} s; dense plan: {dense_plan(store, random_queries[0])}")
    lexical_ms = p50_ms(lambda q: store.lexical(q, TOP_K * 2), questions(QUERIES))
    print(f"lexical() p50: {lexical_ms:.2f} ms  (top {TOP_K * 2}, {QUERIES} synthetic questions)")
    print(f"\n{'ef_search':>9} {'dense p50 ms':>12} {'recall@10 random':>17} {'source in top 10':>17}")
    for ef_search in EF_SEARCH_VALUES:
        store = PostgresStore(uri, ef_search=ef_search)
        store.load()
        store.dense(random_queries[0], TOP_K)  # connect
        latency = p50_ms(lambda q: store.dense(q, TOP_K), random_queries)
        print(f"{ef_search:>9} {latency:>12.2f} {recall_at_k(store, vectors, random_queries):>17.3f} "
              f"{source_found(store, near_queries, sources):>17.3f}", flush=True)
        store.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks to write (default 100000)")
    parser.add_argument("--uri", help="a PostgreSQL database to use (default: a throw-away pgserver)")
    args = parser.parse_args(argv)
    if args.uri:
        run(args.uri, args.chunks)
        return 0
    from qa.stores.local_postgres import LocalPostgres

    server = LocalPostgres().start()
    try:
        server.psql("CREATE EXTENSION IF NOT EXISTS vector;")
        run(server.socket_uri, args.chunks)
    finally:
        server.stop(mode="fast")
        server.remove()
    return 0


if __name__ == "__main__":
    sys.exit(main())
