"""Summaries: the central sentences of the documents a request is about, each cited.

Extractive, as LexRank (Erkan & Radev 2004): a sentence is central when the other
sentences resemble it, and centrality is the stationary distribution of a random walk over
their cosine similarities, computed with numpy in two stages so a corpus of many documents
costs little. First, the central sentences of each document, comparing its sentences'
TF-IDF vectors as the paper does (milliseconds, nothing to embed); then, among those few
per document, the ones the other documents agree with, compared by the index's own encoder
(the vectors questions are embedded with), which also knows two wordings of one fact. A
request with a topic ("Summarize the trade talks") biases both walks towards the sentences
that resemble the topic, among the passages retrieved for it (topic-sensitive LexRank,
Otterbacher et al. 2005).

The answer takes a few sentences, from several documents when there are several, skips a
sentence that repeats one already taken (a near-duplicate from another article is cited
beside it instead: "cited to both"), and orders them as the documents do (a sentence
early in its article first). ``summarize`` alone covers every document; a request that
names a document's file covers that document.

The encoder's vectors of the few sentences that reach the second stage are computed on the
first summary that needs them and kept.
"""

from __future__ import annotations

import functools
import json
import threading
from typing import Callable, Sequence

import numpy as np

from qa.answering.kinds import SUMMARY, WORDS_FILE
from qa.results import Answer, Citation
from qa.text import fold

#: Sentences in a summary of several documents, and of one: a paragraph (5 is also what the
#: first-sentence baseline quotes of five documents, so the two are compared at equal length).
CORPUS_SENTENCES = 5
DOCUMENT_SENTENCES = 4
# A summary of several documents spreads its sentences over them (`_pick`): at most
# ceil(sentences / documents) from one (one each from five documents, two each from three).
# On seeds dev this beat a fixed two per document (key points 0.47 -> 0.50; the corpus-wide
# summary 0.38 -> 0.50) and matched a fixed one (which would make a summary of two documents
# two sentences long).

#: Central sentences of each document that compete at the corpus stage (4 and 6 tried on
#: seeds dev: 6 let the corpus-wide summary reach one more key point).
CANDIDATES_PER_DOCUMENT = 6
#: A sentence shorter than this (in words) is a fragment, a byline or a quote's tail: no
#: summary sentence.
MIN_WORDS = 8
#: Cosine similarity (of the encoder's vectors) over which two sentences say the same thing:
#: the one taken stands for both and the other is cited beside it. Set from pairs of the
#: seeds: the same quote in two articles 0.99, two wordings of one fact 0.82-0.91, different
#: facts about the same talks 0.73-0.76. (0.7 scored more key points on dev, but by citing
#: sentences that say other things as if they said the same.)
SAME_MEANING = 0.8
#: Weight of a sentence's similarity to the sentences already taken, against its centrality
#: (scaled to 1 for the most central). The weights here were chosen together on seeds dev
#: (summary key points, 8 questions; 0, 0.5, 1, 2 and lead priors 0, 0.5, 1 tried): 0.50
#: of the key points, the corpus-wide summary 0.50 against its first sentences' 0.38. The
#: grid ranged 0.29-0.53: eight questions, so the middle of the good region was taken.
REDUNDANCY = 1.0
#: The random walk's chance of a jump to a random (or, with a topic, a relevant) sentence:
#: LexRank's damping (0.15 in the paper).
DAMPING = 0.15
#: Power iterations: the distribution of a walk over a few hundred sentences settles in
#: far fewer.
ITERATIONS = 40
#: Documents a request about the whole corpus reads at most; past this, the documents of
#: the passages retrieved for it (a summary of a large archive is a search first).
MAX_DOCUMENTS = 24
#: How strongly a sentence's place in its document biases the walk: the jump to the n-th
#: sentence (from 1) is weighted n ** -POSITION_PRIOR (news puts the gist first).
POSITION_PRIOR = 0.5
#: How strongly a topic biases the walk (relevance is raised to this power).
TOPIC_SHARPNESS = 4.0

#: Sentences embedded in one call.
EMBED_BATCH = 64

Embed = Callable[[list[str]], np.ndarray]


@functools.lru_cache(maxsize=1)
def _not_a_topic() -> frozenset[str]:
    data = json.loads(WORDS_FILE.read_text(encoding="utf-8"))
    return frozenset(data["summary"]["not_a_topic"]["words"])


def topic_words(question: str) -> list[str]:
    """The words of a summary request that say what it is about ([] for "Summarize the documents")."""
    from qa.conversation import content_words

    skip = _not_a_topic()
    return [w for w in content_words(question) if w not in skip]


