"""A build: from documents to the files of a new build directory.

New and changed documents are read, chunked, tokenized for BM25 and embedded; unchanged
ones come from the previous build (`qa.index.reuse`). The FAISS and BM25 indexes are then
rebuilt from all vectors and terms with numpy (`qa.lexical`), which costs milliseconds per
thousand chunks. LlamaIndex's ``VectorStoreIndex`` and ``BM25Retriever`` would rebuild
their docstore and re-tokenize every chunk on each addition (0.6 s per thousand chunks),
and neither can update a FAISS index in place.

Everything is written under a temporary name, then renamed to ``build-<id>``; making it the
current build (the manifest write) is the store's step (`qa.index.store`).
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

import numpy as np

from qa.config import Settings
from qa.corpus import Article
from qa.errors import CorpusError, DocumentError
from qa.index.corpus_index import Chunk, CorpusIndex, articles_by_name
from qa.index.manifest import (
    BM25_DIR,
    CHUNKS_FILE,
    ENCODER_DIR,
    FAISS_FILE,
    describe_files,
    expected_manifest,
)
from qa.index.reuse import Part, Previous, link_tree
from qa.lexical import build_bm25_from_ids, save_bm25
from qa.vector_search import choose_index, new_index, prepare_for_search

log = logging.getLogger(__name__)

#: Chunks whose vectors check an ONNX export against the model at build time.
EXPORT_PROBE_TEXTS = 16


def write_build(
    index_dir: Path,
    documents_dir: Path,
    settings: Settings,
    documents: list,
    embedder,
    previous: Previous,
    current_build_dir: Path | None,
    progress: bool,
    say: Callable[[str], None],
) -> tuple[dict, CorpusIndex, list[Part]]:
    """Write a new build of ``documents`` (sorted by source) into ``index_dir``; return its
    manifest (not yet written: the caller commits it), the loaded index and its documents."""
    started = time.perf_counter()
    parts, skipped = _collect(documents, previous, settings, say)
    fresh = [p for p in parts if p.vectors is None]
    fresh_texts = [text for p in fresh for text in p.chunk_texts()]
    chunks = [chunk for p in parts for chunk in p.chunks()]
    sentences = [span for part in parts for span in part.sentences]
    vector_spec = choose_index(len(chunks))
    build_id = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    build_dir = index_dir / build_id
    tmp_dir = Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir))
    try:
        doc_entries, stored_documents, known, bm25, query_encoder = _write_text_side(
            tmp_dir, documents_dir, parts, chunks, previous
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
        vectors = np.ascontiguousarray(np.concatenate([p.vectors for p in parts]).astype(np.float32, copy=False))
        faiss_index = new_index(vector_spec, vectors.shape[1])
        faiss_index.add(vectors)
        write_faiss(faiss_index, tmp_dir / FAISS_FILE)
        if query_encoder is None:
            texts = [_chunk_text(parts, c) for c in chunks[:EXPORT_PROBE_TEXTS]]
            query_encoder = _prepare_query_encoder(
                embedder, tmp_dir / ENCODER_DIR, current_build_dir, texts, vectors[: len(texts)]
            )
        files = describe_files(tmp_dir, known=known)
        tmp_dir.chmod(0o755)  # mkdtemp makes it private; the index is shared data
        tmp_dir.rename(build_dir)
    except BaseException:
        shutil.rmtree(tmp_dir, ignore_errors=True)
        raise
    manifest = {
        **expected_manifest(settings, documents),
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
        "stored_documents_dir": documents_dir.relative_to(index_dir).as_posix(),
        "stored_documents": stored_documents,
    }
    index = CorpusIndex(
        articles=articles_by_name([p.article for p in parts]),
        chunks=chunks,
        faiss_index=prepare_for_search(faiss_index, vector_spec),
        bm25=bm25,
        sentences=sentences,
        manifest=manifest,
        encoder_dir=build_dir / ENCODER_DIR if query_encoder["kind"] == "onnx" else None,
        skipped=skipped,
    )
    return manifest, index, parts


def _collect(documents: list, previous: Previous, settings: Settings, say) -> tuple[list[Part], list[str]]:
    """Every document as a `Part`: reused from ``previous``, or read, chunked and tokenized.
    A document that cannot be read is left out with a message; `CorpusError` when none can be."""
    parts: list[Part] = []
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
        part = Part.of(article, settings)
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
    return parts, skipped


def _write_text_side(tmp_dir: Path, documents_dir: Path, parts: list[Part], chunks: list[Chunk], previous: Previous):
    """The new documents' stored copies (unchanged ones are already stored), and into the
    build being written: the BM25 matrix, ``chunks.json`` and the ONNX export when the
    previous one can be reused. Returns the manifest's document entries and stored
    documents, the checksums already known, the bm25s model, and the export's manifest
    entry (None: it must be made from the new vectors)."""
    documents_dir.mkdir(parents=True, exist_ok=True)
    doc_entries, stored, known = {}, {}, {}
    row = 0
    for part in parts:
        if part.stored_entry is None:
            part.stored_entry = part.write_into(documents_dir)
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
    if encoder_files is not None and link_tree(previous.build_dir / ENCODER_DIR, tmp_dir / ENCODER_DIR):
        # The same model's export, checked against it when it was made.
        query_encoder = previous.manifest["query_encoder"]
        known.update(encoder_files)
    return doc_entries, dict(sorted(stored.items())), known, bm25, query_encoder


def _chunk_text(parts: list[Part], chunk: Chunk) -> str:
    article = next(p.article for p in parts if p.article.source == chunk.source)
    return article.text[chunk.start : chunk.end]


def write_faiss(index, path: Path) -> None:
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
    from qa.index.onnx_export import ExportUnsupported, export_encoder, verify

    probe = slice(0, EXPORT_PROBE_TEXTS)
    reused = previous is not None and link_tree(previous / ENCODER_DIR, directory)
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
