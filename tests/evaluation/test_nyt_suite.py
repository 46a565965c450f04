"""The external NYT suite: its committed files are valid and self-consistent, its
unanswerable questions come from articles outside its corpus, and ``--suite``
picks its splits, articles and index. No model runs here."""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from qa.corpus import load_corpus
from qa.evaluation import cli
from qa.evaluation.dataset import EvalQuestion, Evidence, load_questions, validate
from qa.evaluation.suites import DEFAULT_SUITE, NYT, SEEDS, SUITES

REPO = Path(__file__).resolve().parents[2]
MANIFEST = NYT.dataset_dir / "manifest.json"
FILE_NAME = re.compile(r"nyt_\d{3}_[a-z0-9-]+\.txt")
MAX_FILE_NAME = 60


@pytest.fixture(scope="module")
def questions() -> list[EvalQuestion]:
    return load_questions(suite=NYT)


@pytest.fixture(scope="module")
def manifest() -> dict:
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


def corpus_text(source: str) -> str:
    return (NYT.corpus_dir / source).read_text(encoding="utf-8")


# --- the committed files -------------------------------------------------------------


def test_nyt_questions_are_valid(questions):
    assert validate(questions, suite=NYT) == []


def test_every_evidence_span_reproduces_its_corpus_text(questions):
    for q in questions:
        for ev in q.evidence:
            assert corpus_text(ev.source)[ev.start : ev.end] == ev.text, q.id


def test_first_gold_answer_lies_inside_its_evidence(questions):
    for q in questions:
        if q.answerable:
            assert len(q.evidence) == 1, q.id
            assert q.answers[0] in q.evidence[0].text, q.id


def test_ids_are_unique_and_files_hold_their_own_split():
    ids = []
    for split, name in NYT.split_files.items():
        in_file = load_questions(NYT.dataset_dir / name, suite=NYT)
        assert {q.split for q in in_file} == {split}
        assert all(q.id.startswith(NYT.id_prefixes[split]) for q in in_file)
        ids += [q.id for q in in_file]
    assert [i for i, n in Counter(ids).items() if n > 1] == []


def test_categories_and_counts(questions, manifest):
    for q in questions:
        assert q.category == ("news" if q.answerable else "unanswerable"), q.id
        assert q.history == []
    for split in NYT.splits:
        in_split = [q for q in questions if q.split == split]
        counts = manifest["counts"][split]
        assert sum(q.answerable for q in in_split) == counts["answerable"] >= 140
        assert sum(not q.answerable for q in in_split) == counts["unanswerable"] >= 45


def test_corpus_files_are_ascii_named_articles_the_engine_loads(manifest):
    files = sorted(p.name for p in NYT.corpus_dir.iterdir())
    assert files == sorted(a["file"] for a in manifest["corpus"])
    for name in files:
        assert FILE_NAME.fullmatch(name) and len(name) <= MAX_FILE_NAME, name
    articles = load_corpus(NYT.corpus_dir)
    assert [a.source for a in articles] == files  # none skipped as not an article
    for article in articles:
        assert "\r" not in article.text and "\n\n\n" not in article.text, article.source


def test_each_article_and_its_questions_belong_to_one_split(questions, manifest):
    split_of = {a["file"]: a["split"] for a in manifest["corpus"]}
    assert Counter(split_of.values()) == {"calibration": 40, "report": 40}
    for q in questions:
        for ev in q.evidence:
            assert split_of[ev.source] == q.split, q.id


def test_unanswerable_questions_come_from_articles_outside_the_corpus(questions, manifest):
    corpus_urls = {a["url"] for a in manifest["corpus"]}
    sources = {u["id"]: u["url"] for u in manifest["unanswerable"]}
    unanswerable = [q for q in questions if not q.answerable]
    assert sorted(sources) == sorted(q.id for q in unanswerable)
    assert not corpus_urls & set(sources.values())
    for q in unanswerable:
        assert sources[q.id] in q.notes, q.id


# --- validation stays strict per suite ---------------------------------------------------


def _nyt_question(**changes) -> EvalQuestion:
    source = "nyt_001_review-christopher-houlihan-adds-shine-to-a.txt"
    text = corpus_text(source)
    sentence = "Kieran E. Harrington explained on Sunday afternoon"
    start = text.index(sentence)
    base = EvalQuestion(
        id="nyt-cal-999", split="calibration", category="news", difficulty="medium",
        question="Who explained?", history=[], answerable=True, answers=["Kieran E. Harrington"],
        evidence=[Evidence(source, start, start + len(sentence), sentence)],
    )
    return replace(base, **changes)


def test_validate_accepts_a_nyt_question_only_under_its_suite():
    assert validate([_nyt_question()], suite=NYT) == []
    problems = " | ".join(validate([_nyt_question()], suite=SEEDS))
    for fragment in ("unknown split 'calibration'", "unknown category 'news'", "unknown source"):
        assert fragment in problems


