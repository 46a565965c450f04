"""Names of people and places, read off the corpus itself.

There is no NER model offline, so the corpus's own cues are used: a
capitalised name right after a title ("Foreign Minister Sergey Lavrov",
"President Vladimir Putin") is a person; a capitalised name right after
"in"/"to"/"from" that is not a person is a place. Built once at load time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from qa.extract import capitalised_runs
from qa.text import fold

#: Words that introduce a person's name, and are stripped from it.
TITLE_WORDS = frozenset(
    """minister ministers president prime deputy first foreign external affairs fm pm eam dr mr mrs ms
    counterpart secretary chief spokesperson ambassador envoy general premier chancellor""".split()
)
#: Words that may precede a title but are not part of a name.
_MODIFIERS = frozenset(
    """russian indian chinese american ukrainian us u.s the russia's india's china's his her their
    of and""".split()
)
_PLACE_CUE = re.compile(r"\b(?:in|to|from|at|across|visit(?:ed)? to|travelled to|traveled to|towards)\s+$")
_NAME_WORD = re.compile(r"^(?:[A-Z][a-z\u00e0-\u024f'\u2019-]+|[A-Z]\.?)$")
#: Adjectives of nationality or direction ("Western", "Russian"): not places themselves.
_ADJECTIVE_ENDING = re.compile(r"(?:ern|ian|ese|ish)$")
#: Countries and blocs are places wherever they appear ("that is China"), cue or no cue.
#: General knowledge, not read off the corpus.
COUNTRY_NAMES = frozenset(
    """Afghanistan Argentina Australia Austria Bangladesh Belarus Belgium Bhutan Brazil Britain Canada
    China Egypt France Germany India Indonesia Iran Iraq Israel Italy Japan Kazakhstan Malaysia Mexico
    Myanmar Nepal Netherlands Nigeria Pakistan Poland Qatar Russia Singapore Spain Sweden Switzerland
    Syria Turkey Ukraine Vietnam America Europe Asia Africa""".split()
) | {"Saudi Arabia", "South Africa", "Sri Lanka", "United States", "United Kingdom", "European Union",
     "North Korea", "South Korea", "United Arab Emirates"}
_COUNTRY_PATTERNS = [(name, re.compile(rf"\b{re.escape(name)}\b")) for name in sorted(COUNTRY_NAMES)]
_MONTHS_DAYS = frozenset(
    """january february march april may june july august september october november december
    monday tuesday wednesday thursday friday saturday sunday""".split()
)


@dataclass
class NameLexicon:
    persons: set[str] = field(default_factory=set)
    places: set[str] = field(default_factory=set)

    @classmethod
    def from_sentences(cls, sentences: list[str]) -> "NameLexicon":
        lexicon = cls()
        for sentence in sentences:
            for run in capitalised_runs(sentence):
                lexicon._read_run(sentence, run.start, run.end)
        for sentence in sentences:
            lexicon._extend_place_lists(sentence)
            lexicon.places.update(
                name for name, pattern in _COUNTRY_PATTERNS if name in sentence and pattern.search(sentence)
            )
        # A surname alone names the same person ("Lavrov").
        for name in list(lexicon.persons):
            parts = name.split()
            if len(parts) > 1 and len(parts[-1]) > 2:
                lexicon.persons.add(parts[-1])
        lexicon.places -= lexicon.persons
        return lexicon

    def _read_run(self, sentence: str, start: int, end: int) -> None:
        words = re.findall(r"\S+", sentence[start:end])
        lowered = [fold(w).strip(".,'") for w in words]
        preceding = fold(sentence[max(0, start - 30) : start]).split()[-2:]
        titled = any(w.strip(",") in TITLE_WORDS for w in preceding)
        i = 0
        while i < len(words) and (lowered[i] in TITLE_WORDS or lowered[i] in _MODIFIERS):
            titled = titled or lowered[i] in TITLE_WORDS
            i += 1
        name_words = [w.rstrip(",") for w in words[i:]]
        name_words = [re.sub(r"['\u2019]s$", "", w) for w in name_words]
        if not name_words or len(name_words) > 4:
            return
        if any(fold(w) in TITLE_WORDS for w in name_words):
            return
        name = " ".join(name_words)
        if titled and all(_NAME_WORD.match(w) for w in name_words) and not _is_acronym(name):
            self.persons.add(name)
            return
        before = fold(sentence[max(0, start - 25) : start])
        if _PLACE_CUE.search(before) and i == 0:
            for part in re.split(r"\s+and\s+", name):
                words_ok = all(_NAME_WORD.match(w) and "-" not in w for w in part.split())
                if (
                    part
                    and words_ok
                    and len(part.split()) <= 3
                    and not _is_acronym(part)
                    and fold(part) not in _MONTHS_DAYS
                    and not _ADJECTIVE_ENDING.search(part)
                ):
                    self.places.add(part)

    def _extend_place_lists(self, sentence: str) -> None:
        """"in Ukraine, West Asia, and Afghanistan": the neighbours of a place are places."""
        runs = capitalised_runs(sentence)
        for previous, run in zip(runs, runs[1:]):
            gap = fold(sentence[previous.end : run.start]).strip()
            name = re.sub(r"['\u2019]s$", "", run.text)
            if (
                previous.text in self.places
                and gap in (",", "and", ", and", "or", ", or")
                and all(_NAME_WORD.match(w) for w in name.split())
                and len(name.split()) <= 3
                and name not in self.persons
                and not _ADJECTIVE_ENDING.search(name)
            ):
                self.places.add(name)

    def to_dict(self) -> dict:
        """A JSON-ready form, persisted with the index (`from_dict` reads it back)."""
        return {"persons": sorted(self.persons), "places": sorted(self.places)}

    @classmethod
    def from_dict(cls, data: dict) -> "NameLexicon":
        return cls(persons=set(data["persons"]), places=set(data["places"]))

    def person_names(self) -> list[str]:
        return sorted(self.persons)

    def place_names(self) -> list[str]:
        return sorted(self.places)


def _is_acronym(name: str) -> bool:
    letters = name.replace(".", "").replace(" ", "")
    return letters.isupper() and len(letters) > 1
