"""Follow-ups: earlier turns in any accepted shape, joined to the search only when the question leans on them."""

from __future__ import annotations

import json

import pytest

from qa.conversation import (
    ANAPHORA,
    MAX_TURNS_BACK,
    NOT_CONTENT,
    WORDS_FILE,
    content_words,
    is_dependent,
    standalone_question,
    user_turns,
)

RECRUITED = "How many Indians were recruited?"
KILLED = "How many of them were killed?"


# -- user_turns --------------------------------------------------------------------


def test_user_turns_reads_gradio_message_dicts_and_skips_assistant_replies():
    history = [
        {"role": "user", "content": RECRUITED},
        {"role": "assistant", "content": "126 [1]"},
        {"role": "user", "content": "Who is Russia's foreign minister?"},
        {"role": "assistant", "content": "Sergey Lavrov [1]"},
    ]
    assert user_turns(history) == [RECRUITED, "Who is Russia's foreign minister?"]


def test_user_turns_reads_user_assistant_pairs_as_tuples_or_lists():
    assert user_turns([(RECRUITED, "126 [1]"), ["Who is Russia's foreign minister?", None]]) == [
        RECRUITED,
        "Who is Russia's foreign minister?",
    ]


def test_user_turns_reads_plain_strings_as_earlier_questions():
    assert user_turns([RECRUITED, KILLED]) == [RECRUITED, KILLED]


def test_user_turns_mixes_shapes_in_order():
    history = ["first?", ("second?", "reply"), {"role": "user", "content": "third?"}]
    assert user_turns(history) == ["first?", "second?", "third?"]


@pytest.mark.parametrize("history", [None, [], (), [""], ["   "], [{"role": "assistant", "content": "hi"}]])
def test_user_turns_of_empty_or_reply_only_history_is_empty(history):
    assert user_turns(history) == []


def test_user_turns_ignores_malformed_items():
    history = [None, 42, {"role": "user"}, {"role": "user", "content": ["not", "text"]}, (None, "x"), (), RECRUITED]
    assert user_turns(history) == [RECRUITED]


def test_user_turns_skips_turns_longer_than_a_question_can_be():
    pasted = "word " * 300_000  # 1.5 MB: never a question asked here
    assert user_turns([pasted, RECRUITED, {"role": "user", "content": pasted}]) == [RECRUITED]


# -- is_dependent --------------------------------------------------------------------


@pytest.mark.parametrize(
    "question",
    [
        KILLED,
        "How many?",
        "And discharged?",
        "What about the ones listed as missing?",
        "How long was the visit?",
        "When was she born?",  # another domain: a pronoun points back
        "And in chemistry?",
        "What about Pierre?",
        "Where did they live?",
    ],
)
def test_question_leaning_on_earlier_turns_is_dependent(question):
    assert is_dependent(question)


@pytest.mark.parametrize(
    "question",
    [
        RECRUITED,
        "Who is Russia's foreign minister?",
        "Where was Marie Curie born?",
        "Which element did Marie Curie discover in 1898?",
        "When did the Berlin Wall fall?",
    ],
)
def test_question_that_stands_alone_is_not_dependent(question):
    assert not is_dependent(question)


def test_content_words_skip_stopwords_question_words_and_answer_kind_words():
    assert content_words("How long did Marie Curie's stay in Warsaw last?") == ["marie", "curie's", "stay", "warsaw", "last"]
    assert content_words("What share of the vote did the party win?") == ["vote", "party", "win"]
    assert content_words("What was it?") == []


def test_word_lists_are_data_and_name_no_corpus_people_or_places():
    data = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    assert {"anaphora", "continuations", "stopwords", "question_words", "answer_kind_words"} <= set(data)
    assert {"them", "it", "those"} <= ANAPHORA
    words = {w for key, value in data.items() if isinstance(value, list) for w in value}
    assert not words & {"india", "indian", "indians", "russia", "russian", "moscow", "putin", "lavrov", "jaishankar"}
    assert "us" not in NOT_CONTENT, "'us' may be the US"


# -- standalone_question (no model) ----------------------------------------------------


def test_dependent_question_searches_with_the_earlier_question():
    query = standalone_question(KILLED, [RECRUITED])
    assert query == f"{KILLED} {RECRUITED}"


def test_independent_question_is_left_alone():
    assert standalone_question("Who is Russia's foreign minister?", [RECRUITED]) == "Who is Russia's foreign minister?"


