"""The question-answering pipeline: clean, resolve follow-ups, retrieve, answer.

>>> from qa.engine import QAEngine
>>> engine = QAEngine.from_settings().load()      # doctest: +SKIP
>>> engine.ask("How many Indians were recruited?").short  # doctest: +SKIP
'126'
"""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from copy import copy
from dataclasses import dataclass, field, replace
from typing import Callable

from qa.config import Settings
from qa.errors import IndexChanged, QAError
from qa.conversation import standalone_question
from qa.question import clean_question
from qa.results import Answer
from qa.scope import Scope

log = logging.getLogger(__name__)


def reader_thresholds(reader):
    """The abstention thresholds calibrated for ``reader`` (in its reader.json), else defaults."""
    from qa.answering.answerer import Thresholds

    return Thresholds(**reader.config.get("thresholds", {}))


@dataclass(frozen=True)
class _Serving:
    """What answers questions, swapped as one reference when the corpus changes, so a question
    asked during a re-index is answered wholly by the old corpus or wholly by the new one."""

    index: object
    retriever: object
    answerer: object
    #: Page furniture left out per document, worked out when first shown.
    furniture: dict = field(default_factory=dict)


class QAEngine:
    """Answers questions over one corpus. Constructing is cheap; `load` does the work once.

    Collaborators may be passed in: ``embedder`` (a LlamaIndex embedding, used to build
    the index) and ``encoder`` (a `qa.index.encoder.Encoder`, used to embed questions). By
    default the index's ONNX export embeds questions, and the configured model is
    loaded only when the index has to be built.
    """

    def __init__(self, settings: Settings | None = None, *, embedder=None, encoder=None) -> None:
        self.settings = settings or Settings.from_env()
        self._embedder = embedder
        self._encoder = encoder
        self._serving: _Serving | None = None
        self._reader = None
        self._store = None  # the index directory's IndexStore, kept: it remembers the last build
        self._database = None  # the PostgresStore when settings.store names one
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
        return self._serving is not None

    @property
    def _index(self):
        return self._serving.index if self._serving else None

    @property
    def _answerer(self):
        return self._serving.answerer if self._serving else None

    @property
    def _retriever(self):
        return self._serving.retriever if self._serving else None

    @property
    def embedder(self):
        """The LlamaIndex embedding model that builds the index (loaded on first use: seconds)."""
        if self._embedder is None:
            from qa.index.embedding import load_embedder

            self._embedder = load_embedder(self.settings.model)
        return self._embedder

    def load(self, progress: bool = True, rebuild: bool = False) -> "QAEngine":
        """Load the index (building it when missing, stale or corrupt) and the question encoder."""
        if self.loaded and not rebuild:
            return self  # without the lock: a refresh holds it while questions go on
        with self._load_lock:
            if self.loaded and not rebuild:
                return self
            self._open(progress=progress, rebuild=rebuild)
        return self

    def refresh(self, report: Callable[[object], None] | None = None) -> str:
        """Bring the index up to date with the corpus folder (after files were added, changed
        or removed): only new and changed documents are read and embedded. Questions keep
        being answered from the previous index until the new one is ready. Returns what was
        done ("loaded" when nothing had changed)."""
        with self._load_lock:
            self._open(progress=False, rebuild=False, report=report)
            return self.index_status

    def _open(self, progress: bool, rebuild: bool, report=None) -> None:
        from qa.retrieve import Retriever

        reader = self._load_reader_meanwhile() if self._reader is None else None
        if self.settings.store:
            index, search = self._open_database()
        else:
            index, search = self._open_files(progress, rebuild, report), None
        if self._encoder is None or rebuild:
            # A refresh keeps the loaded encoder: the model, hence the export, is the same.
            self._encoder = self._question_encoder(index)
        if reader is not None:
            self._reader = reader.result()  # its ReaderError, if any, is raised here
        answerer = self._reader_answerer(index)
        retriever = Retriever.from_index(index, self.settings.retrieval, self.settings.top_k, search=search)
        self._serving = _Serving(index, retriever, answerer)

    def _open_files(self, progress: bool, rebuild: bool, report=None):
        """The index directory's index, built or brought up to date with the corpus folder."""
        from qa.corpus import CorpusFolder
        from qa.index import IndexStore

        scan = CorpusFolder(self.settings.seeds_dir).scan(required=True)
        scan.log_skipped()
        if self._store is None:
            self._store = IndexStore(self.settings.index_dir, self.settings)
        index, self.index_status = self._store.open(
            scan.files, lambda: self.embedder, progress=progress, rebuild=rebuild, report=report
        )
        index.skipped = list(scan.skipped) + [s for s in index.skipped if s not in scan.skipped]
        log.info("Index %s: %s", self.settings.index_dir, self.index_status)
        return index

    def _open_database(self):
        """The database's current build (read only: `qa index --store` writes it). Questions
        are then searched in the database; the documents' texts are held here."""
        from qa.index import ENCODER_DIR, IndexStore
        from qa.stores.postgres import PostgresStore
        from qa.stores.published import DatabaseSearch, read_index

        if self._database is None:
            self._database = PostgresStore(self.settings.store)
        index = read_index(self._database, self.settings)
        # Questions are embedded by the local index directory's ONNX export when it has one
        # for this model (else by the model itself).
        try:
            local = IndexStore(self.settings.index_dir, self.settings).read_manifest()
            encoder = self.settings.index_dir / local["build"] / ENCODER_DIR
            if local.get("model") == index.manifest.get("model") and local["query_encoder"]["kind"] == "onnx" and encoder.is_dir():
                index.encoder_dir = encoder
        except (QAError, KeyError):
            pass
        self.index_status = f"loaded from the database ({index.manifest.get('build')})"
        log.info("Index %s: %s", self._database, self.index_status)
        return index, DatabaseSearch(self._database, len(index.chunks))

    def _load_reader_meanwhile(self) -> Future:
        """The reader, loading in a thread of its own while the index opens: checking its
        checksums and preparing its ONNX session take about a third of a cold `qa ask`, and
        the index's loading leaves a core free for them (a new process's load and first answer:
        1.32 -> 1.16 s, mean of 3 runs each on 2 cores; the imports still hold the GIL)."""
        from qa.answering.reader import Reader

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="reader-load")
        try:
            return pool.submit(Reader(self.settings.reader_dir).load)
        finally:
            pool.shutdown(wait=False)  # the submitted load runs on; the thread ends with it

    def _reader_answerer(self, index):
        from qa.answering.answerer import ReaderAnswerer
        from qa.corpus.tables import KINDS_WITH_TABLES

        reader = self._reader
        texts = {source: article.text for source, article in index.articles.items()}
        tables = {source: article for source, article in index.articles.items() if article.kind in KINDS_WITH_TABLES}
        thresholds = self._answerer.thresholds if self._answerer is not None else reader_thresholds(reader)
        return ReaderAnswerer(reader, texts, index.sentences, thresholds, embed=self._encoder.embed, tables=tables)

    def _question_encoder(self, index):
        from qa.index.encoder import OnnxEncoder, SentenceTransformerEncoder

        if index.encoder_dir is not None:
            return OnnxEncoder(index.encoder_dir).load()
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
        retriever = Retriever.from_index(self._index, mode, self.settings.top_k, search=self._serving.retriever.search)
        other._serving = replace(self._serving, retriever=retriever)
        other._load_lock = threading.Lock()
        return other

    # -- asking ------------------------------------------------------------

    def ask(self, question: str, history=None, *, sources=None, since=None, until=None) -> Answer:
        """Answer ``question``; ``history`` holds earlier turns for follow-ups.

        ``sources`` (document names, as citations give them), ``since`` and ``until``
        (``YYYY-MM-DD`` or dates, inclusive, on the documents' own dates) scope the question:
        only those documents are searched (`qa.scope`).

        Raises `qa.errors.BadQuestion` (a ValueError) for an empty or over-long question, and
        `qa.errors.BadScope` (a ValueError) for an unknown document, a bad date or an empty scope.
        """
        text = clean_question(question)
        scope = Scope.of(sources, since, until)
        query = standalone_question(text, history)
        serving, passages = self._search(query, scope)
        answer = serving.answerer.answer(text, passages, query=query)
        return replace(_with_pages(answer, serving.index.articles), question=text, query=query)

    def passages(self, query: str) -> list:
        """The passages retrieved for ``query`` (`qa.answering.answerer.Passage`), best first:
        as `ask` reads them (a table's narrowed to its row), for studies of the answerer
        (`training.ranking`)."""
        serving, passages = self._search(query)
        return serving.answerer.as_read(passages, query)

    def _search(self, query: str, scope: Scope | None = None) -> tuple["_Serving", list]:
        self.load()
        from qa.answering.answerer import Passage

        serving, encoder = self._serving, self._encoder  # one corpus for the whole question
        # Checked against the corpus before any work, so a bad name costs nothing.
        scoped = {} if scope is None else {"sources": scope.documents(serving.index.articles)}
        query_vector = encoder.embed([query])[0]
        try:
            chunks = serving.retriever.retrieve(query, query_vector, **scoped)
        except IndexChanged:
            # The database's index was rebuilt under us: serve the new one, and ask it again.
            serving = self._reload_database(serving)
            if scope is not None:
                scoped = {"sources": scope.documents(serving.index.articles)}
            chunks = serving.retriever.retrieve(query, query_vector, **scoped)
        return serving, [Passage(c.source, c.start, c.end, c.score) for c in chunks]

    def _reload_database(self, stale: "_Serving") -> "_Serving":
        with self._load_lock:
            if self._serving is stale:  # one thread reloads; the others use what it loaded
                self._open(progress=False, rebuild=False)
            return self._serving

    def text_of(self, source: str) -> str:
        """The text that ``source``'s citations are offsets into (for a PDF, HTML or DOCX
        document: the text extracted from it and stored with the index)."""
        self.load()
        try:
            return self._index.articles[source].text
        except KeyError:
            raise KeyError(f"{source!r} is not a document of this corpus") from None

    def article(self, source: str):
        """The document named ``source`` (as citations name it): its text, format, pages and
        sha256 (`qa.corpus.documents.Article`). KeyError when the corpus holds no such document."""
        self.load()
        try:
            return self._index.articles[source]
        except (KeyError, TypeError):  # TypeError: an unhashable name from a caller
            raise KeyError(f"{source!r} is not a document of this corpus") from None

    # -- what the UI shows ---------------------------------------------------

    @property
    def articles(self) -> list:
        self.load()
        return sorted(self._index.articles.values(), key=lambda a: a.source)

    @property
    def passage_count(self) -> int:
        self.load()
        return len(self._index.chunks)

    @property
    def furniture_dropped(self) -> dict[str, tuple[int, int]]:
        """Per document, the page furniture left out of what is searched and cited: (pieces,
        characters) (`qa.corpus.furniture.dropped`)."""
        self.load()
        from qa.corpus.furniture import dropped_by_document

        serving = self._serving
        if not serving.furniture:  # filled once per corpus (two threads may both: the same values)
            serving.furniture.update(dropped_by_document(serving.index.articles, serving.index.sentences))
        return dict(serving.furniture)

    @property
    def skipped(self) -> list[str]:
        """One message per file of the corpus folder that is not answered from (and why)."""
        self.load()
        return list(self._index.skipped)


def _with_pages(answer: Answer, articles: dict) -> Answer:
    """``answer`` with each citation's pages filled in, for paged documents, and its rows, for
    tables (`qa.corpus.tables.locate`)."""
    from qa.corpus.tables import KINDS_WITH_TABLES, locate

    def paged(citations):
        out = []
        for c in citations:
            article = articles.get(c.source)
            pages = tuple(article.pages(c.start, c.end)) if article is not None else ()
            if pages:
                c = replace(c, pages=pages)
            if article is not None and article.kind in KINDS_WITH_TABLES:
                c = replace(c, location=locate(article, c.start, c.end))
            out.append(c)
        return out

    if not any(
        getattr(articles.get(c.source), "page_starts", ()) or getattr(articles.get(c.source), "kind", "") in KINDS_WITH_TABLES
        for c in [*answer.citations, *answer.related, *answer.passages]
    ):
        return answer
    return replace(answer, citations=paged(answer.citations), related=paged(answer.related), passages=paged(answer.passages))
