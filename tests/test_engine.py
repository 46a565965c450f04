"""The engine end to end on the real corpus and model: answers, abstentions, citations.

The questions are written for these tests from the articles (not taken from
``evals/``). A test asserts the model's answer only where the model decides it clearly
(`conftest.DECISIVE_MARGIN`); one decided by a hair is skipped with its margin and counts in
the graded eval. Questions the engine gets wrong today are non-strict xfails with the reason:
a model's output may come out right on another processor, and that must not fail a run.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from qa.results import Answer

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

A000 = "000_ba0d99dbaf0691ae.txt"
A001 = "001_bc0dbc065121babf.txt"
A002 = "002_626d0c358e0fb90a.txt"
A003 = "003_903cd1dc65ffebe3.txt"
A004 = "004_13830333336bfa58.txt"

EXAMPLE = "How many Indians were recruited?"


@pytest.fixture(scope="module")
def ask(engine):
    """``ask(question)``: the engine's answer, asked once per module (the engine is deterministic)."""
    cache: dict[str, Answer] = {}

    def _ask(question: str) -> Answer:
        if question not in cache:
            cache[question] = engine.ask(question)
        return cache[question]

    return _ask


def known_wrong(question: str, reason: str):
    """A question the engine gets wrong today: an xfail (not strict: see the module's docstring)."""
    return pytest.param(question, marks=pytest.mark.xfail(reason=reason), id=question)


def norm(text: str | None) -> str:
    """Lower case, curly quotes and dashes folded, spaces collapsed."""
    text = (text or "").lower().translate(str.maketrans("’‘“”\u2011\u2013\u2014", "''\"\"---"))
    return " ".join(text.split())


def assert_valid_citation(c, source_text) -> None:
    assert source_text(c.source)[c.start : c.end] == c.text, f"{c.source} {c.start}-{c.end} is not verbatim"
    assert c.text.strip() == c.text and c.text


def assert_answers(answer: Answer, expected: str, sources: set[str], source_text) -> None:
    """Not abstained, the short answer contains ``expected``, the first citation is in ``sources``
    and holds the short answer where ``answer_start``/``answer_end`` say."""
    assert not answer.abstained, f"abstained on {answer.question!r}"
    assert norm(expected) in norm(answer.short), f"{answer.question!r}: short {answer.short!r}"
    first = answer.citations[0]
    assert first.source in sources, f"{answer.question!r} cited {first.source}"
    assert_valid_citation(first, source_text)
    assert first.answer_start is not None
    assert source_text(first.source)[first.answer_start : first.answer_end] == answer.short
    assert answer.short in answer.text


# -- the example -------------------------------------------------------------------


def test_example_question_answers_126_citing_the_recruitment_sentence(ask, source_text, decisive):
    decisive(EXAMPLE)
    answer = ask(EXAMPLE)
    assert answer.short == "126"
    assert not answer.abstained
    assert answer.citations[0].source == A002
    assert "126 Indians were recruited by the Russian military" in answer.citations[0].text
    assert_answers(answer, "126", {A002}, source_text)
    assert answer.question == EXAMPLE and answer.query == EXAMPLE


def test_asking_twice_gives_the_same_answer(engine):
    assert engine.ask(EXAMPLE).to_dict() == engine.ask(EXAMPLE).to_dict()


# -- facts of every kind, from four articles -------------------------------------------

FACTS = [
    # (question, part of the short answer, articles that state it)
    ("How many Indians were listed as missing?", "16", {A002}),
    ("How many Indians went missing?", "16", {A002}),
    ("How many Indians were discharged?", "Ninety-six", {A002}),
    ("How much were India's petroleum and crude imports worth in 2024?", "$53 billion", {A002}),
    ("How much was India-Russia trade worth in 2021?", "$13 billion", {A001}),
    ("What share of India's energy needs does Russia provide?", "40%", {A002}),
    ("What tariff did Trump impose on Indian goods?", "50 per cent", {A004}),
    ("What additional penalty did the US impose for purchasing Russian crude oil?", "25 per cent", {A004}),
    ("Who is Russia's foreign minister?", "Sergey Lavrov", {A000, A001, A002, A003, A004}),
    ("Which Chinese foreign minister did Jaishankar meet?", "Wang Yi", {A002}),
    ("Who is Russia's First Deputy Prime Minister?", "Manturov", {A000}),
    ("Who doubled tariffs on Indian goods?", "Donald Trump", {A000, A004}),
    ("Where will the new Indian consulates be opened?", "Kazan and Yekaterinburg", {A002, A003}),
    ("Where did Modi and Putin meet?", "Kazan", {A000}),
    ("Where did Jaishankar meet Wang Yi?", "New Delhi", {A002}),
    ("When did Jaishankar meet Putin?", "August 21, 2025", {A001}),
    ("How long was Jaishankar's visit?", "three-day", {A001}),
    ("Which day of the week did Jaishankar meet Lavrov?", "Thursday", {A000, A002, A004}),
    ("Which fields need Indian skilled workers in Russia?", "IT, construction, and engineering", {A002}),
    ("Which platforms did Lavrov say are new centres of power?", "SCO, BRICS, G20", {A000}),
    ("What did Jaishankar call Western criticism?", "perplexing", {A000}),
    ("How did Jaishankar describe the meeting with Manturov?", "very productive", {A000}),
]


