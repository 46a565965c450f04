"""Reading a question: cleaning it, the kind of answer it wants, and its terms.

The expected answer type decides how the short answer is extracted
(`qa.extract`); the terms decide which passages can support it
(`qa.coverage`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from qa.errors import BadQuestion
from qa.text import QUESTION_WORDS, STOPWORDS, fold, tokens

#: Longer input is refused: it is a pasted document, not a question.
MAX_QUESTION_CHARS = 1000

# Answer types. FACT_TYPES want a short answer; the rest are answered with sentences.
COUNT, MONEY, PERCENT, MULTIPLE = "count", "money", "percent", "multiple"
DATE, DURATION = "date", "duration"
PERSON, PLACE, ENTITY, LIST, QUOTE = "person", "place", "entity", "list", "quote"
DESCRIPTION = "description"
QUANTITY_TYPES = (COUNT, MONEY, PERCENT, MULTIPLE)
FACT_TYPES = QUANTITY_TYPES + (DATE, DURATION, PERSON, PLACE, ENTITY, LIST, QUOTE)

_PERSON_NOUNS = r"(?:minister|ministers|official|officials|leader|leaders|president|person|people|counterpart|diplomat|diplomats|premier)"
_PLACE_NOUNS = r"(?:city|cities|country|countries|place|places|region|regions|location|locations|capital|town|towns)"
_MONEY_NOUNS = r"(?:worth|value|valued|cost|costs|price|billion|million|dollars?|deficit|imbalance|trade|exports?|imports?|spend|spent|turnover)"

# "what/which" followed by a noun, not by an auxiliary ("what did ..." asks no entity).
_WH_NOUN = r"\b(?:which|what)\s+(?!(?:did|does|do|is|was|are|were|has|have|had|will|would|could|should|can|may|might|the|a|an)\b)"
_AUX = r"(?:did|does|do|is|was|are|were|has|have|had|will|would|could|should|can)"

# Ordered: the first matching rule wins.
_TYPE_RULES: list[tuple[str, str]] = [
    (MULTIPLE, r"\bhow many times\b|\bby what factor\b|\bhow many[- ]fold\b|\b\w+-?fold\b.*\?$"),
    (PERCENT, r"\bwhat (?:(?:is|was|are|were) )?(?:the )?(?:percent|percentage|share|proportion|fraction)\b|\bhow much of\b|\bpercent(?:age)?\b"),
    (DURATION, r"\bhow long\b|\bfor how many (?:days|weeks|months|years)\b|\bhow many days\b"),
    (COUNT, r"\bhow many\b|\bnumber of\b"),
    (MONEY, r"\bhow much\b|\b(?:worth|valued|cost)\b|\bwhat (?:was|is|were|are) the (?:\w+ ){0,3}" + _MONEY_NOUNS + r"\b"
     r"|\bhow (?:big|large)\b|\bwhat (?:was|is) the value\b|\b(?:what|which) (?:figure|amount|sum)\b"),
    (DATE, r"^(?:\w+ )?when\b|\bwhen\??$|\b(?:what|which) (?:\w+ )?(?:date|day|year|month|time)\b|\bon what day\b"),
    (PERSON, r"^(?:who|whom|whose)\b|(?:^|, |\band )(?:who|whom|whose)\b|" + _WH_NOUN + r"(?:\w+ ){0,2}" + _PERSON_NOUNS + r"\b"
     r"|^what (?:is|was) the (?:\w+ ){0,3}" + _PERSON_NOUNS + r"[?.!]?$"),
    (PLACE, r"^(?:\w+ )?where\b|\bwhere\??$|" + _WH_NOUN + r"(?:\w+ ){0,2}" + _PLACE_NOUNS + r"\b|\bin what (?:city|country)\b"),
    # tariffs and rates are percentages
    (PERCENT, r"\b(?:what|which|how high|how much) (?:\w+ ){0,3}(?:tariffs?|rate|rates|duty|duties|penalty|levy)\b"),
    (QUOTE, r"\bhow (?:did|does|do|has|have|was|were|is|are) .*\b(?:describe|described|characteri[sz]e|characteri[sz]ed|call|called|term|termed|label|labelled|labeled|hail|hailed|define|defined)\b"
     r"|\bwhat (?:did|does) .*\b(?:call|term)\b|\bin what words\b|\bwhat (?:word|words|term|phrase|adjective|label|kind of)\b"),
    (LIST, r"\b(?:which|what) (?:(?:\w+ ){0,2})(?:sectors|areas|issues|countries|routes|corridors|platforms|commodities|topics|fields|initiatives|regions|goods|items|industries|products|subjects|groups|groupings|blocs|organisations|organizations|things|steps|barriers|priorities|drivers|factors|challenges|projects|points)\b"
     r"|\bname (?:the|all|some)\b|\blist\b|" + _WH_NOUN + r"(?:\w+ ){0,2}\w+(?<!s)s (?:of \w+ )?" + _AUX + r"\b"),
    (ENTITY, _WH_NOUN + r"\w+"),
]

_DEPENDENT_TYPE_OVERRIDES = (
    # "how many consulates" asks a count even though "consulates" is a list noun.
    (COUNT, r"\bhow many\b"),
)


#: Specific roles: "Who is India's *ambassador*?" needs a passage that names that role.
SPECIFIC_ROLES = frozenset(
    """ambassador ambassadors president presidents minister ministers secretary spokesperson spokesman
    spokeswoman envoy chancellor governor mayor ceo chairman chairperson king queen premier general
    commander adviser advisor diplomat counterpart chief head director""".split()
)

@dataclass(frozen=True)
class Term:
    """A content word of the question."""

    text: str  # folded surface form
    stem: str
    proper: bool  # capitalised in the question (a name), or a number: must match exactly
    start: int
    end: int
    #: True for terms carried over from earlier turns: they guide, never required.
    from_history: bool = False
    #: The question's main verb ("were *killed*"): the answer sits next to it.
    predicate: bool = False


@dataclass(frozen=True)
class Question:
    text: str  # cleaned
    answer_type: str
    terms: list[Term]
    #: The noun right after "how many"/"which" ("Indians", "sectors"), when there is one.
    focus: str | None = None
    #: The noun a "which/what ..." question picks ("which Indian *companies*").
    head_noun: str | None = None
    #: Who must have said it, for "what did <speaker> say ...?" questions.
    speaker: str | None = None
    #: Names the question puts after a preposition ("recruited *by* India"): (preposition, term).
    relations: tuple[tuple[str, Term], ...] = ()
    #: How many people or places a "which *three* leaders / which cities" question wants:
    #: a number, `MANY` when it only says a plural, 1 otherwise.
    wanted: int = 1
    #: Extra terms from the conversation (follow-ups); optional for support.
    context_terms: list[Term] = field(default_factory=list)

    @property
    def wants_fact(self) -> bool:
        return self.answer_type in FACT_TYPES


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


_CANONICAL_FORMS: list[tuple[re.Pattern, str]] = [
    # "what's" -> "what is"
    (re.compile(r"^(what|who|where|when|how|which)'s\b"), r"\1 is"),
    # "Name the minister." / "Tell me the figure" -> "what is the ..."
    (re.compile(r"^(?:please )?(?:name|give|tell me|state|identify|find|show me|show)(?: me)? (the|a|an|all|some)\b"), r"what is \1"),
    # "what is the name of the initiative" -> "which initiative"
    (re.compile(r"^what (?:is|was|are|were) the names? of (?:the |a |an )?"), "which "),
    # "Russian foreign minister name" -> "who is the Russian foreign minister"
    (re.compile(r"^(.*\b" + _PERSON_NOUNS + r")'?s? names?\??$"), r"who is the \1"),
]


def canonical(text: str) -> str:
    """The question in a plain form the type rules read: folded, question word fixed,
    contractions and imperatives ("Name the ...") turned into "what is ..."."""
    folded = fold(fix_wh_typo(text)).strip()
    for pattern, replacement in _CANONICAL_FORMS:
        folded = pattern.sub(replacement, folded)
    return folded


def answer_type(text: str) -> str:
    folded = canonical(text)
    for kind, pattern in _DEPENDENT_TYPE_OVERRIDES:
        if re.search(pattern, folded) and not re.search(r"\bhow many times\b", folded):
            return kind
    for kind, pattern in _TYPE_RULES:
        if re.search(pattern, folded):
            return kind
    return DESCRIPTION


def question_terms(text: str, from_history: bool = False) -> list[Term]:
    """Content words of ``text``; capitalised words (not the first) and numbers are `proper`.

    In a question typed in capitals (or without any), case says nothing, so
    only numbers are `proper` there; `qa.answer` adds the names it knows.
    """
    letters = [ch for ch in text if ch.isalpha()]
    case_informative = bool(letters) and sum(ch.isupper() for ch in letters) <= 0.6 * len(letters)
    terms = []
    last_aux = max((m.end() for m in re.finditer(rf"\b{_AUX}\b|\bbeen\b|\bbe\b", fold(text))), default=-1)
    predicate_marked = False
    for i, tok in enumerate(tokens(text)):
        word = tok.text
        base = word.split("'")[0]  # "what's" is "what"
        if base in STOPWORDS or base in QUESTION_WORDS or len(word) < 2 and not word.isdigit():
            continue
        original = text[tok.start : tok.end]
        capitalised = case_informative and (
            original[:1].isupper() and i > 0 and not original.isupper() or (original.isupper() and len(original) > 1)
        )
        numeric = any(ch.isdigit() for ch in word)
        proper = bool(capitalised or numeric)
        predicate = not proper and not predicate_marked and tok.start > last_aux >= 0
        predicate_marked = predicate_marked or predicate
        terms.append(
            Term(
                text=word,
                stem=tok.stem,
                proper=proper,
                start=tok.start,
                end=tok.end,
                from_history=from_history,
                predicate=predicate,
            )
        )
    return terms



_PHRASE_END = frozenset(
    """did does do is was are were has have had will would can could should may might of in on at to for
    with by from about during after before that which who""".split()
)
_SPEECH_QUESTION = re.compile(
    r"^what (?:did|does|has|had|do) (.+?) (?:say|said|tell|told|add|added|note|noted|stress|stressed|think|mean|claim|claimed|announce|announced)\b"
)


#: Prepositions whose object says who did what to whom: the agent ("recruited *by* India")
#: and the recipient ("exports *to* Russia").
RELATION_PREPOSITIONS = frozenset({"by", "to"})


def relations(text: str, terms: list[Term]) -> tuple[tuple[str, Term], ...]:
    """(preposition, name) pairs: "recruited by India" -> ("by", india)."""
    folded = fold(text)
    out = []
    for term in terms:
        if not term.proper:
            continue
        before = re.findall(r"[a-z']+", folded[: term.start])[-2:]
        before = [w for w in before if w not in ("the", "a", "an")]
        if before and before[-1] in RELATION_PREPOSITIONS:
            out.append((before[-1], term))
    return tuple(out)


#: `Question.wanted` for a plural without a number ("Which cities ...?").
MANY = 4
_COUNT_WORDS = {"two": 2, "three": 3, "four": 4, "five": 5, "both": 2}
_PLURAL_PEOPLE_AND_PLACES = re.compile(
    r"\b(?:which|what|who are the|name the)\s+(?:(two|three|four|five|both)\s+)?(?:\w+\s+){0,2}?"
    r"(ministers|officials|leaders|people|persons|presidents|diplomats|cities|countries|places|regions|towns)\b"
)


def wanted_count(text: str) -> int:
    """3 for "Which three Russian leaders ...?", `MANY` for "Which cities ...?", else 1."""
    match = _PLURAL_PEOPLE_AND_PLACES.search(canonical(text))
    if not match:
        return 1
    return _COUNT_WORDS.get(match.group(1) or "", MANY)


def _phrase_head(rest: str) -> str | None:
    """The last word of the noun phrase that opens ``rest`` (at most three words, ending at
    a function word or a verb): "indian companies signed deals" -> "companies"."""
    words = []
    for word in re.findall(r"[a-z][a-z'-]*", rest):
        if word in _PHRASE_END or word.endswith(("ed", "ing")) or len(words) == 3:
            break
        words.append(word)
    if not words or words[-1] in STOPWORDS or words[-1] in QUESTION_WORDS:
        return None
    return words[-1]


def head_noun(text: str) -> str | None:
    """The noun a question starting "which/what ..." picks ("which Indian *companies* signed ...")."""
    match = re.match(r"^(?:in |on |for |from |of |to )?(?:which|what)\s+(.*)", fold(text))
    return _phrase_head(match.group(1)) if match else None


def speaker(text: str) -> str | None:
    """"Lavrov" in "What did Lavrov say about ...?"."""
    match = _SPEECH_QUESTION.match(fold(text))
    return match.group(1) if match else None


def focus_word(text: str) -> str | None:
    """The noun a "how many X" / "which X" question counts or picks, anywhere in it
    ("How many Russian *soldiers* died?")."""
    match = re.search(r"\b(?:how many|which|what)\s+(?:of\s+the\s+)?(.*)", fold(text))
    return _phrase_head(match.group(1)) if match else None


#: Words that only say which kind of answer is wanted ("how *long*", "what *share*").
_CUE_WORDS = {
    DATE: {"date", "day", "week", "month", "year", "time"},
    MONEY: {"big", "large", "size", "sum", "value", "figure", "amount"},
    COUNT: {"big", "large", "size"},
    DURATION: {"long"},
    MULTIPLE: {"times", "factor", "fold"},
    PERCENT: {"share", "percent", "percentage", "proportion", "fraction"},
}


_WH_WORDS = ("what", "which", "who", "whom", "whose", "where", "when", "why", "how")
_WH_TYPO = re.compile(r"^\s*([A-Za-z]{2,6})('s|s)?\b")


def fix_wh_typo(text: str) -> str:
    """"wat did ..." -> "what did ...": a misspelt question word would hide the question's type."""
    from qa.text import edit_distance_at_most

    match = _WH_TYPO.match(text)
    if not match:
        return text
    word = match.group(1).lower()
    if word in _WH_WORDS or word in STOPWORDS:
        return text
    if word.endswith("s") and word[:-1] in _WH_WORDS:  # "whats" -> "what's"
        return text[: match.start(1)] + word[:-1] + "'s" + text[match.end(1) :]
    for wh in _WH_WORDS:
        if edit_distance_at_most(word, wh, 1) and abs(len(word) - len(wh)) <= 1 and word[0] == wh[0]:
            return text[: match.start(1)] + wh + text[match.end(1) :]
    return text


def analyse(text: str) -> Question:
    """Clean ``text`` and read its answer type, terms and focus.

    >>> q = analyse("How many Indians were recruited?")
    >>> q.answer_type, [t.text for t in q.terms]
    ('count', ['indians', 'recruited'])
    """
    cleaned = clean_question(text)
    kind = answer_type(cleaned)
    cues = _CUE_WORDS.get(kind, set())
    terms = [t for t in question_terms(cleaned) if t.text not in cues]
    return Question(
        text=cleaned,
        answer_type=kind,
        terms=terms,
        relations=relations(cleaned, terms),
        wanted=wanted_count(cleaned),
        focus=focus_word(cleaned),
        head_noun=head_noun(canonical(cleaned)),
        speaker=speaker(canonical(cleaned)),
    )
