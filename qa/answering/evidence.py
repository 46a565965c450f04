"""How much of the question a reading's own sentence holds.

The reader scores a span from its window as a whole; a span whose sentence says little
of what the question asks about ("When will the consulates open?" read as "two" from a
sentence about their number) can still outscore the right one. So a reading's score gains,
with a calibrated weight (`qa.answering.answerer`), its sentence's **support**: the share of
the question's content words that the sentence quoting the span contains (a word counts when
the sentence has a word starting with all but its last few letters, as for the names check:
"recruited" finds "recruits").

>>> support("How many Indians were recruited?", "126 Indians were recruited by the Russian military.")
1.0
>>> support("How many Indians were recruited?", "Two consulates will open.")
0.0
"""

from __future__ import annotations

import re

from qa.answering.checks import word_prefix
from qa.conversation import content_words
from qa.text import fold

_WORD = re.compile(r"[^\W_]+")


def _words(text: str) -> list[str]:
    return _WORD.findall(fold(text).replace(".", ""))


def wanted(question: str) -> frozenset[str]:
    """What `support` looks for: the prefixes of ``question``'s content words (computed once
    per question, not once per reading)."""
    return frozenset(word_prefix(w) for w in content_words(question))


def support(question: str | frozenset[str], sentence: str) -> float:
    """The share of ``question``'s content words (or of its `wanted` prefixes) that
    ``sentence`` holds; 1.0 when the question has none: nothing to hold against it."""
    prefixes = wanted(question) if isinstance(question, str) else question
    if not prefixes:
        return 1.0
    have = set(_words(sentence))
    return sum(1 for p in prefixes if any(h.startswith(p) for h in have)) / len(prefixes)
