"""Follow-up questions: reading "How many of them were killed?" in the light of earlier turns.

Only the user's earlier questions are used (assistant replies are formatted
text). When the new question leans on them (a pronoun, "what about ...", or
almost no content words of its own), the previous question's terms join the
search as *optional* context, and a bare "what about X?" inherits the
previous question's answer type.
"""

from __future__ import annotations

import re
from dataclasses import replace

from qa.question import (
    DESCRIPTION,
    MAX_QUESTION_CHARS,
    Question,
    answer_type,
    question_terms,
)
from qa.text import fold

#: Words that point back to something said earlier.
ANAPHORA = frozenset("them they their theirs it its he him his she her this that these those there same such".split())
_CONTINUATION = re.compile(r"^(?:and|what about|how about|and what about|what of|also|then)\b")
#: A question with at most this many content words of its own may lean on the previous one.
SHORT_QUESTION_TERMS = 1
#: Earlier user turns considered.
MAX_TURNS_BACK = 2


def user_turns(history) -> list[str]:
    """The user's earlier questions from a history in any of the accepted shapes.

    Accepts ``[{"role": "user", "content": ...}, ...]`` (Gradio "messages"),
    ``[(user, assistant), ...]`` pairs, or plain strings (earlier questions).
    A turn longer than a question may be (`MAX_QUESTION_CHARS`) was never a question
    asked here, and reading it would cost time: it is skipped.
    """
    turns: list[str] = []
    for item in history or []:
        if isinstance(item, dict):
            if item.get("role") == "user" and isinstance(item.get("content"), str):
                turns.append(item["content"])
        elif isinstance(item, (list, tuple)) and item and isinstance(item[0], str):
            turns.append(item[0])
        elif isinstance(item, str):
            turns.append(item)
    return [t for t in turns if t.strip() and len(t) <= MAX_QUESTION_CHARS]


def is_dependent(question: Question) -> bool:
    folded = fold(question.text)
    words = set(re.findall(r"[a-z']+", folded))
    return bool(words & ANAPHORA) or bool(_CONTINUATION.match(folded)) or len(question.terms) <= SHORT_QUESTION_TERMS


def with_history(question: Question, history) -> tuple[Question, str]:
    """The question enriched by earlier turns, and the standalone query to search for."""
    earlier = user_turns(history)[-MAX_TURNS_BACK:]
    if not earlier or not is_dependent(question):
        return question, question.text
    previous = earlier[-1]
    context = []
    for turn in earlier:
        context += question_terms(turn, from_history=True)
    own = {t.stem for t in question.terms}
    context = [t for t in context if t.stem not in own]
    kind = question.answer_type
    if kind == DESCRIPTION or _CONTINUATION.match(fold(question.text)):
        kind = answer_type(previous)  # "What about the missing ones?" asks what the last question asked
    query = f"{question.text} {' '.join(earlier)}"
    return replace(question, answer_type=kind, context_terms=context), query
