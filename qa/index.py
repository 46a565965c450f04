"""Building, persisting and loading the index under ``index/``.

Layout of the index directory::

    index/
      manifest.json          # what was built, from what, with which settings; every file's checksum
      build-<id>/
        storage/             # LlamaIndex StorageContext: docstore + FAISS vector store
        bm25/                # LlamaIndex BM25Retriever, persisted (bm25s arrays)
        chunks.json          # per FAISS row: node id, document, character span
        encoder/             # the model exported to ONNX, for questions (absent if it cannot be)
        documents/<sha256>.json  # each document's text as cited (extracted, for PDF/HTML/DOCX),
                                 # its metadata and chunk spans, named by the file's sha256

The index holds what retrieval needs and nothing about answering: an answerer that
needs artifacts of its own builds and versions them itself.

LlamaIndex builds everything. Questions are answered from the same files
without importing LlamaIndex or torch (`IndexStore.load` reads the FAISS
index, the bm25s arrays and ``chunks.json`` directly), which is what lets a
new process answer within about a second.

Builds are incremental: a document whose file is unchanged (same sha256, same model and
chunking) keeps its stored text and chunks (hard-linked from the previous build) and its
vectors (read back from the previous build's FAISS index, which stores them exactly);
only new and changed documents are read and embedded. The FAISS and BM25 indexes are
rebuilt from all the vectors and chunks, which costs milliseconds per thousand chunks.

A build is written under a temporary name, renamed to ``build-<id>``, and
only then is ``manifest.json`` replaced (atomically): the manifest is the
commit point, so an interrupted build never leaves a half index behind.
Loading checks every file's size and CRC-32 against the manifest first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import fcntl
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
from qa.vector_search import (
    all_cores,
    choose_index,
    new_index,
    prepare_for_search,
)

log = logging.getLogger(__name__)

#: Bump when the layout or the meaning of any persisted file changes.
INDEX_FORMAT_VERSION = 4
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
#: bm25s options, the same as LlamaIndex's BM25Retriever uses.
BM25_LANGUAGE = "english"
BM25_TOKEN_PATTERN = r"(?u)\b\w\w+\b"
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
            return self._load_build(build_dir, manifest)
        except (IndexCorrupt, IndexMissing):
            raise
        except Exception as err:  # faiss, bm25s, JSON and numpy each fail in their own way
            raise IndexCorrupt(
                f"Index build {str(build_dir)!r} cannot be read ({type(err).__name__}: {err}); "
                "rebuild with `qa index`."
            ) from err

    def _load_build(self, build_dir: Path, manifest: dict) -> CorpusIndex:
        import faiss

        if not build_dir.is_dir():
            raise IndexCorrupt(f"Index build {str(build_dir)!r} is missing; rebuild with `qa index`.")
        _check_files(build_dir, manifest.get("files"))
        chunks = [Chunk(*row) for row in json.loads((build_dir / CHUNKS_FILE).read_text(encoding="utf-8"))]
        faiss_index = prepare_for_search(faiss.read_index(str(build_dir / FAISS_FILE)), manifest["vector_index"])
        bm25 = _load_bm25(build_dir / BM25_DIR)
        articles = [
            _read_stored_document(build_dir, source, entry)[0]
            for source, entry in sorted(manifest.get("documents", {}).items())
        ]
        counts = manifest.get("counts", {})
        if (
            len(chunks) != counts.get("chunks")
            or faiss_index.ntotal != len(chunks)
            or int(bm25.scores["num_docs"]) != len(chunks)
            or not articles
        ):
            raise IndexCorrupt(
                f"Index build {str(build_dir)!r} does not match its manifest counts; rebuild with `qa index`."
            )
        encoder = manifest.get("query_encoder", {})
        return CorpusIndex(
            articles=articles_by_name(articles),
            chunks=chunks,
            faiss_index=faiss_index,
            bm25=bm25,
            sentences=_all_sentences(articles),
            manifest=manifest,
            encoder_dir=build_dir / ENCODER_DIR if encoder.get("kind") == "onnx" else None,
            skipped=list(manifest.get("skipped", [])),
        )

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
        reused, not read or embedded again (``reuse=False`` embeds everything anew). A document that cannot be read is left out with
        a message in `CorpusIndex.skipped`; `CorpusError` when none can be.
        """
        say = report or (lambda message: None)
        documents = sorted(documents, key=lambda d: d.source)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self._lock(), all_cores():
            started = time.perf_counter()
            previous_dir, previous = self._reusable_build() if reuse else (None, None)
            stored = {e["sha256"]: e for e in previous.get("documents", {}).values()} if previous else {}
            previous_vectors = _StoredVectors(previous_dir, previous) if stored else None
            plan: list[tuple[Article, list[tuple[int, int]], np.ndarray | None, bool]] = []
            skipped: list[str] = []
            for doc in documents:
                entry = stored.get(doc.sha256)
                if entry is not None:
                    try:
                        name = f"{DOCUMENTS_DIR}/{entry['sha256']}.json"
                        _check_files(previous_dir, {name: previous["files"][name]})
                        article, spans = _read_stored_document(previous_dir, doc.source, entry)
                        vectors = previous_vectors.rows(*entry["chunks"])
                        if len(spans) != len(vectors):
                            raise ValueError(f"{len(spans)} chunks but {len(vectors)} stored vectors")
                        plan.append((article, spans, vectors, True))
                        continue
                    except (OSError, ValueError, KeyError, RuntimeError, IndexCorrupt) as err:
                        log.warning("Re-reading %s: its stored copy is unusable (%s)", doc.source, err)
                try:
                    article = doc if isinstance(doc, Article) else doc.read()
                except DocumentError as err:
                    log.warning("Skipped a document: %s", err)
                    skipped.append(f"{doc.source}: {err}")
                    continue
                say(f"Reading {doc.source}")
                spans = chunk_ranges(article, self.settings)
                if not spans:
                    skipped.append(f"{doc.source}: holds no sentences to answer from; check the file or remove it.")
                    continue
                plan.append((article, spans, None, False))
            if not plan:
                raise CorpusError(
                    "No document could be indexed"
                    + (f" ({'; '.join(skipped)})" if skipped else "")
                    + "; add readable documents to the corpus folder."
                )
            fresh = [(a, spans) for a, spans, vectors, _ in plan if vectors is None]
            fresh_texts = [a.text[s:e] for a, spans in fresh for s, e in spans]
            say(f"Embedding {len(fresh_texts)} passages of {len(fresh)} documents")
            embed_started = time.perf_counter()
            fresh_vectors = embed_texts(embedder, fresh_texts, progress=progress) if fresh_texts else None
            embed_seconds = time.perf_counter() - embed_started
            parts, offset = [], 0
            for article, spans, vectors, _ in plan:
                if vectors is None:
                    vectors = fresh_vectors[offset : offset + len(spans)]
                    offset += len(spans)
                parts.append(vectors)
            vectors = np.ascontiguousarray(np.concatenate(parts).astype(np.float32, copy=False))
            nodes = make_nodes_from_spans([(a, spans) for a, spans, _, _ in plan])
            articles = [a for a, _, _, _ in plan]
            sentences = _all_sentences(articles)
            vector_spec = choose_index(len(nodes))
            say(f"Writing the index ({len(nodes)} passages)")

            build_id = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
            tmp_dir = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.index_dir))
            try:
                documents_dir = tmp_dir / DOCUMENTS_DIR
                documents_dir.mkdir()
                doc_entries, linked = {}, {}
                row = 0
                for (article, spans, _, reused), part in zip(plan, parts):
                    name = f"{DOCUMENTS_DIR}/{article.sha256}.json"
                    if reused and name in previous["files"] and _link_stored_document(
                        previous_dir, documents_dir, article.sha256
                    ):
                        linked[name] = previous["files"][name]
                    else:
                        _write_stored_document(documents_dir, article, spans)
                    doc_entries[article.source] = {
                        "sha256": article.sha256, "kind": article.kind, "chunks": [row, len(spans)],
                    }
                    row += len(spans)
                faiss_index = _persist_storage(nodes, vectors, tmp_dir / STORAGE_DIR, vector_spec)
                bm25 = _persist_bm25(nodes, tmp_dir / BM25_DIR)
                chunks = [Chunk(n.node_id, n.metadata["source"], n.start_char_idx, n.end_char_idx) for n in nodes]
                (tmp_dir / CHUNKS_FILE).write_text(
                    json.dumps([[c.node_id, c.source, c.start, c.end] for c in chunks]), encoding="utf-8"
                )
                texts = [n.get_content() for n in nodes]
                if _intact_encoder(previous_dir, previous) and _link_tree(
                    previous_dir / ENCODER_DIR, tmp_dir / ENCODER_DIR
                ):
                    # The same model's export, checked against it when it was made.
                    query_encoder = previous["query_encoder"]
                else:
                    query_encoder = _prepare_query_encoder(
                        embedder, tmp_dir / ENCODER_DIR, self._current_build_dir(), texts, vectors
                    )
                files = _describe_files(tmp_dir, known=linked)
                tmp_dir.chmod(0o755)  # mkdtemp makes it private; the index is shared data
                os.rename(tmp_dir, self.index_dir / build_id)
            except BaseException:
                shutil.rmtree(tmp_dir, ignore_errors=True)
                raise
            reused_count = sum(1 for *_, reused in plan if reused)
            manifest = {
                **expected_manifest(self.settings, documents),
                "build": build_id,
                "dimension": int(vectors.shape[1]),
                "vector_index": vector_spec,
                "query_encoder": query_encoder,
                "articles": sorted(a.source for a in articles),
                "documents": doc_entries,
                "skipped": skipped,
                "counts": {
                    "chunks": len(nodes), "sentences": len(sentences),
                    "documents_embedded": len(fresh), "documents_reused": reused_count,
                },
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "build_seconds": round(time.perf_counter() - started, 3),
                "embed_seconds": round(embed_seconds, 3),
                "files": files,
            }
            _write_atomically(self.manifest_path, json.dumps(manifest, indent=2) + "\n")
            self._remove_old_builds(keep=build_id)
        log.info("Built index %s: %s", build_id, manifest["counts"])
        build_dir = self.index_dir / build_id
        return CorpusIndex(
            articles=articles_by_name(articles),
            chunks=chunks,
            faiss_index=prepare_for_search(faiss_index, vector_spec),
            bm25=bm25,
            sentences=sentences,
            manifest=manifest,
            encoder_dir=build_dir / ENCODER_DIR if query_encoder["kind"] == "onnx" else None,
            skipped=skipped,
        )

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


