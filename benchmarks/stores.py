"""The two index stores side by side, in one run: the index folder's files (FAISS + bm25s, the
default) against PostgreSQL with pgvector (`Settings(store=uri)`, `qa.stores`).

    python benchmarks/stores.py                          # seeds and 100k chunks, a throw-away server
    python benchmarks/stores.py --sizes seeds,20000      # a smaller synthetic corpus
    python benchmarks/stores.py --work /tmp/stores       # keep (and on a rerun reuse) corpus and index
    python benchmarks/stores.py --uri postgresql://postgres@db:5432/bench   # overwrites its `qa` namespace

For each corpus: the time to build the index folder (`IndexStore.build`, reuse=False) against
the time to publish that index to PostgreSQL (`qa.stores.published.publish`); the engine's
load time; warm `ask()` p50/p95 with the files against with the database, interleaved question
by question (same encoder, same reader). On the synthetic corpus also: pgvector's HNSW
recall@10 against exact search over the same vectors at several ``ef_search``, with FAISS's
own HNSW recall measured against the same exact results, and the per-question search calls.

Synthetic corpora are embedded by the stand-in encoder (`stand_in.py`), as `run.py` does
above 1k chunks, and their questions are embedded by the same stand-in, so that question and
chunk vectors share one geometry (recall and dense rankings are then meaningful).
Prints a table and writes benchmarks/results-stores.md and results-stores.json.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))  # run from a checkout without installing
sys.path.insert(0, str(HERE))

import report  # noqa: E402
import scale  # noqa: E402
import synthetic  # noqa: E402
from measure import Row, machine, ms, percentile, timed  # noqa: E402
from stand_in import BagOfWordVectors  # noqa: E402

from qa.config import Settings  # noqa: E402
from qa.corpus import load_corpus  # noqa: E402
from qa.engine import QAEngine  # noqa: E402
from qa.evaluation.dataset import load_questions  # noqa: E402
from qa.index import IndexStore  # noqa: E402
from qa.stores import postgres  # noqa: E402
from qa.stores.files import FileSearch  # noqa: E402
from qa.stores.postgres import PostgresStore  # noqa: E402
from qa.stores.published import DatabaseSearch, publish  # noqa: E402
from qa.vector_search import HNSW_EF_SEARCH  # noqa: E402

DEFAULT_SIZES = "seeds,100000"
DEFAULT_WORK = Path(tempfile.gettempdir()) / "qa-bench-stores"
#: Synthetic questions timed per engine: a few hundred make p95 a stable tail on a shared machine.
SYNTHETIC_QUESTIONS = 300
#: Untimed questions first, per engine: imports, first connections and caches settle.
WARMUP_QUESTIONS = 5
#: The seeds build and publish take seconds, where one scheduler hiccup is 10 %: best of a few.
SEEDS_REPEATS = 3
#: Recall is counted over this many nearest chunks (as `scale.py` does).
RECALL_AT = scale.RECALL_AT
#: ef_search values measured besides `postgres.DEFAULT_EF_SEARCH`: pgvector's own default (40),
#: one between, and one above, to show the recall/latency trade either way.
OTHER_EF_SEARCH = (40, 100, 400)


def say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


class StandInEncoder:
    """The engine's question encoder (`qa.index.encoder.Encoder`) for a stand-in corpus: questions get
    the stand-in's vectors, the same geometry as the chunks'."""

    def __init__(self, stand_in: BagOfWordVectors) -> None:
        self._stand_in = stand_in
        self.dimension = stand_in._dimension

    def embed(self, texts) -> np.ndarray:
        return np.stack([self._stand_in.vector(t) for t in texts]).astype(np.float32)


# -- the database ------------------------------------------------------------------------


class ThrowAwayServer:
    """A PostgreSQL server with pgvector in a temporary folder (`qa.stores.local_postgres`),
    stopped and removed on exit."""

    def __enter__(self) -> str:
        from qa.stores.local_postgres import LocalPostgres

        self.server = LocalPostgres().start()
        self.server.psql("CREATE EXTENSION IF NOT EXISTS vector")
        return self.server.socket_uri

    def __exit__(self, *exc) -> None:
        try:
            self.server.stop()
        finally:
            self.server.remove()


# -- measurements ------------------------------------------------------------------------


def build_seconds(corpus: Path, index_dir: Path, embedder, repeats: int):
    """`IndexStore.build` of the whole corpus (reuse=False: every chunk embedded anew), best of
    ``repeats``; returns seconds, the embedding's share of them, and the built index."""
    settings = Settings(seeds_dir=corpus, index_dir=index_dir)
    articles = load_corpus(corpus)
    store = IndexStore(index_dir, settings)
    runs = [timed(store.build, articles, embedder, progress=False, reuse=False) for _ in range(repeats)]
    seconds, index = min(runs, key=lambda run: run[0])
    return seconds, float(index.manifest["embed_seconds"]), index


