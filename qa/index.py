"""Building, persisting and loading the index under ``index/``.

Layout of the index directory::

    index/
      manifest.json          # what was built, from what, with which settings; every file's checksum
      build-<id>/
        storage/             # LlamaIndex StorageContext: docstore + FAISS vector store
        bm25/                # LlamaIndex BM25Retriever, persisted (bm25s arrays)
        chunks.json          # per FAISS row: node id, article, character span
        encoder/             # the model exported to ONNX, for questions (absent if it cannot be)

The index holds what retrieval needs and nothing about answering: an answerer that
needs artifacts of its own builds and versions them itself.

LlamaIndex builds everything. Questions are answered from the same files
without importing LlamaIndex or torch (`IndexStore.load` reads the FAISS
index, the bm25s arrays and ``chunks.json`` directly), which is what lets a
new process answer within about a second.

A build is written under a temporary name, renamed to ``build-<id>``, and
only then is ``manifest.json`` replaced (atomically): the manifest is the
commit point, so an interrupted build never leaves a half index behind.
Loading checks every file's size and CRC-32 against the manifest first.
"""

from __future__ import annotations

import contextlib
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

from qa.chunking import Span, chunk_spans, sentence_spans
from qa.config import Settings
from qa.corpus import Article, corpus_hash
from qa.errors import IndexCorrupt, IndexMissing
from qa.vector_search import (
    all_cores,
    choose_index,
    new_index,
    prepare_for_search,
)

log = logging.getLogger(__name__)

#: Bump when the layout or the meaning of any persisted file changes.
INDEX_FORMAT_VERSION = 3
MANIFEST_NAME = "manifest.json"
STORAGE_DIR = "storage"
BM25_DIR = "bm25"
ENCODER_DIR = "encoder"
CHUNKS_FILE = "chunks.json"
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
    #: Every sentence of the corpus (`qa.chunking.sentence_spans`), by article then position.
    sentences: list[Span]
    manifest: dict
    #: The ONNX export for questions, or None when questions need the model itself.
    encoder_dir: Path | None

    def chunk_text(self, chunk: Chunk) -> str:
        return self.articles[chunk.source].text[chunk.start : chunk.end]