class Summarizer:
    """Builds summaries from the corpus's sentences. ``embed`` maps texts to unit vectors
    (the question encoder's); ``sentences`` are the index's sentence spans by source."""

    def __init__(self, texts: dict[str, str], sentences: dict[str, list], embed: Embed) -> None:
        self.texts = texts
        self.sentences = sentences
        self.embed = embed
        self._vectors: dict[tuple[str, int], np.ndarray] = {}
        self._documents: dict[str, tuple[list, TfIdf]] = {}
        self._lock = threading.Lock()

    # -- which sentences ---------------------------------------------------------

    def documents(self, question: str, passages: Sequence) -> list[str]:
        """The documents the request is about: one it names by file, else every document
        (the retrieved passages' documents, for a topic or past `MAX_DOCUMENTS`)."""
        folded = fold(question)
        named = [s for s in self.texts if fold(s) in folded or fold(s.rsplit(".", 1)[0]) in folded]
        if named:
            return sorted(named)
        if topic_words(question) or len(self.texts) > MAX_DOCUMENTS:
            return list(dict.fromkeys(p.source for p in passages if p.source in self.texts))
        return sorted(self.texts)

    def _candidates(self, source: str) -> list[tuple[int, object]]:
        """(position in the document, sentence) of the sentences that can stand alone: long
        enough, and not leaning on the sentence before ("This, he said, ...")."""
        from qa.answering.sentences import leans_on_previous

        text = self.texts[source]
        out = []
        for n, s in enumerate(self.sentences.get(source, [])):
            sentence = text[s.start : s.end]
            if len(sentence.split()) >= MIN_WORDS and not leans_on_previous(sentence):
                out.append((n, s))
        return out

    def _document(self, source: str) -> tuple[list, "TfIdf"]:
        """A document's candidate sentences and their TF-IDF vectors (kept: they depend on
        nothing else)."""
        with self._lock:
            found = self._documents.get(source)
        if found is None:
            candidates = self._candidates(source)
            found = (candidates, TfIdf([self.texts[source][s.start : s.end] for _, s in candidates]))
            with self._lock:
                self._documents[source] = found
        return found

    def _matrix(self, spans: list) -> np.ndarray:
        """Unit vectors of ``spans``, embedding only the ones not seen before."""
        with self._lock:
            missing = [s for s in spans if (s.source, s.start) not in self._vectors]
            # Similar lengths batched together, so little of a batch is padding.
            missing.sort(key=lambda s: s.end - s.start)
            for at in range(0, len(missing), EMBED_BATCH):
                batch = missing[at : at + EMBED_BATCH]
                vectors = np.asarray(self.embed([self.texts[s.source][s.start : s.end] for s in batch]), dtype=np.float32)
                vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
                for s, v in zip(batch, vectors):
                    self._vectors[(s.source, s.start)] = v
            return np.stack([self._vectors[(s.source, s.start)] for s in spans])

    # -- the summary -------------------------------------------------------------

    def summarize(self, question: str, passages: Sequence, shown: list[Citation]) -> Answer | None:
        """The summary ``question`` asks for, or None when no document has sentences to give."""
        sources = self.documents(question, passages)
        topic = topic_words(question)
        relevant = None
        if topic:
            relevant = self.embed([" ".join(topic)])[0]
            relevant = relevant / max(float(np.linalg.norm(relevant)), 1e-9)
        pool, prior = [], []
        for source in sources:
            candidates, tfidf = self._document(source)
            words, about = tfidf.vectors, tfidf.vector(" ".join(topic)) if topic else None
            if topic:  # a topic's sentences: those of the passages retrieved for it
                inside = [(p.start, p.end) for p in passages if p.source == source]
                keep = [i for i, (_, s) in enumerate(candidates) if any(a <= s.start and s.end <= b for a, b in inside)]
                candidates, words = [candidates[i] for i in keep], words[keep]
            if not candidates:
                continue
            lead = np.array([(n + 1.0) ** -POSITION_PRIOR for n, _ in candidates])
            scores = lexrank(words, _bias(words, about, lead))
            keep = sorted(np.argsort(-scores, kind="stable")[:CANDIDATES_PER_DOCUMENT])
            pool += [candidates[k][1] for k in keep]
            prior += [lead[k] for k in keep]
        if not pool:
            return None
        vectors = self._matrix(pool)
        scores = lexrank(vectors, _bias(vectors, relevant, np.array(prior)))
        pool = [(span, v) for span, v in zip(pool, vectors)]
        picked = _pick(pool, vectors, scores, single=len(sources) == 1)
        weight = {(span.source, span.start): float(c) for (span, _), c in zip(pool, scores / max(float(scores.max()), 1e-12))}
        return self._answer(question, picked, shown, weight)

    def _answer(self, question: str, picked: list[list], shown: list[Citation], weight: dict) -> Answer:
        """The picked sentences in document order, each with its markers; a citation's score is
        its sentence's centrality (1.0 for the most central)."""
        position = {}
        for source, spans in self.sentences.items():
            for n, s in enumerate(spans):
                position[(source, s.start)] = n / max(1, len(spans))
        picked.sort(key=lambda group: (position.get((group[0].source, group[0].start), 1.0), group[0].source))
        citations, parts = [], []
        for group in picked:
            markers = []
            for s in group:
                citations.append(
                    Citation(
                        source=s.source, start=s.start, end=s.end, text=self.texts[s.source][s.start : s.end],
                        score=round(weight.get((s.source, s.start), 0.0), 4),
                    )
                )
                markers.append(f"[{len(citations)}]")
            parts.append(f"{citations[-len(group)].text} {' '.join(markers)}")
        return Answer(
            question=question, text=" ".join(parts), short=None, citations=citations, abstained=False,
            passages=shown, query=question, kind=SUMMARY,
        )


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)


