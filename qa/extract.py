"""Short-answer candidates inside a sentence: numbers, money, dates, names, lists, quotes.

Patterns run on the folded sentence (same offsets as the original), and every
candidate is reported as a span of the original text, so the short answer is
always a verbatim slice of the article.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.text import fold

_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_DAYS = "monday|tuesday|wednesday|thursday|friday|saturday|sunday"
_UNITS = r"(?:one|two|three|four|five|six|seven|eight|nine)"
_TEENS = r"(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen)"
_TENS = r"(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
WORD_NUMBER = rf"(?:{_TENS}(?:-{_UNITS})?|{_TEENS}|{_UNITS})(?:[ -]hundred(?:(?: and)? (?:{_TENS}(?:-{_UNITS})?|{_TEENS}|{_UNITS}))?)?"
# A spelled number on its own, not the first half of "two-way" or "one-sided".
_LONE_WORD_NUMBER = rf"{WORD_NUMBER}(?!-[a-z])"
_SCALE = r"(?:\s?(?:billion|million|trillion|thousand|crore|lakh|bn|mn))"

_PATTERNS: dict[str, re.Pattern] = {
    "money": re.compile(rf"(?:us)?\$\s?\d[\d,]*(?:\.\d+)?{_SCALE}?|\b\d[\d,]*(?:\.\d+)?{_SCALE}?\s(?:dollars|rupees|roubles|rubles)\b"),
    "percent": re.compile(r"\b\d+(?:\.\d+)?\s?(?:%|per cent\b|percent\b)"),
    "multiple": re.compile(rf"\b(?:{WORD_NUMBER}|\d+)-?fold\b"),
    "fiscal": re.compile(r"\b(?:fiscal (?:year )?)?(?:19|20)\d\d-\d\d(?:\d\d)?\b"),
    "date": re.compile(
        rf"\b(?:{_MONTHS}) \d{{1,2}}(?:, \d{{4}})?\b|\b\d{{1,2}} (?:{_MONTHS})(?: \d{{4}})?\b"
        rf"|\b(?:{_MONTHS})(?: or (?:{_MONTHS}))?(?: \d{{4}})?\b|\b(?:{_DAYS})\b|\b\d{{4}}-\d\d-\d\d\b"
        r"|\b(?:later (?:this|in the) year|(?:at )?the end of the year|a day (?:earlier|after|later)|yesterday"
        r"|earlier that day|last year|this year|next year)\b"
    ),
    "year": re.compile(r"\b(?:19|20)\d\d\b"),
    "duration": re.compile(
        rf"\b(?:{WORD_NUMBER}|\d+)[- ](?:day|week|month|year|hour)s?\b"
        r"|\b(?:past|last|over the past|next) (?:\w+ )?(?:days|weeks|months|years)\b"
    ),
    "number": re.compile(rf"\b\d[\d,]*(?:\.\d+)?{_SCALE}?\b|\b{_LONE_WORD_NUMBER}\b"),
}

_QUOTE = re.compile(r"\"([^\"]{3,300}?)\"|'([^']{3,120}?)'(?![a-z])")
_AS_PHRASE = re.compile(
    r"\b(?:described?|describing|describes|characteri[sz](?:ed|ing|es)|call(?:ed|ing|s)?|term(?:ed|ing|s)?|hail(?:ed|ing|s)?)"
    r"\b[^.;:]{0,80}?\bas (?!a result)((?:[^,.;:\"](?!\bwhile\b|\bwith\b|\bwhich\b))+)"
)
_LIST_CUE = re.compile(r"\b(?:such as|like|including|namely|especially|as well as)\b\s*(?:the\s+)?|:\s*")
_CAP_RUN = re.compile(r"(?:[A-Z][\w'\u2019.\-\u2011\u2013]*|of|the|and)(?:\s+(?:[A-Z][\w'\u2019.\-\u2011\u2013]*|of|the))*")
_ITEM_STOP = frozenset(
    "to for with which that will would can could is are was were has have had in on at by from while who "
    "whose where when as than so because through amid into".split()
)


@dataclass(frozen=True)
class Candidate:
    kind: str
    start: int  # offsets into the sentence
    end: int
    text: str

    def shifted(self, offset: int) -> "Candidate":
        return Candidate(self.kind, self.start + offset, self.end + offset, self.text)


def _trim(sentence: str, start: int, end: int) -> tuple[int, int]:
    while start < end and sentence[start] in " ,;:'\"\u201c\u201d\u2018\u2019(":
        start += 1
    if re.search(r"[A-Za-z]['\u2019]s$", sentence[start:end]):  # "New Delhi's" -> "New Delhi"
        end -= 2
    while end > start and sentence[end - 1] in " ,;:'\"\u201c\u201d\u2018\u2019).":
        end -= 1
    return start, end


def _cand(kind: str, sentence: str, start: int, end: int) -> Candidate | None:
    start, end = _trim(sentence, start, end)
    if end <= start:
        return None
    return Candidate(kind, start, end, sentence[start:end])


def pattern_candidates(sentence: str, kinds: tuple[str, ...]) -> list[Candidate]:
    """Regex candidates of the given kinds, longest first where they overlap."""
    folded = fold(sentence)
    found: list[Candidate] = []
    for kind in kinds:
        for m in _PATTERNS[kind].finditer(folded):
            c = _cand(kind, sentence, m.start(), m.end())
            if c:
                found.append(c)
    found.sort(key=lambda c: (c.start, -(c.end - c.start)))
    kept: list[Candidate] = []
    for c in found:
        if kept and c.start < kept[-1].end:
            continue  # inside a longer match ("$68.7 billion" swallows "68.7")
        kept.append(c)
    return kept


def quantity_candidates(sentence: str) -> list[Candidate]:
    return pattern_candidates(sentence, ("money", "percent", "multiple", "fiscal", "date", "duration", "number"))


def date_candidates(sentence: str) -> list[Candidate]:
    return [c for c in pattern_candidates(sentence, ("fiscal", "date", "year")) if c.kind != "number"]


def duration_candidates(sentence: str) -> list[Candidate]:
    return [c for c in pattern_candidates(sentence, ("duration",))]


def quote_candidates(sentence: str) -> list[Candidate]:
    """Quoted phrases, and what follows "described ... as"."""
    folded = fold(sentence)
    out = []
    for m in _QUOTE.finditer(folded):
        group = 1 if m.group(1) is not None else 2
        c = _cand("quote", sentence, m.start(group), m.end(group))
        if c:
            out.append(c)
    for m in _AS_PHRASE.finditer(folded):
        c = _cand("quote", sentence, m.start(1), m.end(1))
        if c:
            out.append(c)
    return out


def list_candidates(sentence: str) -> list[Candidate]:
    """Enumerations "A, B, and C" / "A and B", preferably after a cue ("such as", "like")."""
    folded = fold(sentence)
    lowered = "".join(ch.lower() if len(ch.lower()) == 1 else ch for ch in sentence)
    out = []
    for cue in _LIST_CUE.finditer(folded):
        c = _enumeration_from(sentence, lowered, cue.end())
        if c:
            out.append(c)
    return out


def _enumeration_from(sentence: str, lowered: str, start: int) -> Candidate | None:
    """Read "A, B(,) and C" starting at ``start``; None if fewer than two items.

    ``lowered`` is the sentence in lower case; dashes are kept as they are, so
    an em dash (an aside) ends the list while a hyphen stays inside a word.
    """
    if re.match(r"in\s", lowered[start:]):  # "especially in IT, construction, ..."
        start += 3
    # An em dash, or a spaced en dash, opens an aside; "Chennai–Vladivostok" is one word.
    words = list(re.finditer(r"(?:[^\s,;.\u2014\u2013]|\u2013(?=\S))+|,|;|\.|\u2014|\u2013", lowered[start:]))
    items = 1
    end = start
    seen_and = False
    item_words = 0
    for w in words:
        token = w.group(0)
        absolute_end = start + w.end()
        if token in (";", ".", "\u2014", "\u2013"):
            break
        if token == ",":
            if seen_and:
                break
            items += 1
            item_words = 0
            continue
        if token in ("and", "or"):
            if item_words == 0 and items > 1:
                seen_and = True
                continue
            seen_and = True
            items += 1
            item_words = 0
            continue
        original = sentence[start + w.start() : absolute_end]
        if token in _ITEM_STOP and not original[:1].isupper():
            if seen_and or items > 1 and item_words == 0:
                break
            if items == 1:
                return None
            break
        item_words += 1
        if item_words > 6:
            return None
        end = absolute_end
    if items < 2 or not seen_and:
        return None
    return _cand("list", sentence, start, end)


def name_candidates(sentence: str, names: list[str]) -> list[Candidate]:
    """Occurrences of known names (longest first), e.g. from `NameLexicon`."""
    folded = fold(sentence)
    taken: list[tuple[int, int]] = []
    out = []
    for name in sorted(names, key=len, reverse=True):
        for m in re.finditer(rf"(?<![\w-]){re.escape(fold(name))}(?![\w])", folded):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            taken.append((m.start(), m.end()))
            out.append(Candidate("name", m.start(), m.end(), sentence[m.start() : m.end()]))
    return sorted(out, key=lambda c: c.start)


#: Lower case and digits mixed in one word: a link's code ("pbH06HtTwK"), not a name ("G20" is one).
_LINK_LIKE = re.compile(r"\b(?=\w*[a-z])(?=\w*\d)\w+")


def capitalised_runs(sentence: str) -> list[Candidate]:
    """Runs of capitalised words ("Inter-Governmental Commission", "China"), inner "of/the" allowed."""
    out = []
    for m in _CAP_RUN.finditer(sentence):
        start, end = m.start(), m.end()
        # trim lowercase glue at the edges
        while True:
            head = re.match(r"(?:of|the|and)\s+", sentence[start:end])
            if not head:
                break
            start += head.end()
        while True:
            tail = re.search(r"\s+(?:of|the|and)$", sentence[start:end])
            if not tail:
                break
            end = start + tail.start()
        if end > start and sentence[start].isupper() and not _LINK_LIKE.search(sentence[start:end]):
            c = _cand("entity", sentence, start, end)
            if c:
                out.append(c)
    return out


_CONJOINING_GAPS = frozenset({",", "and", ", and", "or", ", or", "&", "and the", ", and the", "or the", ", the"})


def join_conjoined(sentence: str, cands: list[Candidate]) -> list[Candidate]:
    """Merge "Kazan and Yekaterinburg" / "A, B and C" into one list candidate."""
    if len(cands) < 2:
        return cands
    merged: list[Candidate] = []
    group = [cands[0]]
    for c in cands[1:]:
        gap = fold(sentence[group[-1].end : c.start]).strip()
        if gap in _CONJOINING_GAPS:
            group.append(c)
        else:
            merged.append(_merge(sentence, group))
            group = [c]
    merged.append(_merge(sentence, group))
    return merged


def _merge(sentence: str, group: list[Candidate]) -> Candidate:
    if len(group) == 1:
        return group[0]
    return Candidate("list", group[0].start, group[-1].end, sentence[group[0].start : group[-1].end])


_WORD_VALUES = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
        "sixteen seventeen eighteen nineteen".split()
    )
}
_TENS_VALUES = {w: 10 * i for i, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()) if w != "_"}
_SCALE_VALUES = {"thousand": 1e3, "million": 1e6, "mn": 1e6, "billion": 1e9, "bn": 1e9, "trillion": 1e12, "lakh": 1e5, "crore": 1e7}


def numeric_value(text: str) -> float | None:
    """The number a candidate states ("$68.7 billion" -> 6.87e10, "Ninety-six" -> 96), or None."""
    folded = fold(text)
    m = re.search(r"\d[\d,]*(?:\.\d+)?", folded)
    if m:
        value = float(m.group(0).replace(",", ""))
    else:
        value = _words_to_number(folded)
        if value is None:
            return None
    for word, scale in _SCALE_VALUES.items():
        if re.search(rf"\b{word}\b", folded):
            value *= scale
            break
    return value


def _words_to_number(folded: str) -> float | None:
    total = 0
    current = 0
    found = False
    for word in re.split(r"[\s-]+", folded):
        if word in _WORD_VALUES:
            current += _WORD_VALUES[word]
            found = True
        elif word in _TENS_VALUES:
            current += _TENS_VALUES[word]
            found = True
        elif word == "hundred" and found:
            current *= 100
        elif word == "and":
            continue
        elif found:
            break
    total += current
    return float(total) if found else None
