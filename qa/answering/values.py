"""Typed values in short answers: the number a figure states, and whether two answers
agree, or are two reports of one figure that disagree."""

from __future__ import annotations

import re

from qa.text import fold

_UNITS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_TENS = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALES = {"thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12, "lakh": 1e5, "crore": 1e7}
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_WORD = re.compile(r"[a-z0-9']+")

#: Two figures further apart than this factor are two facts ($68 billion against $4.88
#: billion), not two reports of one ($68 billion against $68.7 billion).
MAX_DISAGREEMENT = 1.5


def numeric_value(text: str) -> float | None:
    """The number ``text`` states ("$68.7 billion" -> 6.87e10, "Ninety-six" -> 96), or None."""
    folded = fold(text)
    m = _NUMBER.search(folded)
    if m:
        value = float(m.group(0).replace(",", ""))
    else:
        value = _words_to_number(folded)
        if value is None:
            return None
    for word, scale in _SCALES.items():
        if re.search(rf"\b{word}\b", folded):
            return value * scale
    return value


def _words_to_number(folded: str) -> float | None:
    current, found = 0, False
    for word in re.split(r"[\s-]+", folded):
        if word in _UNITS:
            current += _UNITS[word]
            found = True
        elif word in _TENS:
            current += _TENS[word]
            found = True
        elif word == "hundred" and found:
            current *= 100
        elif word == "and":
            continue
        elif found:
            break
    return float(current) if found else None


def same_answer(a: str, b: str) -> bool:
    """The same figure (126 = one hundred and twenty-six) or the same words."""
    va, vb = numeric_value(a), numeric_value(b)
    if va is not None and vb is not None:
        return abs(va - vb) < 1e-9 * max(abs(va), abs(vb), 1.0)
    return _WORD.findall(fold(a)) == _WORD.findall(fold(b))


def comparable_figures(a: str, b: str) -> bool:
    """Two differing figures close enough to be two reports of one quantity."""
    va, vb = numeric_value(a), numeric_value(b)
    if va is None or vb is None or same_answer(a, b):
        return False
    low, high = sorted((abs(va), abs(vb)))
    return low > 0 and high / low <= MAX_DISAGREEMENT
