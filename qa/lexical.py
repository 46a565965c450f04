"""The BM25 side of the index: each chunk's terms, and the bm25s score matrix built from them.

LlamaIndex's ``BM25Retriever`` tokenizes every chunk and has bm25s index the corpus
from scratch: 0.3 s per thousand chunks, most of it Python loops, paid again whenever
one document is added. Here each chunk's terms are computed once (with the very
tokenizer settings LlamaIndex uses), stored with its document, and the score matrix
of the whole corpus is computed from them with numpy in milliseconds. The result is
bm25s's own ``BM25`` object and on-disk format, so the question-time path and
LlamaIndex's ``BM25Retriever`` load it unchanged; ``tests/test_lexical.py`` checks
that the matrix equals the one LlamaIndex's retriever builds.

>>> terms = chunk_terms(["Oil prices rose.", "India buys oil."])  # doctest: +SKIP
>>> build_bm25(terms).get_scores(["oil"])                          # doctest: +SKIP
array([0.1..., 0.1...], dtype=float32)
"""

from __future__ import annotations

import json
import logging
import re
import threading
from pathlib import Path

import numpy as np

#: The same options as LlamaIndex's BM25Retriever (`language`, its default token pattern).
BM25_LANGUAGE = "english"
BM25_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
#: bm25s's defaults, which LlamaIndex keeps: the Lucene variant of BM25.
K1 = 1.5
B = 0.75

#: bm25s's English stop words, kept as data so that questions are tokenised as bm25s does
#: without importing it: bm25s brings scipy.sparse, a third of a cold `qa ask`
#: (`tests/test_lexical.py` checks the list against bm25s's own).
STOPWORDS_FILE = Path(__file__).with_name("bm25_stopwords.json")
#: bm25s's file names in a saved index directory (`BM25.save`).
_BM25_FILES = {"data": "data.csc.index.npy", "indices": "indices.csc.index.npy", "indptr": "indptr.csc.index.npy"}
_BM25_VOCAB = "vocab.index.json"
_BM25_PARAMS = "params.index.json"

_quieted = False
_split = re.compile(BM25_TOKEN_PATTERN).findall
_stopwords: frozenset[str] | None = None
_stemmer_lock = threading.Lock()  # PyStemmer objects are not thread-safe
_stemmer = None


def _shared_stemmer():
    global _stemmer
    if _stemmer is None:
        import Stemmer

        _stemmer = Stemmer.Stemmer(BM25_LANGUAGE)
    return _stemmer


def chunk_terms(texts: list[str]) -> list[list[str]]:
    """Each text's BM25 terms, in order (lower-cased, English stop words removed, stemmed):
    exactly what LlamaIndex's ``BM25Retriever`` indexes for it."""
    if not texts:
        return []
    import bm25s

    quiet_bm25s()
    with _stemmer_lock:
        return bm25s.tokenize(
            texts, stopwords=BM25_LANGUAGE, stemmer=_shared_stemmer(), token_pattern=BM25_TOKEN_PATTERN,
            return_ids=False, show_progress=False,
        )


class Vocabulary:
    """Term -> id, only ever growing, so that a document's terms are mapped to ids once and
    stay valid for every later build of the same store."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self.terms: list[str] = []

    def encode(self, chunks: list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
        """The ids of all the chunks' terms, concatenated, and each chunk's number of terms."""
        ids = self._ids
        terms = self.terms

        def id_of(term: str) -> int:
            found = ids.get(term)
            if found is None:
                found = ids[term] = len(terms)
                terms.append(term)
            return found

        flat = np.fromiter(
            (id_of(term) for chunk in chunks for term in chunk), dtype=np.int64, count=sum(map(len, chunks))
        )
        return flat, np.fromiter(map(len, chunks), dtype=np.int64, count=len(chunks))


def build_bm25(terms: list[list[str]]):
    """bm25s's ``BM25`` over chunks with these ``terms`` (see `build_bm25_from_ids`)."""
    vocabulary = Vocabulary()
    return build_bm25_from_ids(*vocabulary.encode(terms), vocabulary)


