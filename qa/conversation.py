"""Follow-ups: a question and the conversation before it -> a standalone question to search for.

Only the user's earlier questions are read (assistant replies are formatted text). A
question that leans on them (a word pointing back, "and ...", "what about ...", or at most
one content word of its own) is searched for together with the last `MAX_TURNS_BACK` of
them; any other question is searched for as it is. The reader still reads the user's own
question: only retrieval sees the standalone one.

>>> standalone_question("How many of them were killed?", ["How many Indians were recruited?"])
'How many of them were killed? How many Indians were recruited?'
>>> standalone_question("Who won the 1998 World Cup?", ["How many Indians were recruited?"])
'Who won the 1998 World Cup?'

The word lists are general English, kept as data in ``conversation_words.json``.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from qa.question import MAX_QUESTION_CHARS
from qa.text import fold

WORDS_FILE = Path(__file__).with_name("conversation_words.json")
#: A question with at most this many content words of its own leans on the earlier ones.
SHORT_QUESTION_WORDS = 1
#: Earlier user turns joined to a dependent question.
MAX_TURNS_BACK = 2


def _load_words(path: Path) -> dict[str, frozenset[str]]:
    data = json.loads(path.read_text(encoding="utf-8"))
    return {key: frozenset(value) for key, value in data.items() if isinstance(value, list)}


_WORDS = _load_words(WORDS_FILE)
#: Words that point back to something said earlier ("them", "it", "those").
ANAPHORA = _WORDS["anaphora"]
#: Openings that continue the previous question ("and ...", "what about ...").
CONTINUATIONS = _WORDS["continuations"]
#: Words that carry no fact to look for: stop-words, words that shape a question ("tell",
#: "according"), words that only say which kind of answer is wanted ("how *long*").
STOPWORDS = _WORDS["stopwords"]
NOT_CONTENT = STOPWORDS | _WORDS["question_words"] | _WORDS["answer_kind_words"]

_CONTINUATION = re.compile(
    r"^(?:" + "|".join(re.escape(c) for c in sorted(CONTINUATIONS, key=len, reverse=True)) + r")\b"
)
#: A word in any script, keeping inner apostrophes ("russia's", "didn't").
_WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)*")


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


def content_words(question: str) -> list[str]:
    """The words of ``question`` that name something to look for (folded)."""
    words = []
    for word in _WORD.findall(fold(question)):
        base = word.split("'")[0]  # "what's" is "what", "russia's" is "russia"
        if base in NOT_CONTENT or word in NOT_CONTENT or (len(word) < 2 and not word.isdigit()):
            continue
        words.append(word)
    return words


def is_dependent(question: str) -> bool:
    """Whether ``question`` leans on earlier turns: a word pointing back, a continuation,
    or too few content words of its own to search for."""
    folded = fold(question).strip()
    words = {w.split("'")[0] for w in _WORD.findall(folded)}
    return (
        bool(words & ANAPHORA)
        or bool(_CONTINUATION.match(folded))
        or len(content_words(question)) <= SHORT_QUESTION_WORDS
    )


def standalone_question(question: str, history) -> str:
    """What to search for: ``question`` followed by the last earlier questions when it
    depends on them, else ``question`` itself."""
    earlier = user_turns(history)[-MAX_TURNS_BACK:]
    if not earlier or not is_dependent(question):
        return question
    return " ".join([question, *earlier])