def publish_seconds(index, uri: str, repeats: int) -> tuple[float, dict]:
    """`publish` of ``index`` to the database (each run replaces the previous build), best of
    ``repeats``; returns seconds and the steps' seconds of the best run."""
    runs = []
    for _ in range(repeats):
        marks: list[tuple[str, float]] = []
        started = time.perf_counter()
        publish(index, PostgresStore(uri), report=lambda message: marks.append((message, time.perf_counter())))
        finished = time.perf_counter()
        ends = [t for _, t in marks[1:]] + [finished]
        steps = {message: round(end - began, 2) for (message, began), end in zip(marks, ends)}
        runs.append((finished - started, steps))
    return min(runs, key=lambda run: run[0])


def engines(corpus: Path, index_dir: Path, uri: str, embedder, encoder) -> tuple[dict, dict]:
    """An engine on the index folder and one on the database, loaded; and their load seconds."""
    files = QAEngine(Settings(seeds_dir=corpus, index_dir=index_dir), embedder=embedder, encoder=encoder)
    database = QAEngine(Settings(seeds_dir=corpus, index_dir=index_dir, store=uri), embedder=embedder, encoder=encoder)
    load = {"files": timed(files.load, False)[0], "postgres": timed(database.load, False)[0]}
    return {"files": files, "postgres": database}, load


def ask_latency(engines_by_store: dict, questions: list[str], warmup: list[str]) -> dict:
    """Warm `ask()` in ms per store, interleaved question by question (the order alternating),
    so a busy machine slows both alike."""
    names = list(engines_by_store)
    for q in warmup:
        for name in names:
            engines_by_store[name].ask(q)
    samples: dict[str, list[float]] = {name: [] for name in names}
    for i, q in enumerate(questions):
        for name in names if i % 2 == 0 else reversed(names):
            samples[name].append(timed(engines_by_store[name].ask, q)[0])
    return {name: {"p50": percentile(ms(s), 50), "p95": percentile(ms(s), 95)} for name, s in samples.items()}


def exact_neighbours(vectors: np.ndarray, queries: np.ndarray, k: int) -> np.ndarray:
    """Each query's ``k`` nearest rows by inner product (cosine: the vectors are normalised), numpy brute force."""
    scores = queries @ vectors.T
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
    return top


def recall(truth: np.ndarray, found: list[list[int]]) -> float:
    return float(np.mean([len(set(t.tolist()) & set(f)) / len(t) for t, f in zip(truth, found)]))