#: Facts the shipped reader gets wrong today, with what it does instead (xfails; a fix shows up
#: as an XPASS in the summary).
WRONG_FACTS = {
    "What tariff did Trump impose on Indian goods?": "answers 'Russian crude oil' (what the penalty was for)",
    "Who is Russia's foreign minister?": "answers 'Wang Yi' (China's foreign minister, named in the same passage)",
    "Which day of the week did Jaishankar meet Lavrov?": "answers the date, 'August 21, 2025'",
    "When did Jaishankar meet Putin?": "answers a span across two sentences ('later this year ... Jaishankar "
    "travelled to Russia', by 2.2) since page furniture left the index (2026-12-06)",
}


def _facts():
    for q, expected, sources in FACTS:
        marks = [pytest.mark.xfail(reason=WRONG_FACTS[q])] if q in WRONG_FACTS else []
        yield pytest.param(q, expected, sources, marks=marks, id=q)


@pytest.mark.parametrize("question, expected, sources", list(_facts()))
def test_factual_question_gives_short_answer_with_supporting_citation(ask, source_text, decisive, question, expected, sources):
    decisive(question)
    assert_answers(ask(question), expected, sources, source_text)


@pytest.mark.xfail(reason="gives 001's '$68 billion' first, 002's '$68.7 billion' as the differing figure")
def test_trade_figure_question_gives_68_7_billion(ask, source_text):
    answer = ask("How much was bilateral trade worth in 2024-25?")
    assert_answers(answer, "$68.7 billion", {A002}, source_text)


@pytest.mark.xfail(reason="lists: the span stops at 'agriculture, pharma', before 'and textiles'")
def test_sectors_question_lists_the_three_sectors(ask, source_text):
    answer = ask("Which sectors could boost Indian exports to Russia?")
    assert not answer.abstained
    assert answer.citations[0].source in {A000, A001, A002, A003, A004}
    short = norm(answer.short)
    for sector in ("agriculture", "pharma", "textiles"):
        assert sector in short
    assert_valid_citation(answer.citations[0], source_text)


def test_description_question_answers_with_the_span_and_its_cited_sentence(ask, source_text, decisive):
    """The reader answers every question with a span of a sentence, quoted whole."""
    decisive("What did Jaishankar say about terrorism?")
    answer = ask("What did Jaishankar say about terrorism?")
    assert not answer.abstained and answer.short
    assert any("terror" in c.text for c in answer.citations)
    for c in answer.citations:
        assert_valid_citation(c, source_text)
        assert source_text(c.source)[c.answer_start : c.answer_end] in c.text


KNOWN_WRONG = [
    # Negation ("We are not the biggest purchasers ... that is China" read as India): "China" won
    # by 0.35 on 2026-12-03's index and lost on other processors (issue 19); "India" since the
    # embedded post that repeats the quote is page furniture and out of the index (2026-12-06).
    pytest.param(
        "Which country is the biggest purchaser of Russian oil?", "China", {A000, A003, A004},
        marks=pytest.mark.xfail(reason="negation: the reader reads 'not the biggest purchasers' as India"),
        id="biggest purchaser of Russian oil",
    ),
    pytest.param("Who supports Make in India?", "Russia", {A002, A003, A004}, id="who supports Make in India"),
    pytest.param(
        "How much did India's exports to Russia total in 2024-25?", "$4.88 billion", {A002},
        marks=pytest.mark.xfail(reason="answers the two-way trade figure ($68 billion) for 'exports'"),
        id="exports total 2024-25",
    ),
    pytest.param("Which session of the IRIGC-TEC did Jaishankar co-chair?", "26th", {A001}, id="IRIGC session"),
]