def _all_sentences(articles: list[Article]) -> list[Span]:
    return [span for article in sorted(articles, key=lambda a: a.source) for span in sentence_spans(article)]


def chunk_ranges(article: Article, settings: Settings) -> list[tuple[int, int]]:
    """The (start, end) of each chunk of ``article`` under ``settings``' chunking."""
    sentences = sentence_spans(article)
    return [
        (span.start, span.end)
        for span, _ in chunk_spans(sentences, settings.chunk_max_chars, settings.chunk_overlap_sentences)
    ]


def make_nodes(articles: list[Article], settings: Settings) -> list:
    """One LlamaIndex ``TextNode`` per chunk of ``articles``, carrying its source and exact span."""
    return make_nodes_from_spans(
        [(article, chunk_ranges(article, settings)) for article in sorted(articles, key=lambda a: a.source)]
    )


def make_nodes_from_spans(chunked: list[tuple[Article, list[tuple[int, int]]]]) -> list:
    """One ``TextNode`` per (article, chunk span), in the order given."""
    from llama_index.core.schema import TextNode

    nodes = []
    for article, spans in chunked:
        for n, (start, end) in enumerate(spans):
            nodes.append(
                TextNode(
                    id_=f"{article.source}#{n}",
                    text=article.text[start:end],
                    start_char_idx=start,
                    end_char_idx=end,
                    metadata={"source": article.source, "date": article.date or ""},
                    excluded_embed_metadata_keys=["source", "date"],
                    excluded_llm_metadata_keys=["source", "date"],
                )
            )
    return nodes


