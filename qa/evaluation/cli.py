"""The ``qa eval`` command: evaluate the engine on the graded questions and write the reports.

`add_arguments` and `run` are what ``qa eval`` wires in; `main` serves
``python -m qa.evaluation``. Heavy imports (the engine, matplotlib) happen
inside `run`, so ``--help`` is instant.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from qa.evaluation.suites import DEFAULT_SUITE, SUITES, Suite, get_suite

#: The retrieval modes ``--compare`` runs, in the order of the ablation table's columns.
COMPARE_MODES = ("bm25", "dense", "hybrid")
ALL_SPLITS = "all"
#: Every suite's splits, and "all"; `select_questions` checks the split belongs to the suite.
SPLIT_CHOICES = tuple(dict.fromkeys(s for suite in SUITES.values() for s in suite.splits)) + (ALL_SPLITS,)
#: Dataset problems printed before the run; the rest are counted.
MAX_PROBLEMS_SHOWN = 10
EXIT_OK = 0
EXIT_ERROR = 2

DESCRIPTION = """\
Ask every graded question, print a table (overall, per split, per category)
and write report.json, report.md (every failure, with why) and report.png to
--out. Exit status 0 on a completed run, 2 on an error (bad dataset, missing
index or model)."""
EXAMPLES = """\
examples:
  qa eval                                    # every question, both splits
  qa eval --compare                          # bm25 vs dense vs hybrid, side by side
  python -m qa.evaluation --split heldout --category numbers --limit 20
  qa eval --suite nyt --split report         # the external NYT benchmark (index/nyt/)"""


def split_choices(suite: Suite) -> tuple[str, ...]:
    """What ``--split`` may be for ``suite``: each of its splits, or all."""
    return suite.splits + (ALL_SPLITS,)