def test_validate_catches_nyt_mistakes():
    ev = _nyt_question().evidence[0]
    bad = [
        _nyt_question(split="dev"),
        _nyt_question(id="nyt-rep-999", evidence=[replace(ev, start=ev.start + 1, end=ev.end + 1)]),
        _nyt_question(id="nyt-cal-998", category="near_miss"),
        _nyt_question(id="nyt-cal-997", category="unanswerable"),
    ]
    problems = validate(bad, suite=NYT)
    assert any("unknown split 'dev'" in p for p in problems)
    assert any("nyt-rep-999" in p and "offsets do not reproduce" in p for p in problems)
    assert any("unknown category 'near_miss'" in p for p in problems)
    assert any("answerable=True contradicts category 'unanswerable'" in p for p in problems)


# --- the command line --------------------------------------------------------------------


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    return parser.parse_args(list(argv))


def test_suite_option_defaults_to_seeds_and_lists_every_suites_splits():
    assert parse().suite == DEFAULT_SUITE == "seeds"
    assert parse("--suite", "nyt", "--split", "report").split == "report"
    assert cli.split_choices(NYT) == ("calibration", "report", "all")
    parser = argparse.ArgumentParser()
    cli.add_arguments(parser)
    help_text = " ".join(parser.format_help().split())
    assert "seeds: dev|heldout|all" in help_text and "nyt: calibration|report|all" in help_text
    with pytest.raises(SystemExit):
        parse("--suite", "squad")


def test_split_selects_the_suites_questions():
    report = cli.select_questions(parse("--suite", "nyt", "--split", "report"))
    assert {q.split for q in report} == {"report"} and len(report) >= 190
    every = cli.select_questions(parse("--suite", "nyt"))
    assert {q.split for q in every} == {"calibration", "report"}
    seeds = cli.select_questions(parse())
    assert {q.split for q in seeds} == {"dev", "heldout"}


def test_a_split_of_another_suite_is_a_usage_error():
    with pytest.raises(cli.UsageError, match="not a split of suite nyt; choose from calibration, report, all"):
        cli.select_questions(parse("--suite", "nyt", "--split", "dev"))
    with pytest.raises(cli.UsageError, match="not a split of suite seeds"):
        cli.select_questions(parse("--split", "report"))
    with pytest.raises(cli.UsageError, match="unknown category numbers in suite nyt"):
        cli.select_questions(parse("--suite", "nyt", "--category", "numbers"))


def test_nyt_uses_its_own_corpus_and_index_whatever_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("QA_SEEDS_DIR", str(tmp_path / "elsewhere"))
    monkeypatch.setenv("QA_INDEX_DIR", str(tmp_path / "elsewhere-index"))
    nyt = cli.engine_settings(parse("--suite", "nyt"))
    assert (nyt.seeds_dir, nyt.index_dir) == (NYT.corpus_dir, REPO / "index" / "nyt")
    seeds = cli.engine_settings(parse())
    assert seeds.seeds_dir == tmp_path / "elsewhere"
    assert seeds.index_dir == tmp_path / "elsewhere-index"
    override = cli.engine_settings(parse("--suite", "nyt", "--index", str(tmp_path / "i")))
    assert override.index_dir == tmp_path / "i"


def test_reports_of_other_suites_go_to_their_own_folder():
    assert SEEDS.results_dir == REPO / "evals" / "results"
    for suite in SUITES.values():
        if suite is not SEEDS:
            assert suite.results_dir == SEEDS.results_dir / suite.name


# --- the builder's sentence splitter -------------------------------------------------------


@pytest.fixture(scope="module")
def build_nyt():
    path = REPO / "evals" / "external" / "build_nyt.py"
    spec = importlib.util.spec_from_file_location("build_nyt", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


def test_builder_splits_sentences_but_not_abbreviations(build_nyt):
    text = (
        "Marie Curie was born in Warsaw. She moved to Paris in 1891.\n\n"
        "Mr. Smith met the U.S. envoy, J. Doe, at 5 p.m. “Why?” he asked. It rained."
    )
    sentences = [text[s:e] for s, e in build_nyt.sentence_spans(text)]
    assert sentences == [
        "Marie Curie was born in Warsaw.",
        "She moved to Paris in 1891.",
        "Mr. Smith met the U.S. envoy, J. Doe, at 5 p.m. “Why?” he asked.",
        "It rained.",
    ]
    start = text.index("Paris")
    s, e = build_nyt.evidence_span(build_nyt.sentence_spans(text), start, start + 5)
    assert text[s:e] == "She moved to Paris in 1891."


def test_builder_keeps_plain_prose_and_anchored_questions(build_nyt):
    assert build_nyt.clean_text("Prices rose 5 percent — again.")
    assert not build_nyt.clean_text("★★★ Dinner")
    assert not build_nyt.clean_text("soft\xadhyphen")
    assert not build_nyt.clean_text(" padded")
    assert build_nyt.has_anchor("How long is Mr. Turner?")
    assert build_nyt.has_anchor("What happened in 1891?")
    assert not build_nyt.has_anchor("How long is the film?")
