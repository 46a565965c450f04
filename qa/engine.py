"""The question-answering pipeline: clean, resolve follow-ups, retrieve, answer.

>>> from qa.engine import QAEngine
>>> engine = QAEngine.from_settings().load()      # doctest: +SKIP
>>> engine.ask("How many Indians were recruited?").short  # doctest: +SKIP
'126'
"""

from __future__ import annotations

import logging
import threading
from copy import copy
from dataclasses import replace

from qa.config import Settings
from qa.conversation import standalone_question
from qa.question import clean_question
from qa.results import Answer

log = logging.getLogger(__name__)


def reader_thresholds(reader):
    """The abstention thresholds calibrated for ``reader`` (in its reader.json), else defaults."""
    from qa.answering.answerer import Thresholds

    return Thresholds(**reader.config.get("thresholds", {}))


class QAEngine:
    """Answers questions over one corpus. Constructing is cheap; `load` does the work once.

    Collaborators may be passed in: ``embedder`` (a LlamaIndex embedding, used to build
    the index) and ``encoder`` (a `qa.encoder.Encoder`, used to embed questions). By
    default the index's ONNX export embeds questions, and the configured model is
    loaded only when the index has to be built.
    """

    def __init__(self, settings: Settings | None = None, *, embedder=None, encoder=None) -> None:
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._encoder = encoder
        self._index = None
        self._retriever = None
        self._answerer = None
        self._reader = None
        self._load_lock = threading.Lock()
        #: What `load` did with the index: "loaded", "built (no index yet)", "rebuilt (...)".
        self.index_status: str | None = None

    @classmethod
    def from_settings(cls, settings: Settings | None = None, **overrides) -> "QAEngine":
        """An engine for ``settings`` (default: environment), fields overridden by ``overrides``."""
        settings = settings or Settings.from_env()
        if overrides:
            settings = settings.with_(**overrides)
        return cls(settings)

    # -- loading -----------------------------------------------------------

    @property
    def loaded(self) -> bool:
        return self._answerer is not None

    @property
    def embedder(self):
        """The LlamaIndex embedding model that builds the index (loaded on first use: seconds)."""
        if self._embedder is None:
            from qa.embedding import load_embedder

            self._embedder = load_embedder(self.settings.model)
        return self._embedder

    def load(self, progress: bool = True, rebuild: bool = False) -> "QAEngine":
        """Load the index (building it when missing, stale or corrupt) and the question encoder."""
        with self._load_lock:
            if self.loaded and not rebuild:
                return self
            from qa.corpus import load_corpus
            from qa.index import IndexStore
            from qa.retrieve import Retriever

            articles = load_corpus(self.settings.seeds_dir)
            store = IndexStore(self.settings.index_dir, self.settings)
            self._index, self.index_status = store.open(
                articles, lambda: self.embedder, progress=progress, rebuild=rebuild
            )
            log.info("Index %s: %s", self.settings.index_dir, self.index_status)
            if self._encoder is None or rebuild:
                self._encoder = self._question_encoder()
            self._answerer = self._reader_answerer()
            self._retriever = Retriever.from_index(self._index, self.settings.retrieval, self.settings.top_k)
        return self

    def _reader_answerer(self):
        from qa.answering.answerer import ReaderAnswerer
        from qa.answering.reader import Reader

        reader = self._reader if self._reader is not None else Reader(self.settings.reader_dir).load()
        self._reader = reader
        texts = {source: article.text for source, article in self._index.articles.items()}
        return ReaderAnswerer(reader, texts, self._index.sentences, reader_thresholds(reader))

    def _question_encoder(self):
        from qa.encoder import OnnxEncoder, SentenceTransformerEncoder

        if self._index.encoder_dir is not None:
            return OnnxEncoder(self._index.encoder_dir).load()
        return SentenceTransformerEncoder(self.embedder)

    @property
    def answerer(self):
        """The loaded answerer (its ``thresholds`` may be changed, e.g. to calibrate them)."""
        self.load()
        return self._answerer

    def with_retrieval(self, mode: str) -> "QAEngine":
        """A loaded engine sharing this one's model and index, retrieving with ``mode``."""
        from qa.retrieve import Retriever

        self.load()
        other = copy(self)
        other.settings = self.settings.with_(retrieval=mode)
        other._retriever = Retriever.from_index(self._index, mode, self.settings.top_k)
        other._load_lock = threading.Lock()
        return other

    # -- asking ------------------------------------------------------------

    def ask(self, question: str, history=None) -> Answer:
        """Answer ``question``; ``history`` holds earlier turns for follow-ups.

        Raises `qa.errors.BadQuestion` (a ValueError) for an empty or over-long question.
        """
        text = clean_question(question)
        query = standalone_question(text, history)
        self.load()
        from qa.answering.answerer import Passage

        query_vector = self._encoder.embed([query])[0]
        chunks = self._retriever.retrieve(query, query_vector)
        passages = [Passage(c.source, c.start, c.end, c.score) for c in chunks]
        answer = self._answerer.answer(text, passages, query=query)
        return replace(answer, question=text, query=query)

    # -- what the UI shows ---------------------------------------------------

    @property
    def articles(self) -> list:
        self.load()
        return sorted(self._index.articles.values(), key=lambda a: a.source)

    @property
    def passage_count(self) -> int:
        self.load()
        return len(self._index.chunks)
