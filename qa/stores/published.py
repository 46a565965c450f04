"""A built index in a database store: copied there, read back as the engine's `CorpusIndex`,
and searched there (`DatabaseSearch`).

The index is built as always (`qa.index.IndexStore`, incremental, in a local index
directory that acts as the build job's cache), then published: every chunk with its span
and vector, every document's text as cited with its metadata and sentence spans, and the
manifest. Chat servers read only the database; their row numbers are the database's.
"""

from __future__ import annotations

from typing import Callable

from qa.config import Settings
from qa.corpus import Article
from qa.corpus.chunking import Span
from qa.errors import IndexCorrupt
from qa.index import Chunk, CorpusIndex, expected_manifest
from qa.lexical import query_terms

#: Manifest fields copied into the database, so a stale or foreign database is detected
#: as a stale or foreign index folder is.
_MANIFEST_FIELDS = (
    "format_version", "model", "chunking", "ingestion", "corpus_hash", "dimension", "articles", "documents",
    "skipped", "counts", "built_at",
)


def publish(index: CorpusIndex, store, report: Callable[[str], None] | None = None) -> str:
    """Write ``index`` (as built or loaded by `IndexStore`) into ``store`` as its new current
    build; returns the build's name."""
    vectors = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    chunks = [(c.node_id, c.source, c.start, c.end, index.chunk_text(c)) for c in index.chunks]
    sentences: dict[str, list[list[int]]] = {}
    for span in index.sentences:
        sentences.setdefault(span.source, []).append([span.start, span.end])
    documents = {
        source: {
            "text": a.text, "sha256": a.sha256, "kind": a.kind, "date": a.date, "body_start": a.body_start,
            "page_starts": list(a.page_starts), "stated_title": a.stated_title,
            "ocr_pages": list(a.ocr_pages), "ocr_confidence": a.ocr_confidence,
            "sentences": sentences.get(source, []),
        }
        for source, a in index.articles.items()
    }
    manifest = {key: index.manifest[key] for key in _MANIFEST_FIELDS if key in index.manifest}
    manifest["published_from"] = index.manifest.get("build")
    return store.write(manifest, chunks, vectors, documents, report=report, bm25=index.bm25)


def read_index(store, settings: Settings) -> CorpusIndex:
    """The store's current build as a `CorpusIndex` (no FAISS or BM25 in memory: the store
    searches). `IndexCorrupt` when it was built for another format, model or chunking."""
    stored = store.load()
    manifest = stored.manifest
    lineage = expected_manifest(settings, [])
    for key in ("format_version", "model", "chunking"):
        if manifest.get(key) != lineage[key]:
            raise IndexCorrupt(
                f"The index in the database was built with {key} {manifest.get(key)!r}, not "
                f"{lineage[key]!r}; rebuild it with `qa index --store ...`."
            )
    articles, sentences = {}, []
    for source in sorted(stored.documents):
        record = stored.documents[source]
        articles[source] = Article(
            source=source, text=record["text"], date=record["date"], body_start=record["body_start"],
            kind=record["kind"], page_starts=tuple(record["page_starts"]), sha256=record["sha256"],
            stated_title=record["stated_title"], ocr_pages=tuple(record.get("ocr_pages", ())),
            ocr_confidence=record.get("ocr_confidence"),
        )
        sentences.extend(Span(source, start, end) for start, end in record["sentences"])
    chunks = [Chunk(c.node_id, c.source, c.start, c.end) for c in stored.chunks]
    if not chunks or any(c.source not in articles for c in chunks):
        raise IndexCorrupt("The index in the database has no chunks, or chunks of unknown documents; rebuild it.")
    return CorpusIndex(
        articles=articles, chunks=chunks, faiss_index=None, bm25=None, sentences=sentences,
        manifest=manifest, encoder_dir=None, skipped=list(manifest.get("skipped", [])),
    )


class DatabaseSearch:
    """Dense and lexical candidates from the database, as `qa.stores.files.FileSearch` gives
    them from the index folder: pgvector's nearest vectors, and BM25 over the same weights."""

    def __init__(self, store, chunk_count: int) -> None:
        self._store = store
        self._chunk_count = chunk_count

    def dense(self, vector, k: int, allowed=None) -> list[tuple[int, float]]:
        """``allowed`` (`qa.scope.Allowed`): only those documents' chunks, as in the folder."""
        if allowed is not None:
            return self._store.dense(vector, k, sources=sorted(allowed.sources))
        return self._store.dense(vector, k)

    def lexical(self, query: str, k: int, allowed=None) -> list[tuple[int, float]]:
        """As the folder's BM25 returns them: the best ``k``, padded with the first rows that
        score 0 when fewer hold a query term (their order matters to the fusion's ties)."""
        if allowed is not None:
            found = self._store.bm25(query_terms(query), k, sources=sorted(allowed.sources))
        else:
            found = self._store.bm25(query_terms(query), k)
        if len(found) < k:
            seen = {row for row, _ in found}
            candidates = range(self._chunk_count) if allowed is None else allowed.rows.tolist()
            padding = (row for row in candidates if row not in seen)
            found += [(row, 0.0) for row, _ in zip(padding, range(k - len(found)))]
        return found