@pytest.mark.parametrize("question, expected, sources", KNOWN_WRONG)
def test_known_wrong_factual_answers(ask, source_text, decisive, question, expected, sources):
    decisive(question)
    assert_answers(ask(question), expected, sources, source_text)


# -- abstention ----------------------------------------------------------------------

OFF_TOPIC = [
    "Who won the 2022 World Cup?",
    "What is the capital of France?",
    "What is the GDP of India?",
    "What is Jaishankar's salary?",
]
NEAR_MISSES = [
    "What is the population of Kazan?",
    "How many Indians were recruited by the Ukrainian army?",
    "How many Indians were recruited in 2019?",
    "How many tanks did Russia sell to India?",
    "When did Trump double tariffs?",
    "What was the trade deficit in 2019?",
    "How much oil did India import from the U.S.?",
    "What did Putin say to Jaishankar?",
]


#: Near misses the shipped reader answers today (xfails): it reads what the passage
#: says nearby, not that the passage is about something else.
ANSWERED_NEAR_MISSES = {
    "What is Jaishankar's salary?": "answers '$6.6 billion to nearly $59 billion' (trade figures)",
    "How many Indians were recruited by the Ukrainian army?": "answers 126 (recruited by the Russian military)",
    "How many tanks did Russia sell to India?": "answers 'high oil imports'",
    "When did Trump double tariffs?": "answers 'Indian goods'",
    "How much oil did India import from the U.S.?": "answers '$53 billion' (imports from Russia)",
    "What did Putin say to Jaishankar?": "answers 'We are glad to see you' (Lavrov's words)",
}


def _unanswerable():
    for q in OFF_TOPIC + NEAR_MISSES:
        yield known_wrong(q, ANSWERED_NEAR_MISSES[q]) if q in ANSWERED_NEAR_MISSES else q


@pytest.mark.parametrize("question", list(_unanswerable()))
def test_unanswerable_question_abstains_and_offers_related_passages(ask, source_text, decisive, question):
    decisive(question)
    answer = ask(question)
    assert answer.abstained, f"answered {answer.short!r}: {answer.text[:120]}"
    assert answer.citations == [] and answer.short is None
    assert answer.related, "an abstention offers the closest passages as context"
    for c in answer.related:
        assert_valid_citation(c, source_text)
        assert c.answer_start is None and c.answer_end is None
    assert "don't say" in answer.text


@pytest.mark.parametrize(
    "question",
    [
        known_wrong("Who is the prime minister of Russia?", "answers 'Manturov' (Russia's *First Deputy* Prime Minister)"),
        known_wrong("How many Russian soldiers died in Ukraine?", "answers 12 (Indians killed) for Russian soldiers"),
        known_wrong("How many Indians work in Russian IT companies?", "answers 126 (recruited by the Russian military)"),
        known_wrong("How many consulates does India have in Russia?", "answers 'two Indian consulates' (the new ones to be opened)"),
        # Abstained on 2026-12-03's index; answers since the chunks stop at page furniture
        # (2026-12-06), which moved the passages retrieved for it: not strict, it follows the index.
        pytest.param(
            "How much LNG did India buy from Russia in 2024?", id="How much LNG did India buy from Russia in 2024?",
            marks=pytest.mark.xfail(reason="answers '$13 billion' (the 2021 trade figure)"),
        ),
    ],
)
def test_known_answered_near_misses(ask, question):
    assert ask(question).abstained


# -- conflicting figures ---------------------------------------------------------------


CONFLICTING = [
    known_wrong("How much was trade between India and Russia worth in 2024-25?", "sets 002's '$53 billion' (oil imports) against 001's '$68 billion'"),
    known_wrong("What was India-Russia trade worth in 2024-25?", "answers '$53 billion' (petroleum imports in 2024)"),
    known_wrong("What was the value of two-way trade between India and Russia in 2024–25?", "shows only $68.7 billion (002); 001's $68 billion is not read"),
]


@pytest.mark.parametrize("question", CONFLICTING)
def test_conflicting_trade_figures_show_both_values_with_citations_to_both_articles(ask, source_text, question):
    answer = ask(question)
    assert not answer.abstained
    assert "different figures" in answer.text
    figures = {answer.short, *answer.alternatives}
    assert figures == {"$68.7 billion", "$68 billion"}
    assert {c.source for c in answer.citations} == {A001, A002}
    by_source = {c.source: c for c in answer.citations}
    assert "$68.7 billion" in by_source[A002].text
    assert "$68 billion" in by_source[A001].text
    for c in answer.citations:
        assert_valid_citation(c, source_text)
        assert source_text(c.source)[c.answer_start : c.answer_end] in figures
    for n in range(1, len(answer.citations) + 1):
        assert f"[{n}]" in answer.text
    assert "$68.7 billion" in answer.text and "$68 billion" in answer.text


