"""The BM25 side of the index: each chunk's terms, and the bm25s score matrix built from them.

LlamaIndex's ``BM25Retriever`` tokenizes every chunk and has bm25s index the corpus
from scratch: 0.3 s per thousand chunks, most of it Python loops, paid again whenever
one document is added. Here each chunk's terms are computed once (with the very
tokenizer settings LlamaIndex uses), stored with its document, and the score matrix
of the whole corpus is computed from them with numpy in milliseconds. It is written in
bm25s's on-disk format, so LlamaIndex's ``BM25Retriever`` loads it unchanged, and read
back with numpy (`ScoreMatrix`); ``tests/test_lexical.py`` checks that the matrix equals
the one LlamaIndex's retriever builds. Neither a build nor a question imports bm25s: it
brings scipy.sparse (0.6 s of a new `qa index` process on 2 cores).

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
#: What bm25s's ``BM25.save`` writes into ``params.index.json`` for such an index (less its
#: version, which ``BM25.load`` does not need).
_BM25_PARAMETERS = {
    "k1": K1, "b": B, "delta": 0.5, "method": "lucene", "idf_method": "lucene",
    "dtype": "float32", "int_dtype": "int32", "backend": "numpy",
}

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
    exactly what LlamaIndex's ``BM25Retriever`` indexes for it (bm25s's ``tokenize``: the
    same token pattern, stop words and stemmer), without importing bm25s."""
    if not texts:
        return []
    stopwords = _english_stopwords()
    words = [[w for w in _split(text.lower()) if w not in stopwords] for text in texts]
    unique = list(dict.fromkeys(w for text in words for w in text))
    with _stemmer_lock:  # each distinct word stemmed once, as bm25s does
        stem_of = dict(zip(unique, _shared_stemmer().stemWords(unique)))
    return [[stem_of[w] for w in text] for text in words]


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


def build_bm25(terms: list[list[str]]) -> "ScoreMatrix":
    """The BM25 matrix over chunks with these ``terms`` (see `build_bm25_from_ids`)."""
    vocabulary = Vocabulary()
    return build_bm25_from_ids(*vocabulary.encode(terms), vocabulary)


def build_bm25_from_ids(ids: np.ndarray, lengths: np.ndarray, vocabulary: Vocabulary) -> "ScoreMatrix":
    """The BM25 matrix (Lucene variant, k1 1.5, b 0.75) over chunks whose terms are ``ids``
    (`Vocabulary.encode`: all chunks' term ids concatenated, and each chunk's length), as
    bm25s's ``BM25.index`` computes and stores it.

    Scores, vectorised: for each (chunk, term),
    ``idf * tf / (tf + k1 * (1 - b + b * len / avg_len))`` with
    ``idf = log(1 + (N - df + 0.5) / (df + 0.5))``, stored column by column (CSC).
    """
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
    scores = {
        "data": (idf[columns] * tfc).astype(np.float32),
        "indices": rows.astype(np.int32),
        "indptr": indptr,
        "num_docs": n_docs,
    }
    return ScoreMatrix(scores, vocab)


def save_bm25(bm25: "ScoreMatrix", directory: Path) -> None:
    """In bm25s's format (``BM25.save``, which LlamaIndex's ``BM25Retriever`` persists too):
    the CSC arrays, the vocabulary and the parameters ``BM25.load`` reads."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, file in _BM25_FILES.items():
        np.save(directory / file, bm25.scores[name], allow_pickle=False)
    vocab = json.dumps(bm25.vocab_dict, ensure_ascii=False, separators=(",", ":"))
    (directory / _BM25_VOCAB).write_text(vocab, encoding="utf-8")
    params = {**_BM25_PARAMETERS, "num_docs": int(bm25.scores["num_docs"])}
    (directory / _BM25_PARAMS).write_text(json.dumps(params, indent=4), encoding="utf-8")


def load_bm25(directory: Path):
    """bm25s's ``BM25`` saved in ``directory`` (for LlamaIndex's ``BM25Retriever``)."""
    import bm25s

    quiet_bm25s()
    return bm25s.BM25.load(str(directory), load_corpus=False, show_progress=False)


class ScoreMatrix:
    """A BM25 matrix as a build makes it and a saved bm25s index read with numpy alone: the
    same ``scores``, ``vocab_dict`` and ``get_scores`` as bm25s's ``BM25`` (Lucene variant: a
    query's score for a chunk is the sum of its terms' stored weights), without importing bm25s."""

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
    stopwords = _english_stopwords()
    words = [w for w in _split(query.lower()) if w not in stopwords]
    if not words:
        return []
    with _stemmer_lock:
        return _shared_stemmer().stemWords(words)


def _english_stopwords() -> frozenset[str]:
    global _stopwords
    if _stopwords is None:
        _stopwords = frozenset(json.loads(STOPWORDS_FILE.read_text(encoding="utf-8"))["words"])
    return _stopwords


def quiet_bm25s() -> None:
    """bm25s sets its logger to DEBUG on import; once is enough (setting a level clears every
    logger's cache, milliseconds each time)."""
    global _quieted
    if not _quieted:
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        _quieted = True