def dense_recall(uri: str, faiss_index, queries: np.ndarray) -> dict:
    """recall@10 against exact search, and the search's p50 (ms): FAISS's HNSW (the index
    folder's, at its own ef_search), and pgvector's at each ef_search."""
    vectors = faiss_index.reconstruct_n(0, faiss_index.ntotal)
    truth = exact_neighbours(vectors, queries, RECALL_AT)
    exact_ms = ms([timed(exact_neighbours, vectors, q[np.newaxis, :], RECALL_AT)[0] for q in queries[:50]])
    faiss_found, faiss_ms = [], []
    for q in queries:
        seconds, (_scores, rows) = timed(faiss_index.search, q[np.newaxis, :], RECALL_AT)
        faiss_ms.append(seconds * 1000)
        faiss_found.append([int(r) for r in rows[0]])
    out = {
        "exact_p50_ms": percentile(exact_ms, 50),
        "faiss": {"kind": type(faiss_index).__name__, "ef_search": _faiss_ef_search(faiss_index), "recall": recall(truth, faiss_found), "p50_ms": percentile(faiss_ms, 50)},
        "pgvector": {},
    }
    for ef_search in sorted({postgres.DEFAULT_EF_SEARCH, *OTHER_EF_SEARCH}):
        with PostgresStore(uri, ef_search=ef_search) as store:
            store.load()
            store.dense(queries[0], RECALL_AT)  # connect
            found, times = [], []
            for q in queries:
                seconds, rows = timed(store.dense, q, RECALL_AT)
                times.append(seconds * 1000)
                found.append([row for row, _ in rows])
        out["pgvector"][ef_search] = {"recall": recall(truth, found), "p50_ms": percentile(times, 50)}
        say(f"  ef_search {ef_search}: recall@{RECALL_AT} {out['pgvector'][ef_search]['recall']:.3f}")
    return out


def candidate_latency(engines_by_store: dict, questions: list[str], vectors: np.ndarray) -> dict:
    """p50 (ms) of the two searches one `ask()` makes, at the depth the retriever asks for,
    with each engine's own search (FAISS + bm25s in memory; pgvector + the BM25 weights table)."""
    out = {}
    for name, engine in engines_by_store.items():
        retriever = engine._retriever
        search, k = retriever._search, retriever._candidates
        search.dense(vectors[0], k), search.lexical(questions[0], k)  # warm
        dense = ms([timed(search.dense, v, k)[0] for v in vectors])
        lexical = ms([timed(search.lexical, q, k)[0] for q in questions])
        out[name] = {"k": k, "dense_p50": percentile(dense, 50), "lexical_p50": percentile(lexical, 50)}
    assert isinstance(engines_by_store["files"]._retriever._search, FileSearch)
    assert isinstance(engines_by_store["postgres"]._retriever._search, DatabaseSearch)
    return out


# -- the corpora -------------------------------------------------------------------------


def store_rows(label: str, built: dict, published: tuple[float, dict], load: dict, asked: dict, repeats: int) -> list[Row]:
    section = f"stores ({label})"
    files = "index folder (FAISS + bm25s)"
    best = f", best of {repeats}" if repeats > 1 else ""
    return [
        Row(section, f"publish to PostgreSQL (publish(){best})", published[0], "s",
            f"IndexStore.build into the folder (reuse=False{best})", built["seconds"]),
        Row(section, "publish to PostgreSQL, against the build without embedding", published[0], "s",
            "IndexStore.build beyond embedding", built["seconds"] - built["embed_seconds"]),
        Row(section, "engine load, PostgreSQL (chunks + documents read)", load["postgres"], "s",
            f"engine load, {files}", load["files"]),
        Row(section, f"ask() p50, PostgreSQL ({asked['questions']} questions)", asked["postgres"]["p50"], "ms",
            f"ask() p50, {files}", asked["files"]["p50"]),
        Row(section, "ask() p95, PostgreSQL", asked["postgres"]["p95"], "ms",
            f"ask() p95, {files}", asked["files"]["p95"]),
    ]


