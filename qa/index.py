"""Building, persisting and loading the index under ``index/``.

Layout of the index directory::

    index/
      manifest.json          # what was built, from what, with which settings; every file's checksum
      build-<id>/
        storage/default__vector_store.json  # the FAISS index, where LlamaIndex's FaissVectorStore keeps it
        bm25/                # the bm25s score matrix, as LlamaIndex's BM25Retriever persists it
        chunks.json          # per FAISS row: node id, document, character span
        encoder/             # the model exported to ONNX, for questions (absent if it cannot be)
      documents/<variant>/<sha256>.json  # each document's text as cited (extracted, for PDF/HTML/
                             # DOCX), its metadata, sentence and chunk spans and each chunk's BM25
                             # terms, named by the file's sha256; shared by the builds of one
                             # format and chunking (the variant), so a build writes only new ones

The index holds what retrieval needs and nothing about answering: an answerer that
needs artifacts of its own builds and versions them itself.

Questions are answered from these files without importing LlamaIndex or torch
(`IndexStore.load` reads the FAISS index, the bm25s arrays and ``chunks.json``
directly), which is what lets a new process answer within about a second. LlamaIndex's
own retrievers open the same files (`qa.llamaindex_view`); ``tests/test_retrieve.py``
checks that they rank exactly as the fast path does.

Builds are incremental: a document whose file is unchanged (same sha256, same model and
chunking) keeps its stored copy (text, spans and terms, untouched in ``documents/``)
and its vectors (read back from the previous FAISS index, which stores them exactly);
only new and changed documents are read, tokenized and embedded. The FAISS and BM25
indexes are then rebuilt from all vectors and terms with numpy (`qa.lexical`), which
costs milliseconds per thousand chunks. LlamaIndex's ``VectorStoreIndex`` and
``BM25Retriever`` would rebuild their docstore and re-tokenize every chunk on each
addition (0.6 s per thousand chunks), and neither can update a FAISS index in place.
A store that loaded or wrote the current build keeps its documents in memory (checked
then), so adding a file while the chat runs reads nothing else back from disk.

A build is written under a temporary name, renamed to ``build-<id>``, and
only then is ``manifest.json`` replaced (atomically): the manifest is the
commit point, so an interrupted build never leaves a half index behind.
Loading checks every file's size and CRC-32 against the manifest first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
import hashlib
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from qa.corpus.chunking import Span, chunk_spans, sentence_spans
from qa.config import Settings
from qa.corpus import Article, corpus_hash
from qa.errors import CorpusError, DocumentError, IndexCorrupt, IndexMissing
from qa.lexical import ScoreMatrix, Vocabulary, build_bm25_from_ids, chunk_terms, save_bm25
from qa.vector_search import (
    all_cores,
    choose_index,
    new_index,
    prepare_for_search,
)

log = logging.getLogger(__name__)

#: Bump when the layout or the meaning of any persisted file changes.
INDEX_FORMAT_VERSION = 6
MANIFEST_NAME = "manifest.json"
STORAGE_DIR = "storage"
BM25_DIR = "bm25"
ENCODER_DIR = "encoder"
CHUNKS_FILE = "chunks.json"
DOCUMENTS_DIR = "documents"
#: The file LlamaIndex's FaissVectorStore persists the FAISS index to (a FAISS binary, despite the name).
FAISS_FILE = f"{STORAGE_DIR}/default__vector_store.json"
#: Chunks whose vectors check an ONNX export against the model at build time.
EXPORT_PROBE_TEXTS = 16
#: Bytes read at a time when checksumming.
_CHECKSUM_BLOCK = 1 << 20


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: ``articles[source].text[start:end]``."""

    node_id: str
    source: str
    start: int
    end: int


@dataclass
class CorpusIndex:
    """The articles, their chunks and sentences, and the search indexes, loaded in memory."""

    articles: dict[str, Article]
    #: One per FAISS row and bm25s document, in corpus order.
    chunks: list[Chunk]
    faiss_index: object
    bm25: object  # bm25s.BM25
    #: Every sentence of the corpus (`qa.corpus.chunking.sentence_spans`), by article then position.
    sentences: list[Span]
    manifest: dict
    #: The ONNX export for questions, or None when questions need the model itself.
    encoder_dir: Path | None
    #: One message per document of the folder that could not be indexed (naming it and the fix).
    skipped: list[str] = dataclasses.field(default_factory=list)

    def chunk_text(self, chunk: Chunk) -> str:
        return self.articles[chunk.source].text[chunk.start : chunk.end]