def _suites_help() -> str:
    return "; ".join(f"{s.name}: {'|'.join(split_choices(s))}" for s in SUITES.values())


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``qa eval`` and ``python -m qa.evaluation``."""
    parser.add_argument(
        "--suite", choices=list(SUITES), default=DEFAULT_SUITE,
        help=f"which question set, with its own articles and index (default: {DEFAULT_SUITE}): "
        + "; ".join(f"{s.name}: {s.description}" for s in SUITES.values()),
    )
    parser.add_argument(
        "--split", choices=SPLIT_CHOICES, default=ALL_SPLITS, metavar="SPLIT",
        help=f"which questions to ask, by suite ({_suites_help()}; default: all; the report "
        "shows each split separately)",
    )
    parser.add_argument(
        "--compare", action="store_true",
        help=f"run the questions with each retrieval mode ({', '.join(COMPARE_MODES)}) on one "
        "loaded engine and print an ablation table",
    )
    parser.add_argument(
        "--category", action="append", metavar="C",
        help="only this category (repeatable), e.g. --category numbers --category dates",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="only the first N questions")
    parser.add_argument("--out", type=Path, metavar="DIR",
                        help="report directory (default: evals/results/, or evals/results/<suite>/)")
    parser.add_argument("--dataset", type=Path, metavar="PATH",
                        help="a .jsonl file or a directory of split files (default: the suite's)")
    parser.add_argument("--seeds", type=Path, metavar="DIR",
                        help="article directory (default: the suite's; seeds: $QA_SEEDS_DIR or seeds/)")
    parser.add_argument("--index", type=Path, metavar="DIR",
                        help="index directory (default: the suite's; seeds: $QA_INDEX_DIR or index/, "
                        "nyt: index/nyt/)")
    parser.add_argument(
        "--warmup", type=int, default=None, metavar="N",
        help="untimed calls before the timed pass (default: 3)",
    )


class UsageError(Exception):
    """A bad option value or an empty selection: one line on stderr, exit 2."""


def suite_of(args: argparse.Namespace) -> Suite:
    """The suite ``--suite`` names (the default suite when the option is absent)."""
    return get_suite(getattr(args, "suite", None) or DEFAULT_SUITE)


def select_questions(args: argparse.Namespace) -> list:
    """The questions of the chosen split(s), filtered by category, then cut to --limit."""
    from qa.evaluation.dataset import load_questions

    suite = suite_of(args)
    if args.split not in split_choices(suite):
        raise UsageError(
            f"--split {args.split} is not a split of suite {suite.name}; "
            f"choose from {', '.join(split_choices(suite))}"
        )
    splits = suite.splits if args.split == ALL_SPLITS else (args.split,)
    # A single .jsonl file is read whole, whatever its splits: keep the chosen ones.
    questions = [q for q in load_questions(args.dataset, splits, suite) if q.split in splits]
    if args.category:
        unknown = sorted(set(args.category) - set(suite.categories))
        if unknown:
            raise UsageError(
                f"unknown category {', '.join(unknown)} in suite {suite.name}; "
                f"known: {', '.join(suite.categories)}"
            )
        questions = [q for q in questions if q.category in args.category]
    if args.limit is not None:
        if args.limit < 1:
            raise UsageError(f"--limit must be at least 1; got {args.limit}")
        questions = questions[: args.limit]
    if not questions:
        raise UsageError("no questions match the chosen split and categories")
    return questions


def engine_settings(args: argparse.Namespace):
    """The engine's settings: ``--seeds``/``--index``, else the suite's corpus and index,
    else (for a suite that has none of its own) the environment and defaults."""
    from qa.config import Settings

    suite = suite_of(args)
    return Settings.from_env(
        seeds_dir=args.seeds or suite.corpus_dir, index_dir=args.index or suite.index_dir
    )


def build_engine(args: argparse.Namespace):
    """The loaded engine for `engine_settings`, and those settings."""
    from qa.engine import QAEngine

    settings = engine_settings(args)
    return QAEngine.from_settings(settings).load(), settings


def split_and_engine(suite: str, split: str):
    """A split's questions, the loaded engine for its suite and its settings, as ``qa eval
    --suite SUITE --split SPLIT`` would have them (for the studies under ``training/``)."""
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(["--suite", suite, "--split", split])
    return (select_questions(args), *build_engine(args))


def _warn_about(questions: Sequence, seeds_dir: Path, suite: Suite) -> None:
    from qa.evaluation.dataset import validate

    problems = validate(questions, seeds_dir, suite)
    for problem in problems[:MAX_PROBLEMS_SHOWN]:
        print(f"warning: dataset: {problem}", file=sys.stderr)
    if len(problems) > MAX_PROBLEMS_SHOWN:
        print(f"warning: dataset: {len(problems) - MAX_PROBLEMS_SHOWN} more problem(s);"
              f" run python -m qa.evaluation.dataset --suite {suite.name}", file=sys.stderr)


def _evaluate(args: argparse.Namespace) -> int:
    from qa.evaluation import chart, report
    from qa.evaluation.harness import DEFAULT_WARMUP, run_eval

    suite = suite_of(args)
    questions = select_questions(args)
    engine, settings = build_engine(args)
    _warn_about(questions, settings.seeds_dir, suite)
    warmup = DEFAULT_WARMUP if args.warmup is None else args.warmup
    modes = COMPARE_MODES if args.compare else (settings.retrieval,)
    runs = []
    for mode in modes:
        mode_engine = engine.with_retrieval(mode) if args.compare else engine
        print(f"evaluating {len(questions)} questions with {mode} retrieval ...", file=sys.stderr)
        runs.append(run_eval(mode_engine, questions, warmup=warmup,
                             seeds_dir=settings.seeds_dir, label=mode))
    primary = next((r for r in runs if r.label == settings.retrieval), runs[-1])
    ablation = runs if args.compare else []

    print(report.format_table(primary))
    if ablation:
        print()
        print(report.format_ablation(ablation))
    out = args.out or suite.results_dir
    out.mkdir(parents=True, exist_ok=True)
    paths = [
        report.write_json(out / report.JSON_NAME, primary, ablation),
        report.write_markdown(out / report.MARKDOWN_NAME, primary, ablation),
        chart.write_chart(out / chart.CHART_NAME, primary),
    ]
    print(f"\n{len(primary.failures)} failure(s); reports: " + ", ".join(str(p) for p in paths))
    return EXIT_OK


def run(args: argparse.Namespace) -> int:
    """Run the evaluation; errors become one line on stderr and exit status 2."""
    from qa.errors import QAError
    from qa.evaluation.dataset import DatasetError

    try:
        return _evaluate(args)
    except (QAError, DatasetError, UsageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.evaluation",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
    return run(parser.parse_args(argv))
