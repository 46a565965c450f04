"""How two words match: stems, spelling variants, numbers written out, opposites.

Everything here is general English, not read off the corpus: the alias groups
("Russia"/"Russian"), hyphenated compounds ("inter-governmental" is
"intergovernmental") and opposite prefixes ("exports" is not "imports").
`SentenceTerms` is the match material of one sentence, computed once at load.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from qa.extract import numeric_value, pattern_candidates
from qa.text import STOPWORDS, Token, stem, tokens

#: Countries and their peoples: a clash between two of these is a real contradiction.
NATIONALITY_STEMS = frozenset(
    {"russia", "russian", "russians", "india", "indian", "indians", "china", "chinese", "ukrain", "ukrainian",
     "ukrainians", "us", "u.s", "usa", "america", "american", "americans", "uk", "britain", "british",
     "eu", "european"}
)

#: Spelling variants that carry the same meaning (general English, not corpus-specific).
ALIASES: dict[str, set[str]] = {}
for _group in (
    {"russia", "russian", "russians"},
    {"india", "indian", "indians"},
    {"china", "chinese"},
    {"ukrain", "ukrainian", "ukrainians"},
    {"us", "u.s", "usa", "america", "american", "americans"},
    {"uk", "britain", "british"},
    {"eu", "european"},
    {"un", "nation"},
    {"defenc", "defens"},
    {"sergey", "sergei"},
    {"minist", "ministri"},
    {"militari", "armi"},
):
    for _word in _group:
        ALIASES[_word] = _group


@dataclass
class SentenceTerms:
    """The match material of one sentence, computed once at load."""

    tokens: list[Token]
    stems: set[str]
    words: list[str]  # folded tokens, for embedding look-ups
    caps: list[bool]  # token capitalised in the original text
    keys: list[frozenset[str]]  # each token's `expansions`
    #: Positions of common words (not names, numbers or stopwords): the ones compared by meaning.
    common: list[int]


def sentence_terms(text: str) -> SentenceTerms:
    toks = tokens(text)
    stems: set[str] = set()
    for tok in toks:
        stems |= expansions(tok.text)
    for cand in pattern_candidates(text, ("money", "percent", "number")):
        value = numeric_value(cand.text)
        if value is not None and value == int(value):
            stems.add(str(int(value)))
    caps = [text[t.start : t.start + 1].isupper() for t in toks]
    words = [t.text for t in toks]
    common = [i for i, w in enumerate(words) if w not in STOPWORDS and not w[0].isdigit() and not caps[i]]
    return SentenceTerms(
        tokens=toks, stems=stems, words=words, caps=caps, keys=[expansions(w) for w in words], common=common
    )


@lru_cache(maxsize=65536)
def expansions(word: str) -> frozenset[str]:
    """A word's stem, its hyphenated parts' stems, the digits of a number, and known aliases."""
    base = stem(word)
    out = {base, word}
    if any(ch.isdigit() for ch in word):
        out.add(word.strip("$%").replace(",", ""))
    if ("-" in word or "/" in word) and not any(ch.isdigit() for ch in word):  # "2024-25" is not "2024"
        for part in re.split(r"[-/]", word):
            if part:
                out.add(stem(part))
        out.add(stem(word.replace("-", "")))  # "inter-governmental" is "intergovernmental"
    for s in list(out):
        out |= ALIASES.get(s, set())
    return frozenset(out)


#: Prefixes that turn a word into its opposite: "exports"/"imports", "increase"/"decrease".
OPPOSITE_PREFIXES = (("ex", "im"), ("ex", "in"), ("in", "out"), ("in", "de"), ("up", "down"), ("over", "under"), ("max", "min"))


def opposites(a: str, b: str) -> bool:
    """Embeddings put opposites close together ("exports" ~ "imports"); they must not match."""
    for p, q in OPPOSITE_PREFIXES:
        for x, y in ((a, b), (b, a)):
            if x.startswith(p) and y.startswith(q) and len(x) - len(p) >= 3 and x[len(p):] == y[len(q):]:
                return True
    return False