def seeds_corpus(seeds: Path, work: Path, uri: str) -> tuple[list[Row], dict, object]:
    """The seeds with the real model: build, publish, load, ask over the eval questions.
    Returns rows, details and the ONNX question encoder (the stand-in is made from it)."""
    index_dir = work / "index-seeds"
    shutil.rmtree(index_dir, ignore_errors=True)
    loader = QAEngine(Settings(seeds_dir=seeds, index_dir=index_dir))
    embedder = loader.embedder
    say("seeds: first build (exports the model to ONNX; not timed)")
    first, _ = timed(IndexStore(index_dir, loader.settings).build, load_corpus(seeds), embedder, progress=False)
    say(f"seeds: build, best of {SEEDS_REPEATS}")
    seconds, embed_seconds, index = build_seconds(seeds, index_dir, embedder, SEEDS_REPEATS)
    built = {"seconds": seconds, "embed_seconds": embed_seconds, "first_build_s": first, "counts": index.manifest["counts"]}
    say(f"seeds: publish, best of {SEEDS_REPEATS}")
    published = publish_seconds(index, uri, SEEDS_REPEATS)
    loader.load(progress=False)
    encoder = loader._encoder
    by_store, load = engines(seeds, index_dir, uri, embedder, encoder)
    questions = [q.question for q in load_questions()]
    say(f"seeds: warm ask() over {len(questions)} eval questions, both stores")
    asked = {**ask_latency(by_store, questions, scale.questions(WARMUP_QUESTIONS, seed=2)), "questions": len(questions)}
    rows = store_rows("seeds", built, published, load, asked, SEEDS_REPEATS)
    return rows, {"build": built, "publish_s": published[0], "publish_steps": published[1], "load_s": load, "ask_ms": asked}, encoder


def synthetic_corpus(size: int, work: Path, uri: str, encoder) -> tuple[list[Row], dict]:
    """A synthetic corpus with the stand-in encoder: build (or reuse), publish, load, ask;
    dense recall against exact search."""
    label = f"{size // 1000}k chunks" if size >= 1000 else f"{size} chunks"
    corpus, index_dir = work / f"corpus-{size}", work / f"index-{size}"
    record = work / f"index-{size}.build.json"  # the build's time, for a rerun that reuses the index
    stand_in = BagOfWordVectors.from_model(encoder.embed, synthetic.vocabulary())
    question_encoder = StandInEncoder(stand_in)
    if not corpus.exists():
        say(f"{label}: writing the corpus")
        synthetic.write_corpus(corpus, size)
    settings = Settings(seeds_dir=corpus, index_dir=index_dir)
    store = IndexStore(index_dir, settings)
    articles = load_corpus(corpus)
    reusable = record.exists() and _up_to_date(store, articles)
    if reusable:
        say(f"{label}: reusing the index built earlier in {index_dir}")
        built = {**json.loads(record.read_text(encoding="utf-8")), "reused": True}
        index = store.load()
    else:
        say(f"{label}: building (stand-in encoder)")
        seconds, embed_seconds, index = build_seconds(corpus, index_dir, stand_in, 1)
        built = {"seconds": seconds, "embed_seconds": embed_seconds, "counts": index.manifest["counts"]}
        record.write_text(json.dumps(built) + "\n", encoding="utf-8")
        built["reused"] = False
    say(f"{label}: publishing to PostgreSQL")
    published = publish_seconds(index, uri, 1)
    say(f"{label}: {published[0]:.0f} s; loading both engines")
    by_store, load = engines(corpus, index_dir, uri, stand_in, question_encoder)
    questions = scale.questions(SYNTHETIC_QUESTIONS)
    say(f"{label}: warm ask() over {len(questions)} synthetic questions, both stores")
    asked = {**ask_latency(by_store, questions, scale.questions(WARMUP_QUESTIONS, seed=2)), "questions": len(questions)}
    vectors = question_encoder.embed(questions)
    say(f"{label}: the searches one ask() makes")
    searches = candidate_latency(by_store, questions, vectors)
    say(f"{label}: recall@{RECALL_AT} against exact search")
    faiss_index = by_store["files"]._index.faiss_index
    recalls = dense_recall(uri, faiss_index, vectors)
    rows = store_rows(label, built, published, load, asked, 1)
    rows += search_rows(label, searches, recalls, faiss_index)
    details = {"build": built, "publish_s": published[0], "publish_steps": published[1], "load_s": load,
               "ask_ms": asked, "searches_ms": searches, "recall": recalls}
    return rows, details


