"""Contradictions between a question and a sentence that share its words.

"How many Indians were recruited by the *Ukrainian* army?" shares every word with
"126 Indians were recruited by the *Russian* military" and must still not be
answered from it. Two checks, both about nationalities (where a swap is a real
contradiction, not a paraphrase):

- a nationality qualifying a word: "Ukrainian army" against "Russian military";
- a nationality after "by"/"to" (the agent, the recipient): "recruited by India"
  against "recruited by the Russian military".
"""

from __future__ import annotations

from qa.question import Term
from qa.words import NATIONALITY_STEMS, SentenceTerms, expansions


def contradicts(
    terms: list[Term],
    relations: tuple[tuple[str, Term], ...],
    sentence: SentenceTerms,
    helpers: list[SentenceTerms] = (),
) -> bool:
    """Whether ``sentence`` contradicts the question's nationality pairs or relations.

    ``helpers`` are neighbouring sentences that lent the sentence some of the question's
    words; they are consulted only for a pair the sentence itself lacks.
    """
    for name, word in zip(terms, terms[1:]):
        if word.proper or word.start - name.end > 1 or not (expansions(name.text) & NATIONALITY_STEMS):
            continue
        state = _pair_state(name, word, sentence)
        if state == "clash" or (state == "absent" and any(_pair_state(name, word, h) == "clash" for h in helpers)):
            return True
    return any(_relation_state(prep, name, sentence) == "clash" for prep, name in relations)


def _pair_state(name: Term, word: Term, sentence: SentenceTerms) -> str:
    """"agree" if the sentence qualifies ``word`` by ``name`` (or not at all), "clash" if
    only by another nationality, "absent" if the word is not there."""
    name_keys, word_keys = expansions(name.text), expansions(word.text)
    states = set()
    for i, keys in enumerate(sentence.keys):
        if not keys & word_keys:
            continue
        before = sentence.keys[i - 1] if i else frozenset()
        states.add("clash" if before & NATIONALITY_STEMS and not before & name_keys else "agree")
    if not states:
        return "absent"
    return "agree" if "agree" in states else "clash"


def _relation_state(preposition: str, name: Term, sentence: SentenceTerms) -> str:
    """"clash" when the sentence puts only another nationality after ``preposition``
    ("recruited *by the Russian* military" against "recruited by India")."""
    name_keys = expansions(name.text)
    if not name_keys & NATIONALITY_STEMS:
        return "absent"
    states = set()
    for i, word in enumerate(sentence.words):
        if word != preposition:
            continue
        following = [k for k, w in zip(sentence.keys[i + 1 : i + 4], sentence.words[i + 1 : i + 4]) if w not in ("the", "a", "an")]
        if following and following[0] & NATIONALITY_STEMS:
            states.add("agree" if following[0] & name_keys else "clash")
    if not states:
        return "absent"
    return "agree" if "agree" in states else "clash"
