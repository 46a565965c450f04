"""A reading's sentence support in its score (`qa.answering.evidence`): the measure, and the
shipped reader's readings ranked with it."""

from __future__ import annotations

import pytest

import qa.answering.answerer as answerer_module
from qa.answering.answerer import Passage, ReaderAnswerer
from qa.answering.evidence import support, wanted
from qa.answering.reader import Reader
from qa.config import Settings
from qa.corpus.chunking import sentence_spans
from qa.corpus.documents import Article


@pytest.mark.parametrize(
    "question, sentence, expected",
    [
        ("How many Indians were recruited?", "126 Indians were recruited by the army.", 1.0),
        ("How many Indians were recruited?", "The recruits were Indian nationals.", 1.0),  # prefixes
        ("When will the consulates in Kazan open?", "Two consulates are planned in Kazan.", 2 / 3),
        ("When will the consulates in Kazan open?", "The weather was fine.", 0.0),
        ("What?", "Anything.", 1.0),  # nothing asked for: nothing held against the sentence
    ],
)
def test_support_is_the_share_of_the_questions_words_its_sentence_holds(question, sentence, expected):
    assert support(question, sentence) == pytest.approx(expected)
    assert support(wanted(question), sentence) == pytest.approx(expected)


TEXT = (
    "The city council met on Tuesday. Two new bridges are planned over the river. "
    "The first bridge will open in March 2027, the council said."
)


@pytest.fixture(scope="module")
def answerer() -> ReaderAnswerer:
    article = Article(source="city.txt", text=TEXT, date=None, body_start=0)
    return ReaderAnswerer(Reader(Settings().reader_dir).load(), {"city.txt": TEXT}, sentence_spans(article))


def test_a_readings_score_adds_its_sentences_support(answerer, monkeypatch):
    question = "When will the first bridge open?"
    passages = [Passage("city.txt", 0, len(TEXT), 1.0)]
    with_context = {(r.start, r.end): r.score for r in answerer.read(question, passages)}
    weight = answerer_module.SUPPORT_WEIGHT
    assert weight > 0
    monkeypatch.setattr(answerer_module, "SUPPORT_WEIGHT", 0.0)
    without = {(r.start, r.end): r.score for r in answerer.read(question, passages)}
    assert with_context.keys() == without.keys()
    for (start, end), score in with_context.items():
        expected = weight * support(question, answerer.sentence_text("city.txt", start, end))
        assert score - without[(start, end)] == pytest.approx(expected, abs=1e-6)
    best = max(with_context, key=with_context.get)
    assert TEXT[best[0] : best[1]] == "March 2027"
