"""The benchmark: speed, start-up, build, scale and memory, each beside its reference.

    python benchmarks/run.py                       # everything (about 15-25 min on 2 cores)
    python benchmarks/run.py --sizes 1000          # a quick run: seeds and the 1k corpus only
    python benchmarks/run.py --work /tmp/bench     # keep corpora and indexes there

Prints a table and writes benchmarks/results.md, results.json and results.png.
Asserts nothing: correctness lives in tests/, answer quality in evals/.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing
sys.path.insert(0, str(HERE))

import build  # noqa: E402
import cold_start  # noqa: E402
import latency  # noqa: E402
import report  # noqa: E402
import scale  # noqa: E402
import synthetic  # noqa: E402
from measure import machine  # noqa: E402
from stand_in import BagOfWordVectors  # noqa: E402

from qa.config import Settings  # noqa: E402
from qa.engine import QAEngine  # noqa: E402
from qa.evaluation.dataset import load_questions  # noqa: E402
from qa.evaluation.suites import get_suite  # noqa: E402

DEFAULT_SIZES = (1_000, 10_000, 100_000)
#: Corpora up to this many chunks are embedded with the real model.
REAL_MODEL_MAX_CHUNKS = 1_000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)),
                        help="synthetic corpus sizes in chunks, comma-separated (default: %(default)s)")
    parser.add_argument("--seeds", type=Path, default=HERE.parent / "seeds")
    parser.add_argument("--work", type=Path, help="directory for corpora and indexes (default: a temporary one)")
    parser.add_argument("--out", type=Path, default=HERE, help="where results.md/.json/.png go")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    work = args.work or Path(tempfile.mkdtemp(prefix="qa-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        rows, details = run(args.seeds, work, sizes)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)
    info = machine()
    report.print_table(rows)
    args.out.mkdir(parents=True, exist_ok=True)
    report.write_markdown(args.out / "results.md", rows, info, notes(details))
    if details["scale"]:
        report.plot(args.out / "results.png", details["scale"])
    (args.out / "results.json").write_text(
        json.dumps({"machine": info, "rows": [r.to_dict() for r in rows], "details": details}, indent=2, default=str)
        + "\n", encoding="utf-8")
    print(f"\nWrote {args.out / 'results.md'}")
    return 0


def say(message: str) -> None:
    print(f"... {message}", file=sys.stderr, flush=True)


def run(seeds: Path, work: Path, sizes: list[int]) -> tuple[list, dict]:
    rows, details = [], {"scale": []}
    seeds_index = work / "index-seeds"
    say("seeds: building the index (first build exports the model to ONNX)")
    engine = QAEngine(Settings(seeds_dir=seeds, index_dir=seeds_index))
    embedder = engine.embedder
    found, info = build.real_build("seeds", seeds, seeds_index, embedder)
    rows += found
    details["build_seeds"] = info
    engine.load(progress=False)

    say("warm latency over the eval questions")
    found, details["latency"] = latency.run(engine, [q.question for q in load_questions()])
    rows += found

    say("nyt suite: building its index, then warm latency over its questions")
    nyt = get_suite("nyt")
    nyt_engine = QAEngine(Settings(seeds_dir=nyt.corpus_dir, index_dir=work / "index-nyt"), embedder=embedder)
    nyt_engine.load(progress=False)
    nyt_questions = [q.question for q in load_questions(nyt.dataset_dir, nyt.splits, suite=nyt)]
    found, details["latency_nyt"] = latency.run(nyt_engine, nyt_questions, corpus="nyt")
    rows += found

    say("unseen corpus: `qa index --full` in a new process against sentence-transformers in one")
    found, details["new_process_build"] = build.new_process_rebuild(work)
    rows += found

    say("cold start: new `qa ask` processes")
    found, details["cold_start"] = cold_start.run(seeds, seeds_index)
    rows += found

    encoder = engine._encoder
    seconds_per_text = None
    largest = max(sizes) if sizes else None
    for size in sorted(sizes):
        label = f"{size // 1000}k chunks" if size >= 1000 else f"{size} chunks"
        corpus = work / f"corpus-{size}"
        index_dir = work / f"index-{size}"
        if not corpus.exists():
            synthetic.write_corpus(corpus, size)
        say(f"{label}: building")
        if size <= REAL_MODEL_MAX_CHUNKS:
            found, info = build.real_build(label, corpus, index_dir, embedder)
            seconds_per_text = info["seconds_per_text"]
            builder, question_vectors = embedder, encoder.embed
            say(f"{label}: adding one article")
            added, details[f"add_{size}"] = build.incremental_add(label, corpus, index_dir, embedder)
            found += added
        else:
            if seconds_per_text is None:
                raise SystemExit(f"--sizes needs a corpus of at most {REAL_MODEL_MAX_CHUNKS} chunks to measure the model")
            stand_in = BagOfWordVectors.from_model(encoder.embed, synthetic.vocabulary())
            found, info = build.stand_in_build(label, corpus, index_dir, stand_in, seconds_per_text)
            builder, question_vectors = stand_in, stand_in._get_text_embeddings
        rows += found
        details[f"build_{size}"] = {k: v for k, v in info.items() if k != "index"}
        say(f"{label}: search and ask()")
        engine_at = QAEngine(Settings(seeds_dir=corpus, index_dir=index_dir), embedder=builder, encoder=encoder)
        engine_at.load(progress=False)
        index = engine_at._index
        vectors = scale.query_vectors(question_vectors, scale.questions())
        found, point = scale.search(label, index.faiss_index, index.manifest["vector_index"], vectors, size == largest)
        rows += found
        found, asked = scale.ask_latency(label, corpus, index_dir, builder, encoder, size == largest)
        rows += found
        details["scale"].append({**point, **asked})
        if size == largest:
            say(f"{label}: peak memory")
            rows.append(scale.peak_memory(label, corpus, index_dir, encoder.directory))
    return rows, details


def notes(details: dict) -> list[str]:
    out = []
    rate = details.get("build_1000", {}).get("chunks_per_second")
    if rate:
        out.append(
            f"The real model embeds about {rate:.0f} chunks a second here, so corpora above "
            f"{REAL_MODEL_MAX_CHUNKS} chunks are built with a stand-in encoder (the mean of the model's word "
            "vectors, `benchmarks/stand_in.py`): their build rows compare the pipeline's own time with the "
            "model's encode time projected from the 1k corpus, and their questions are still embedded by the "
            "real ONNX encoder, so ask() latency is the real one."
        )
    out.append("Targets are the issue's; `NO` marks a target not met on this run.")
    return out


if __name__ == "__main__":
    sys.exit(main())