def build_bm25_from_ids(ids: np.ndarray, lengths: np.ndarray, vocabulary: Vocabulary):
    """bm25s's ``BM25`` (Lucene variant, k1 1.5, b 0.75) over chunks whose terms are ``ids``
    (`Vocabulary.encode`: all chunks' term ids concatenated, and each chunk's length).

    Scores as bm25s's ``BM25.index`` computes them, vectorised: for each (chunk, term),
    ``idf * tf / (tf + k1 * (1 - b + b * len / avg_len))`` with
    ``idf = log(1 + (N - df + 0.5) / (df + 0.5))``, stored column by column (CSC).
    """
    import bm25s

    quiet_bm25s()
    # Only the terms these chunks hold get a column, in vocabulary order (no sort needed).
    used = np.flatnonzero(np.bincount(ids, minlength=len(vocabulary.terms)))
    column_of = np.full(len(vocabulary.terms), -1, dtype=np.int64)
    column_of[used] = np.arange(len(used))
    columns_of = column_of[ids]
    terms = vocabulary.terms
    vocab = {terms[term]: column for column, term in enumerate(used.tolist())}
    vocab.setdefault("", len(vocab))  # bm25s's empty token: scores a query with no known word
    n_docs, n_vocab = len(lengths), len(vocab)
    docs = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
    # One entry per (term, chunk), sorted by term then chunk: the CSC layout.
    pairs, tf = np.unique(columns_of.reshape(-1) * n_docs + docs, return_counts=True)
    columns, rows = pairs // n_docs, pairs % n_docs
    df = np.bincount(columns, minlength=n_vocab)
    idf = np.log(1.0 + (n_docs - df + 0.5) / (df + 0.5)).astype(np.float32)
    avg_len = lengths.mean() if n_docs else 0.0
    tf = tf.astype(np.float32)
    tfc = tf / (K1 * ((1 - B) + B * lengths[rows] / avg_len) + tf)
    indptr = np.zeros(n_vocab + 1, dtype=np.int64)
    np.cumsum(df, out=indptr[1:])
    bm25 = bm25s.BM25(k1=K1, b=B, method="lucene")
    bm25.scores = {
        "data": (idf[columns] * tfc).astype(np.float32),
        "indices": rows.astype(np.int32),
        "indptr": indptr,
        "num_docs": n_docs,
    }
    bm25.vocab_dict = vocab
    bm25.unique_token_ids_set = set(vocab.values())
    bm25.nonoccurrence_array = None  # only BM25L and BM25+ have one
    return bm25


def save_bm25(bm25, directory: Path) -> None:
    """In bm25s's format (which LlamaIndex's ``BM25Retriever`` persists too)."""
    bm25.save(str(directory), show_progress=False)


def load_bm25(directory: Path):
    """bm25s's ``BM25`` saved in ``directory`` (for LlamaIndex's ``BM25Retriever``)."""
    import bm25s

    quiet_bm25s()
    return bm25s.BM25.load(str(directory), load_corpus=False, show_progress=False)


class ScoreMatrix:
    """A saved bm25s index read with numpy alone, for question time: the same ``scores``,
    ``vocab_dict`` and ``get_scores`` as bm25s's ``BM25`` (Lucene variant: a query's score
    for a chunk is the sum of its terms' stored weights), without importing bm25s."""

    def __init__(self, scores: dict, vocab_dict: dict[str, int]) -> None:
        self.scores = scores
        self.vocab_dict = vocab_dict

    @classmethod
    def load(cls, directory: Path) -> "ScoreMatrix":
        params = json.loads((directory / _BM25_PARAMS).read_text(encoding="utf-8"))
        if params.get("method") != "lucene" or params.get("nonoccurrence_array") is not None:
            raise ValueError(f"{directory} holds a {params.get('method')!r} BM25 index; only 'lucene' is read")
        scores = {name: np.load(directory / file, allow_pickle=False) for name, file in _BM25_FILES.items()}
        scores["num_docs"] = int(params["num_docs"])
        vocab = json.loads((directory / _BM25_VOCAB).read_text(encoding="utf-8"))
        return cls(scores, vocab)

    def get_scores(self, terms: list[str]) -> np.ndarray:
        """Each chunk's BM25 score for ``terms`` (terms the corpus lacks add nothing)."""
        data, indices, indptr = self.scores["data"], self.scores["indices"], self.scores["indptr"]
        out = np.zeros(self.scores["num_docs"], dtype=np.float32)
        for term in terms:
            column = self.vocab_dict.get(term)
            if column is not None:
                lo, hi = indptr[column], indptr[column + 1]
                out[indices[lo:hi]] += data[lo:hi]  # a column holds each chunk once
        return out


def query_terms(query: str) -> list[str]:
    """A question's terms, exactly as LlamaIndex's ``BM25Retriever`` makes them with bm25s
    (lower-cased, split by its token pattern, bm25s's default English stop words dropped,
    stemmed), without importing bm25s."""
    global _stopwords
    if _stopwords is None:
        _stopwords = frozenset(json.loads(STOPWORDS_FILE.read_text(encoding="utf-8"))["words"])
    words = [w for w in _split(query.lower()) if w not in _stopwords]
    if not words:
        return []
    with _stemmer_lock:
        return _shared_stemmer().stemWords(words)


def quiet_bm25s() -> None:
    """bm25s sets its logger to DEBUG on import; once is enough (setting a level clears every
    logger's cache, milliseconds each time)."""
    global _quieted
    if not _quieted:
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        _quieted = True