def expected_manifest(settings: Settings, articles) -> dict:
    """The manifest fields that must match for a persisted index to be usable. ``articles``
    are the corpus's documents: `Article`s or scanned files (anything with source and sha256)."""
    return {
        "format_version": INDEX_FORMAT_VERSION,
        "model": settings.model,
        "chunking": {
            "max_chars": settings.chunk_max_chars,
            "overlap_sentences": settings.chunk_overlap_sentences,
        },
        "corpus_hash": corpus_hash(articles),
    }


class IndexStore:
    """Reads and writes the index directory. Cheap to construct; touches disk only when asked.

    >>> store = IndexStore(Path("index"), settings)       # doctest: +SKIP
    >>> store.stale_reason(articles) or "up to date"       # doctest: +SKIP
    'up to date'
    """

    def __init__(self, index_dir: Path, settings: Settings) -> None:
        self.index_dir = Path(index_dir)
        self.settings = settings
        #: The build this store last loaded or wrote, checked then: the next build reuses its
        #: documents from memory instead of reading and checking them again.
        self._snapshot: _Snapshot | None = None

    @property
    def manifest_path(self) -> Path:
        return self.index_dir / MANIFEST_NAME

    def read_manifest(self) -> dict:
        if not self.manifest_path.exists():
            raise IndexMissing(f"No index in {str(self.index_dir)!r}; build it with `qa index`.")
        try:
            manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
            raise IndexCorrupt(
                f"Index manifest {str(self.manifest_path)!r} is unreadable ({err}); rebuild with `qa index`."
            ) from err
        if not isinstance(manifest, dict) or "build" not in manifest:
            raise IndexCorrupt(
                f"Index manifest {str(self.manifest_path)!r} lacks a build entry; rebuild with `qa index`."
            )
        return manifest

    def stale_reason(self, articles: list[Article]) -> str | None:
        """Why the persisted index cannot serve ``articles`` with these settings, or None.

        Raises `IndexMissing` / `IndexCorrupt` when there is no readable manifest.
        """
        manifest = self.read_manifest()
        for key, value in expected_manifest(self.settings, articles).items():
            if manifest.get(key) != value:
                return f"{key} changed (index has {manifest.get(key)!r}, now {value!r})"
        return None

    def open(
        self,
        documents,
        load_embedder: Callable[[], object],
        progress: bool = True,
        rebuild: bool = False,
        report: Callable[[str], None] | None = None,
    ) -> tuple[CorpusIndex, str]:
        """Load the index if it is up to date, else build it (incrementally). Returns it and
        what was done.

        ``documents`` are the corpus's `Article`s or scanned files (`qa.corpus.SourceFile`:
        read only when they must be embedded). ``load_embedder`` returns the LlamaIndex
        embedding model; it is called only to build, so an up-to-date index opens without
        loading torch.
        """
        documents = list(documents)

        def build(why: str):
            return self.build(documents, load_embedder(), progress, report=report), why

        if rebuild:
            return self.build(documents, load_embedder(), progress, report=report, reuse=False), "rebuilt on request"
        try:
            reason = self.stale_reason(documents)
        except IndexMissing:
            return build("built (no index yet)")
        except IndexCorrupt as err:
            log.warning("%s Rebuilding.", err)
            return build(f"rebuilt (corrupt: {err})")
        if reason:
            return build(f"rebuilt ({reason})")
        try:
            return self.load(documents), "loaded"
        except IndexCorrupt as err:
            log.warning("%s Rebuilding.", err)
            return build(f"rebuilt (corrupt: {err})")

    # -- loading ---------------------------------------------------------

    def load(self, documents=None) -> CorpusIndex:
        """Load the persisted index (documents' texts included). Raises `IndexMissing` or
        `IndexCorrupt`. ``documents`` is accepted for symmetry with `open`; the texts cited
        are always the ones stored with the index."""
        manifest = self.read_manifest()
        build_dir = self.index_dir / str(manifest["build"])
        try:
            index, parts = self._load_build(build_dir, manifest)
        except (IndexCorrupt, IndexMissing):
            raise
        except Exception as err:  # faiss, JSON and numpy each fail in their own way
            raise IndexCorrupt(
                f"Index build {str(build_dir)!r} cannot be read ({type(err).__name__}: {err}); "
                "rebuild with `qa index`."
            ) from err
        self._snapshot = _Snapshot(str(manifest["build"]), parts, Vocabulary())
        return index

    def _load_build(self, build_dir: Path, manifest: dict) -> tuple[CorpusIndex, dict[str, "_Part"]]:
        import faiss

        if not build_dir.is_dir():
            raise IndexCorrupt(f"Index build {str(build_dir)!r} is missing; rebuild with `qa index`.")
        _check_files(build_dir, manifest.get("files"))
        documents_dir = self.index_dir / str(manifest.get("stored_documents_dir", ""))
        _check_files(documents_dir, manifest.get("stored_documents"))
        chunks = [Chunk(*row) for row in json.loads((build_dir / CHUNKS_FILE).read_text(encoding="utf-8"))]
        faiss_index = prepare_for_search(faiss.read_index(str(build_dir / FAISS_FILE)), manifest["vector_index"])
        bm25 = ScoreMatrix.load(build_dir / BM25_DIR)
        parts = [
            _read_part(documents_dir, source, entry) for source, entry in sorted(manifest.get("documents", {}).items())
        ]
        counts = manifest.get("counts", {})
        if (
            len(chunks) != counts.get("chunks")
            or faiss_index.ntotal != len(chunks)
            or int(bm25.scores["num_docs"]) != len(chunks)
            or sum(len(p.spans) for p in parts) != len(chunks)
            or not parts
        ):
            raise IndexCorrupt(
                f"Index build {str(build_dir)!r} does not match its manifest counts; rebuild with `qa index`."
            )
        vectors = faiss_index.reconstruct_n(0, faiss_index.ntotal)  # flat and HNSW-flat store them exactly
        row = 0
        for part in parts:
            part.vectors = vectors[row : row + len(part.spans)]
            part.stored_entry = manifest["stored_documents"][part.stored_name]
            row += len(part.spans)
        encoder = manifest.get("query_encoder", {})
        index = CorpusIndex(
            articles=articles_by_name([p.article for p in parts]),
            chunks=chunks,
            faiss_index=faiss_index,
            bm25=bm25,
            sentences=[span for part in parts for span in part.sentences],
            manifest=manifest,
            encoder_dir=build_dir / ENCODER_DIR if encoder.get("kind") == "onnx" else None,
            skipped=list(manifest.get("skipped", [])),
        )
        return index, {p.article.sha256: p for p in parts}

    # -- building --------------------------------------------------------

    def build(
        self,
        documents,
        embedder,
        progress: bool = True,
        report: Callable[[str], None] | None = None,
        reuse: bool = True,
    ) -> CorpusIndex:
        """Chunk, embed and persist ``documents`` (`Article`s or `qa.corpus.SourceFile`s) with
        ``embedder`` (a LlamaIndex ``HuggingFaceEmbedding``); return the loaded result.

        Documents unchanged since the previous build (same sha256, model and chunking) are
        reused, not read or embedded again (``reuse=False`` embeds everything anew). A document
        that cannot be read is left out with a message in `CorpusIndex.skipped`; `CorpusError`
        when none can be.
        """
        say = report or (lambda message: None)
        documents = sorted(documents, key=lambda d: d.source)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self._lock(), all_cores():
            started = time.perf_counter()
            previous = self._previous() if reuse else _Previous.none()
            parts: list[_Part] = []
            skipped: list[str] = []
            for doc in documents:
                part = previous.part(doc.sha256, doc.source)
                if part is not None:
                    parts.append(part)
                    continue
                try:
                    article = doc if isinstance(doc, Article) else doc.read()
                except DocumentError as err:
                    log.warning("Skipped a document: %s", err)
                    skipped.append(f"{doc.source}: {err}")
                    continue
                say(f"Reading {doc.source}")
                part = _Part.of(article, self.settings)
                if not part.spans:
                    skipped.append(f"{doc.source}: holds no sentences to answer from; check the file or remove it.")
                    continue
                parts.append(part)
            if not parts:
                raise CorpusError(
                    "No document could be indexed"
                    + (f" ({'; '.join(skipped)})" if skipped else "")
                    + "; add readable documents to the corpus folder."
                )
            fresh = [p for p in parts if p.vectors is None]
            fresh_texts = [text for p in fresh for text in p.chunk_texts()]
            chunks = [chunk for p in parts for chunk in p.chunks()]
            sentences = [span for part in parts for span in part.sentences]
            vector_spec = choose_index(len(chunks))
            build_id = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
            build_dir = self.index_dir / build_id
            tmp_dir = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.index_dir))
            try:
                doc_entries, stored_documents, known, bm25, query_encoder = self._write_text_side(
                    tmp_dir, parts, chunks, previous
                )
                say(f"Embedding {len(fresh_texts)} passages of {len(fresh)} documents")
                embed_started = time.perf_counter()
                if fresh_texts:
                    fresh_vectors = embed_texts(embedder, fresh_texts, progress=progress)
                    offset = 0
                    for part in fresh:
                        part.vectors = fresh_vectors[offset : offset + len(part.spans)]
                        offset += len(part.spans)
                embed_seconds = time.perf_counter() - embed_started
                say(f"Writing the index ({len(chunks)} passages)")
                vectors = np.ascontiguousarray(
                    np.concatenate([p.vectors for p in parts]).astype(np.float32, copy=False)
                )
                faiss_index = new_index(vector_spec, vectors.shape[1])
                faiss_index.add(vectors)
                _write_faiss(faiss_index, tmp_dir / FAISS_FILE)
                if query_encoder is None:
                    texts = [_chunk_text(parts, c) for c in chunks[:EXPORT_PROBE_TEXTS]]
                    query_encoder = _prepare_query_encoder(
                        embedder, tmp_dir / ENCODER_DIR, self._current_build_dir(), texts, vectors[: len(texts)]
                    )
                files = _describe_files(tmp_dir, known=known)
                tmp_dir.chmod(0o755)  # mkdtemp makes it private; the index is shared data
                os.rename(tmp_dir, build_dir)
            except BaseException:
                shutil.rmtree(tmp_dir, ignore_errors=True)
                raise
            manifest = {
                **expected_manifest(self.settings, documents),
                "build": build_id,
                "dimension": int(vectors.shape[1]),
                "vector_index": vector_spec,
                "query_encoder": query_encoder,
                "articles": sorted(p.article.source for p in parts),
                "documents": doc_entries,
                "skipped": skipped,
                "counts": {
                    "chunks": len(chunks), "sentences": len(sentences),
                    "documents_embedded": len(fresh), "documents_reused": len(parts) - len(fresh),
                },
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "build_seconds": round(time.perf_counter() - started, 3),
                "embed_seconds": round(embed_seconds, 3),
                "files": files,
                "stored_documents_dir": self._documents_dir.relative_to(self.index_dir).as_posix(),
                "stored_documents": stored_documents,
            }
            # Compact: the indenting JSON encoder is pure Python, 10 ms for a thousand documents.
            _write_atomically(self.manifest_path, json.dumps(manifest) + "\n")
            self._snapshot = _Snapshot(build_id, {p.article.sha256: p for p in parts}, previous.vocabulary)
            self._remove_old_builds(keep=build_id)
            self._remove_unused_documents(keep=stored_documents)
        log.info("Built index %s: %s", build_id, manifest["counts"])
        return CorpusIndex(
            articles=articles_by_name([p.article for p in parts]),
            chunks=chunks,
            faiss_index=prepare_for_search(faiss_index, vector_spec),
            bm25=bm25,
            sentences=sentences,
            manifest=manifest,
            encoder_dir=build_dir / ENCODER_DIR if query_encoder["kind"] == "onnx" else None,
            skipped=skipped,
        )

    def _write_text_side(self, tmp_dir: Path, parts: list["_Part"], chunks: list[Chunk], previous: "_Previous"):
        """The new documents' stored copies (unchanged ones are already stored), and into the
        build being written: the BM25 matrix, ``chunks.json`` and the ONNX export when the
        previous one can be reused. Returns the manifest's document entries and stored
        documents, the checksums already known, the bm25s model, and the export's manifest
        entry (None: it must be made from the new vectors)."""
        self._documents_dir.mkdir(parents=True, exist_ok=True)
        doc_entries, stored, known = {}, {}, {}
        row = 0
        for part in parts:
            if part.stored_entry is None:
                part.stored_entry = part.write_into(self._documents_dir)
            stored[part.stored_name] = part.stored_entry
            doc_entries[part.article.source] = {
                "sha256": part.article.sha256, "kind": part.article.kind, "chunks": [row, len(part.spans)],
            }
            row += len(part.spans)
        encoded = [part.encoded_terms(previous.vocabulary) for part in parts]
        bm25 = build_bm25_from_ids(
            np.concatenate([ids for ids, _ in encoded]), np.concatenate([n for _, n in encoded]), previous.vocabulary
        )
        save_bm25(bm25, tmp_dir / BM25_DIR)
        (tmp_dir / CHUNKS_FILE).write_text(
            json.dumps([[c.node_id, c.source, c.start, c.end] for c in chunks]), encoding="utf-8"
        )
        query_encoder = None
        encoder_files = previous.intact_encoder_files()
        if encoder_files is not None and _link_tree(previous.build_dir / ENCODER_DIR, tmp_dir / ENCODER_DIR):
            # The same model's export, checked against it when it was made.
            query_encoder = previous.manifest["query_encoder"]
            known.update(encoder_files)
        return doc_entries, dict(sorted(stored.items())), known, bm25, query_encoder

    @property
    def _documents_dir(self) -> Path:
        """Where the documents' stored copies live, shared by every build of the same format
        and chunking (a copy depends on nothing else): a build writes only new documents'
        copies and the switch to it touches no unchanged one."""
        lineage = expected_manifest(self.settings, [])
        variant = hashlib.sha256(
            json.dumps([lineage["format_version"], lineage["chunking"]], sort_keys=True).encode()
        ).hexdigest()[:12]
        return self.index_dir / DOCUMENTS_DIR / variant

    def _remove_unused_documents(self, keep: dict) -> None:
        """Stored copies no build refers to any more (removed or changed documents, another
        chunking's, and what an interrupted build wrote)."""
        root = self.index_dir / DOCUMENTS_DIR
        current = self._documents_dir
        for folder in root.iterdir():
            if folder != current:
                shutil.rmtree(folder, ignore_errors=True)
        with os.scandir(current) as entries:
            for entry in entries:
                if entry.name not in keep:
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)

    def _previous(self) -> "_Previous":
        """What the next build may reuse: the current build's documents, from memory when this
        store loaded or built that very build (checked then), else from disk (checked now)."""
        build_dir, manifest = self._reusable_build()
        if manifest is None:
            return _Previous.none()
        snapshot = self._snapshot
        if snapshot is not None and snapshot.build_id == manifest["build"]:
            previous = _Previous(build_dir, manifest, snapshot.parts, trusted=True, index_dir=self.index_dir)
            previous.vocabulary = snapshot.vocabulary
            return previous
        return _Previous(build_dir, manifest, {}, trusted=False, index_dir=self.index_dir)

    def _reusable_build(self) -> tuple[Path | None, dict | None]:
        """The current build and its manifest when its documents can be reused (same format,
        model and chunking), else (None, None)."""
        try:
            manifest = self.read_manifest()
        except (IndexMissing, IndexCorrupt):
            return None, None
        lineage = expected_manifest(self.settings, [])
        if any(manifest.get(key) != lineage[key] for key in ("format_version", "model", "chunking")):
            return None, None
        path = self.index_dir / str(manifest["build"])
        return (path, manifest) if path.is_dir() else (None, None)

    def _current_build_dir(self) -> Path | None:
        """The build the manifest points at, if any (its ONNX export may be reused)."""
        try:
            path = self.index_dir / str(self.read_manifest()["build"])
        except (IndexMissing, IndexCorrupt):
            return None
        return path if path.is_dir() else None

    def _remove_old_builds(self, keep: str) -> None:
        for path in self.index_dir.iterdir():
            if path.is_dir() and path.name != keep and path.name.startswith(("build-", ".tmp-")):
                shutil.rmtree(path, ignore_errors=True)

    @contextlib.contextmanager
    def _lock(self):
        """One builder at a time per index directory (readers never wait)."""
        with open(self.index_dir / ".lock", "w") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)


