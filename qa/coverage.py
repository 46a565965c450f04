"""Does a sentence cover the question's terms?

This is what keeps the engine honest: a passage supports an answer only when
it (or the sentence just before it) contains every name and number the
question mentions and most of its other words, either literally, as a
known alias ("Russian" for "Russia"), or as a close word embedding
("recruited" for "enlisted"). A question word that appears in no passage
("population", "World Cup") leaves the question uncovered, and the engine
abstains.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from qa.contradiction import contradicts
from qa.question import Term
from qa.text import QUESTION_WORDS, STOPWORDS, edit_distance_at_most, stem
from qa.words import SentenceTerms, expansions, opposites, sentence_terms

#: Cosine between two word embeddings above which the words count as the same idea.
WORD_SIMILARITY = 0.55
#: The stricter similarity for words that *define* the answer (a role, the noun asked about):
#: "ambassador" is near "diplomacy" (0.61) but is not it.
STRICT_WORD_SIMILARITY = 0.7
#: Embeddings of question words kept before the cache is emptied.
WORD_CACHE_SIZE = 50_000
#: Cached (term, sentence) matches before the cache is emptied.
MATCH_CACHE_SIZE = 200_000
#: Credit for a term found only in the neighbouring sentence.
NEIGHBOUR_CREDIT = 0.7
#: Credit for a word matched only by embedding similarity.
SIMILAR_CREDIT = 0.85
#: Credit for a name found neither in the sentence nor next to it, but that the
#: article is about (it names it at least `TOPIC_MIN_MENTIONS` times).
TOPIC_CREDIT = 0.6
TOPIC_MIN_MENTIONS = 3
#: Weight of a question word the corpus never uses, as a share of the rarest word's weight:
#: such words say less about *which* passage answers than rare corpus words do.
UNKNOWN_WORD_WEIGHT = 0.6
#: For placing the short answer, the question's main verb counts this many times.
PREDICATE_WEIGHT = 2.0
@dataclass(frozen=True)
class Coverage:
    #: Weighted share of the question's terms the sentence covers (0..1).
    score: float
    #: Every name and number of the question is present (literally or as an alias).
    names_ok: bool
    #: Token indices in the sentence that match a question term.
    matched_positions: tuple[int, ...]
    #: Per required term found in the sentence: (its weight, its token positions).
    term_positions: tuple[tuple[float, tuple[int, ...]], ...] = ()
    #: Summed weight of all the question's required terms, found or not
    #: (the main verb counted `PREDICATE_WEIGHT` times, as in ``term_positions``).
    total_weight: float = 0.0
    #: The question's terms that found no match.
    missing: tuple[str, ...] = ()
    #: Positions of terms carried over from earlier turns (used when the question has none).
    context_positions: tuple[int, ...] = ()
    #: A question "<Name> <word>" meets "<OtherName> <word>" here ("Ukrainian army" vs "Russian military").
    clash: bool = False


class TermMatcher:
    """Scores how well sentences cover a question's terms.

    Built once from the corpus sentences and the word vectors persisted with
    the index; ``embed_words`` embeds question words the corpus lacks.
    """

    def __init__(
        self,
        sentence_texts: list[str],
        vocab: list[str],
        vocab_vectors: np.ndarray,
        embed_words,
        sources: list[str] | None = None,
        known_words: frozenset[str] = frozenset(),
        statistics: "TermStatistics | None" = None,
    ) -> None:
        """``sources`` names each sentence's article; ``known_words`` are real words
        (the model's vocabulary) that are never "corrected" as typos; ``statistics``
        (`TermStatistics.of` the texts, persisted with the index) spares reading every
        sentence here. Sentences are analysed when first scored, so loading stays fast
        however large the corpus."""
        self.sentences = _LazyTerms(sentence_texts)
        self._sources = sources or [""] * len(sentence_texts)
        self._known_words = known_words
        self._vocab_row = {w: i for i, w in enumerate(vocab)}
        self._vocab = vocab
        self._vocab_vectors = vocab_vectors
        self._embed_words = embed_words
        if statistics is None:
            statistics = TermStatistics.of(sentence_texts, self._sources)
        self._topics = statistics.topics
        self._corpus_stems = set(statistics.stem_counts)
        n = len(sentence_texts)
        self._idf = {st: math.log(1 + n / d) for st, d in statistics.stem_counts.items()}
        self._unknown_idf = UNKNOWN_WORD_WEIGHT * math.log(1 + n)
        self._word_cache: dict[str, np.ndarray] = {}
        self._common: dict[int, tuple[np.ndarray, list[int]]] = {}
        self._match_cache: dict[tuple, tuple[float, tuple[int, ...]]] = {}

    def _common_words(self, index: int) -> tuple[np.ndarray, list[int]]:
        """Vectors and positions of the sentence's common words that have a vector."""
        common = self._common.get(index)
        if common is None:
            s = self.sentences[index]
            positions = [i for i in s.common if s.words[i] in self._vocab_row]
            vectors = (
                self._vocab_vectors[[self._vocab_row[s.words[i]] for i in positions]]
                if positions else np.zeros((0, self._vocab_vectors.shape[1]), dtype=np.float32)
            )
            common = self._common[index] = (vectors, positions)
        return common

    # -- question side -----------------------------------------------------

    def correct_typos(self, terms: list[Term]) -> list[Term]:
        """Fix words the corpus never uses and the model does not know either.

        A misspelt little word ("wat", "teh") is dropped; any other unknown
        word becomes the corpus word one edit away (two for long words).
        Real words ("farm", "want") are left alone even when the corpus lacks them.
        """
        fixed = []
        for term in terms:
            if term.stem in self._corpus_stems or term.text in self._corpus_stems or any(ch.isdigit() for ch in term.text):
                fixed.append(term)
                continue
            known = term.text in self._known_words
            if (not known or len(term.text) <= 3) and _near_function_word(term.text):
                continue
            if known:
                fixed.append(term)
                continue
            limit = 1 if len(term.text) < 8 else 2
            best = None
            if len(term.text) >= 4:
                for word in self._vocab:
                    if abs(len(word) - len(term.text)) <= limit and edit_distance_at_most(term.text, word, limit):
                        best = word
                        break
            if best is None:
                fixed.append(term)
            else:
                fixed.append(replace(term, text=best, stem=stem(best)))
        return fixed

    def idf(self, term: Term) -> float:
        return self._idf.get(term.stem, self._unknown_idf)

    def word_vector(self, word: str) -> np.ndarray:
        row = self._vocab_row.get(word)
        if row is not None:
            return self._vocab_vectors[row]
        if word not in self._word_cache:
            self._word_cache[word] = np.asarray(self._embed_words([word])[0], dtype=np.float32)
        return self._word_cache[word]

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two words' embeddings; 0.0 when either has none at hand
        (this never calls the model)."""
        va, vb = self._known_vector(a), self._known_vector(b)
        if va is None or vb is None:
            return 0.0
        return float(va @ vb)

    def _known_vector(self, word: str) -> np.ndarray | None:
        row = self._vocab_row.get(word)
        return self._vocab_vectors[row] if row is not None else self._word_cache.get(word)

    def unknown_words(self, terms: list[Term]) -> list[str]:
        """Common words of the question with no embedding yet (not in the corpus vocabulary)."""
        return sorted({t.text for t in terms if not t.proper and t.text not in self._vocab_row and t.text not in self._word_cache})

    def add_word_vectors(self, words: list[str], vectors) -> None:
        """Remember embeddings computed elsewhere (with the query, in one model call)."""
        if len(self._word_cache) > WORD_CACHE_SIZE:
            self._word_cache.clear()
        for word, vec in zip(words, vectors):
            self._word_cache[word] = np.asarray(vec, dtype=np.float32)

    def prefetch(self, terms: list[Term]) -> None:
        """Embed, in one batch, the question words that still lack a vector."""
        missing = self.unknown_words(terms)
        if missing:
            self.add_word_vectors(missing, self._embed_words(missing))

    # -- sentence side -----------------------------------------------------

    def match(self, term: Term, index: int, strict: bool = False) -> tuple[float, tuple[int, ...]]:
        """(credit, matching token positions) of ``term`` in sentence ``index``.

        Literal or alias matches earn full credit; for a common word, a word of
        the sentence with a close embedding earns `SIMILAR_CREDIT`. Results are
        cached: sentences never change and a term's text decides its vector.
        """
        key = (term.text, term.stem, term.proper, index, strict)
        cached = self._match_cache.get(key)
        if cached is None:
            if len(self._match_cache) > MATCH_CACHE_SIZE:
                self._match_cache.clear()
            threshold = STRICT_WORD_SIMILARITY if strict else WORD_SIMILARITY
            cached = self._match_cache[key] = self._match(term, index, threshold)
        return cached

    def _match(self, term: Term, index: int, threshold: float) -> tuple[float, tuple[int, ...]]:
        sentence = self.sentences[index]
        keys = expansions(term.text) | {term.stem}
        positions = tuple(i for i, tok_keys in enumerate(sentence.keys) if tok_keys & keys)
        if positions:
            return 1.0, positions
        if keys & sentence.stems:  # a number written in words, an alias of a compound
            return 1.0, ()
        vectors, positions = self._common_words(index)
        if term.proper or not len(vectors):
            return 0.0, ()
        # Meaning is compared between common words only: "city" is not "Moscow".
        sims = vectors @ self.word_vector(term.text)
        for best in np.argsort(-sims):
            if sims[best] < threshold:
                break
            word = sentence.words[positions[int(best)]]
            if not opposites(term.text, word):
                return SIMILAR_CREDIT, tuple(i for i, w in enumerate(sentence.words) if w == word)
        return 0.0, ()

    def coverage(
        self, terms: list[Term], index: int, neighbours: list[int], relations: tuple[tuple[str, Term], ...] = ()
    ) -> Coverage:
        """How well sentence ``index`` (helped by ``neighbours``) covers ``terms``.

        ``relations`` are the question's (preposition, name) pairs; the sentence
        contradicts the question when the same preposition takes another nationality.
        """
        required = [t for t in terms if not t.from_history]
        if not required:
            context_positions = [p for t in terms for p in self.match(t, index)[1]]
            return Coverage(1.0, True, (), context_positions=tuple(sorted(set(context_positions))))
        total = 0.0
        got = 0.0
        names_ok = True
        positions: list[int] = []
        per_term: list[tuple[float, tuple[int, ...]]] = []
        placing_total = 0.0
        missing = []
        helpers: set[int] = set()
        for term in required:
            weight = self.idf(term)
            total += weight
            credit, pos = self.match(term, index)
            if credit == 0.0:
                for other in neighbours:
                    c, _ = self.match(term, other)
                    if c * NEIGHBOUR_CREDIT > credit:
                        credit = c * NEIGHBOUR_CREDIT
                        helpers.add(other)
            if credit == 0.0 and term.proper and expansions(term.text) & self._topics.get(self._sources[index], frozenset()):
                credit = TOPIC_CREDIT
            if credit == 0.0:
                missing.append(term.text)
                if term.proper:
                    names_ok = False
            got += weight * credit
            positions += pos
            placing_weight = weight * (PREDICATE_WEIGHT if term.predicate else 1.0)
            placing_total += placing_weight
            if pos:
                per_term.append((placing_weight, tuple(pos)))
        context_positions = [p for t in terms if t.from_history for p in self.match(t, index)[1]]
        clash = contradicts(required, relations, self.sentences[index], [self.sentences[h] for h in sorted(helpers)])
        return Coverage(
            score=got / total if total else 1.0,
            names_ok=names_ok,
            matched_positions=tuple(sorted(set(positions))),
            term_positions=tuple(per_term),
            total_weight=placing_total,
            missing=tuple(missing),
            context_positions=tuple(sorted(set(context_positions))),
            clash=clash,
        )

def _near_function_word(word: str) -> bool:
    """One edit from a stopword or question word ("wat", "teh", "whats")."""
    if len(word) < 3:
        return False
    return any(
        abs(len(word) - len(w)) <= 1 and edit_distance_at_most(word, w, 1)
        for w in STOPWORDS | QUESTION_WORDS
        if len(w) >= 3
    )


@dataclass(frozen=True)
class TermStatistics:
    """What term weighting needs to know of the whole corpus, computed once at build time."""

    #: In how many sentences each stem occurs (document frequencies behind term weights).
    stem_counts: dict[str, int]
    #: Per article, the stems of capitalised words it uses at least `TOPIC_MIN_MENTIONS` times.
    topics: dict[str, frozenset[str]]

    @classmethod
    def of(cls, sentence_texts: list[str], sources: list[str]) -> "TermStatistics":
        stem_counts: dict[str, int] = {}
        mentions: dict[str, dict[str, int]] = {}
        for text, source in zip(sentence_texts, sources):
            sentence = sentence_terms(text)
            for st in sentence.stems:
                stem_counts[st] = stem_counts.get(st, 0) + 1
            per = mentions.setdefault(source, {})
            for tok, cap in zip(sentence.tokens, sentence.caps):
                if cap:
                    for key in expansions(tok.text):
                        per[key] = per.get(key, 0) + 1
        topics = {
            source: frozenset(k for k, n in per.items() if n >= TOPIC_MIN_MENTIONS) for source, per in mentions.items()
        }
        return cls(stem_counts, topics)

    def to_dict(self) -> dict:
        return {"stem_counts": self.stem_counts, "topics": {s: sorted(t) for s, t in self.topics.items()}}

    @classmethod
    def from_dict(cls, data: dict) -> "TermStatistics":
        return cls(data["stem_counts"], {s: frozenset(t) for s, t in data["topics"].items()})


class _LazyTerms:
    """``sentence_terms`` of each sentence, computed on first access (results are immutable,
    so two threads computing the same one at once is harmless)."""

    def __init__(self, texts: list[str]) -> None:
        self._texts = texts
        self._terms: dict[int, SentenceTerms] = {}

    def __len__(self) -> int:
        return len(self._texts)

    def __getitem__(self, index: int) -> SentenceTerms:
        terms = self._terms.get(index)
        if terms is None:
            terms = self._terms[index] = sentence_terms(self._texts[index])
        return terms