def expected_manifest(settings: Settings, articles: list[Article]) -> dict:
    """The manifest fields that must match for a persisted index to be usable."""
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
        articles: list[Article],
        load_embedder: Callable[[], object],
        progress: bool = True,
        rebuild: bool = False,
    ) -> tuple[CorpusIndex, str]:
        """Load the index if it is up to date, else (re)build it. Returns it and what was done.

        ``load_embedder`` returns the LlamaIndex embedding model; it is called only to build,
        so an up-to-date index opens without loading torch.
        """
        if rebuild:
            return self.build(articles, load_embedder(), progress), "rebuilt on request"
        try:
            reason = self.stale_reason(articles)
        except IndexMissing:
            return self.build(articles, load_embedder(), progress), "built (no index yet)"
        except IndexCorrupt as err:
            log.warning("%s Rebuilding.", err)
            return self.build(articles, load_embedder(), progress), f"rebuilt (corrupt: {err})"
        if reason:
            return self.build(articles, load_embedder(), progress), f"rebuilt ({reason})"
        try:
            return self.load(articles), "loaded"
        except IndexCorrupt as err:
            log.warning("%s Rebuilding.", err)
            return self.build(articles, load_embedder(), progress), f"rebuilt (corrupt: {err})"

    # -- loading ---------------------------------------------------------

    def load(self, articles: list[Article]) -> CorpusIndex:
        """Load the persisted index. Raises `IndexMissing` or `IndexCorrupt`."""
        manifest = self.read_manifest()
        build_dir = self.index_dir / str(manifest["build"])
        try:
            return self._load_build(build_dir, manifest, articles)
        except (IndexCorrupt, IndexMissing):
            raise
        except Exception as err:  # faiss, bm25s, JSON and numpy each fail in their own way
            raise IndexCorrupt(
                f"Index build {str(build_dir)!r} cannot be read ({type(err).__name__}: {err}); "
                "rebuild with `qa index`."
            ) from err

    def _load_build(self, build_dir: Path, manifest: dict, articles: list[Article]) -> CorpusIndex:
        import faiss

        if not build_dir.is_dir():
            raise IndexCorrupt(f"Index build {str(build_dir)!r} is missing; rebuild with `qa index`.")
        _check_files(build_dir, manifest.get("files"))
        chunks = [Chunk(*row) for row in json.loads((build_dir / CHUNKS_FILE).read_text(encoding="utf-8"))]
        faiss_index = prepare_for_search(faiss.read_index(str(build_dir / FAISS_FILE)), manifest["vector_index"])
        bm25 = _load_bm25(build_dir / BM25_DIR)
        counts = manifest.get("counts", {})
        if (
            len(chunks) != counts.get("chunks")
            or faiss_index.ntotal != len(chunks)
            or int(bm25.scores["num_docs"]) != len(chunks)
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
        )

    # -- building --------------------------------------------------------

    def build(self, articles: list[Article], embedder, progress: bool = True) -> CorpusIndex:
        """Chunk, embed and persist ``articles`` with ``embedder`` (a LlamaIndex
        ``HuggingFaceEmbedding``); return the loaded result."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self._lock(), all_cores():
            started = time.perf_counter()
            previous = self._current_build_dir()
            nodes = make_nodes(articles, self.settings)
            sentences = _all_sentences(articles)
            texts = [n.get_content() for n in nodes]
            embed_started = time.perf_counter()
            vectors = embed_texts(embedder, texts, progress=progress)
            embed_seconds = time.perf_counter() - embed_started
            for node, vec in zip(nodes, vectors):
                node.embedding = vec.tolist()
            vector_spec = choose_index(len(nodes))

            build_id = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
            tmp_dir = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.index_dir))
            try:
                faiss_index = _persist_storage(nodes, embedder, tmp_dir / STORAGE_DIR, vector_spec)
                bm25 = _persist_bm25(nodes, tmp_dir / BM25_DIR)
                chunks = [Chunk(n.node_id, n.metadata["source"], n.start_char_idx, n.end_char_idx) for n in nodes]
                (tmp_dir / CHUNKS_FILE).write_text(
                    json.dumps([[c.node_id, c.source, c.start, c.end] for c in chunks]), encoding="utf-8"
                )
                query_encoder = _prepare_query_encoder(embedder, tmp_dir / ENCODER_DIR, previous, texts, vectors)
                files = _describe_files(tmp_dir)
                tmp_dir.chmod(0o755)  # mkdtemp makes it private; the index is shared data
                os.rename(tmp_dir, self.index_dir / build_id)
            except BaseException:
                shutil.rmtree(tmp_dir, ignore_errors=True)
                raise
            manifest = {
                **expected_manifest(self.settings, articles),
                "build": build_id,
                "dimension": int(vectors.shape[1]),
                "vector_index": vector_spec,
                "query_encoder": query_encoder,
                "articles": sorted(a.source for a in articles),
                "counts": {"chunks": len(nodes), "sentences": len(sentences)},
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "build_seconds": round(time.perf_counter() - started, 2),
                "embed_seconds": round(embed_seconds, 2),
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
        )

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


def make_nodes(articles: list[Article], settings: Settings) -> list:
    """One LlamaIndex ``TextNode`` per chunk, carrying its source and exact span."""
    from llama_index.core.schema import TextNode

    nodes = []
    for article in sorted(articles, key=lambda a: a.source):
        sentences = sentence_spans(article)
        for n, (span, _members) in enumerate(
            chunk_spans(sentences, settings.chunk_max_chars, settings.chunk_overlap_sentences)
        ):
            nodes.append(
                TextNode(
                    id_=f"{article.source}#{n}",
                    text=article.text[span.start : span.end],
                    start_char_idx=span.start,
                    end_char_idx=span.end,
                    metadata={"source": article.source, "date": article.date or ""},
                    excluded_embed_metadata_keys=["source", "date"],
                    excluded_llm_metadata_keys=["source", "date"],
                )
            )
    return nodes


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


def _persist_storage(nodes: list, embedder, storage_dir: Path, vector_spec: dict):
    """Index the (already embedded) nodes with LlamaIndex over FAISS and persist; returns the FAISS index."""
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.vector_stores.faiss import FaissVectorStore

    faiss_index = new_index(vector_spec, len(nodes[0].embedding))
    vector_store = FaissVectorStore(faiss_index=faiss_index)
    storage = StorageContext.from_defaults(vector_store=vector_store)
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embedder)
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


def _describe_files(build_dir: Path) -> dict:
    """Size and CRC-32 of every file of a build, by relative path."""
    return {
        str(path.relative_to(build_dir)): {"bytes": path.stat().st_size, "crc32": _crc32(path)}
        for path in sorted(build_dir.rglob("*"))
        if path.is_file()
    }


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
