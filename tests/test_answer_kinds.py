"""The kind of answer follows the question (`qa.answering.kinds`), and sentence answers and
summaries (`qa.answering.sentences`, `qa.answering.summary`) cite whole sentences exactly,
never page furniture, with the real engine on the seeds."""

from __future__ import annotations

import numpy as np
import pytest

from qa.answering.kinds import LIST, SENTENCES, SPAN, SUMMARY, answer_kind
from qa.answering.summary import lexrank, topic_words, word_vectors
from qa.corpus.documents import parse_article
from qa.corpus.furniture import find as find_furniture
from qa.evaluation.dataset import load_questions
from qa.evaluation.suites import NYT, SEEDS

SUITE_QUESTIONS = [q for suite in (SEEDS, NYT) for q in load_questions(suite=suite)]
QUANTITIES = ("how many", "how much", "how long", "how old")


def _starting(*openings):
    return [q.question for q in SUITE_QUESTIONS if q.question.lower().startswith(openings)]


# -- the decision, on both suites' questions ------------------------------------------


def test_why_questions_of_both_suites_want_sentences():
    why = _starting("why ")
    assert len(why) >= 8 and any("nyt" in q.id for q in SUITE_QUESTIONS if q.question in why)
    assert {answer_kind(q) for q in why} == {SENTENCES}


def test_how_questions_want_sentences_unless_they_ask_for_a_quantity():
    quantity = _starting(*QUANTITIES)
    manner = [q for q in _starting("how did ", "how does ", "how do ")]
    assert len(quantity) >= 20 and len(manner) >= 6
    assert {answer_kind(q) for q in quantity} == {SPAN}
    assert {answer_kind(q) for q in manner} == {SENTENCES}


def test_the_seeds_categories_get_their_kind():
    by_category: dict[str, set[str]] = {}
    for q in load_questions(suite=SEEDS):
        by_category.setdefault(q.category, set()).add(answer_kind(q.question))
    assert by_category["summary"] == {SUMMARY}
    assert by_category["explain"] == {SENTENCES}
    assert by_category["numbers"] <= {SPAN, SENTENCES}  # a typo'd "how mnay" reads as "how ..."
    assert by_category["dates"] == {SPAN}


@pytest.mark.parametrize(
    "question, kind",
    [
        ("Which sectors could boost exports?", LIST),
        ("List the countries that signed the treaty", LIST),
        ("What topics did the minister raise?", LIST),
        ("What needs to be done next?", SPAN),
        ("What did the minister say about the tariffs?", SENTENCES),
        ("Explain the decision", SENTENCES),
        ("Give me an overview", SUMMARY),
        ("What are the main points on trade?", SUMMARY),
        ("Who won the election?", SPAN),
    ],
)
def test_wording_decides_the_kind(question, kind):
    assert answer_kind(question) == kind


def test_a_summary_request_without_a_topic_is_about_every_document():
    assert topic_words("Summarize the documents") == []
    assert topic_words("Give me an overview of all the articles") == []
    assert topic_words("Summarize the talks on trade") == ["talks", "trade"]


# -- centrality ------------------------------------------------------------------------


def test_lexrank_ranks_the_sentence_others_resemble_first():
    rng = np.random.default_rng(0)
    theme = rng.normal(size=16)
    vectors = np.stack([theme + 0.3 * rng.normal(size=16) for _ in range(5)] + [rng.normal(size=16)])
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    scores = lexrank(vectors)
    assert scores.sum() == pytest.approx(1.0)
    assert int(np.argmin(scores)) == 5  # the outlier is the least central


def test_word_vectors_make_paraphrases_closer_than_unrelated_sentences():
    v = word_vectors(["Trade between the countries grew fivefold.", "The countries' trade grew.", "Rain fell in Paris."])
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    assert v[0] @ v[1] > v[0] @ v[2]


# -- with the real engine ---------------------------------------------------------------


def _check_exact_and_clean(engine, answer):
    assert answer.citations
    for n, c in enumerate(answer.citations, 1):
        text = engine.text_of(c.source)
        assert text[c.start : c.end] == c.text
        assert f"[{n}]" in answer.text
        header = parse_article(c.source, text).body_start
        assert not any(s < c.end and c.start < e for s, e, _ in find_furniture(text, header)), c.text
        sentences = engine.answerer.sentences_of(c.source)
        assert any(s.start == c.start for s in sentences), "a citation starts on a sentence"
        assert any(s.end == c.end for s in sentences), "and ends on one"


# -- the sentences an answer quotes, on text of another domain ------------------------

_REPORT = (
    "The software patch is valid only for Europe. Cars sold in the United States need more work "
    "because of stricter rules on emissions. The company reports its results in March.\n\nAdvertisement\n\n"
    "Its shares fell by a tenth."
)


def _report_answerer():
    from qa.answering.answerer import ReaderAnswerer
    from qa.corpus.chunking import Span

    sentences = [
        "The software patch is valid only for Europe.",
        "Cars sold in the United States need more work because of stricter rules on emissions.",
        "The company reports its results in March.",
        "Its shares fell by a tenth.",
    ]
    spans = [Span("r.txt", _REPORT.index(t), _REPORT.index(t) + len(t)) for t in sentences]
    return ReaderAnswerer(reader=None, texts={"r.txt": _REPORT}, sentences=spans), spans


def test_a_neighbour_the_reader_also_chose_joins_the_answers_sentence():
    from qa.answering.sentences import sentence_run

    answerer, spans = _report_answerer()
    first = spans[0]
    assert sentence_run(answerer, "r.txt", first.start + 4, first.start + 12) == (first.start, first.end)
    # The reader found a reading nearly as good in the next sentence: it is quoted too.
    assert sentence_run(answerer, "r.txt", first.start + 4, first.start + 12, close=lambda k: k == 1) == (first.start, spans[1].end)
    # ... unless the answer quotes it already, from another reading.
    assert sentence_run(answerer, "r.txt", first.start + 4, first.start + 12, close=lambda k: k == 1, taken=lambda k: k == 1) == (first.start, first.end)
    # Page furniture between two sentences keeps them apart.
    third, last = spans[2], spans[3]
    assert "Advertisement" in _REPORT[third.end : last.start]
    assert sentence_run(answerer, "r.txt", third.start + 4, third.start + 10, close=lambda k: True) == (spans[1].start, third.end)


def test_a_why_question_is_answered_with_cited_sentences(engine):
    answer = engine.ask("Why are relations between India and the United States strained?")
    assert answer.kind == SENTENCES and not answer.abstained
    _check_exact_and_clean(engine, answer)
    assert answer.text.startswith(answer.citations[0].text)
    assert "tariffs" in answer.text  # the reason the articles give: the doubled tariffs
    assert answer.to_dict()["kind"] == SENTENCES


def test_summarize_cites_the_central_sentences_of_several_documents_once_each(engine):
    answer = engine.ask("Summarize the documents")
    assert answer.kind == SUMMARY and answer.short is None and not answer.abstained
    _check_exact_and_clean(engine, answer)
    assert len({c.source for c in answer.citations}) >= 3
    assert len({(c.source, c.start) for c in answer.citations}) == len(answer.citations)
    for c in answer.citations:  # a sentence two articles share is written once, cited to both
        assert answer.text.count(c.text) <= 1
    assert answer.text.startswith(answer.citations[0].text)


def test_a_summary_of_a_named_document_quotes_only_it(engine):
    source = engine.articles[2].source
    answer = engine.ask(f"Summarize {source}")
    assert answer.kind == SUMMARY
    _check_exact_and_clean(engine, answer)
    assert {c.source for c in answer.citations} == {source}