def test_question_without_history_is_left_alone():
    assert standalone_question("How many?", None) == "How many?"
    assert standalone_question("How many?", [{"role": "assistant", "content": "126 [1]"}]) == "How many?"


def test_only_the_last_turns_are_used():
    oldest = "Who is Russia's foreign minister?"
    earlier = [oldest] + [f"Which question number {n} is this?" for n in range(MAX_TURNS_BACK - 1)] + [RECRUITED]
    query = standalone_question(KILLED, earlier)
    assert query.startswith(KILLED)
    assert all(turn in query for turn in earlier[-MAX_TURNS_BACK:])
    assert oldest not in query


def test_history_in_another_domain_is_joined_the_same_way():
    history = [("Where was Marie Curie born?", "Warsaw [1]")]
    assert standalone_question("And when did she die?", history) == "And when did she die? Where was Marie Curie born?"


# -- through the engine (expected answers: set by the shipped reader) ------------------------


def test_a_huge_history_turn_costs_nothing_and_changes_nothing(engine):
    answer = engine.ask("How many of them were killed?", history=[RECRUITED, "word " * 300_000])
    assert answer.short == "12"


HISTORY_SHAPES = {
    "strings": [RECRUITED],
    "pairs": [(RECRUITED, "126 [1]")],
    "messages": [{"role": "user", "content": RECRUITED}, {"role": "assistant", "content": "126 [1]"}],
}


@pytest.mark.parametrize("history", list(HISTORY_SHAPES.values()), ids=list(HISTORY_SHAPES))
def test_killed_after_recruited_answers_12(engine, source_text, decisive, history):
    decisive(KILLED, history)
    answer = engine.ask(KILLED, history=history)
    assert answer.short == "12"
    assert answer.question == KILLED
    assert RECRUITED in answer.query, "the earlier question joins the search"
    c = answer.citations[0]
    assert c.source == "002_626d0c358e0fb90a.txt"
    assert source_text(c.source)[c.answer_start : c.answer_end] == "12"


FOLLOW_UPS = [
    # (earlier question, follow-up, short answer the pair asks for)
    (RECRUITED, "And discharged?", "Ninety-six"),
    # "$4.88 billion" won over a run of the sectors sentence by 0.25 (on some processors the run
    # won, issue 19); since page furniture left the index (2026-12-06) the run wins by 1.9.
    pytest.param(
        "What was two-way trade worth in 2024–25?", "And India's exports?", "$4.88 billion",
        marks=pytest.mark.xfail(reason="answers a run of the sectors sentence ('non-tariff barriers ... agriculture')"),
    ),
    ("When did Jaishankar meet Putin?", "How long was the visit?", "three-day"),
    pytest.param(
        "Where will the new Indian consulates open?", "How many?", "two",
        marks=pytest.mark.xfail(reason="abstains: 'How many?' alone gives the reader nothing to read for"),
    ),
    (RECRUITED, "What about the ones listed as missing?", "16"),
]


@pytest.mark.parametrize("earlier, question, expected", FOLLOW_UPS)
def test_follow_up_is_answered_in_the_light_of_the_earlier_question(engine, source_text, decisive, earlier, question, expected):
    decisive(question, [earlier])
    answer = engine.ask(question, history=[earlier])
    assert answer.query.startswith(question) and earlier in answer.query
    assert not answer.abstained
    assert expected in answer.short
    c = next(c for c in answer.citations if c.answer_start is not None)
    assert source_text(c.source)[c.answer_start : c.answer_end] == answer.short


@pytest.mark.parametrize(
    "question, history",
    [
        ("Who is Russia's foreign minister?", [RECRUITED]),
        ("What share of India's energy needs does Russia provide?", [RECRUITED, KILLED]),
        (RECRUITED, [{"role": "user", "content": "When did Jaishankar meet Putin?"}]),
    ],
)
def test_independent_question_is_not_changed_by_history(engine, question, history):
    with_turns = engine.ask(question, history=history)
    alone = engine.ask(question)
    assert with_turns.query == question
    assert with_turns.to_dict() == alone.to_dict()


def test_malformed_history_is_ignored_not_an_error(engine):
    answer = engine.ask(RECRUITED, history=[None, 42, {"role": "system"}, (None,)])
    assert answer.short == "126" and answer.query == RECRUITED
