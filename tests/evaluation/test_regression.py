"""The real engine on the real question set must stay above measured floors.

Runs every question of evals/ (both splits) through the session's engine
(packaged model, real corpus, temporary index) and the real harness.
"""

from __future__ import annotations

import pytest

from qa.evaluation.dataset import load_questions
from qa.evaluation.harness import run_eval

# Floors just under the figures measured on 2026-11-22 (both splits, hybrid retrieval:
# HasAns F1 0.55, contains 0.70, citation support 0.87, NoAns 0.90; dev HasAns F1 0.64,
# heldout 0.35). The run is deterministic on one machine, so a drop below a floor is a
# regression, not noise. Raise them when the engine improves.
MIN_HAS_ANS_F1 = 0.53
MIN_CONTAINS = 0.68
MIN_CITATION_SUPPORT = 0.85
MIN_NO_ANS_ACCURACY = 0.88
#: Per split HasAns F1 floors: a change that helps dev but hurts heldout is overfitting.
MIN_SPLIT_HAS_ANS_F1 = {"dev": 0.62, "heldout": 0.33}
#: Citation offsets must always reproduce the source text.
REQUIRED_CITATION_VALIDITY = 1.0


@pytest.fixture(scope="module")
def run(engine, settings):
    return run_eval(engine, load_questions(), seeds_dir=settings.seeds_dir, label=settings.retrieval)


def test_no_question_raises(run):
    assert [r.error for r in run.results if r.error] == []


def test_answer_accuracy_stays_above_floor(run):
    assert run.overall.has_ans_f1 >= MIN_HAS_ANS_F1
    assert run.overall.contains >= MIN_CONTAINS


def test_citations_reproduce_their_source(run):
    assert run.overall.citation_validity == REQUIRED_CITATION_VALIDITY


def test_citation_support_stays_above_floor(run):
    assert run.overall.citation_support >= MIN_CITATION_SUPPORT


def test_unanswerable_questions_abstain_above_floor(run):
    assert run.overall.no_ans_accuracy >= MIN_NO_ANS_ACCURACY


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_each_split_stays_above_its_floor(run, split):
    assert run.by_split[split].count > 0
    assert run.by_split[split].has_ans_f1 >= MIN_SPLIT_HAS_ANS_F1[split]
