"""Matching text: folding, tokens with offsets, stems, stopwords.

`fold` maps one character to one character, so an offset into the folded
text is the same offset into the original. Everything that *matches* works on
folded text; everything that is *shown or cited* is sliced from the original.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

_CHAR_MAP = {
    # quotes
    "\u2018": "'", "\u2019": "'", "\u201a": "'", "\u201b": "'", "\u2032": "'",
    "\u201c": '"', "\u201d": '"', "\u201e": '"', "\u201f": '"', "\u2033": '"',
    "\u00ab": '"', "\u00bb": '"',
    # hyphens and dashes (U+2011 non-breaking hyphen appears in the corpus)
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-",
    "\u2015": "-", "\u2212": "-",
    # spaces
    "\u00a0": " ", "\u2007": " ", "\u202f": " ", "\u2009": " ", "\u200b": " ",
    "\u2026": ".",
}

#: A word: letters/digits, keeping inner apostrophes, dots, commas and hyphens
#: of things like "U.S.", "68.7", "2024-25", "Russia's".
_TOKEN = re.compile(r"[$]?[0-9A-Za-z\u00c0-\u024f\u0400-\u04ff]+(?:[.,'\-/][0-9A-Za-z\u00c0-\u024f\u0400-\u04ff]+)*%?")

STOPWORDS = frozenset(
    """a about above after again against all also am an and any are aren't as at be because been
    before being below between both but by can could did do does doing down during each few for
    from further had has have having he her here hers herself him himself his how i if in into is
    it its itself just let me more most my myself no nor not now of off on once only or other our
    ours ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up upon very was we
    were what when where which while who whom whose why will with would you your yours yourself
    yourselves s t 's don't didn't doesn't isn't wasn't weren't won't shall may might must
    many much besides either neither whether else ever yet still already just even really actually""".split()
)

#: Words that shape a question but carry no fact to look for.
QUESTION_WORDS = frozenset(
    """what which who whom whose when where why how many much tell say says said saying describe
    described describes according article articles report reports reported mention mentioned
    mentions state stated states give given gives name named list kind kinds type sort please
    does did do was were is are one ones exactly total number amount figure figures value
    happened happen happens become becomes became get gets got come comes came go goes went
    make makes made take takes took""".split()
)

_STEMMER = None


_FOLD_TABLE = str.maketrans(_CHAR_MAP)


def fold(text: str) -> str:
    """Lowercase and unify quotes, dashes and spaces, one character for one."""
    mapped = text.translate(_FOLD_TABLE)
    if mapped.isascii():  # the common case, ~10x faster than the loop below
        return mapped.lower()
    out = []
    for ch in text:
        ch = _CHAR_MAP.get(ch, ch)
        low = ch.lower()
        out.append(low if len(low) == 1 else ch)
    return "".join(out)


class Token(NamedTuple):
    """A word: its folded text and its span. A tuple, not a dataclass: sentences are
    tokenised on every new question's hot path, and tuples are built several times faster."""

    text: str  # folded
    start: int
    end: int

    @property
    def stem(self) -> str:
        return stem(self.text)


def tokens(text: str) -> list[Token]:
    """Folded word tokens with their offsets into ``text``."""
    folded = fold(text)
    return [Token(m.group(0).rstrip("'"), m.start(), m.end()) for m in _TOKEN.finditer(folded)]


def _stemmer():
    global _STEMMER
    if _STEMMER is None:
        import Stemmer  # PyStemmer, shipped with llama-index-retrievers-bm25

        _STEMMER = Stemmer.Stemmer("english")
    return _STEMMER


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """Snowball stem of a folded word; possessives dropped ("russia's" -> "russia")."""
    word = word.lower()
    if word.endswith("'s"):
        word = word[:-2]
    if any(ch.isdigit() for ch in word):
        return word.replace(",", "")
    return _stemmer().stemWord(word)


def is_content(word: str) -> bool:
    return word not in STOPWORDS and word not in QUESTION_WORDS and len(word) > 1


def edit_distance_at_most(a: str, b: str, limit: int) -> bool:
    """True when ``a`` and ``b`` differ by at most ``limit`` edits.

    Edits are insertions, deletions, substitutions and swaps of two adjacent
    letters ("indains" -> "indians" is one edit): the usual typing slips.
    """
    if abs(len(a) - len(b)) > limit:
        return False
    before_previous: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                current[j] = min(current[j], before_previous[j - 2] + 1)
        if min(current) > limit:
            return False
        before_previous, previous = previous, current
    return previous[-1] <= limit