def articles_by_name(articles: list[Article]) -> dict[str, Article]:
    return {a.source: a for a in articles}


def _chunk_text(parts: list["_Part"], chunk: Chunk) -> str:
    article = next(p.article for p in parts if p.article.source == chunk.source)
    return article.text[chunk.start : chunk.end]


@dataclass
class _Part:
    """One document as the index holds it: its text, chunk and sentence spans, each chunk's
    BM25 terms and vector, and whether its stored copy is written."""

    article: Article
    spans: list[tuple[int, int]]
    sentences: list[Span]
    terms: list[list[str]]
    vectors: np.ndarray | None = None
    #: The stored copy's size and CRC-32 once it is written (None: not yet).
    stored_entry: dict | None = None
    #: ``terms`` as ids of `vocabulary` (`Vocabulary.encode`), mapped once per store.
    term_ids: tuple[np.ndarray, np.ndarray] | None = None
    vocabulary: Vocabulary | None = None
    _chunks: list[Chunk] | None = dataclasses.field(default=None, repr=False)

    @classmethod
    def of(cls, article: Article, settings: Settings) -> "_Part":
        """A newly read document, chunked and tokenized (not yet embedded)."""
        sentences = sentence_spans(article)
        spans = [
            (span.start, span.end)
            for span, _ in chunk_spans(sentences, settings.chunk_max_chars, settings.chunk_overlap_sentences)
        ]
        return cls(article, spans, sentences, chunk_terms([article.text[s:e] for s, e in spans]))

    @property
    def stored_name(self) -> str:
        return f"{self.article.sha256}.json"

    def chunk_texts(self) -> list[str]:
        return [self.article.text[start:end] for start, end in self.spans]

    def chunks(self) -> list[Chunk]:
        if self._chunks is None:  # made once per document, not once per build
            source = self.article.source
            self._chunks = [Chunk(f"{source}#{n}", source, start, end) for n, (start, end) in enumerate(self.spans)]
        return self._chunks

    def encoded_terms(self, vocabulary: Vocabulary) -> tuple[np.ndarray, np.ndarray]:
        if self.vocabulary is not vocabulary:
            self.term_ids, self.vocabulary = vocabulary.encode(self.terms), vocabulary
        return self.term_ids

    def named(self, source: str) -> "_Part":
        """The same content under another file name (a renamed or moved file)."""
        if source == self.article.source:
            return self
        return dataclasses.replace(
            self,
            _chunks=None,
            article=dataclasses.replace(self.article, source=source),
            sentences=[Span(source, s.start, s.end) for s in self.sentences],
        )

    def write_into(self, directory: Path) -> dict:
        """The document's text as cited, its metadata, sentence and chunk spans and each chunk's
        terms, named by the file's sha256 so the next build can reuse them. (Sentences and terms
        follow from the text; they are stored so that neither a load nor the next build has to
        split and tokenize every document again.)"""
        article = self.article
        record = {
            "kind": article.kind,
            "date": article.date,
            "body_start": article.body_start,
            "page_starts": list(article.page_starts),
            "stated_title": article.stated_title,
            "chunks": [list(span) for span in self.spans],
            "sentences": [[s.start, s.end] for s in self.sentences],
            "terms": self.terms,
            "text": article.text,
        }
        data = json.dumps(record, ensure_ascii=False).encode("utf-8")
        # Atomically: a build interrupted mid-write leaves no half copy under the final name.
        tmp = directory / f".tmp-{uuid.uuid4().hex[:8]}-{self.stored_name}"
        tmp.write_bytes(data)
        os.replace(tmp, directory / self.stored_name)
        return {"bytes": len(data), "crc32": zlib.crc32(data)}


