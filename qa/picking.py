"""Choosing the short answer inside a sentence.

`qa.extract` lists what *could* answer (every number, date, name, list or
quote); this module picks the one the question asks for: of the wanted kind,
not already in the question, and close to the words the question and the
sentence share ("12 were **killed**" for "How many were killed?"). How close
the pick sits to those words (its *closeness*, 0..1) also tells the answerer
how much to trust the sentence.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa import extract
from qa.coverage import Coverage
from qa.extract import Candidate, numeric_value
from qa.question import (
    COUNT,
    DATE,
    DURATION,
    ENTITY,
    LIST,
    MONEY,
    MULTIPLE,
    PERCENT,
    PERSON,
    PLACE,
    QUOTE,
    SPECIFIC_ROLES,
    Question,
)
from qa.text import STOPWORDS, fold, stem
from qa.words import NATIONALITY_STEMS, SentenceTerms, expansions

#: A short answer this far from the question's words is a guess, not an answer.
MIN_CLOSENESS = 0.1
#: Closeness of a term at distance d tokens is 1 / (1 + d / DISTANCE_SCALE).
DISTANCE_SCALE = 2.0
#: Added to closeness when the counted noun follows the number ("126 *Indians*").
FOCUS_BONUS = 0.1
#: Taken from closeness when the sentence denies the candidate ("India *not* the biggest buyer").
NEGATION_PENALTY = 1.0
_NEGATIONS = frozenset({"not", "never", "no", "isn't", "wasn't", "aren't", "weren't", "neither", "nor"})
#: Extra distance per clause boundary (comma, "while", "though") between candidate and term.
CLAUSE_PENALTY = 2.0
#: Taken from closeness for the starting value of "from A to B" unless the question asks
#: about the past: a figure that changed is asked about as it is now.
EARLIER_VALUE_PENALTY = 0.3
_ASKS_ABOUT_PAST = re.compile(r"\b(?:from|before|earlier|ago|initially|originally|start|started|first|previous|previously|was it)\b")
#: Added to closeness for a full date ("August 21, 2025") over a bare year or "later this year".
SPECIFIC_DATE_BONUS = 0.5
#: Added to closeness when a "which X?" candidate is followed by X or a word like it ("U.S. *dollar*").
HEAD_NOUN_BONUS = 0.3
#: Similarity at which the noun after a number counts as the noun the question counts.
COUNTED_NOUN_SIMILARITY = 0.4
#: Similarity at which a word counts as the question's head noun.
HEAD_NOUN_SIMILARITY = 0.6
_MONTHS_AND_DAYS = re.compile(
    r"\b(?:january|february|march|april|may|june|july|august|september|october|november|december"
    r"|monday|tuesday|wednesday|thursday|friday|saturday|sunday)\b"
)
_CLAUSE_BREAK = re.compile(r",|;|\bwhile\b|\bthough\b|\bwhereas\b|\bbut\b|\u2014")


@dataclass(frozen=True)
class Pick:
    candidate: Candidate  # offsets relative to the sentence
    closeness: float


def candidates_for(question: Question, sentence: str, lexicon) -> list[Candidate]:
    """Every span of ``sentence`` of the kind ``question`` asks for."""
    kind = question.answer_type
    if kind == COUNT:
        return [
            c for c in extract.quantity_candidates(sentence)
            if c.kind in ("number", "duration") and not _is_year(c.text)
        ]
    if kind in (MONEY, PERCENT, MULTIPLE):
        return [c for c in extract.quantity_candidates(sentence) if c.kind == kind]
    if kind == DATE:
        found = extract.date_candidates(sentence)
        wording = fold(question.text)
        if re.search(r"\bdate\b", wording):  # "on what date": a calendar date, not "later this year"
            found = [c for c in found if any(ch.isdigit() for ch in c.text)]
        elif re.search(r"\bday\b", wording):
            found = [c for c in found if _is_specific_date(c.text)]
        return found
    if kind == DURATION:
        return extract.duration_candidates(sentence)
    if kind == PERSON:
        return extract.join_conjoined(sentence, extract.name_candidates(sentence, lexicon.person_names()))
    if kind == PLACE:
        places = extract.name_candidates(sentence, lexicon.place_names())
        if not places:
            persons = set(lexicon.person_names())
            places = [
                c for c in extract.capitalised_runs(sentence)
                if c.text not in persons
                and c.start > 0
                and not c.text.replace(".", "").isupper()  # "ANI", "UN"
                and not _MONTHS_AND_DAYS.search(fold(c.text))
            ]
        return extract.join_conjoined(sentence, places)
    if kind == LIST:
        return extract.list_candidates(sentence) or [
            c for c in extract.join_conjoined(sentence, extract.capitalised_runs(sentence)) if c.kind == "list"
        ]
    if kind == QUOTE:
        return extract.quote_candidates(sentence)
    if kind == ENTITY:
        known = set(lexicon.person_names()) | set(lexicon.place_names())
        runs = [
            c for c in extract.capitalised_runs(sentence)
            if (c.start > 0 or " " in c.text or c.text in known) and not _is_nationality(c.text)
        ]
        return extract.join_conjoined(sentence, runs) + extract.quote_candidates(sentence)
    return []


def pick_short(
    question: Question,
    sentence: str,
    coverage: Coverage,
    terms: SentenceTerms,
    lexicon,
    similarity=None,
    min_closeness: float = MIN_CLOSENESS,
) -> Pick | None:
    """The best short answer in ``sentence`` for ``question``, or None.

    ``similarity(word_a, word_b)`` (cosine of word embeddings) lets a "which X?"
    question prefer the candidate followed by X or a word like it.
    """
    candidates = [
        c for c in candidates_for(question, sentence, lexicon)
        if not _echoes_question(c, question)
        and not (question.answer_type == PERSON and _title_disagrees(c, sentence, terms, question))
        and not (question.answer_type == COUNT and _counts_something_else(c, sentence, terms, question.focus, similarity))
    ]
    if question.answer_type == ENTITY and question.head_noun and similarity is not None:
        candidates = [_with_head_noun(c, sentence, terms, question.head_noun, similarity) for c in candidates]
    if not candidates:
        return None
    term_positions = coverage.term_positions or (
        ((1.0, coverage.context_positions),) if coverage.context_positions else ()
    )
    total_weight = coverage.total_weight or sum(w for w, _ in term_positions) or 1.0
    best: Pick | None = None
    for cand in candidates:
        first, last = _token_range(terms, cand)
        closeness = 0.0
        for weight, positions in term_positions:
            distance = min(_distance(sentence, terms, first, last, p) for p in positions)
            if distance is not None:
                closeness += weight / (1.0 + distance / DISTANCE_SCALE)
        closeness /= total_weight
        if question.focus and _focus_follows(terms, last, question.focus):
            closeness += FOCUS_BONUS
        if (
            cand.kind in ("money", "percent", "number")
            and _starts_a_change(sentence, cand, question)
            and not _ASKS_ABOUT_PAST.search(fold(question.text))
        ):
            closeness -= EARLIER_VALUE_PENALTY
        if any(tok.text in _NEGATIONS for tok in terms.tokens[last + 1 : last + 3]):
            closeness -= NEGATION_PENALTY
        if cand.kind == "date" and _is_specific_date(cand.text):
            closeness += SPECIFIC_DATE_BONUS
        if cand.kind == "entity+head":
            closeness += HEAD_NOUN_BONUS
        if best is None or closeness > best.closeness:
            best = Pick(cand, closeness)
    return best if best is not None and best.closeness >= min_closeness else None


def _starts_a_change(sentence: str, cand: Candidate, question: Question) -> bool:
    """The candidate is A in "from A to B" (and the question does not name A's year)."""
    before = fold(sentence[max(0, cand.start - 20) : cand.start])
    after = re.match(r"\s*(?:in (\d{4}(?:-\d+)?) )?to\b", fold(sentence[cand.end : cand.end + 30]))
    if not after or not re.search(r"\bfrom (?:about |around |nearly |roughly |approximately )?$", before):
        return False
    return not (after.group(1) and after.group(1) in fold(question.text))


def _counts_something_else(cand: Candidate, sentence: str, terms: SentenceTerms, focus: str | None, similarity) -> bool:
    """"two Indian *consulates*" does not answer "How many *Indians* work in Russia?", nor
    "126 *Indians*" "How many *Russians* ...?": the noun the number counts must be the one asked about."""
    if not focus or cand.kind != "number" or stem(focus) in {stem(w) for w in fold(cand.text).split()}:
        return False
    _, last = _token_range(terms, cand)
    phrase: list[str] = []
    previous_end = cand.end
    for tok in terms.tokens[last + 1 : last + 4]:
        if sentence[previous_end : tok.start].strip() or tok.text in STOPWORDS or tok.text.endswith(("ed", "ing")):
            break  # punctuation, a function word or a verb ends the noun phrase
        phrase.append(tok.text)
        previous_end = tok.end
    if not phrase:
        return False  # "12 were killed": the number stands alone
    head = phrase[-1]
    if expansions(head) & expansions(focus):
        return False
    return similarity is None or similarity(head, focus) < COUNTED_NOUN_SIMILARITY


def _title_disagrees(cand: Candidate, sentence: str, terms: SentenceTerms, question: Question) -> bool:
    """The words right before a name say who it is: "Chinese foreign minister Wang Yi" does not
    answer "Which Russian leaders ...?", "Prime Minister Narendra Modi" not "Who is the prime
    minister of *Russia*?", "President Vladimir Putin" not "Who is Russia's foreign *minister*?"."""
    first, _ = _token_range(terms, cand)
    title: list[int] = []
    start = cand.start
    for k in range(first - 1, max(first - 6, -1), -1):
        if sentence[terms.tokens[k].end : start].strip():
            break  # punctuation between: not a title
        title.insert(0, k)
        start = terms.tokens[k].start
    title_keys = set().union(*(terms.keys[k] for k in title)) if title else set()
    nations = [t for t in question.terms if expansions(t.text) & NATIONALITY_STEMS]
    other_nation = title_keys & NATIONALITY_STEMS and not any(expansions(n.text) & title_keys for n in nations)
    if nations and other_nation:
        return True
    roles = [t for t in question.terms if t.text in SPECIFIC_ROLES]
    if not roles or not any(terms.words[k] in SPECIFIC_ROLES for k in title):
        return False  # no title at all ("Lavrov"): the sentence decides
    if not any(expansions(r.text) & title_keys for r in roles):
        return True  # another role
    return bool(nations) and not any(expansions(n.text) & title_keys for n in nations)


def _is_specific_date(text: str) -> bool:
    """"August 21, 2025", "Thursday", "November or December" (not "later this year" or a bare year)."""
    folded = fold(text)
    return bool(_MONTHS_AND_DAYS.search(folded)) or (any(ch.isdigit() for ch in folded) and not _is_year(folded))


def _with_head_noun(cand: Candidate, sentence: str, terms: SentenceTerms, head: str, similarity) -> Candidate:
    """Extend "U.S" to "U.S. dollar" when the next word is (like) the question's head noun."""
    after = [t for t in terms.tokens if t.start >= cand.end][:2]
    for tok in after:
        if stem(tok.text) == stem(head) or similarity(tok.text, head) >= HEAD_NOUN_SIMILARITY:
            return Candidate("entity+head", cand.start, tok.end, sentence[cand.start : tok.end])
    return cand


def _is_nationality(text: str) -> bool:
    """"Russian", "Indian": an adjective, not an answer to "which ...?"."""
    words = fold(text).split()
    return len(words) == 1 and bool(expansions(words[0]) & NATIONALITY_STEMS)


def _is_year(text: str) -> bool:
    return bool(re.fullmatch(r"(?:19|20)\d\d", text.strip()))


def _echoes_question(cand: Candidate, question: Question) -> bool:
    """The candidate repeats the question ("Jaishankar" in "Whom did Jaishankar meet?")."""
    folded_q = fold(question.text)
    if cand.kind in ("number", "money", "percent"):
        value = numeric_value(cand.text)
        return value is not None and any(
            float(m.group(0).replace(",", "")) == value for m in re.finditer(r"\d[\d,]*(?:\.\d+)?", folded_q)
        )
    words = [w for w in re.findall(r"[\w'-]+", fold(cand.text)) if w not in STOPWORDS]
    if not words:
        return True
    question_keys = set().union(*(expansions(w) for w in re.findall(r"[\w'-]+", folded_q)))
    repeated = [w for w in words if expansions(w) & question_keys]
    if cand.kind in ("name", "entity"):
        # A name the question already uses is never the answer to it; in a follow-up
        # ("And who did *he* meet?") neither is a name the earlier question used.
        earlier = set().union(*(expansions(t.text) for t in question.context_terms if t.proper))
        return bool(repeated) or any(expansions(w) & earlier for w in words)
    return len(repeated) == len(words)


def _token_range(terms: SentenceTerms, cand: Candidate) -> tuple[int, int]:
    inside = [i for i, t in enumerate(terms.tokens) if t.start < cand.end and t.end > cand.start]
    if not inside:
        nearest = min(range(len(terms.tokens)), key=lambda i: abs(terms.tokens[i].start - cand.start), default=0)
        return nearest, nearest
    return inside[0], inside[-1]


def _distance(sentence: str, terms: SentenceTerms, first: int, last: int, position: int) -> float:
    """Tokens between the candidate and a term, plus a penalty per clause boundary crossed."""
    if first <= position <= last:
        return 0.0  # the question's word is part of the answer ("fiscal year 2024-25")
    if position < first:
        gap = first - position
        between = sentence[terms.tokens[position].end : terms.tokens[first].start]
    else:
        gap = position - last
        between = sentence[terms.tokens[last].end : terms.tokens[position].start]
    return gap - 1 + CLAUSE_PENALTY * len(_CLAUSE_BREAK.findall(between))


def _focus_follows(terms: SentenceTerms, last: int, focus: str) -> bool:
    focus_stem = stem(focus)
    return any(stem(tok.text) == focus_stem for tok in terms.tokens[last + 1 : last + 3])
