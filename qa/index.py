"""Building, persisting and loading the index under ``index/``.

Layout of the index directory::

    index/
      manifest.json          # what was built, from what, with which settings
      build-<id>/
        storage/             # LlamaIndex StorageContext: docstore + FAISS vector store
        sentences.npy        # one embedding per sentence (answers cite sentences)
        vocab.json vocab.npy # corpus words and their embeddings (for term coverage)

A build is written under a temporary name, renamed to ``build-<id>``, and
only then is ``manifest.json`` replaced (atomically): the manifest is the
commit point, so an interrupted build never leaves a half index behind.
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
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.chunking import Span, chunk_spans, sentence_spans
from qa.config import Settings
from qa.corpus import Article, corpus_hash
from qa.errors import IndexCorrupt, IndexMissing
from qa.text import STOPWORDS, tokens

log = logging.getLogger(__name__)

#: Bump when the layout or the meaning of any persisted file changes.
INDEX_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
STORAGE_DIR = "storage"


@dataclass
class CorpusIndex:
    """Everything retrieval and answering need, loaded in memory."""

    articles: dict[str, Article]
    vector_index: object  # llama_index.core.VectorStoreIndex
    nodes: list  # llama_index TextNode, one per chunk, in corpus order
    sentences: list[Span]
    sentence_vectors: np.ndarray
    vocab: list[str]
    vocab_vectors: np.ndarray
    manifest: dict


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

    def open(self, articles: list[Article], embedder, progress: bool = True, rebuild: bool = False) -> tuple[CorpusIndex, str]:
        """Load the index if it is up to date, else (re)build it. Returns it and what was done."""
        if rebuild:
            return self.build(articles, embedder, progress), "rebuilt on request"
        try:
            reason = self.stale_reason(articles)
        except IndexMissing:
            return self.build(articles, embedder, progress), "built (no index yet)"
        except IndexCorrupt as err:
            log.warning("%s Rebuilding.", err)
            return self.build(articles, embedder, progress), f"rebuilt (corrupt: {err})"
        if reason:
            return self.build(articles, embedder, progress), f"rebuilt ({reason})"
        try:
            return self.load(articles, embedder), "loaded"
        except IndexCorrupt as err:
            log.warning("%s Rebuilding.", err)
            return self.build(articles, embedder, progress), f"rebuilt (corrupt: {err})"

    # -- loading ---------------------------------------------------------

    def load(self, articles: list[Article], embedder) -> CorpusIndex:
        """Load the persisted index. Raises `IndexMissing` or `IndexCorrupt`."""
        manifest = self.read_manifest()
        build_dir = self.index_dir / str(manifest["build"])
        try:
            return self._load_build(build_dir, manifest, articles, embedder)
        except (IndexCorrupt, IndexMissing):
            raise
        except Exception as err:  # faiss, JSON and numpy each fail in their own way
            raise IndexCorrupt(
                f"Index build {str(build_dir)!r} cannot be read ({type(err).__name__}: {err}); "
                "rebuild with `qa index`."
            ) from err

    def _load_build(self, build_dir: Path, manifest: dict, articles: list[Article], embedder) -> CorpusIndex:
        from llama_index.core import StorageContext, load_index_from_storage
        from llama_index.vector_stores.faiss import FaissVectorStore

        storage_dir = build_dir / STORAGE_DIR
        if not storage_dir.is_dir():
            raise IndexCorrupt(f"Index build {str(build_dir)!r} is missing; rebuild with `qa index`.")
        vector_store = FaissVectorStore.from_persist_dir(str(storage_dir))
        storage = StorageContext.from_defaults(vector_store=vector_store, persist_dir=str(storage_dir))
        vector_index = load_index_from_storage(storage, embed_model=embedder)
        nodes = sorted(
            storage.docstore.docs.values(),
            key=lambda n: (n.metadata["source"], n.start_char_idx),
        )
        sentences = _all_sentences(articles)
        sentence_vectors = np.load(build_dir / "sentences.npy")
        vocab = json.loads((build_dir / "vocab.json").read_text(encoding="utf-8"))
        vocab_vectors = np.load(build_dir / "vocab.npy")
        counts = manifest.get("counts", {})
        if (
            len(nodes) != counts.get("chunks")
            or vector_store.client.ntotal != len(nodes)
            or sentence_vectors.shape[0] != len(sentences)
            or vocab_vectors.shape[0] != len(vocab)
        ):
            raise IndexCorrupt(
                f"Index build {str(build_dir)!r} does not match its manifest counts; rebuild with `qa index`."
            )
        return CorpusIndex(
            articles={a.source: a for a in articles},
            vector_index=vector_index,
            nodes=nodes,
            sentences=sentences,
            sentence_vectors=sentence_vectors.astype(np.float32),
            vocab=vocab,
            vocab_vectors=vocab_vectors.astype(np.float32),
            manifest=manifest,
        )

    # -- building --------------------------------------------------------

    def build(self, articles: list[Article], embedder, progress: bool = True) -> CorpusIndex:
        """Chunk, embed and persist ``articles``; return the loaded result."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self._lock():
            started = time.perf_counter()
            nodes = make_nodes(articles, self.settings)
            sentences = _all_sentences(articles)
            vocab = corpus_vocabulary(articles)
            texts = [n.get_content() for n in nodes]
            texts += [articles_by_name(articles)[s.source].text[s.start : s.end] for s in sentences]
            texts += vocab
            vectors = embed_texts(embedder, texts, progress=progress)
            chunk_vecs = vectors[: len(nodes)]
            sentence_vecs = vectors[len(nodes) : len(nodes) + len(sentences)]
            vocab_vecs = vectors[len(nodes) + len(sentences) :]
            for node, vec in zip(nodes, chunk_vecs):
                node.embedding = vec.tolist()

            build_id = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
            tmp_dir = Path(tempfile.mkdtemp(prefix=".tmp-", dir=self.index_dir))
            try:
                vector_index = _persist_storage(nodes, embedder, tmp_dir / STORAGE_DIR)
                np.save(tmp_dir / "sentences.npy", sentence_vecs)
                (tmp_dir / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
                np.save(tmp_dir / "vocab.npy", vocab_vecs)
                tmp_dir.chmod(0o755)  # mkdtemp makes it private; the index is shared data
                os.rename(tmp_dir, self.index_dir / build_id)
            except BaseException:
                shutil.rmtree(tmp_dir, ignore_errors=True)
                raise
            manifest = {
                **expected_manifest(self.settings, articles),
                "build": build_id,
                "dimension": int(vectors.shape[1]),
                "articles": sorted(a.source for a in articles),
                "counts": {"chunks": len(nodes), "sentences": len(sentences), "vocab": len(vocab)},
                "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "build_seconds": round(time.perf_counter() - started, 2),
            }
            _write_atomically(self.manifest_path, json.dumps(manifest, indent=2) + "\n")
            self._remove_old_builds(keep=build_id)
        log.info("Built index %s: %s", build_id, manifest["counts"])
        return CorpusIndex(
            articles=articles_by_name(articles),
            vector_index=vector_index,
            nodes=nodes,
            sentences=sentences,
            sentence_vectors=sentence_vecs.astype(np.float32),
            vocab=vocab,
            vocab_vectors=vocab_vecs.astype(np.float32),
            manifest=manifest,
        )

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


def corpus_vocabulary(articles: list[Article]) -> list[str]:
    """Distinct folded content words of the corpus, sorted."""
    words = {
        t.text
        for article in articles
        for t in tokens(article.text[article.body_start :])
        if t.text not in STOPWORDS and any(ch.isalpha() for ch in t.text)
    }
    return sorted(words)


def embed_texts(embedder, texts: list[str], progress: bool) -> np.ndarray:
    from tqdm import tqdm

    batch = getattr(embedder, "embed_batch_size", 64)
    out: list[list[float]] = []
    with tqdm(total=len(texts), desc="Embedding passages", unit="text", disable=not progress) as bar:
        for i in range(0, len(texts), batch):
            part = texts[i : i + batch]
            out.extend(embedder.get_text_embedding_batch(part))
            bar.update(len(part))
    return np.asarray(out, dtype=np.float32)


def _persist_storage(nodes: list, embedder, storage_dir: Path):
    import faiss
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.vector_stores.faiss import FaissVectorStore

    dimension = len(nodes[0].embedding)
    # Inner product over normalised vectors = cosine similarity; exact search suits a small corpus.
    vector_store = FaissVectorStore(faiss_index=faiss.IndexFlatIP(dimension))
    storage = StorageContext.from_defaults(vector_store=vector_store)
    index = VectorStoreIndex(nodes, storage_context=storage, embed_model=embedder)
    storage.persist(persist_dir=str(storage_dir))
    return index


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