def _read_part(documents_dir: Path, source: str, entry: dict) -> _Part:
    """A document's stored copy (vectors not included: they live in the FAISS index)."""
    record = json.loads((documents_dir / f"{entry['sha256']}.json").read_text(encoding="utf-8"))
    article = Article(
        source=source, text=record["text"], date=record["date"], body_start=record["body_start"],
        kind=record["kind"], page_starts=tuple(record["page_starts"]), sha256=entry["sha256"],
        stated_title=record["stated_title"],
    )
    spans = [tuple(span) for span in record["chunks"]]
    terms = record["terms"]
    if len(terms) != len(spans):
        raise ValueError(f"{len(spans)} chunks but terms for {len(terms)}")
    return _Part(article, spans, [Span(source, s, e) for s, e in record["sentences"]], terms)


@dataclass(frozen=True)
class _Snapshot:
    """The documents of a build this store loaded or wrote itself."""

    build_id: str
    parts: dict[str, _Part]  # by sha256
    vocabulary: Vocabulary  # the one its parts' terms are (or will be) encoded with


class _Previous:
    """The previous build's reusable documents: from a `_Snapshot` (trusted: checked when
    loaded or written), or read from disk, each file checked against the manifest first."""

    def __init__(
        self, build_dir: Path | None, manifest: dict | None, parts: dict[str, _Part], trusted: bool,
        index_dir: Path | None = None,
    ):
        self.build_dir, self.manifest, self._parts, self.trusted = build_dir, manifest, parts, trusted
        self._documents_dir = index_dir / str(manifest.get("stored_documents_dir", "")) if manifest else None
        self._by_sha = {e["sha256"]: (source, e) for source, e in (manifest or {}).get("documents", {}).items()}
        self._vectors = None
        self.vocabulary = Vocabulary()

    @classmethod
    def none(cls) -> "_Previous":
        return cls(None, None, {}, trusted=True)

    def part(self, sha256: str, source: str) -> _Part | None:
        """The stored document with this content (under ``source``), or None to read it anew."""
        if self.trusted:
            part = self._parts.get(sha256)
            return part.named(source) if part is not None else None
        found = self._by_sha.get(sha256)
        if found is None:
            return None
        stored_source, entry = found
        try:
            name = f"{sha256}.json"
            stored = self.manifest["stored_documents"][name]
            _check_files(self._documents_dir, {name: stored})
            part = _read_part(self._documents_dir, stored_source, entry)
            part.vectors = self._rows(*entry["chunks"])
            if len(part.spans) != len(part.vectors):
                raise ValueError(f"{len(part.spans)} chunks but {len(part.vectors)} stored vectors")
            part.stored_entry = stored
        except (OSError, ValueError, KeyError, TypeError, RuntimeError, IndexCorrupt) as err:
            log.warning("Re-reading %s: its stored copy is unusable (%s)", source, err)
            return None
        return part.named(source)

    def _rows(self, first: int, count: int) -> np.ndarray:
        """Vectors read back from the previous FAISS index (flat and HNSW-flat indexes store
        them exactly), the file checked once, not per document."""
        if isinstance(self._vectors, Exception):
            raise self._vectors
        if self._vectors is None:
            import faiss

            try:
                _check_files(self.build_dir, {FAISS_FILE: self.manifest["files"][FAISS_FILE]})
                index = faiss.read_index(str(self.build_dir / FAISS_FILE))
                self._vectors = index.reconstruct_n(0, index.ntotal)
            except (IndexCorrupt, KeyError, RuntimeError) as err:
                self._vectors = err
                raise
        if first + count > len(self._vectors):
            raise ValueError(f"rows {first}..{first + count} past the {len(self._vectors)} stored vectors")
        return self._vectors[first : first + count]

    def intact_encoder_files(self) -> dict | None:
        """The manifest entries of the previous build's ONNX export when it can be reused as
        it is (one exists and, unless trusted, every file matches its checksum), else None."""
        manifest = self.manifest
        if not manifest or manifest.get("query_encoder", {}).get("kind") != "onnx":
            return None
        files = {k: v for k, v in manifest.get("files", {}).items() if k.startswith(ENCODER_DIR + "/")}
        if not self.trusted:
            try:
                _check_files(self.build_dir, files)
            except IndexCorrupt:
                return None
        return files or None


