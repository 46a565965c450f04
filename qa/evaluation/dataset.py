"""The graded evaluation questions: their data model, loader and validator.

The questions live in JSON Lines files under ``evals/`` (one split per file,
see ``evals/FORMAT.md``). `load_questions` reads them and rejects lines that
are not well-formed records; `validate` checks what a well-formed record can
still get wrong (unknown category, evidence offsets that do not reproduce the
article text, ...) and returns readable problems instead of raising.

Which split files, id prefixes and categories are valid is the suite's
(`qa.evaluation.suites`); the default is the seeds' question set.

Run ``python -m qa.evaluation.dataset [--suite NAME] [--seeds DIR] [--evals DIR]``
for a summary and the list of problems (exit code 1 if there are any);
``--fix-offsets`` rewrites evidence offsets from the evidence text where that
text occurs exactly once in its article.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from qa.evaluation.suites import (  # EVALS_DIR, SEEDS_DIR: re-exported for callers
    DIFFICULTIES,
    EVALS_DIR,
    SEEDS,
    SEEDS_DIR,
    SUITES,
    Suite,
    get_suite,
)

# The seeds' question set (the default suite) under its long-standing names.
#: Split name -> file name inside the evals directory.
SPLIT_FILES = dict(SEEDS.split_files)
SPLITS = SEEDS.splits
#: Every id starts with the prefix of its split.
ID_PREFIXES = dict(SEEDS.id_prefixes)
CATEGORIES = SEEDS.categories
#: Categories whose questions the corpus does not answer.
UNANSWERABLE_CATEGORIES = SEEDS.unanswerable_categories

#: The category whose questions only make sense after earlier turns.
FOLLOWUP_CATEGORY = "followup"
ROLES = ("user", "assistant")

#: Keys a record must have, and the JSON type of each.
_REQUIRED_FIELDS = {
    "id": str,
    "split": str,
    "category": str,
    "difficulty": str,
    "question": str,
    "history": list,
    "answerable": bool,
    "answers": list,
    "evidence": list,
}
_OPTIONAL_FIELDS = {"notes": str}
_EVIDENCE_FIELDS = {"source": str, "start": int, "end": int, "text": str}
#: ``key``: for a summary question, the key point the sentence states; sentences of several
#: articles stating the same point share a key, and the point counts once.
_EVIDENCE_OPTIONAL = {"key": str}
_TURN_FIELDS = {"role": str, "content": str}


class DatasetError(ValueError):
    """A question file cannot be read: missing, not JSON, or not a question record."""


@dataclass
class Evidence:
    """A verbatim passage of an article: ``text == article[start:end]``."""

    source: str
    start: int
    end: int
    text: str
    key: str = ""


@dataclass
class EvalQuestion:
    """One graded question, with its accepted answers and supporting evidence."""

    id: str
    split: str
    category: str
    difficulty: str
    question: str
    history: list[dict[str, str]]
    answerable: bool
    answers: list[str]
    evidence: list[Evidence]
    notes: str = ""

    def to_json(self) -> str:
        """The record as one JSON line (non-ASCII kept as-is)."""
        record = asdict(self)
        for ev in record["evidence"]:
            if not ev["key"]:
                del ev["key"]  # only summary questions' evidence has keys
        return json.dumps(record, ensure_ascii=False)


# --- loading -----------------------------------------------------------------


def load_questions(
    path_or_dir: str | Path | None = None,
    splits: Sequence[str] | None = None,
    suite: Suite = SEEDS,
) -> list[EvalQuestion]:
    """Read questions from a directory of split files, or from one ``.jsonl`` file.

    The directory defaults to the suite's; ``splits`` (default: all of the
    suite's) selects which of its split files are read, in that order. A single
    file is read whole. Blank lines are skipped.

    Raises `DatasetError` naming the file and line of the first malformed line.
    """
    path = Path(suite.dataset_dir if path_or_dir is None else path_or_dir)
    splits = suite.splits if splits is None else splits
    if path.is_dir():
        unknown = [s for s in splits if s not in suite.split_files]
        if unknown:
            raise DatasetError(
                f"unknown split(s) {unknown} of suite {suite.name!r}; known: {list(suite.splits)}"
            )
        files = [path / suite.split_files[s] for s in splits]
    else:
        files = [path]
    questions: list[EvalQuestion] = []
    for file in files:
        questions.extend(_read_file(file))
    return questions


def _read_file(path: Path) -> list[EvalQuestion]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{path}: cannot read question file: {exc}") from exc
    questions = []
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(
                f"{path}:{lineno}: invalid JSON ({exc.msg} at column {exc.colno})"
            ) from exc
        try:
            questions.append(_parse_record(record))
        except ValueError as exc:
            raise DatasetError(f"{path}:{lineno}: {exc}") from exc
    return questions


def _check_fields(obj: object, required: dict, optional: dict, what: str) -> dict:
    """Raise ValueError unless ``obj`` is an object with exactly these typed keys."""
    if not isinstance(obj, dict):
        raise ValueError(f"{what} must be a JSON object, got {type(obj).__name__}")
    missing = [k for k in required if k not in obj]
    if missing:
        raise ValueError(f"{what} lacks field(s) {missing}")
    unknown = [k for k in obj if k not in required and k not in optional]
    if unknown:
        raise ValueError(f"{what} has unknown field(s) {unknown}")
    for key, kind in {**required, **optional}.items():
        if key not in obj:
            continue
        value = obj[key]
        # bool is an int in Python; an offset of `true` is still wrong.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"{what} field {key!r} must be {kind.__name__}, got {value!r}")
    return obj


def _parse_record(record: object) -> EvalQuestion:
    rec = _check_fields(record, _REQUIRED_FIELDS, _OPTIONAL_FIELDS, "record")
    if not all(isinstance(a, str) for a in rec["answers"]):
        raise ValueError("record field 'answers' must be a list of strings")
    history = [_check_fields(t, _TURN_FIELDS, {}, "history turn") for t in rec["history"]]
    evidence = [
        Evidence(**_check_fields(e, _EVIDENCE_FIELDS, _EVIDENCE_OPTIONAL, "evidence")) for e in rec["evidence"]
    ]
    return EvalQuestion(
        id=rec["id"],
        split=rec["split"],
        category=rec["category"],
        difficulty=rec["difficulty"],
        question=rec["question"],
        history=history,
        answerable=rec["answerable"],
        answers=list(rec["answers"]),
        evidence=evidence,
        notes=rec.get("notes", ""),
    )


def dump_questions(questions: Iterable[EvalQuestion], path: str | Path) -> None:
    """Write questions to ``path`` as JSON Lines (UTF-8, one record per line)."""
    Path(path).write_text("".join(q.to_json() + "\n" for q in questions), encoding="utf-8")


# --- validation --------------------------------------------------------------


def corpus_dir_of(suite: Suite) -> Path:
    """The articles a suite's evidence points into (the seeds' default: ``seeds/``)."""
    return suite.corpus_dir or SEEDS_DIR


def validate(
    questions: Sequence[EvalQuestion],
    seeds_dir: str | Path | None = None,
    suite: Suite = SEEDS,
) -> list[str]:
    """Every problem of ``questions`` against ``suite`` and the articles in ``seeds_dir``
    (default: the suite's corpus); empty if valid."""
    articles = _Articles(Path(seeds_dir) if seeds_dir is not None else corpus_dir_of(suite))
    problems: list[str] = []
    counts = Counter(q.id for q in questions)
    problems += [f"duplicate id {qid!r} ({n} questions)" for qid, n in counts.items() if n > 1]
    for q in questions:
        problems += [f"{q.id}: {p}" for p in _question_problems(q, articles, suite)]
    return problems


def _question_problems(q: EvalQuestion, articles: _Articles, suite: Suite) -> list[str]:
    problems = []
    if q.split not in suite.split_files:
        problems.append(f"unknown split {q.split!r} (known: {', '.join(suite.splits)})")
    elif not q.id.startswith(suite.id_prefixes[q.split]):
        problems.append(
            f"id of a {q.split} question must start with {suite.id_prefixes[q.split]!r}"
        )
    if q.category not in suite.categories:
        problems.append(
            f"unknown category {q.category!r} (known: {', '.join(suite.categories)})"
        )
    if q.difficulty not in DIFFICULTIES:
        problems.append(
            f"unknown difficulty {q.difficulty!r} (known: {', '.join(DIFFICULTIES)})"
        )
    if not q.question.strip():
        problems.append("empty question")

    if q.category in suite.categories and q.answerable == (
        q.category in suite.unanswerable_categories
    ):
        problems.append(f"answerable={q.answerable} contradicts category {q.category!r}")
    if q.category in suite.summary_categories:
        if q.answers:
            problems.append("a summary question has no short answers; its evidence holds the key sentences")
        if not q.evidence or not all(ev.key for ev in q.evidence):
            problems.append("a summary question needs key sentences as evidence, each with its key")
    elif any(ev.key for ev in q.evidence):
        problems.append("only a summary question's evidence has keys")
    if q.answerable:
        if not q.answers and q.category not in suite.summary_categories:
            problems.append("answerable but has no answers")
        if any(not a.strip() for a in q.answers):
            problems.append("an answer is empty")
        if not q.evidence:
            problems.append("answerable but has no evidence")
    else:
        if q.answers:
            problems.append(f"unanswerable but has answers {q.answers}")
        if q.evidence:
            problems.append("unanswerable but has evidence")

    for turn in q.history:
        if turn.get("role") not in ROLES:
            problems.append(f"history role {turn.get('role')!r} is not one of {', '.join(ROLES)}")
        if not str(turn.get("content", "")).strip():
            problems.append("history turn with empty content")
    if q.category == FOLLOWUP_CATEGORY and not q.history:
        problems.append("followup question without history")

    for ev in q.evidence:
        problems += articles.evidence_problems(ev)
    return problems


class _Articles:
    """The articles of a corpus folder, read on demand, and checks of evidence against them."""

    def __init__(self, seeds_dir: Path):
        self.seeds_dir = seeds_dir
        self._texts: dict[str, str | None] = {}

    def text(self, source: str) -> str | None:
        """The article's text, or None if ``source`` is not a file of the seeds directory."""
        if source not in self._texts:
            path = self.seeds_dir / source
            ok = Path(source).name == source and path.is_file()
            self._texts[source] = path.read_text(encoding="utf-8") if ok else None
        return self._texts[source]

    def evidence_problems(self, ev: Evidence) -> list[str]:
        where = f"evidence [{ev.source} {ev.start}:{ev.end}]"
        text = self.text(ev.source)
        if text is None:
            return [f"{where}: unknown source file (not in {self.seeds_dir})"]
        if not ev.text:
            return [f"{where}: empty evidence text"]
        if 0 <= ev.start <= ev.end <= len(text) and text[ev.start : ev.end] == ev.text:
            return self._furniture_problems(ev, text, where)
        found = find_all(text, ev.text)
        if len(found) == 1:
            fix = f'set "start": {found[0]}, "end": {found[0] + len(ev.text)}'
        elif found:
            fix = f"the text occurs {len(found)} times, at starts {found}; pick one"
        else:
            fix = "the text does not occur in the article; copy it verbatim"
        return [f"{where}: offsets do not reproduce the evidence text; {fix}"]


    def _furniture_problems(self, ev: Evidence, text: str, where: str) -> list[str]:
        """Evidence in page furniture could never be cited (`qa.corpus.furniture`)."""
        from qa.corpus.documents import parse_article
        from qa.corpus.furniture import find, rules_for

        header = parse_article(ev.source, text).body_start
        for start, end, kind in find(text, header, rules=rules_for(self.seeds_dir)):
            if start < ev.end and ev.start < end:
                return [f"{where}: lies in page furniture ({kind}: {text[start:end][:60]!r}), which is never cited; quote the article's own sentence"]
        return []


def find_all(text: str, needle: str) -> list[int]:
    """Start offsets of every (possibly overlapping) occurrence of ``needle`` in ``text``."""
    starts, i = [], text.find(needle)
    while i != -1:
        starts.append(i)
        i = text.find(needle, i + 1)
    return starts


def fix_offsets(questions: Iterable[EvalQuestion], seeds_dir: str | Path = SEEDS_DIR) -> int:
    """Set each evidence's offsets from its text where that text occurs exactly once.

    Returns how many evidence spans were changed; ambiguous or missing texts are
    left alone (`validate` reports them).
    """
    articles = _Articles(Path(seeds_dir))
    changed = 0
    for q in questions:
        for ev in q.evidence:
            text = articles.text(ev.source)
            if text is None or text[ev.start : ev.end] == ev.text:
                continue
            found = find_all(text, ev.text)
            if len(found) == 1:
                ev.start, ev.end = found[0], found[0] + len(ev.text)
                changed += 1
    return changed


# --- command line ------------------------------------------------------------


def summary(questions: Sequence[EvalQuestion], suite: Suite = SEEDS) -> str:
    """A table of question counts by category (rows) and split (columns)."""
    by = Counter((q.split, q.category) for q in questions)
    splits = [s for s in suite.splits if any(q.split == s for q in questions)]
    splits += sorted({q.split for q in questions} - set(splits))
    known = list(suite.categories)
    categories = known + sorted({q.category for q in questions} - set(known))
    width = max(len(c) for c in categories)
    col = max([8] + [len(s) for s in splits])
    lines = [f"{'category':<{width}} " + " ".join(f"{s:>{col}}" for s in splits)]
    for cat in categories:
        lines.append(f"{cat:<{width}} " + " ".join(f"{by[s, cat]:>{col}}" for s in splits))
    totals = Counter(q.split for q in questions)
    lines.append(f"{'total':<{width}} " + " ".join(f"{totals[s]:>{col}}" for s in splits))
    for s in splits:
        unans = sum(1 for q in questions if q.split == s and not q.answerable)
        share = unans / totals[s] if totals[s] else 0.0
        lines.append(f"{s}: {unans} unanswerable of {totals[s]} ({share:.0%})")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m qa.evaluation.dataset",
        description="Summarise and validate the evaluation questions.",
    )
    parser.add_argument(
        "--suite", choices=list(SUITES), default=SEEDS.name,
        help="which question set (default: seeds); see qa/evaluation/suites.py",
    )
    parser.add_argument("--evals", type=Path, help="directory of split files (default: the suite's)")
    parser.add_argument("--seeds", type=Path, help="directory of articles (default: the suite's)")
    parser.add_argument(
        "--fix-offsets",
        action="store_true",
        help="rewrite the split files with evidence offsets recomputed from the evidence text",
    )
    args = parser.parse_args(argv)
    suite = get_suite(args.suite)
    evals_dir = args.evals or suite.dataset_dir
    seeds_dir = args.seeds or corpus_dir_of(suite)
    try:
        if args.fix_offsets:
            changed = 0
            for name in suite.split_files.values():
                in_file = load_questions(evals_dir / name, suite=suite)
                changed += fix_offsets(in_file, seeds_dir)
                dump_questions(in_file, evals_dir / name)
            print(f"fixed {changed} evidence offset(s)")
        questions = load_questions(evals_dir, suite=suite)
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(summary(questions, suite))
    problems = validate(questions, seeds_dir, suite)
    for problem in problems:
        print(f"problem: {problem}")
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