def _up_to_date(store: IndexStore, articles) -> bool:
    try:
        return store.stale_reason(articles) is None
    except Exception:  # missing or unreadable: build it
        return False


def _faiss_ef_search(faiss_index) -> int | None:
    hnsw = getattr(faiss_index, "hnsw", None)
    return int(hnsw.efSearch) if hnsw is not None else None


def search_rows(label: str, searches: dict, recalls: dict, faiss_index) -> list[Row]:
    section = f"stores ({label})"
    k = searches["postgres"]["k"]
    faiss_kind = type(faiss_index).__name__
    rows = [
        Row(section, f"dense candidates (top {k}) p50, pgvector HNSW", searches["postgres"]["dense_p50"], "ms",
            f"FAISS {faiss_kind} p50", searches["files"]["dense_p50"]),
        Row(section, f"BM25 candidates (top {k}) p50, weights table", searches["postgres"]["lexical_p50"], "ms",
            "bm25s matrix in memory p50", searches["files"]["lexical_p50"]),
    ]
    faiss = recalls["faiss"]
    faiss_name = f"FAISS {faiss['kind']}" + (f" (ef_search={faiss['ef_search']})" if faiss["ef_search"] else "")
    for ef_search, found in recalls["pgvector"].items():
        default = " (store default)" if ef_search == postgres.DEFAULT_EF_SEARCH else ""
        rows.append(Row(section, f"pgvector HNSW recall@{RECALL_AT}, ef_search={ef_search}{default}", found["recall"], "",
                        f"{faiss_name} recall@{RECALL_AT}", faiss["recall"]))
        rows.append(Row(section, f"pgvector dense() p50, ef_search={ef_search}", found["p50_ms"], "ms",
                        f"{faiss_name} search p50", faiss["p50_ms"]))
    return rows


# -- the run -----------------------------------------------------------------------------


def run(seeds: Path, work: Path, sizes: list, uri: str) -> tuple[list[Row], dict]:
    """Rows and details for ``sizes`` ("seeds" and/or chunk counts) against the database at ``uri``."""
    rows, details = [], {}
    found, details["seeds"], encoder = seeds_corpus(seeds, work, uri)
    if "seeds" in sizes:
        rows += found
    else:  # the seeds' build still made the ONNX encoder the stand-in is taken from
        details.pop("seeds")
    for size in sorted(s for s in sizes if s != "seeds"):
        found, details[str(size)] = synthetic_corpus(size, work, uri, encoder)
        rows += found
    return rows, details


def notes(details: dict, load_before: float, load_after: float, uri_given: bool) -> list[str]:
    out = [
        f"Noisy: 2 cores, shared with other work during the run (load average {load_before:.1f} at the start, "
        f"{load_after:.1f} at the end); PostgreSQL ran on the same 2 cores as the engines. Each figure's reference "
        "was measured in the same run (ask() interleaved question by question), so ratios are fairer than values.",
        ("PostgreSQL: the server given by --uri." if uri_given else
         "PostgreSQL: a throw-away pgserver (PostgreSQL 16 + pgvector, `qa/stores/local_postgres.py`), fsync off, "
         "default shared_buffers; reached through its Unix socket."),
        f"pgvector HNSW m={postgres.HNSW_M}, ef_construction={postgres.HNSW_EF_CONSTRUCTION}, store default "
        f"ef_search={postgres.DEFAULT_EF_SEARCH}; FAISS (index folder, above 20k chunks) HNSW m=32, "
        f"ef_construction=80, ef_search={HNSW_EF_SEARCH}. Recall is against numpy brute force over the same vectors.",
    ]
    for key, d in details.items():
        build = d["build"]
        if key != "seeds":
            out.append(
                f"{key} chunks: built with the stand-in encoder (`stand_in.py`, {build['embed_seconds']:.0f} s of "
                f"the build's {build['seconds']:.0f} s); questions embedded by the same stand-in, so dense rankings "
                "and recall are meaningful. " + ("The build time is from the earlier run that built this index "
                "(reused from --work)." if build.get("reused") else ""))
        steps = ", ".join(f"{_step_name(m)}: {s} s" for m, s in d["publish_steps"].items() if s)
        out.append(f"{key}: publish steps: {steps}.")
    return out


