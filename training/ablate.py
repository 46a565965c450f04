"""Ablation of the answerer's parts on the report splits (NYT report, seeds heldout).

    python -m training.ablate

Each part the reader does not do itself is switched off in turn, on one loaded engine per
suite, and the figures of each variant are printed as a Markdown table. A part stays only
if it helps on both report splits (``evals/README.md`` holds the latest table).
"""

from __future__ import annotations

import argparse
import contextlib

import qa.answering.answerer as answerer_module

#: (suite, split) pairs reported on; never tuned on.
REPORT_SETS = (("nyt", "report"), ("seeds", "heldout"))

#: Variant name -> module settings it changes.
VARIANTS = {
    "full answerer": {},
    "without the names-and-figures check": {"USE_TERMS_CHECK": False},
    "without the retrieval prior": {"RETRIEVAL_WEIGHT": 0.0},
    "without the sentence's support": {"SUPPORT_WEIGHT": 0.0},
    "without other articles' readings (corroboration, differing figures)": {"MAX_CORROBORATING": 0, "OTHER_READING_MARGIN": -1e9},
    "first passage only, no further reading": {"FIRST_READ": 1, "MAX_READ": 1},
}


@contextlib.contextmanager
def patched(changes: dict):
    saved = {k: getattr(answerer_module, k) for k in changes}
    for k, v in changes.items():
        setattr(answerer_module, k, v)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(answerer_module, k, v)


def main(argv=None) -> None:
    from qa.evaluation import cli as eval_cli
    from qa.evaluation.harness import run_eval

    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args(argv)
    loaded = {}
    for suite, split in REPORT_SETS:
        loaded[(suite, split)] = eval_cli.split_and_engine(suite, split)
    header = "| variant | " + " | ".join(
        f"{s}/{p} HasAns F1 | {s}/{p} NoAns | {s}/{p} p50 ms" for s, p in REPORT_SETS
    ) + " |"
    lines = [header, "|---|" + "---|---|---|" * len(REPORT_SETS)]
    for name, changes in VARIANTS.items():
        cells = []
        with patched(changes):
            for key in REPORT_SETS:
                questions, engine, settings = loaded[key]
                run = run_eval(engine, questions, warmup=2, seeds_dir=settings.seeds_dir, label=name)
                o = run.overall
                cells.append(f"{o.has_ans_f1:.3f} | {o.no_ans_accuracy:.2f} | {o.latency.p50 * 1000:.0f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    print("\n".join(lines))


if __name__ == "__main__":
    main()