def _write_faiss(index, path: Path) -> None:
    """Where and how LlamaIndex's ``FaissVectorStore.persist`` writes it, so that
    ``FaissVectorStore.from_persist_dir`` opens the build too."""
    import faiss

    path.parent.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(path))


def embed_texts(embedder, texts: list[str], progress: bool) -> np.ndarray:
    """One row per text, in input order.

    For LlamaIndex's ``HuggingFaceEmbedding`` this is the call it makes itself
    (sentence-transformers' ``encode`` with the "text" prompt), over all texts at once:
    encode then sorts them by length for its batches, and the vectors skip a round trip
    through Python lists. Any other LlamaIndex embedding goes through
    ``get_text_embedding_batch``, longest texts first so batches pad little.
    """
    model = getattr(embedder, "_model", None)
    if hasattr(model, "encode") and hasattr(embedder, "normalize"):
        vectors = model.encode(
            texts, batch_size=embedder.embed_batch_size, prompt_name="text",
            normalize_embeddings=embedder.normalize, show_progress_bar=progress, convert_to_numpy=True,
        )
        return np.asarray(vectors, dtype=np.float32)
    from tqdm import tqdm

    batch = getattr(embedder, "embed_batch_size", 64)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = np.zeros((len(texts), 0), dtype=np.float32)
    with tqdm(total=len(texts), desc="Embedding passages", unit="text", disable=not progress) as bar:
        for i in range(0, len(texts), batch):
            rows = order[i : i + batch]
            vectors = np.asarray(embedder.get_text_embedding_batch([texts[r] for r in rows]), dtype=np.float32)
            if out.shape[1] == 0:
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[rows] = vectors
            bar.update(len(rows))
    return out


