"""The shipped answer verifier (`models/verifier/`): its files are the ones the card lists,
it prefers the reading that answers over the near misses the reader makes, refuses damaged
or missing files with a message, and the engine uses it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from qa.answering.model_files import sha256_of
from qa.answering.verifier import CONFIG_FILE, MODEL_FILE, TOKENIZER_FILE, Verifier, VerifierError
from qa.config import Settings

VERIFIER_DIR = Settings().verifier_dir


@pytest.fixture(scope="module")
def verifier() -> Verifier:
    return Verifier(VERIFIER_DIR).load()


def test_shipped_files_match_their_checksums_and_the_card():
    config = json.loads((VERIFIER_DIR / CONFIG_FILE).read_text(encoding="utf-8"))
    card = (VERIFIER_DIR / "README.md").read_text(encoding="utf-8")
    assert set(config["sha256"]) == {MODEL_FILE, TOKENIZER_FILE}
    for name, digest in config["sha256"].items():
        assert sha256_of(VERIFIER_DIR / name) == digest
        assert digest in card
    assert (VERIFIER_DIR / MODEL_FILE).stat().st_size < 50 * 2**20


# Sentences and questions written for these tests (not from the seeds or any eval set): each
# pair is the right reading and a near miss of the kind the reader makes.
SENTENCE = "About 300 French engineers were hired by the German carmaker in Munich last spring."
NEAR_MISSES = [
    # the question's names swap roles
    ("How many French engineers were hired by the German carmaker?", ("About 300", SENTENCE),
     "How many German engineers were hired by the French carmaker?", ("About 300", SENTENCE)),
    # a span that answers another question of the same sentence
    ("Where were the engineers hired?", ("Munich", SENTENCE),
     "When will the engineers start work?", ("Munich", SENTENCE)),
    ("When were the engineers hired?", ("last spring", SENTENCE),
     "How many engineers were hired?", ("last spring", SENTENCE)),
    # the question asks about something the sentence does not state
    ("Which city is the carmaker's plant in?", ("Munich", SENTENCE),
     "What is the population of Munich?", ("About 300", SENTENCE)),
]


@pytest.mark.parametrize("right_q,right,wrong_q,wrong", NEAR_MISSES)
def test_the_reading_that_answers_scores_above_its_near_miss(verifier, right_q, right, wrong_q, wrong):
    [yes] = verifier.score(right_q, [right])
    [no] = verifier.score(wrong_q, [wrong])
    assert yes > no


def test_candidates_are_scored_in_one_batch_as_they_are_alone_within_int8_noise(verifier):
    question, candidates = NEAR_MISSES[0][0], [NEAR_MISSES[0][1], ("Munich", SENTENCE), ("x", "")]
    together = verifier.score(question, candidates)
    alone = [verifier.score(question, [c])[0] for c in candidates]
    # int8 dynamic quantisation scales activations per batch, so a batch moves logits a little.
    assert together.tolist() == pytest.approx(alone, abs=0.1)
    assert verifier.score(question, []).shape == (0,)
    assert verifier.score("why " * 500, [("a", "word " * 500)]).shape == (1,)  # cut to its max tokens


@pytest.fixture
def verifier_copy(tmp_path) -> Path:
    copy = tmp_path / "verifier"
    shutil.copytree(VERIFIER_DIR, copy)
    return copy


def test_a_damaged_model_file_is_refused_with_a_clear_message(verifier_copy):
    path = verifier_copy / MODEL_FILE
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(VerifierError, match=r"model.onnx is damaged.*restore it"):
        Verifier(verifier_copy).load()


@pytest.mark.parametrize("name", [MODEL_FILE, TOKENIZER_FILE, CONFIG_FILE])
def test_a_missing_file_is_refused_with_a_clear_message(verifier_copy, name):
    (verifier_copy / name).unlink()
    with pytest.raises(VerifierError, match="missing"):
        Verifier(verifier_copy).load()


def test_a_missing_verifier_is_a_clear_error_at_the_command_line(tmp_path, settings, engine):
    env = {"QA_VERIFIER_DIR": str(tmp_path / "nowhere"), "QA_INDEX_DIR": str(settings.index_dir), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "qa.cli", "ask", "Who won?"], capture_output=True, text=True, env=env, timeout=120,
    )
    assert done.returncode != 0
    assert "verifier.json is missing" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_engine_answers_with_the_verifier(engine):
    answerer = engine.answerer
    assert answerer.verifier is not None and answerer.verifier.loaded