class TfIdf:
    """TF-IDF unit vectors of one document's sentences over its own content words (a word
    every sentence uses tells them apart least), and of other text in the same space."""

    def __init__(self, sentences: list[str]) -> None:
        from qa.conversation import content_words

        words = [content_words(s) for s in sentences]
        self.vocabulary = {w: i for i, w in enumerate(sorted({w for ws in words for w in ws}))}
        counts = np.zeros((len(sentences), max(1, len(self.vocabulary))), dtype=np.float32)
        for row, ws in enumerate(words):
            for w in ws:
                counts[row, self.vocabulary[w]] += 1.0
        df = (counts > 0).sum(axis=0)
        self.idf = (np.log((1.0 + len(sentences)) / (1.0 + df)) + 1.0).astype(np.float32)
        self.vectors = _unit(counts * self.idf)

    def vector(self, text: str) -> np.ndarray:
        from qa.conversation import content_words

        counts = np.zeros(self.vectors.shape[1], dtype=np.float32)
        for w in content_words(text):
            if w in self.vocabulary:
                counts[self.vocabulary[w]] += 1.0
        return _unit((counts * self.idf)[None, :])[0]


def _bias(vectors: np.ndarray, relevant: np.ndarray | None, lead: np.ndarray) -> np.ndarray:
    """Where the walk jumps to: sentences early in their document (news puts the gist
    first) and, for a topic, the sentences that resemble it."""
    if relevant is None:
        return lead
    return lead * np.clip(vectors @ relevant, 0.0, None) ** TOPIC_SHARPNESS


def lexrank(vectors: np.ndarray, bias: np.ndarray | None = None) -> np.ndarray:
    """Continuous LexRank: the stationary distribution of a walk that moves from a sentence
    to another in proportion to their (non-negative) cosine similarity, and jumps with
    probability `DAMPING` to a random sentence (or one drawn by ``bias``)."""
    n = len(vectors)
    if n == 1:
        return np.ones(1)
    similarity = np.clip(vectors @ vectors.T, 0.0, None)
    np.fill_diagonal(similarity, 0.0)
    rows = similarity.sum(axis=1, keepdims=True)
    walk = np.divide(similarity, rows, out=np.full_like(similarity, 1.0 / n), where=rows > 0)
    jump = np.full(n, 1.0 / n) if bias is None or bias.sum() <= 0 else bias / bias.sum()
    p = np.full(n, 1.0 / n)
    for _ in range(ITERATIONS):
        p = DAMPING * jump + (1 - DAMPING) * (walk.T @ p)
    return p


def _pick(pool: list, vectors: np.ndarray, scores: np.ndarray, single: bool) -> list[list]:
    """Central sentences that say different things (maximal marginal relevance, Carbonell &
    Goldstein 1998: centrality less `REDUNDANCY` times the similarity to what is already
    taken), spread over the documents (at most ceil(sentences / documents) from one). Each comes with
    the near-duplicates from other documents that it stands for (cited beside it)."""
    limit = DOCUMENT_SENTENCES if single else CORPUS_SENTENCES
    share = -(-limit // len({span.source for span, _ in pool}))  # ceil
    centrality = scores / max(float(scores.max()), 1e-12)
    similarity = vectors @ vectors.T
    remaining = list(range(len(pool)))
    groups: list[list] = []
    heads: list[int] = []
    per_document: dict[str, int] = {}
    while remaining and len(groups) < limit:
        allowed = [k for k in remaining if single or per_document.get(pool[k][0].source, 0) < share]
        if not allowed:
            break
        value = {
            k: centrality[k] - REDUNDANCY * (max(float(similarity[k, h]) for h in heads) if heads else 0.0)
            for k in allowed
        }
        k = max(allowed, key=lambda k: (value[k], -k))
        group = [pool[k][0]]
        remaining.remove(k)
        for other in list(remaining):
            if similarity[k, other] >= SAME_MEANING:
                remaining.remove(other)
                if all(s.source != pool[other][0].source for s in group):
                    group.append(pool[other][0])  # another article says the same: cited beside it
        groups.append(group)
        heads.append(k)
        per_document[pool[k][0].source] = per_document.get(pool[k][0].source, 0) + 1
    return groups


#: Dimensions of the word-count vectors used when no encoder is given.
_HASHED_DIMENSIONS = 1024


def word_vectors(texts: list[str]) -> np.ndarray:
    """Bag-of-words vectors (content words hashed into `_HASHED_DIMENSIONS` counts): what
    summaries compare sentences by when the answerer has no encoder (tests, tools)."""
    from qa.conversation import content_words
    import zlib

    out = np.zeros((len(texts), _HASHED_DIMENSIONS), dtype=np.float32)
    for row, text in enumerate(texts):
        for word in content_words(text):
            out[row, zlib.crc32(word.encode("utf-8")) % _HASHED_DIMENSIONS] += 1.0
    return out
