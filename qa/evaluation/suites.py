"""The evaluation suites: which questions, about which articles, with which index.

A suite is data, not code: its question files (one per split) and each split's
id prefix, its categories, the folder of articles its evidence offsets point
into, and where its index and reports go. `SUITES` lists them all;
``qa eval --suite NAME`` and ``python -m qa.evaluation.dataset --suite NAME``
pick one. `qa.evaluation.dataset` validates a suite's questions against it.

* ``seeds`` (the default): the hand-written questions on the articles in
  ``seeds/`` (``evals/FORMAT.md``). Its corpus and index are the engine's own
  (``--seeds``/``--index``, ``$QA_SEEDS_DIR``/``$QA_INDEX_DIR``, ``seeds/``/``index/``).
* ``nyt``: SQuADShifts-NYT questions on 80 New York Times articles, plus
  questions about other NYT articles that must be abstained on
  (``evals/external/README.md``). It has its own corpus and index, whatever
  the environment says.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Mapping

_REPO_ROOT = Path(__file__).resolve().parents[2]
EVALS_DIR = _REPO_ROOT / "evals"
SEEDS_DIR = _REPO_ROOT / "seeds"
EXTERNAL_DIR = EVALS_DIR / "external"
RESULTS_DIR = EVALS_DIR / "results"

#: The difficulty labels every suite uses.
DIFFICULTIES = ("easy", "medium", "hard")


@dataclass(frozen=True)
class Suite:
    """One set of graded questions and the articles it is about."""

    name: str
    description: str
    #: Where the split files live.
    dataset_dir: Path
    #: Split name -> file name inside `dataset_dir`, in reading order.
    split_files: Mapping[str, str]
    #: Split name -> the prefix every id of that split starts with.
    id_prefixes: Mapping[str, str]
    categories: tuple[str, ...]
    #: Categories whose questions the corpus does not answer (``answerable`` is false).
    unanswerable_categories: tuple[str, ...]
    #: The articles the evidence points into; None: the engine's configured corpus.
    corpus_dir: Path | None
    #: The index built from `corpus_dir`; None: the engine's configured index.
    index_dir: Path | None
    #: Where ``qa eval`` writes report.{json,md,png} unless ``--out`` says otherwise.
    results_dir: Path
    #: Categories answered with sentences, not a span (`qa.answering.kinds`): scored by the
    #: gold evidence they cite, not by EM/F1, and left out of the span figures.
    explain_categories: tuple[str, ...] = ()
    #: Categories asking for a summary: scored by the share of gold key sentences cited; their
    #: questions have no short answers.
    summary_categories: tuple[str, ...] = ()

    @property
    def open_categories(self) -> tuple[str, ...]:
        """The categories that are not scored as spans (explain and summary)."""
        return self.explain_categories + self.summary_categories

    def __post_init__(self) -> None:
        if set(self.split_files) != set(self.id_prefixes):
            raise ValueError(f"suite {self.name!r}: every split needs a file and an id prefix")
        if not set(self.unanswerable_categories) <= set(self.categories):
            raise ValueError(f"suite {self.name!r}: unanswerable categories must be categories")

    @property
    def splits(self) -> tuple[str, ...]:
        return tuple(self.split_files)


SEEDS = Suite(
    name="seeds",
    description="hand-written questions on the articles in seeds/ (evals/FORMAT.md)",
    dataset_dir=EVALS_DIR,
    split_files=MappingProxyType({"dev": "questions.jsonl", "heldout": "heldout.jsonl"}),
    id_prefixes=MappingProxyType({"dev": "dev-", "heldout": "ho-"}),
    categories=(
        "numbers",
        "names_places",
        "dates",
        "lists",
        "quotes",
        "paraphrase",
        "multi_doc",
        "conflicting",
        "keyword",
        "typos",
        "followup",
        "unanswerable",
        "near_miss",
        "explain",
        "summary",
    ),
    unanswerable_categories=("unanswerable", "near_miss"),
    corpus_dir=None,
    index_dir=None,
    results_dir=RESULTS_DIR,
    explain_categories=("explain",),
    summary_categories=("summary",),
)

NYT = Suite(
    name="nyt",
    description="SQuADShifts-NYT: crowd-written questions on New York Times articles "
    "(evals/external/README.md)",
    dataset_dir=EXTERNAL_DIR / "nyt",
    split_files=MappingProxyType({"calibration": "calibration.jsonl", "report": "report.jsonl"}),
    id_prefixes=MappingProxyType({"calibration": "nyt-cal-", "report": "nyt-rep-"}),
    categories=("news", "unanswerable"),
    unanswerable_categories=("unanswerable",),
    corpus_dir=EXTERNAL_DIR / "nyt" / "corpus",
    index_dir=_REPO_ROOT / "index" / "nyt",
    results_dir=RESULTS_DIR / "nyt",
)

#: Every suite by name; the first is the default.
SUITES: Mapping[str, Suite] = MappingProxyType({s.name: s for s in (SEEDS, NYT)})
DEFAULT_SUITE = SEEDS.name


def get_suite(name: str) -> Suite:
    """The suite called ``name``; ValueError naming the known ones otherwise."""
    try:
        return SUITES[name]
    except KeyError:
        raise ValueError(f"unknown suite {name!r}; known: {', '.join(SUITES)}") from None