# -- every citation is verbatim ----------------------------------------------------------

BROAD = (
    [EXAMPLE]
    + [q for q, _, _ in FACTS]
    + [
        "How much was bilateral trade worth in 2024-25?",
        "What was the value of two-way trade between India and Russia in 2024–25?",
        "How much was trade between India and Russia worth in 2024-25?",
        "Which sectors could boost Indian exports to Russia?",
        "What did Jaishankar say about terrorism?",
        "Which regional issues were discussed?",
        "Which connectivity routes were discussed?",
        "What did Lavrov call the partnership with India?",
        "When is Putin expected to visit India?",
        "In which city did Jaishankar and Lavrov meet?",
        "How did Jaishankar describe India-Russia ties?",
        "Which commodities did India and Russia discuss long-term supplies of?",
        "What was India's trade deficit with Russia?",
        "Who is the prime minister of Russia?",
        "Which country is the biggest purchaser of Russian oil?",
        "Lavrov",
    ]
    + OFF_TOPIC[:2]
    + NEAR_MISSES[:4]
)


@pytest.mark.parametrize("question", BROAD)
def test_every_citation_matches_source_text(ask, source_text, question):
    answer = ask(question)
    for c in answer.citations + answer.related + answer.passages:
        assert_valid_citation(c, source_text)
        assert c.source in {A000, A001, A002, A003, A004}
    assert answer.passages, "the retriever always returns passages"
    for c in answer.citations:
        if c.answer_start is not None:
            assert c.start <= c.answer_start < c.answer_end <= c.end
    if answer.short is not None:
        located = [c for c in answer.citations if c.answer_start is not None]
        assert located, "a short answer is located in at least one citation"
        first = located[0]
        assert source_text(first.source)[first.answer_start : first.answer_end] == answer.short


@pytest.mark.parametrize("question", BROAD)
def test_citation_markers_in_text_match_the_citations(ask, question):
    answer = ask(question)
    markers = [int(n) for n in re.findall(r"\[(\d+)\]", answer.text)]
    if answer.abstained:
        assert markers == [] and answer.citations == []
    else:
        assert answer.citations
        assert sorted(set(markers)) == list(range(1, len(answer.citations) + 1))


# -- retrieval modes, properties, the package-level ask ------------------------------------


@pytest.mark.parametrize("mode", ["bm25", "dense"])
def test_other_retrieval_modes_still_answer_the_example(engine, source_text, decisive, mode):
    other = engine.with_retrieval(mode)
    decisive(EXAMPLE, on=other)
    assert other.settings.retrieval == mode
    assert engine.settings.retrieval == "hybrid", "with_retrieval leaves the original engine alone"
    answer = other.ask(EXAMPLE)
    assert_answers(answer, "126", {A002}, source_text)


def test_engine_lists_the_articles_and_counts_passages(engine):
    assert [a.source for a in engine.articles] == [A000, A001, A002, A003, A004]
    assert engine.passage_count == engine._index.manifest["counts"]["chunks"] > 5


def test_package_ask_uses_the_index_dir_from_the_environment(monkeypatch, tmp_path, settings, engine):
    import qa
    import qa.index.embedding

    index_dir = tmp_path / "index"
    shutil.copytree(settings.index_dir, index_dir)  # an up-to-date index: loaded, not rebuilt
    monkeypatch.setenv("QA_INDEX_DIR", str(index_dir))
    monkeypatch.setenv("QA_SEEDS_DIR", str(SEEDS_DIR))
    for name in ("QA_MODEL", "QA_RETRIEVAL"):
        monkeypatch.delenv(name, raising=False)
    embedder = engine.embedder  # loaded before the patch: loading it calls load_embedder itself
    monkeypatch.setattr(qa.index.embedding, "load_embedder", lambda model: embedder)  # skip a second model load
    monkeypatch.setattr(qa, "_default", None)

    answer = qa.ask(EXAMPLE)
    assert isinstance(answer, qa.Answer)
    assert answer.short == "126"
    assert isinstance(answer.citations[0], qa.Citation)
    default = qa.default_engine()
    assert default.settings.index_dir == index_dir
    assert default.index_status == "loaded"
    assert qa.default_engine() is default, "one shared engine"
