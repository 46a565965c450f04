"""The evaluation questions: the shipped data is valid, and the validator and
loader catch the mistakes they are meant to catch."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from qa.evaluation.dataset import (
    CATEGORIES,
    EVALS_DIR,
    FOLLOWUP_CATEGORY,
    SPLIT_FILES,
    UNANSWERABLE_CATEGORIES,
    DatasetError,
    EvalQuestion,
    Evidence,
    load_questions,
    validate,
)

SEEDS_DIR = Path(__file__).resolve().parents[2] / "seeds"

MIN_TOTAL = 100
MIN_HELDOUT = 30
MIN_UNANSWERABLE_SHARE = 0.20
#: Of the unanswerable questions of a split, at least this share are near misses.
MIN_NEAR_MISS_SHARE = 0.5
#: Every answerable category appears at least this often in each split.
MIN_PER_ANSWERABLE_CATEGORY = {"dev": 4, "heldout": 2}


@pytest.fixture(scope="module")
def questions() -> list[EvalQuestion]:
    return load_questions(EVALS_DIR)


# --- the shipped data ----------------------------------------------------------


def test_shipped_questions_are_valid(questions):
    assert validate(questions, SEEDS_DIR) == []


def test_every_evidence_span_matches_source_text(questions):
    for q in questions:
        for ev in q.evidence:
            text = (SEEDS_DIR / ev.source).read_text(encoding="utf-8")
            assert text[ev.start : ev.end] == ev.text, f"{q.id}: {ev.source} {ev.start}:{ev.end}"


def test_question_ids_are_unique(questions):
    duplicates = [qid for qid, n in Counter(q.id for q in questions).items() if n > 1]
    assert duplicates == []


def test_split_sizes_and_unanswerable_share(questions):
    assert len(questions) >= MIN_TOTAL
    by_split = {s: [q for q in questions if q.split == s] for s in SPLIT_FILES}
    assert len(by_split["heldout"]) >= MIN_HELDOUT
    for split, qs in by_split.items():
        unanswerable = [q for q in qs if not q.answerable]
        near_misses = [q for q in unanswerable if q.category == "near_miss"]
        assert len(unanswerable) >= MIN_UNANSWERABLE_SHARE * len(qs), split
        assert len(near_misses) >= MIN_NEAR_MISS_SHARE * len(unanswerable), split


def test_every_category_is_covered(questions):
    for split, minimum in MIN_PER_ANSWERABLE_CATEGORY.items():
        counts = Counter(q.category for q in questions if q.split == split)
        for category in CATEGORIES:
            floor = 1 if category in UNANSWERABLE_CATEGORIES else minimum
            assert counts[category] >= floor, f"{split}: {category} has {counts[category]}"


def test_followups_carry_history(questions):
    followups = [q for q in questions if q.category == FOLLOWUP_CATEGORY]
    assert followups
    for q in followups:
        assert q.history, q.id
        assert q.history[0]["role"] == "user", q.id
        assert {t["role"] for t in q.history} == {"user", "assistant"}, q.id


def test_conflicting_questions_cite_every_variant(questions):
    for q in questions:
        if q.category == "conflicting":
            assert len(q.answers) >= 2, q.id
            assert len({ev.source for ev in q.evidence}) >= 2, q.id


def test_files_hold_their_own_split():
    for split, name in SPLIT_FILES.items():
        assert {q.split for q in load_questions(EVALS_DIR / name)} == {split}


# --- validate ------------------------------------------------------------------


def _question(**changes) -> EvalQuestion:
    """A valid question citing article 002, with ``changes`` applied."""
    source = "002_626d0c358e0fb90a.txt"
    text = (SEEDS_DIR / source).read_text(encoding="utf-8")
    sentence = "Ninety-six of them were discharged by Russian authorities"
    start = text.index(sentence)
    base = EvalQuestion(
        id="dev-test-001",
        split="dev",
        category="numbers",
        difficulty="easy",
        question="How many were discharged?",
        history=[],
        answerable=True,
        answers=["96"],
        evidence=[Evidence(source, start, start + len(sentence), sentence)],
    )
    return replace(base, **changes)


def test_validate_accepts_a_valid_question():
    assert validate([_question()], SEEDS_DIR) == []


def test_validate_catches_a_wrong_offset_and_names_the_fix():
    good = _question()
    ev = good.evidence[0]
    shifted = Evidence(ev.source, ev.start + 3, ev.end + 3, ev.text)
    problems = validate([_question(evidence=[shifted])], SEEDS_DIR)
    assert len(problems) == 1
    assert "dev-test-001" in problems[0] and ev.source in problems[0]
    assert f'"start": {ev.start}, "end": {ev.end}' in problems[0]


def test_validate_catches_text_absent_from_the_source():
    ev = _question().evidence[0]
    wrong = Evidence(ev.source, ev.start, ev.end, "Ninety-seven of them were discharged")
    (problem,) = validate([_question(evidence=[wrong])], SEEDS_DIR)
    assert "does not occur" in problem


def test_validate_catches_a_duplicate_id():
    problems = validate([_question(), _question(question="Again?")], SEEDS_DIR)
    assert any("duplicate id 'dev-test-001'" in p for p in problems)


def test_validate_catches_unknown_labels_and_sources():
    ev = _question().evidence[0]
    bad = _question(
        category="trivia",
        difficulty="trivial",
        split="test",
        evidence=[Evidence("999_missing.txt", ev.start, ev.end, ev.text)],
    )
    problems = " | ".join(validate([bad], SEEDS_DIR))
    for fragment in ("unknown category", "unknown difficulty", "unknown split", "unknown source"):
        assert fragment in problems


def test_validate_catches_answer_inconsistencies():
    no_answers = _question(answers=[], evidence=[])
    unanswerable_with_answers = _question(category="near_miss", answerable=False)
    unanswerable_with_answers = replace(unanswerable_with_answers, id="dev-test-002")
    problems = " | ".join(validate([no_answers, unanswerable_with_answers], SEEDS_DIR))
    assert "answerable but has no answers" in problems
    assert "answerable but has no evidence" in problems
    assert "unanswerable but has answers" in problems


def test_validate_catches_bad_history_roles_and_bare_followups():
    bad_role = _question(history=[{"role": "system", "content": "hi"}])
    bare_followup = _question(id="dev-test-002", category="followup")
    problems = " | ".join(validate([bad_role, bare_followup], SEEDS_DIR))
    assert "history role 'system'" in problems
    assert "followup question without history" in problems


# --- load_questions --------------------------------------------------------------


def test_load_questions_round_trips_a_record(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(_question().to_json() + "\n\n", encoding="utf-8")
    assert load_questions(path) == [_question()]


def test_load_questions_names_the_line_of_broken_json(tmp_path):
    path = tmp_path / "q.jsonl"
    good = _question().to_json()
    second = good.replace('"dev-test-001"', '"dev-test-002"')
    path.write_text(f"{good}\n{second}\n{{not json\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"q\.jsonl:3: invalid JSON"):
        load_questions(path)


def test_load_questions_rejects_a_record_missing_a_field(tmp_path):
    record = json.loads(_question().to_json())
    del record["answers"]
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps(record) + "\n", encoding="utf-8")
    with pytest.raises(DatasetError, match=r"q\.jsonl:1: .*answers"):
        load_questions(path)


def test_load_questions_reads_the_requested_splits(tmp_path):
    for split, name in SPLIT_FILES.items():
        prefix = "dev" if split == "dev" else "ho"
        q = _question(id=f"{prefix}-test-001", split=split)
        (tmp_path / name).write_text(q.to_json() + "\n", encoding="utf-8")
    assert [q.split for q in load_questions(tmp_path)] == ["dev", "heldout"]
    assert [q.split for q in load_questions(tmp_path, splits=("heldout",))] == ["heldout"]


def test_validate_checks_summary_questions_and_their_keys():
    keyed = [replace(e, key="recruits") for e in _question().evidence]
    good = _question(id="dev-test-010", category="summary", question="Summarize", answers=[], evidence=keyed)
    assert validate([good], SEEDS_DIR) == []
    with_answers = replace(good, id="dev-test-011", answers=["96"])
    unkeyed = replace(good, id="dev-test-012", evidence=_question().evidence)
    keyed_factual = _question(id="dev-test-013", evidence=keyed)
    problems = " | ".join(validate([with_answers, unkeyed, keyed_factual], SEEDS_DIR))
    assert "a summary question has no short answers" in problems
    assert "each with its key" in problems
    assert "only a summary question's evidence has keys" in problems


def test_validate_refuses_evidence_in_page_furniture():
    source = "004_13830333336bfa58.txt"
    text = (SEEDS_DIR / source).read_text(encoding="utf-8")
    start = text.index("Advertisement")
    ad = Evidence(source, start, start + len("Advertisement"), "Advertisement")
    [problem] = validate([_question(evidence=[ad])], SEEDS_DIR)
    assert "page furniture" in problem and "advertisement" in problem


def test_keys_are_written_only_for_summary_evidence(tmp_path):
    plain = _question()
    assert '"key"' not in plain.to_json()
    keyed = _question(category="summary", answers=[], evidence=[replace(plain.evidence[0], key="k")])
    assert json.loads(keyed.to_json())["evidence"][0]["key"] == "k"


def test_explain_and_summary_questions_are_enough_in_both_splits(questions):
    for category in ("explain", "summary"):
        of = [q for q in questions if q.category == category]
        assert len(of) >= 12, category
        assert {q.split for q in of} == {"dev", "heldout"}, category
    for q in questions:
        if q.category == "summary":
            assert len({ev.key for ev in q.evidence}) >= 2, q.id  # a summary has several points
        if q.category == "explain":
            assert q.answers and q.evidence, q.id
