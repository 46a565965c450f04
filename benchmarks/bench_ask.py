"""How long the engine takes on this machine: model load, index build and load, warm ``ask()``.

    python benchmarks/bench_ask.py                 # fresh temporary index, 3 repeats
    python benchmarks/bench_ask.py --index index/  # time against an existing index
    python benchmarks/bench_ask.py --repeat 5 --json > bench.json

Prints figures, asserts nothing. See benchmarks/README.md for how to read them.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from qa.config import Settings  # noqa: E402

#: Untimed calls before timing, so lazy imports and first-call costs do not count.
DEFAULT_WARMUP = 5
DEFAULT_REPEAT = 3

#: Warm-up questions, none of them timed: the engine caches word matches, so a
#: timed question asked during warm-up would look faster than a new one.
WARMUP_QUESTIONS = [
    "What did the minister say?",
    "Which ministers met in Moscow?",
    "How much oil does China buy?",
    "What is the Northern Sea Route?",
    "Who is the EAM?",
]

#: Questions timed (written for the benchmark, not the eval set): facts of every kind,
#: sentence answers, off-topic and near-miss questions, follow-ups with history.
QUESTIONS: list[tuple[str, list[str]]] = [
    (q, [])
    for q in [
        "How many Indians were recruited?",
        "How many Indians were listed as missing?",
        "How many Indians were discharged?",
        "How much were India's petroleum and crude imports worth in 2024?",
        "How much was India-Russia trade worth in 2021?",
        "How much was bilateral trade worth in 2024-25?",
        "How much was trade between India and Russia worth in 2024-25?",
        "What share of India's energy needs does Russia provide?",
        "What tariff did Trump impose on Indian goods?",
        "What additional penalty did the US impose for purchasing Russian crude oil?",
        "Who is Russia's foreign minister?",
        "Which Chinese foreign minister did Jaishankar meet?",
        "Who is Russia's First Deputy Prime Minister?",
        "Who doubled tariffs on Indian goods?",
        "Where will the new Indian consulates be opened?",
        "Where did Modi and Putin meet?",
        "Where did Jaishankar meet Wang Yi?",
        "In which city did Jaishankar and Lavrov meet?",
        "When did Jaishankar meet Putin?",
        "When is Putin expected to visit India?",
        "How long was Jaishankar's visit?",
        "Which day of the week did Jaishankar meet Lavrov?",
        "Which sectors could boost Indian exports to Russia?",
        "Which fields need Indian skilled workers in Russia?",
        "Which platforms did Lavrov say are new centres of power?",
        "Which connectivity routes were discussed?",
        "Which regional issues were discussed?",
        "What did Jaishankar call Western criticism?",
        "How did Jaishankar describe the meeting with Manturov?",
        "What did Lavrov call the partnership with India?",
        "What did Jaishankar say about terrorism?",
        "What was India's trade deficit with Russia?",
        "Which commodities did India and Russia discuss long-term supplies of?",
        "How did Jaishankar describe India-Russia ties?",
        "Why does India import so much from Russia?",
        "What is the India-Eurasian Economic Union FTA?",
        "Who won the 2022 World Cup?",
        "What is the capital of France?",
        "What is the population of Kazan?",
        "How many Indians were recruited by the Ukrainian army?",
        "How many Indians were recruited in 2019?",
        "When did Trump double tariffs?",
        "How much LNG did India buy from Russia in 2024?",
        "What did Putin say to Jaishankar?",
        "how mnay indains were recruted",
        "Lavrov INSTC",
    ]
] + [
    ("How many of them were killed?", ["How many Indians were recruited?"]),
    ("And discharged?", ["How many Indians were recruited?"]),
    ("And India's exports?", ["What was two-way trade worth in 2024–25?"]),
    ("How long was the visit?", ["When did Jaishankar meet Putin?"]),
]


def stats_ms(seconds: list[float]) -> dict:
    ms = np.asarray(seconds) * 1000.0
    return {
        "n": int(ms.size),
        "p50": round(float(np.percentile(ms, 50)), 2),
        "p95": round(float(np.percentile(ms, 95)), 2),
        "mean": round(float(ms.mean()), 2),
        "max": round(float(ms.max()), 2),
    }


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def run(args: argparse.Namespace) -> dict:
    from qa.corpus import load_corpus
    from qa.embedding import load_embedder
    from qa.engine import QAEngine
    from qa.followup import with_history
    from qa.index import IndexStore
    from qa.question import analyse

    settings = Settings.from_env(seeds_dir=args.seeds)
    articles = load_corpus(settings.seeds_dir)
    scratch = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    try:
        embedder, model_s = timed(load_embedder, settings.model)

        # Build into a fresh directory, then load that build back (nothing embedded on load).
        build_dir = scratch / "index"
        build_settings = settings.with_(index_dir=build_dir)
        built, build_s = timed(IndexStore(build_dir, build_settings).build, articles, embedder, progress=False)
        _loaded, index_load_s = timed(IndexStore(build_dir, build_settings).load, articles, embedder)

        # The engine used for asking: --index DIR (loaded, or built when missing/stale), else the fresh build.
        engine_settings = settings.with_(index_dir=args.index) if args.index else build_settings
        engine = QAEngine(engine_settings, embedder=embedder)
        _engine, engine_load_s = timed(engine.load, progress=False)

        # A second engine on the same model and index, with caches as cold as the first one's,
        # times the steps of QAEngine.ask one by one (so ask() itself runs untouched).
        staged = QAEngine(engine_settings, embedder=embedder).load(progress=False)
        for i in range(args.warmup):
            question = WARMUP_QUESTIONS[i % len(WARMUP_QUESTIONS)]
            engine.ask(question)
            staged.ask(question)

        first_pass_s: list[float] = []
        ask_s: list[float] = []
        stages: dict[str, list[float]] = {"parse": [], "embed query": [], "retrieve": [], "answer": []}
        abstained = 0
        for repetition in range(args.repeat):
            for question, history in QUESTIONS:
                answer, seconds = timed(engine.ask, question, history=history)
                ask_s.append(seconds)
                if repetition == 0:
                    first_pass_s.append(seconds)
                abstained += answer.abstained
            for question, history in QUESTIONS:
                start = time.perf_counter()
                parsed, query = with_history(analyse(question), history)
                t1 = time.perf_counter()
                vector = np.asarray(staged._embedder.get_query_embedding(query), dtype=np.float32)
                t2 = time.perf_counter()
                chunks = staged._retriever.retrieve(query, vector.tolist())
                t3 = time.perf_counter()
                staged._answerer.answer(parsed, chunks, vector)
                t4 = time.perf_counter()
                for name, seconds in zip(stages, (t1 - start, t2 - t1, t3 - t2, t4 - t3)):
                    stages[name].append(seconds)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    try:
        import torch

        threads = torch.get_num_threads()
    except ImportError:
        threads = None
    return {
        "format": "qa-bench/1",
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "torch_threads": threads,
        },
        "settings": {
            "model": settings.model,
            "retrieval": engine_settings.retrieval,
            "top_k": engine_settings.top_k,
            "index": str(args.index) if args.index else "fresh temporary directory",
        },
        "corpus": {"articles": len(articles), **built.manifest["counts"]},
        "one_off_s": {
            "model load": round(model_s, 3),
            "index build (fresh)": round(build_s, 3),
            "index load (existing)": round(index_load_s, 3),
            "engine load": round(engine_load_s, 3),
        },
        "engine_index_status": engine.index_status,
        "questions": len(QUESTIONS),
        "repeat": args.repeat,
        "warmup": args.warmup,
        "abstained_share": round(abstained / len(ask_s), 3),
        "ask_ms": stats_ms(ask_s),
        "ask_first_pass_ms": stats_ms(first_pass_s),
        "stages_ms": {name: stats_ms(values) for name, values in stages.items()},
    }


def format_table(r: dict) -> str:
    m, c = r["machine"], r["corpus"]
    lines = [
        f"qa benchmark: {r['settings']['model']}, {r['settings']['retrieval']} retrieval, top_k {r['settings']['top_k']}; "
        f"{m['cpus']} CPUs, torch {m['torch_threads']} threads, Python {m['python']}",
        f"corpus: {c['articles']} articles, {c['chunks']} passages, {c['sentences']} sentences, {c['vocab']} vocabulary words",
        "",
        f"{'one-off':<28}{'seconds':>9}",
    ]
    for name, seconds in r["one_off_s"].items():
        lines.append(f"  {name:<26}{seconds:>9.2f}")
    lines.append(f"  (engine index: {r['engine_index_status']})")
    lines += [
        "",
        f"warm latency, ms ({r['questions']} questions x {r['repeat']}, after {r['warmup']} warm-up calls)",
        f"  {'':<20}{'p50':>8}{'p95':>8}{'mean':>8}{'max':>8}{'n':>6}",
    ]

    def row(name: str, s: dict) -> str:
        return f"  {name:<20}{s['p50']:>8.1f}{s['p95']:>8.1f}{s['mean']:>8.1f}{s['max']:>8.1f}{s['n']:>6}"

    lines.append(row("ask(), all passes", r["ask_ms"]))
    lines.append(row("ask(), first pass", r["ask_first_pass_ms"]))
    lines.append("  stages of ask(), all passes:")
    for name, s in r["stages_ms"].items():
        lines.append(row(f"    {name}", s))
    lines.append(f"  abstained on {r['abstained_share']:.0%} of the timed calls")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time model load, index build/load and warm ask() latency.",
        epilog="example: python benchmarks/bench_ask.py --repeat 5",
    )
    parser.add_argument("--index", type=Path, metavar="DIR",
                        help="index directory to ask against (default: the fresh build in a temporary directory)")
    parser.add_argument("--seeds", type=Path, metavar="DIR", help="article directory (default: $QA_SEEDS_DIR or seeds/)")
    parser.add_argument("--repeat", type=int, default=DEFAULT_REPEAT, metavar="N",
                        help=f"timed passes over the questions (default {DEFAULT_REPEAT})")
    parser.add_argument("--warmup", type=int, default=DEFAULT_WARMUP, metavar="N",
                        help=f"untimed calls first (default {DEFAULT_WARMUP})")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error(f"--repeat must be at least 1; got {args.repeat}")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    result = run(args)
    print(json.dumps(result, indent=2) if args.json else format_table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
