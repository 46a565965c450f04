"""Follow-up questions: earlier turns in any accepted shape, used only when the question leans on them."""

from __future__ import annotations

import pytest

from qa.followup import MAX_TURNS_BACK, user_turns, with_history
from qa.question import analyse

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


def test_a_huge_history_turn_costs_nothing_and_changes_nothing(engine):
    answer = engine.ask("How many of them were killed?", history=[RECRUITED, "word " * 300_000])
    assert answer.short == "12"


# -- with_history (no model) --------------------------------------------------------------


def test_dependent_question_searches_with_the_earlier_question():
    question, query = with_history(analyse(KILLED), [RECRUITED])
    assert query.startswith(KILLED) and RECRUITED in query
    assert question.text == KILLED
    assert {t.text for t in question.context_terms} >= {"indians", "recruited"}
    assert all(t.from_history for t in question.context_terms)


def test_independent_question_is_left_alone():
    original = analyse("Who is Russia's foreign minister?")
    question, query = with_history(original, [RECRUITED])
    assert (question, query) == (original, original.text)


def test_only_the_last_turns_are_used():
    oldest = "Who is Russia's foreign minister?"
    earlier = [oldest] + [f"Which question number {n} is this?" for n in range(MAX_TURNS_BACK - 1)] + [RECRUITED]
    _question, query = with_history(analyse(KILLED), earlier)
    assert all(turn in query for turn in earlier[-MAX_TURNS_BACK:])
    assert oldest not in query


def test_bare_continuation_inherits_the_previous_answer_type():
    question, _query = with_history(analyse("And discharged?"), [RECRUITED])
    assert question.answer_type == "count"


def test_what_about_continuation_inherits_the_previous_answer_type():
    question, _query = with_history(analyse("What about the ones listed as missing?"), [RECRUITED])
    assert question.answer_type == "count"


# -- through the engine ---------------------------------------------------------------------

HISTORY_SHAPES = {
    "strings": [RECRUITED],
    "pairs": [(RECRUITED, "126 [1]")],
    "messages": [{"role": "user", "content": RECRUITED}, {"role": "assistant", "content": "126 [1]"}],
}


@pytest.mark.parametrize("history", list(HISTORY_SHAPES.values()), ids=list(HISTORY_SHAPES))
def test_killed_after_recruited_answers_12(engine, source_text, history):
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
    ("What was two-way trade worth in 2024–25?", "And India's exports?", "$4.88 billion"),
    ("When did Jaishankar meet Putin?", "How long was the visit?", "three-day"),
    ("Where will the new Indian consulates open?", "How many?", "two"),
    (RECRUITED, "What about the ones listed as missing?", "16"),
]


@pytest.mark.parametrize("earlier, question, expected", FOLLOW_UPS)
def test_follow_up_is_answered_in_the_light_of_the_earlier_question(engine, source_text, earlier, question, expected):
    answer = engine.ask(question, history=[earlier])
    assert not answer.abstained
    assert answer.short == expected
    assert answer.query.startswith(question) and earlier in answer.query
    c = next(c for c in answer.citations if c.answer_start is not None)
    assert source_text(c.source)[c.answer_start : c.answer_end] == expected


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
