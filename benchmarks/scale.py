"""Scale: vector search exact against HNSW (latency, recall@10), whole ``ask()`` latency and
peak memory, as the index grows."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import synthetic
from measure import Row, ms, peak_rss_mib, percentile, timed

from qa.config import Settings
from qa.index.encoder import OnnxEncoder
from qa.engine import QAEngine
from qa.vector_search import (
    EXACT_MAX_VECTORS,
    choose_index,
    new_index,
    prepare_for_search,
)

QUERIES = 200
RECALL_AT = 10
#: At the largest size: vector search p50 (ms), recall@10 and ask() p50 (ms).
TARGET_SEARCH_MS = 5.0
TARGET_RECALL = 0.95
TARGET_ASK_MS = 50.0


def questions(n: int = QUERIES, seed: int = 1) -> list[str]:
    """Questions about the synthetic corpora, of the kinds the generator states facts about."""
    rng = random.Random(seed)
    forms = [
        lambda: f"How much was bilateral trade in {rng.choice(synthetic.SECTORS)} between "
        f"{rng.choice(synthetic.COUNTRIES)} and {rng.choice(synthetic.COUNTRIES)}?",
        lambda: f"Who is the {rng.choice(synthetic.TITLES)} of {rng.choice(synthetic.COUNTRIES)}?",
        lambda: f"How many workers from {rng.choice(synthetic.COUNTRIES)} were employed in the "
        f"{rng.choice(synthetic.SECTORS)} sector?",
        lambda: f"What did {rng.choice(synthetic.PEOPLE)} say about {rng.choice(synthetic.SECTORS)}?",
        lambda: f"Where was {rng.choice(synthetic.EVENTS)} held?",
        lambda: f"How much could tariffs on {rng.choice(synthetic.SECTORS)} cost "
        f"{rng.choice(synthetic.COUNTRIES)}?",
    ]
    return [rng.choice(forms)() for _ in range(n)]


def _search_ms(index, queries: np.ndarray, k: int) -> tuple[list[float], np.ndarray]:
    times, rows = [], []
    for q in queries:
        seconds, (_scores, found) = timed(index.search, q[np.newaxis, :], k)
        times.append(seconds)
        rows.append(found[0])
    return ms(times), np.asarray(rows)


def search(label: str, faiss_index, spec: dict, query_vectors: np.ndarray, largest: bool) -> tuple[list[Row], dict]:
    """Exact and HNSW search over the same chunk vectors."""
    import faiss

    n = faiss_index.ntotal
    vectors = faiss_index.reconstruct_n(0, n)
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    hnsw_spec = choose_index(max(n, EXACT_MAX_VECTORS + 1))
    if spec["type"] == "hnsw":
        hnsw, hnsw_build = faiss_index, None
    else:
        hnsw = new_index(hnsw_spec, vectors.shape[1])
        hnsw_build, _ = timed(hnsw.add, vectors)
        prepare_for_search(hnsw, hnsw_spec)
    exact_ms, truth = _search_ms(exact, query_vectors, RECALL_AT)
    hnsw_ms, found = _search_ms(hnsw, query_vectors, RECALL_AT)
    recall = float(np.mean([len(set(t) & set(f)) / RECALL_AT for t, f in zip(truth, found)]))
    chosen = spec["type"]
    chosen_ms = hnsw_ms if chosen == "hnsw" else exact_ms
    p50 = percentile(chosen_ms, 50)
    chosen_recall = recall if chosen == "hnsw" else 1.0
    rows = [
        Row("scale", f"{label}: vector search p50, chosen index ({chosen})", p50, "ms",
            "exact (flat) search p50", percentile(exact_ms, 50),
            f"< {TARGET_SEARCH_MS:.0f} ms at recall@10 >= {TARGET_RECALL}" if largest else "",
            (p50 < TARGET_SEARCH_MS and chosen_recall >= TARGET_RECALL) if largest else None),
        Row("scale", f"{label}: HNSW recall@{RECALL_AT} against exact", recall, "",
            "HNSW search p50 (ms)", percentile(hnsw_ms, 50)),
    ]
    return rows, {"n": n, "exact_p50_ms": percentile(exact_ms, 50), "hnsw_p50_ms": percentile(hnsw_ms, 50),
                  "recall": recall, "chosen": chosen, "hnsw_build_s": hnsw_build}


def ask_latency(label: str, seeds: Path, index_dir: Path, embedder, encoder, largest: bool) -> tuple[list[Row], dict]:
    """Whole ``ask()`` (ONNX question embedding, FAISS, BM25, answering) over a grown index."""
    engine = QAEngine(Settings(seeds_dir=seeds, index_dir=index_dir), embedder=embedder, encoder=encoder)
    load_s, _ = timed(engine.load, False)
    qs = questions()
    for q in questions(5, seed=2):
        engine.ask(q)
    times = ms([timed(engine.ask, q)[0] for q in qs])
    p50, p95 = percentile(times, 50), percentile(times, 95)
    rows = [
        Row("scale", f"{label}: ask() p50 ({len(qs)} questions)", p50, "ms", "ask() p95", p95,
            f"< {TARGET_ASK_MS:.0f} ms" if largest else "", p50 < TARGET_ASK_MS if largest else None),
        Row("scale", f"{label}: engine load (index on disk)", load_s, "s"),
    ]
    return rows, {"ask_p50_ms": p50, "ask_p95_ms": p95, "load_s": load_s}


def peak_memory(label: str, seeds: Path, index_dir: Path, encoder_dir: Path) -> Row:
    """Peak RSS of a new process that loads the engine over ``index_dir`` and asks 20 questions."""
    root = Path(__file__).resolve().parent.parent
    code = (
        f"import sys; sys.path.insert(0, {str(root)!r})\n"
        "from pathlib import Path\n"
        "from qa.config import Settings\nfrom qa.index.encoder import OnnxEncoder\nfrom qa.engine import QAEngine\n"
        f"engine = QAEngine(Settings(seeds_dir=Path({str(seeds)!r}), index_dir=Path({str(index_dir)!r})),"
        f" encoder=OnnxEncoder(Path({str(encoder_dir)!r}))).load(progress=False)\n"
        f"for q in {questions(20, seed=3)!r}: engine.ask(q)\n"
    )
    return Row("memory", f"peak RSS, {label}: load + 20 questions", peak_rss_mib(code), "MiB")


def query_vectors(encode, qs: list[str]) -> np.ndarray:
    return np.asarray(encode(qs), dtype=np.float32)


def onnx_encoder(index_dir: Path) -> OnnxEncoder:
    import json

    manifest = json.loads((index_dir / "manifest.json").read_text(encoding="utf-8"))
    return OnnxEncoder(index_dir / manifest["build"] / "encoder").load()
