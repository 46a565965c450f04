"""The kind of answer a question wants, from its wording alone.

- ``span``: a number, a name, a date: the reader's span and the sentence holding it.
- ``list``: several items ("Which sectors...", "List the..."): the reader's span, which is
  the list as the article words it, and its sentence.
- ``sentences``: an explanation or what someone said ("Why...", "How did...", "Explain...",
  "Describe...", "What did X say about..."): a sentence or two, each cited.
- ``summary``: the gist of documents ("Summarize...", "main points", "overview"): the
  central sentences of the matching documents, each cited.

The cues are general English (``kind_words.json``), never a corpus's words, and the first
that matches in the order summary, sentences, list decides; anything else is a span.

>>> answer_kind("How many Indians were recruited?")
'span'
>>> answer_kind("Why did the minister visit Moscow?")
'sentences'
>>> answer_kind("Which sectors could boost exports?")
'list'
>>> answer_kind("Summarize the documents")
'summary'
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path

from qa.text import fold

SPAN, LIST, SENTENCES, SUMMARY = "span", "list", "sentences", "summary"
KINDS = (SPAN, LIST, SENTENCES, SUMMARY)
WORDS_FILE = Path(__file__).with_name("kind_words.json")

_WORD = re.compile(r"[a-z0-9][a-z0-9';.-]*[a-z0-9]|[a-z0-9]")


@functools.lru_cache(maxsize=1)
def _cues() -> dict:
    data = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    sentences, lists = data["sentences"], data["list"]
    return {
        "summary": _phrases(data["summary"]["anywhere"]),
        "openings": _phrases(sentences["openings"]),
        "say": frozenset(sentences["say_verbs"]),
        "quantities": frozenset(sentences["how_quantities"]["words"]),
        "list_openings": _phrases(lists["openings"]),
        "plural_after": frozenset(lists["plural_after"]),
        "auxiliaries": frozenset(lists["auxiliaries"]),
        "not_plural": frozenset(lists["not_plural"]),
    }


def _phrases(phrases: list[str]) -> tuple[tuple[str, ...], ...]:
    return tuple(tuple(p.split()) for p in phrases)


def _words(question: str) -> list[str]:
    return [w.strip(".;") for w in _WORD.findall(fold(question))]


def _has(words: list[str], phrase: tuple[str, ...], at: int | None = None) -> bool:
    n = len(phrase)
    if at is not None:
        return tuple(words[at : at + n]) == phrase
    return any(tuple(words[i : i + n]) == phrase for i in range(len(words) - n + 1))


def answer_kind(question: str) -> str:
    """``span``, ``list``, ``sentences`` or ``summary`` (see the module's docstring)."""
    cues = _cues()
    words = _words(question)
    if not words:
        return SPAN
    if any(_has(words, p) for p in cues["summary"]):
        return SUMMARY
    if words[0] == "how" and len(words) > 1 and words[1] not in cues["quantities"]:
        return SENTENCES
    if any(_has(words, p, 0) for p in cues["openings"]):
        return SENTENCES
    if _says(words, cues["say"]):
        return SENTENCES
    if any(_has(words, p, 0) for p in cues["list_openings"]):
        return LIST
    if words[0] in cues["plural_after"] and len(words) > 2 and _plural(words[1], cues["not_plural"]):
        # "Which sectors ...", "What topics did ...": after "what", a verb ending in -s is
        # as likely ("What needs to be done"), so an auxiliary must follow the noun.
        if words[0] == "which" or words[2] in cues["auxiliaries"]:
            return LIST
    return SPAN


def _says(words: list[str], verbs: frozenset[str]) -> bool:
    """"What did/does/do X say (about Y)?": what someone said, not a fact."""
    if words[0] != "what" or len(words) < 3 or words[1] not in ("did", "does", "do", "has", "have"):
        return False
    # The verb follows the speaker (a few words) and is the question's main verb.
    for i in range(3, min(len(words), 9)):
        if words[i] in verbs:
            return i + 1 == len(words) or words[i + 1] in ("about", "on", "of", "regarding", "when", "after", "to", "in")
    return False


def _plural(word: str, not_plural: frozenset[str]) -> bool:
    return len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")) and word not in not_plural
