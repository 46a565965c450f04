"""The shipped reader (`models/reader/`): its files are the ones the card lists, it reads
spans with exact offsets, refuses damaged files, and questions need no torch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.answering.reader import CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE, Reader, ReaderError, sha256_of
from qa.config import Settings

READER_DIR = Settings().reader_dir


@pytest.fixture(scope="module")
def reader() -> Reader:
    return Reader(READER_DIR).load()


def test_shipped_files_match_their_checksums_and_the_card():
    config = json.loads((READER_DIR / CONFIG_FILE).read_text(encoding="utf-8"))
    card = (READER_DIR / "README.md").read_text(encoding="utf-8")
    assert set(config["sha256"]) == {MODEL_FILE, TOKENIZER_FILE}
    for name, digest in config["sha256"].items():
        assert sha256_of(READER_DIR / name) == digest
        assert digest in card
    assert (READER_DIR / MODEL_FILE).stat().st_size < 50 * 2**20


def test_reads_the_answer_span_with_character_offsets(reader):
    passage = "The festival opened on Friday in Lyon. Marie Dubois, the director, said 40,000 tickets were sold."
    spans = reader.read("How many tickets were sold?", [passage])
    assert passage[spans[0].start : spans[0].end] == "40,000"
    spans = reader.read("Who is the director of the festival?", [passage])
    assert passage[spans[0].start : spans[0].end] == "Marie Dubois"


def test_an_answer_beyond_the_first_window_is_found_with_offsets_into_the_whole_passage(reader):
    filler = " ".join(f"The committee met on day {n} and discussed the budget." for n in range(40))
    passage = filler + " The new bridge over the river will cost 12 million euros."
    assert reader.count_tokens(passage) > int(reader.config["max_tokens"])
    spans = reader.read("How much will the new bridge cost?", [passage])
    assert passage[spans[0].start : spans[0].end] == "12 million euros"


def test_several_passages_are_read_at_once_and_the_right_one_wins(reader):
    passages = [
        "The mayor opened a library in the old town hall.",
        "Heavy rain closed three schools on Monday.",
    ]
    best = reader.read("How many schools did the rain close?", passages)[0]
    assert best.passage == 1 and passages[1][best.start : best.end] == "three"


def test_a_passage_without_the_answer_scores_below_one_with_it(reader):
    question = "When was the bridge opened?"
    with_answer = reader.read(question, ["The bridge was opened in 1932 by the king."])[0]
    without = reader.read(question, ["The museum collects paintings from local artists."])[0]
    assert with_answer.margin > without.margin
    assert without.margin < 0


def test_empty_passages_and_very_long_questions_are_read_without_error(reader):
    assert reader.read("Who?", ["", "   "]) == []
    spans = reader.read("why " * 500, ["Anything at all is written here."])
    assert all(0 <= s.start < s.end for s in spans)


@pytest.fixture
def reader_copy(tmp_path) -> Path:
    copy = tmp_path / "reader"
    shutil.copytree(READER_DIR, copy)
    return copy


def test_a_damaged_model_file_is_refused_with_a_clear_message(reader_copy):
    path = reader_copy / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ReaderError, match=r"model.onnx is damaged.*restore it"):
        Reader(reader_copy).load()


@pytest.mark.parametrize("name", [MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE])
def test_a_missing_file_is_refused_with_a_clear_message(reader_copy, name):
    (reader_copy / name).unlink()
    with pytest.raises(ReaderError, match="missing"):
        Reader(reader_copy).load()


def test_a_missing_reader_is_a_clear_error_at_the_command_line(tmp_path, settings):
    env = {"QA_READER_DIR": str(tmp_path / "nowhere"), "QA_INDEX_DIR": str(settings.index_dir), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", "Who won?"], capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode != 0
    assert "reader.json is missing" in done.stderr
    assert "Traceback" not in done.stderr


def test_asking_imports_no_torch_sentence_transformers_or_llamaindex(engine, settings):
    """Nor bm25s and scipy: the index's BM25 scores are read with numpy (`qa.lexical.ScoreMatrix`),
    which keeps a third of a cold `qa ask` out of it."""
    engine.load()  # the index is built (with torch) in the test process, not in the child
    code = (
        "import sys\n"
        "from qa import QAEngine, Settings\n"
        f"e = QAEngine.from_settings(Settings(seeds_dir={str(settings.seeds_dir)!r}, index_dir={str(settings.index_dir)!r}))\n"
        "a = e.ask('How many Indians were recruited by the Russian military?')\n"
        "heavy = [m for m in ('torch', 'sentence_transformers', 'llama_index', 'transformers', 'bm25s', 'scipy') if m in sys.modules]\n"
        "print(a.short, heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("[]"), done.stdout
