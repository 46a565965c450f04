"""Reading the public QA data sets out of the bigbench 1.0.0 sdist.

Each data set keeps its own licence (see ``models/reader/README.md``). The sdist is
downloaded once, outside the repository (``pip download --no-deps bigbench==1.0.0``),
and read straight from the tarball: nothing is unpacked into the project.

SQuADShifts-NYT is the project's news-domain *test* set (``evals/external/``) and is
never read here for training; neither are the seed articles.
"""

from __future__ import annotations

import json
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

TASKS = "bigbench-1.0.0/bigbench/benchmark_tasks/"

#: SQuAD-format files used for training (span answers on Wikipedia paragraphs).
SQUAD_FORMAT = {
    "squad_dev": TASKS + "squad_shifts/squaddev_v1.1.json",
    "new_wiki": TASKS + "squad_shifts/new_wiki_v1.0.json",
}
#: The news-domain test set: read only by ``evals/external/build_nyt.py``.
NYT = TASKS + "squad_shifts/nyt_v1.0.json"
#: Disfl-QA: disfluent questions on SQuAD 2.0 paragraphs; target "unknown" = unanswerable.
DISFL_QA = TASKS + "disfl_qa/task.json"


@dataclass
class Paragraph:
    source: str  # which data set
    article: str  # the article's title: splits and negatives are drawn per article
    context: str
    #: (question id, question, [(answer text, char start)]) ; an empty answer list = unanswerable
    questions: list[tuple[str, str, list[tuple[str, int]]]] = field(default_factory=list)


def read_member(sdist: Path, member: str) -> dict:
    with tarfile.open(sdist, "r:gz") as tar:
        f = tar.extractfile(member)
        if f is None:
            raise FileNotFoundError(f"{member} is not in {sdist}")
        return json.load(f)


def squad_paragraphs(data: dict, source: str) -> list[Paragraph]:
    out = []
    for article in data["data"]:
        for p in article["paragraphs"]:
            para = Paragraph(source, f"{source}:{article['title']}", p["context"])
            for qa in p["qas"]:
                answers = [(a["text"], a["answer_start"]) for a in qa["answers"]]
                # SQuADShifts offsets are occasionally off; keep only answers found where they say.
                answers = [(t, s) for t, s in answers if p["context"][s : s + len(t)] == t]
                if answers:
                    para.questions.append((qa["id"], qa["question"], answers))
            if para.questions:
                out.append(para)
    return out


def disfl_unknowns(data: dict) -> list[Paragraph]:
    """Disfl-QA's unanswerable questions, each with the paragraph it was asked on."""
    out = []
    for n, ex in enumerate(data["examples"]):
        if ex["target"] != "unknown":
            continue
        question, _, context = ex["input"].partition("\ncontext:")
        context = context.strip()
        para = Paragraph("disfl_qa", f"disfl_qa:{context[:40]}", context)
        para.questions.append((f"disfl-{n}", question.strip(), []))
        out.append(para)
    return out


def load_training_sources(sdist: Path) -> list[Paragraph]:
    with tarfile.open(sdist, "r:gz") as tar:
        def member(name):
            return json.load(tar.extractfile(name))

        paragraphs = []
        for source, name in SQUAD_FORMAT.items():
            paragraphs += squad_paragraphs(member(name), source)
        paragraphs += disfl_unknowns(member(DISFL_QA))
    return paragraphs