def _step_name(message: str) -> str:
    """A publish step's message without the build's name and the parenthesis."""
    return re.sub(r" into qa_build_\w+| \(.*", "", message)


def write_markdown(path: Path, rows: list[Row], info: dict, note_lines: list[str], command: str, wall_s: float) -> None:
    cells = report.table(rows)
    lines = [
        "# Index stores: files against PostgreSQL",
        "",
        f"Measured {info['date']} on {info['cpu']}, {info['cores']} cores, {info['memory']}, "
        f"Python {info['python']}, {info['system']}. Command: `{command}` ({wall_s / 60:.0f} min).",
        "",
        "`value` is PostgreSQL's figure, `reference` the index folder's (files) measured in the same run; "
        "`ratio` = value / reference. See `benchmarks/README.md`.",
        "",
        "| " + " | ".join(cells[0][:6]) + " |",
        "|" + "---|" * 6,
        *("| " + " | ".join(c.replace("|", "\\|") for c in row[:6]) + " |" for row in cells[1:]),
        "",
        *(f"- {note}" for note in note_lines),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=DEFAULT_SIZES,
                        help="'seeds' and/or synthetic corpus sizes in chunks, comma-separated (default: %(default)s)")
    parser.add_argument("--seeds", type=Path, default=ROOT / "seeds")
    parser.add_argument("--work", type=Path, default=DEFAULT_WORK,
                        help="corpora and indexes; a synthetic corpus and index found there are reused (default: %(default)s)")
    parser.add_argument("--uri", help="a PostgreSQL database with pgvector whose `qa` namespace may be overwritten "
                        "(default: a throw-away server)")
    parser.add_argument("--out", type=Path, default=HERE, help="where results-stores.md/.json go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    sizes = [s if s == "seeds" else int(s) for s in args.sizes.split(",") if s]
    args.work.mkdir(parents=True, exist_ok=True)
    started, load_before = time.perf_counter(), os.getloadavg()[0]
    if args.uri:
        rows, details = run(args.seeds, args.work, sizes, args.uri)
    else:
        with ThrowAwayServer() as uri:
            rows, details = run(args.seeds, args.work, sizes, uri)
    wall_s = time.perf_counter() - started
    info = machine()
    note_lines = notes(details, load_before, os.getloadavg()[0], bool(args.uri))
    command = "python benchmarks/stores.py" + ("" if argv is None and len(sys.argv) == 1 else " " + " ".join(argv if argv is not None else sys.argv[1:]))
    report.print_table(rows)
    for line in note_lines:
        print(f"- {line}")
    args.out.mkdir(parents=True, exist_ok=True)
    write_markdown(args.out / "results-stores.md", rows, info, note_lines, command, wall_s)
    (args.out / "results-stores.json").write_text(
        json.dumps({"machine": info, "command": command, "wall_s": wall_s, "rows": [r.to_dict() for r in rows],
                    "details": details, "notes": note_lines}, indent=2, default=str) + "\n", encoding="utf-8")
    print(f"\nWrote {args.out / 'results-stores.md'} ({wall_s / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