def _write_stored_document(directory: Path, article: Article, spans: list[tuple[int, int]]) -> None:
    """The document's text as cited, its metadata and chunk spans, named by the file's sha256
    so the next build can reuse them."""
    record = {
        "kind": article.kind,
        "date": article.date,
        "body_start": article.body_start,
        "page_starts": list(article.page_starts),
        "stated_title": article.stated_title,
        "chunks": [list(span) for span in spans],
        "text": article.text,
    }
    (directory / f"{article.sha256}.json").write_text(json.dumps(record, ensure_ascii=False), encoding="utf-8")


def _link_stored_document(previous_dir: Path, directory: Path, sha256: str) -> bool:
    try:
        os.link(previous_dir / DOCUMENTS_DIR / f"{sha256}.json", directory / f"{sha256}.json")
    except OSError:
        return False
    return True


def _read_stored_document(build_dir: Path, source: str, entry: dict) -> tuple[Article, list[tuple[int, int]]]:
    record = json.loads((build_dir / DOCUMENTS_DIR / f"{entry['sha256']}.json").read_text(encoding="utf-8"))
    article = Article(
        source=source, text=record["text"], date=record["date"], body_start=record["body_start"],
        kind=record["kind"], page_starts=tuple(record["page_starts"]), sha256=entry["sha256"],
        stated_title=record["stated_title"],
    )
    return article, [tuple(span) for span in record["chunks"]]


