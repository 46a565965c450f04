"""Conditions a question sets that word overlap does not check.

- A role: "Who is India's *ambassador*?" needs a passage that names that role
  (literally or as a very close word), not one about a minister.
- The thing asked about: "Which Indian *companies* ...?" needs a passage about
  companies, unless the word is a category that names rarely repeat
  ("which *organisation*" is answered by "the United Nations").
- A speaker: "What did *Lavrov* say about ...?" needs Lavrov as the subject of
  a speech verb, not merely mentioned.
"""

from __future__ import annotations

from qa.coverage import TermMatcher
from qa.question import ENTITY, PERSON, SPECIFIC_ROLES, Question, Term
from qa.text import fold

#: "Which *organisation* ...?" is answered by a name ("the United Nations") that rarely
#: repeats the category word, so these head nouns need not appear in the passage.
CATEGORY_NOUNS = frozenset(
    """organisation organisations organization organizations body bodies bloc blocs group groups grouping
    groupings institution institutions agency agencies initiative initiatives programme program scheme
    project projects platform platforms forum alliance country countries city cities place places
    thing things one ones name names term word words""".split()
)
#: A speaker is the subject of a speech verb at most this many words after it.
SPEAKER_WINDOW = 15
#: Verbs that attribute words to a speaker.
SPEECH_VERBS = frozenset(
    """said says say saying added adds noted notes stressed stresses told tells emphasised emphasized
    emphasises emphasizes remarked stated states reiterated underlined highlighted described describing
    called calling opened responding replied asked urged conveyed announced expressed raised reaffirmed
    dismissed hailed refuted welcomed echoed acknowledged insisted argued warned explained pointed
    characterizing characterising brought""".split()
)


def conditions_hold(question: Question, terms: list[Term], matcher: TermMatcher, i: int, neighbours: list[int]) -> bool:
    """Whether sentence ``i`` (with its ``neighbours``) meets the question's role, head-noun
    and speaker conditions."""
    near = [i] + neighbours
    for term in terms:
        if term.from_history:
            continue
        role = question.answer_type == PERSON and term.text in SPECIFIC_ROLES
        head = question.answer_type == ENTITY and term.text == question.head_noun and term.text not in CATEGORY_NOUNS
        if (role or head) and not any(matcher.match(term, j, strict=True)[0] > 0 for j in near):
            return False
    if question.speaker:
        speaker_terms = [t for t in terms if t.proper and fold(question.text)[t.start : t.end] in question.speaker]
        if speaker_terms and not any(attributed(speaker_terms, matcher, j) for j in (i, i - 1) if j in near):
            return False
    return True


def attributed(speaker_terms: list[Term], matcher: TermMatcher, j: int) -> bool:
    """Sentence ``j`` has the speaker as the subject of a speech verb ("Lavrov added")."""
    sentence = matcher.sentences[j]
    verbs = [k for k, w in enumerate(sentence.words) if w in SPEECH_VERBS]
    if not verbs:
        return False
    for term in speaker_terms:
        credit, positions = matcher.match(term, j)
        if credit < 1.0 or not any(0 < v - p <= SPEAKER_WINDOW for p in positions for v in verbs):
            return False
    return True
