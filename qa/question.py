"""Cleaning a question before anything reads it, and refusing what is not one.

>>> clean_question("  How many\\x00 Indians were recruited?\\n")
'How many Indians were recruited?'
"""

from __future__ import annotations

import re
import unicodedata

from qa.errors import BadQuestion

#: Longer input is refused: it is a pasted document, not a question.
MAX_QUESTION_CHARS = 1000

_ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def clean_question(question: object) -> str:
    """Whitespace-collapsed question without control characters; raises `BadQuestion`."""
    if not isinstance(question, str):
        raise BadQuestion(f"The question must be text, not {type(question).__name__}.")
    question = _ANSI_ESCAPE.sub(" ", question)
    # Control and format characters, and lone surrogates (undecodable bytes), become spaces.
    chars = [" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch for ch in question]
    cleaned = " ".join("".join(chars).split())
    if not cleaned:
        raise BadQuestion(
            "The question is empty. Ask something about the articles, "
            "e.g. 'How many Indians were recruited?'."
        )
    if len(cleaned) > MAX_QUESTION_CHARS:
        raise BadQuestion(
            f"The question is {len(cleaned):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
            "Ask the question itself rather than pasting text."
        )
    return cleaned