class _StoredVectors:
    """The previous build's vectors, read back from its FAISS index (flat and HNSW-flat
    indexes store them exactly), after checking the file against the manifest."""

    def __init__(self, build_dir: Path, manifest: dict) -> None:
        self.build_dir, self.manifest = build_dir, manifest
        self._all = None

    def rows(self, first: int, count: int) -> np.ndarray:
        if isinstance(self._all, Exception):
            raise self._all  # checked once: a damaged file is not read again per document
        if self._all is None:
            import faiss

            try:
                _check_files(self.build_dir, {FAISS_FILE: self.manifest["files"][FAISS_FILE]})
                index = faiss.read_index(str(self.build_dir / FAISS_FILE))
                self._all = index.reconstruct_n(0, index.ntotal)
            except (IndexCorrupt, KeyError, RuntimeError) as err:
                self._all = err
                raise
        if first + count > len(self._all):
            raise ValueError(f"rows {first}..{first + count} past the {len(self._all)} stored vectors")
        return self._all[first : first + count]


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


def _persist_storage(nodes: list, vectors: np.ndarray, storage_dir: Path, vector_spec: dict):
    """The (already embedded) chunks indexed with LlamaIndex over FAISS and persisted, so
    LlamaIndex's own retrievers can open the same index; returns the FAISS index."""
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.vector_stores.faiss import FaissVectorStore

    for node, vector in zip(nodes, vectors):
        node.embedding = vector.tolist()
    faiss_index = new_index(vector_spec, vectors.shape[1])
    storage = StorageContext.from_defaults(vector_store=FaissVectorStore(faiss_index=faiss_index))
    # Every node carries its vector: LlamaIndex wants an embedding model but never calls it
    # here, so the build needs the real one only for new documents.
    never_called = MockEmbedding(embed_dim=vectors.shape[1])
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=never_called, show_progress=False)
    # Questions map FAISS rows to chunks through chunks.json, which is in node order.
    rows = index.index_struct.nodes_dict
    if any(rows.get(str(i)) != node.node_id for i, node in enumerate(nodes)):
        raise RuntimeError("LlamaIndex stored the chunks in the FAISS index out of order")
    storage.persist(persist_dir=str(storage_dir))
    return faiss_index


def _persist_bm25(nodes: list, bm25_dir: Path):
    """LlamaIndex's BM25 retriever over the chunks, persisted; returns its bm25s model."""
    import Stemmer
    from llama_index.retrievers.bm25 import BM25Retriever

    _quiet_bm25s()
    retriever = BM25Retriever.from_defaults(
        nodes=nodes, stemmer=Stemmer.Stemmer(BM25_LANGUAGE), language=BM25_LANGUAGE,
        token_pattern=BM25_TOKEN_PATTERN,
    )
    retriever.persist(str(bm25_dir), show_progress=False)
    return retriever.bm25


def _load_bm25(bm25_dir: Path):
    import bm25s

    _quiet_bm25s()
    return bm25s.BM25.load(str(bm25_dir), load_corpus=False, show_progress=False)


def _quiet_bm25s() -> None:
    logging.getLogger("bm25s").setLevel(logging.WARNING)  # it sets itself to DEBUG on import


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


def _intact_encoder(build_dir: Path | None, manifest: dict | None) -> bool:
    """Whether the build's ONNX export can be reused as it is: one exists and every file of
    it matches the manifest's checksum."""
    if not manifest or manifest.get("query_encoder", {}).get("kind") != "onnx":
        return False
    files = {k: v for k, v in manifest.get("files", {}).items() if k.startswith(ENCODER_DIR + "/")}
    try:
        _check_files(build_dir, files)
    except IndexCorrupt:
        return False
    return True


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
    for path in sorted(build_dir.rglob("*")):
        if path.is_file():
            name = path.relative_to(build_dir).as_posix()
            out[name] = known.get(name) or {"bytes": path.stat().st_size, "crc32": _crc32(path)}
    return out


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