def _prepare_query_encoder(embedder, directory: Path, previous: Path | None, texts: list[str], vectors) -> dict:
    """Export the model for questions (or reuse the previous build's export) and check it
    reproduces ``vectors``. Returns the manifest entry."""
    from qa.onnx_export import ExportUnsupported, export_encoder, verify

    probe = slice(0, EXPORT_PROBE_TEXTS)
    reused = previous is not None and _link_tree(previous / ENCODER_DIR, directory)
    try:
        if reused:
            try:
                difference = verify(directory, texts[probe], vectors[probe])
            except ExportUnsupported:
                shutil.rmtree(directory, ignore_errors=True)
                reused = False
        if not reused:
            export_encoder(embedder, directory)
            difference = verify(directory, texts[probe], vectors[probe])
    except ExportUnsupported as err:
        shutil.rmtree(directory, ignore_errors=True)
        log.warning("Questions will be embedded by sentence-transformers (slower to start): %s", err)
        return {"kind": "sentence-transformers", "reason": str(err)}
    return {"kind": "onnx", "max_difference": difference, "checked_texts": len(texts[probe])}


def _link_tree(source: Path, target: Path) -> bool:
    """Hard-link (or copy) the files of ``source`` into ``target``; False when there is nothing."""
    if not source.is_dir():
        return False
    target.mkdir(parents=True)
    for path in source.iterdir():
        try:
            os.link(path, target / path.name)
        except OSError:
            shutil.copy2(path, target / path.name)
    return True


