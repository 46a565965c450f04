"""The harness's plumbing with a scripted fake engine: failures recorded,
aggregates per split and category, report files and the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from qa.config import Settings
from qa.errors import BadQuestion
from qa.evaluation import chart, cli, report
from qa.evaluation.dataset import EvalQuestion, Evidence, dump_questions
from qa.evaluation.harness import (
    ANSWERED_UNANSWERABLE,
    FALSE_ABSTENTION,
    INVALID_OFFSETS,
    UNSUPPORTED,
    WRONG_SHORT_ANSWER,
    run_eval,
)
from qa.results import Answer, Citation

ARTICLE = "a.txt"
TEXT = "Alpha Corp hired 126 engineers in 2024. Its chief executive is Jane Roe. Rain fell in Paris."
HIRED = "Alpha Corp hired 126 engineers in 2024."
CEO = "Its chief executive is Jane Roe."
RAIN = "Rain fell in Paris."
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def span(sentence: str, *, score: float = 1.0, text: str | None = None) -> Citation:
    start = TEXT.index(sentence)
    return Citation(ARTICLE, start, start + len(sentence), sentence if text is None else text, score)


def evidence(sentence: str) -> Evidence:
    start = TEXT.index(sentence)
    return Evidence(ARTICLE, start, start + len(sentence), sentence)


def question(qid: str, category: str, text: str, answers=(), ev=(), split=None) -> EvalQuestion:
    return EvalQuestion(
        id=qid, split=split or ("dev" if qid.startswith("dev") else "heldout"), category=category,
        difficulty="easy", question=text, history=[], answerable=bool(answers),
        answers=list(answers), evidence=[evidence(e) for e in ev],
    )


QUESTIONS = [
    question("dev-num-001", "numbers", "How many engineers?", ["126"], [HIRED]),
    question("dev-nam-001", "names_places", "Who is the chief executive?", ["Jane Roe"], [CEO]),
    question("dev-una-001", "unanswerable", "Who won the cup?"),
    question("ho-una-001", "unanswerable", "What is the share price?"),
    question("ho-num-001", "numbers", "How many offices?", ["12"], [HIRED]),
    question("ho-dat-001", "dates", "When did Alpha hire?", ["2024"], [HIRED]),
    question("ho-nam-001", "names_places", "Where did rain fall?", ["Paris"], [RAIN]),
]


def reply(short, cited, passages=(), abstained=False) -> Answer:
    text = "I could not find that." if abstained else f"{short} [1]."
    return Answer(question="", text=text, short=None if abstained else short,
                  citations=list(cited), abstained=abstained, passages=list(passages))


SCRIPT = {
    "How many engineers?": reply("one hundred and twenty-six", [span(HIRED)], [span(HIRED)]),
    "Who is the chief executive?": reply("John Doe", [span(RAIN)], [span(RAIN), span(CEO)]),
    "Who won the cup?": reply(None, [], abstained=True),
    "What is the share price?": reply("$5", [span(RAIN)]),
    "How many offices?": RuntimeError("index exploded"),
    "When did Alpha hire?": reply(None, [], abstained=True),
    "Where did rain fall?": reply("Paris", [span(RAIN, text="Rain fell in London.")], [span(RAIN)]),
}


class FakeEngine:
    """Replies from `SCRIPT`; raises what the script says; counts calls."""

    def __init__(self, mode: str = "hybrid"):
        self.mode = mode
        self.calls = 0

    def ask(self, question: str, history=None) -> Answer:
        self.calls += 1
        if not question.strip():
            raise BadQuestion("empty question")
        outcome = SCRIPT[question]
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def with_retrieval(self, mode: str) -> "FakeEngine":
        return FakeEngine(mode)


@pytest.fixture()
def seeds(tmp_path) -> Path:
    d = tmp_path / "seeds"
    d.mkdir()
    (d / ARTICLE).write_text(TEXT, encoding="utf-8")
    return d


@pytest.fixture()
def run(seeds):
    return run_eval(FakeEngine(), QUESTIONS, warmup=2, seeds_dir=seeds, label="hybrid")


def by_id(run, qid):
    return next(r for r in run.results if r.id == qid)


def test_failing_ask_is_recorded_and_the_run_goes_on(run):
    failed = by_id(run, "ho-num-001")
    assert failed.error == "RuntimeError: index exploded"
    assert failed.failures == ["error: RuntimeError: index exploded"]
    assert len(run.results) == len(QUESTIONS)
    assert run.overall.errors == 1


def test_warmup_calls_are_untimed_extras(seeds):
    engine = FakeEngine()
    run_eval(engine, QUESTIONS, warmup=2, seeds_dir=seeds)
    assert engine.calls == len(QUESTIONS) + 2


def test_each_failure_says_why(run):
    assert by_id(run, "dev-num-001").failures == []
    assert by_id(run, "dev-una-001").failures == []
    assert by_id(run, "dev-nam-001").failures == [WRONG_SHORT_ANSWER, UNSUPPORTED]
    assert by_id(run, "ho-una-001").failures == [ANSWERED_UNANSWERABLE]
    assert by_id(run, "ho-dat-001").failures == [FALSE_ABSTENTION]
    assert by_id(run, "ho-nam-001").failures == [INVALID_OFFSETS]


def test_aggregates_overall_per_split_and_per_category(run):
    s = run.overall
    assert (s.count, s.passed, s.has_ans_count, s.no_ans_count) == (7, 2, 5, 2)
    assert s.has_ans_em == pytest.approx(2 / 5)  # dev-num-001 and ho-nam-001
    assert s.no_ans_accuracy == pytest.approx(1 / 2)
    assert s.false_abstentions == 1
    assert s.abstention_precision == pytest.approx(1 / 2)
    assert s.citation_validity == pytest.approx(3 / 4)  # ho-nam-001's citation text is wrong
    assert s.citation_support == pytest.approx(2 / 3)  # of dev-num, dev-nam, ho-nam
    # ranks: dev-num 1, dev-nam 2, ho-num (error) miss, ho-dat (no passages) miss, ho-nam 1
    assert s.retrieval.hit_at == {1: 2 / 5, 3: 3 / 5, 5: 3 / 5}
    assert s.retrieval.mrr == pytest.approx((1 + 0.5 + 1) / 5)
    assert s.latency.count == 7

    assert list(run.by_split) == ["dev", "heldout"]
    assert (run.by_split["dev"].count, run.by_split["heldout"].count) == (3, 4)
    assert run.by_split["dev"].has_ans_em == pytest.approx(1 / 2)
    assert list(run.by_category) == ["numbers", "names_places", "unanswerable", "dates"]
    assert run.by_category["unanswerable"].no_ans_accuracy == pytest.approx(1 / 2)
    assert run.by_category["unanswerable"].has_ans_f1 is None
    assert run.by_category["numbers"].retrieval.hit_at[1] == pytest.approx(1 / 2)


def test_report_files_are_written(run, tmp_path):
    json_path = report.write_json(tmp_path / "report.json", run)
    md_path = report.write_markdown(tmp_path / "report.md", run)
    png_path = chart.write_chart(tmp_path / "report.png", run)

    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert data["format"] == report.REPORT_FORMAT
    assert data["overall"]["has_ans_em"] == pytest.approx(0.4)
    assert set(data["by_split"]) == {"dev", "heldout"}
    assert len(data["results"]) == 7

    md = md_path.read_text(encoding="utf-8")
    assert "## Failures (5 of 7)" in md
    assert "### `dev-nam-001`" in md and "“John Doe”" in md and WRONG_SHORT_ANSWER in md
    assert "### `dev-num-001`" not in md

    png = png_path.read_bytes()
    assert png.startswith(PNG_SIGNATURE) and len(png) > 1000


def test_terminal_table_has_a_row_per_split_and_category(run):
    rows = [line.split()[0] for line in report.format_table(run).splitlines()[1:9]]
    assert rows == ["overall", "dev", "heldout", "by", "numbers", "names_places", "unanswerable", "dates"]


# ---------------------------------------------------------------- command line


@pytest.fixture()
def evals_dir(tmp_path) -> Path:
    d = tmp_path / "evals"
    d.mkdir()
    dump_questions([q for q in QUESTIONS if q.split == "dev"], d / "questions.jsonl")
    dump_questions([q for q in QUESTIONS if q.split == "heldout"], d / "heldout.jsonl")
    return d


@pytest.fixture()
def fake_cli(monkeypatch, seeds, tmp_path):
    settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "index")
    monkeypatch.setattr(cli, "build_engine", lambda args: (FakeEngine(), settings))


def test_cli_compare_writes_reports_and_ablation(fake_cli, evals_dir, tmp_path, capsys):
    out = tmp_path / "results"
    code = cli.main(["--dataset", str(evals_dir), "--out", str(out), "--compare", "--warmup", "0"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "retrieval ablation" in printed and "bm25" in printed
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert data["label"] == "hybrid"
    assert list(data["ablation"]) == ["bm25", "dense", "hybrid"]
    assert (out / "report.md").is_file() and (out / "report.png").is_file()


def test_cli_filters_split_category_and_limit(fake_cli, evals_dir, tmp_path):
    out = tmp_path / "results"
    args = ["--dataset", str(evals_dir), "--out", str(out), "--split", "heldout",
            "--category", "numbers", "--category", "dates", "--limit", "1"]
    assert cli.main(args) == 0
    data = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert [r["id"] for r in data["results"]] == ["ho-num-001"]


def test_cli_missing_dataset_is_one_line_and_exit_2(fake_cli, tmp_path, capsys):
    code = cli.main(["--dataset", str(tmp_path / "nowhere"), "--out", str(tmp_path / "o")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1


def test_cli_unknown_category_is_exit_2(fake_cli, evals_dir, capsys):
    assert cli.main(["--dataset", str(evals_dir), "--category", "weather"]) == 2
    assert "unknown category weather" in capsys.readouterr().err


# ---------------------------------------------------------------- explain, summary, furniture

PAGE = "b.txt"
PAGE_TEXT = "Alpha Corp hired 126 engineers in 2024.\nAdvertisement\nRain fell in Paris."


def _on_page(sentence: str, key: str = "") -> Evidence:
    start = PAGE_TEXT.index(sentence)
    return Evidence(PAGE, start, start + len(sentence), sentence, key)


def _cite(sentence: str) -> Citation:
    start = PAGE_TEXT.index(sentence)
    return Citation(PAGE, start, start + len(sentence), sentence, 0.0)


class ScriptedEngine:
    def __init__(self, replies: dict[str, Answer]):
        self.replies = replies

    def ask(self, question: str, history=None) -> Answer:
        return self.replies[question]


def test_explain_summary_and_furniture_are_scored_apart_from_spans(tmp_path):
    (tmp_path / PAGE).write_text(PAGE_TEXT, encoding="utf-8")
    hired, rain, ad = "Alpha Corp hired 126 engineers in 2024.", "Rain fell in Paris.", "Advertisement"
    questions = [
        EvalQuestion("dev-exp-001", "dev", "explain", "easy", "Why did Alpha grow?", [], True, ["hired"], [_on_page(hired)]),
        EvalQuestion("dev-exp-002", "dev", "explain", "easy", "Why did it rain?", [], True, ["rain"], [_on_page(rain)]),
        EvalQuestion("dev-sum-001", "dev", "summary", "easy", "Summarize", [], True, [],
                     [_on_page(hired, "hiring"), _on_page(rain, "weather")]),
    ]
    replies = {
        "Why did Alpha grow?": Answer("", f"{hired} [1]", None, [_cite(hired)], False, kind="sentences"),
        "Why did it rain?": Answer("", f"{ad} [1]", None, [_cite(ad)], False, kind="sentences"),
        "Summarize": Answer("", f"{rain} [1]", None, [_cite(rain)], False, kind="summary"),
    }
    run = run_eval(ScriptedEngine(replies), questions, warmup=0, seeds_dir=tmp_path)
    explain, summary = run.by_category["explain"], run.by_category["summary"]
    assert explain.evidence_cited == 0.5
    assert summary.key_coverage == 0.5 and summary.documents_cited == 1
    assert run.overall.furniture_citations == 1
    assert "cites page furniture" in by_id(run, "dev-exp-002").failures
    assert run.overall.has_ans_count == 0  # neither kind enters the span figures
    assert run.by_kind["summary"].count == 1 and run.by_kind["sentences"].count == 2
