"""Checks on a reading that the reader itself does not make.

The reader judges one passage at a time and was trained on questions about what its
passage says; it does not notice that a question asks about someone, something or a
figure that the passage's article never mentions ("What did Obama say ...?" read against
an article that never names Obama, "How many ... in 2019?" against one about 2024). So
the answer's article must mention every name and every figure the question gives, and at
least one of the words the question (with its follow-up context) looks for: a question
with nothing to look for ("the of and to", emoji, a row of x's) gets no answer, however
plausible a span the reader proposes. The ablation in ``evals/README.md`` measures what
the checks add on both report splits.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from qa.conversation import NOT_CONTENT, content_words
from qa.text import fold

#: Numbers as a question writes them: "2019", "12", "4.88", "1,000".
_FIGURE = re.compile(r"\d+(?:[.,]\d+)*")
#: A capitalised word (a name) that does not open the question or a sentence of it.
_NAME = re.compile(r"(?<![.?!:] )(?<=\s)[A-Z][\w'\u2019.\-]*")
#: Names shorter than this ("US", "UN") are too ambiguous to require.
MIN_NAME_CHARS = 3
#: A name matches a word of the article that starts with all but its last few letters, so
#: "Indians" finds "India", "Ukrainian" finds "Ukraine", "Russia's" finds "Russian".
NAME_SUFFIX_CHARS = 3
NAME_PREFIX_MIN = 4


@dataclass(frozen=True)
class ArticleTerms:
    """What the checks look up in one article: its words and its figures (folded). Built once
    per article, not once per reading."""

    words: frozenset[str]
    figures: frozenset[str]

    @classmethod
    def of(cls, article_text: str) -> "ArticleTerms":
        words = re.findall(r"[^\W_]+", fold(article_text).replace(".", ""))
        return cls(frozenset(words), frozenset(_figures(article_text)))

    def has_word_starting(self, prefix: str) -> bool:
        return any(w.startswith(prefix) for w in self.words)


def _figures(text: str) -> set[str]:
    return {m.group(0).replace(",", "") for m in _FIGURE.finditer(fold(text))}


def word_prefix(word: str) -> str:
    """All but the last few letters of ``word``: "Indians" -> "indi", "Ukrainian" -> "ukrain"."""
    return word if len(word) <= NAME_PREFIX_MIN else word[: max(NAME_PREFIX_MIN, len(word) - NAME_SUFFIX_CHARS)]


def _name_prefixes(question: str) -> set[str]:
    out = set()
    for m in _NAME.finditer(question.strip()):
        name = re.sub(r"['\u2019]s$", "", fold(m.group(0))).replace(".", "")
        for word in name.split("-"):  # "India-Russia" names India and Russia
            if len(word) < MIN_NAME_CHARS or any(ch.isdigit() for ch in word) or word in NOT_CONTENT:
                continue
            out.add(word_prefix(word))
    return out


def missing_terms(question: str, article: ArticleTerms) -> set[str]:
    """The question's names and figures that the article never states (folded)."""
    missing = {f for f in _figures(question) if f not in article.figures}
    return missing | {n for n in _name_prefixes(question) if not article.has_word_starting(n)}


def shares_no_word(query: str, article: ArticleTerms) -> bool:
    """Whether none of the words ``query`` looks for occurs in the article (a prefix of all
    but the last few letters of a word counts, as for names)."""
    return not any(article.has_word_starting(word_prefix(w)) for w in content_words(query))