def _describe_files(build_dir: Path, known: dict | None = None) -> dict:
    """Size and CRC-32 of every file of a build, by relative path. ``known`` gives the entries
    of files hard-linked from the previous build (the same bytes), which are not read again."""
    known = known or {}
    out = {}
    root = str(build_dir)
    for folder, _dirs, names in os.walk(root):
        prefix = os.path.relpath(folder, root).replace(os.sep, "/")
        for name in names:
            relative = name if prefix == "." else f"{prefix}/{name}"
            path = os.path.join(folder, name)
            out[relative] = known.get(relative) or {"bytes": os.path.getsize(path), "crc32": _crc32(path)}
    return dict(sorted(out.items()))


def _check_files(build_dir: Path, files: dict | None) -> None:
    if not isinstance(files, dict) or not files:
        raise IndexCorrupt(f"Index manifest lists no files of {str(build_dir)!r}; rebuild with `qa index`.")
    for name, expected in files.items():
        path = build_dir / name
        if not path.is_file():
            raise IndexCorrupt(f"Index file {str(path)!r} is missing; rebuild with `qa index`.")
        if path.stat().st_size != expected.get("bytes") or _crc32(path) != expected.get("crc32"):
            raise IndexCorrupt(f"Index file {str(path)!r} is damaged (size or checksum differ); rebuild with `qa index`.")


def _crc32(path: Path) -> int:
    checksum = 0
    with open(path, "rb") as handle:
        while block := handle.read(_CHECKSUM_BLOCK):
            checksum = zlib.crc32(block, checksum)
    return checksum


def _write_atomically(path: Path, content: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
