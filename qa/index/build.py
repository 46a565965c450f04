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

import dataclasses
import json
import logging
import os
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Callable

import numpy as np

from qa.config import Settings
from qa.corpus import Article
from qa.corpus.ocr import Tesseract
from qa.errors import CorpusError, DocumentError, ModelError, OcrUnavailable
from qa.index.corpus_index import Chunk, CorpusIndex, articles_by_name
from qa.index.manifest import (
    BM25_DIR,
    CHUNKS_FILE,
    ENCODER_DIR,
    FAISS_FILE,
    describe_files,
    expected_manifest,
)
from qa.index.encoder import OnnxEncoder
from qa.index.progress import PageProgress, ProgressBar
from qa.index.reuse import Export, Part, Previous, link_tree, same_content
from qa.lexical import build_bm25_from_ids, save_bm25
from qa.vector_search import choose_index, new_index, prepare_for_search

log = logging.getLogger(__name__)

#: Chunks whose vectors check an ONNX export against the model at build time.
EXPORT_PROBE_TEXTS = 16


#: What embeds new documents elsewhere (`qa.index.ray_build.RayEmbedding`): given them, the
#: directory of the model's ONNX export and the settings, it returns for each, by source, its
#: `Part` with vectors or the message saying why it was left out.
RemoteEmbedding = Callable[[list, Path, Settings, Callable[[object], None]], dict]


def write_build(
    index_dir: Path,
    documents_dir: Path,
    settings: Settings,
    documents: list,
    model,
    previous: Previous,
    export: Export | None,
    progress: bool,
    say: Callable[[object], None],
    remote: RemoteEmbedding | None = None,
) -> tuple[dict, CorpusIndex, list[Part]]:
    """Write a new build of ``documents`` (sorted by source) into ``index_dir``; return its
    manifest (not yet written: the caller commits it), the loaded index and its documents.

    ``model`` is the model (a LlamaIndex embedding) or a function loading it, called only when
    ``export`` (the current build's ONNX export of the same model) is None: documents are
    embedded by the export, which the first build makes. New documents are read and embedded
    here, or by ``remote`` (a cluster) when given. ``say`` gets each step, and
    `EmbeddingProgress` while embedding here."""
    started = time.perf_counter()
    slots = [_reusable(previous, doc, settings, say, remote is None) for doc in documents]
    new = [doc for doc in slots if not isinstance(doc, Part)]
    build_id = f"build-{time.strftime('%Y%m%d-%H%M%S')}-{uuid.uuid4().hex[:6]}"
    build_dir = index_dir / build_id
    tmp_dir = Path(tempfile.mkdtemp(prefix=".tmp-", dir=index_dir))
    waiting_for_ocr: list[str] = []  # left out because Tesseract is missing: read once it is there
    try:
        if remote is None:
            parts, skipped = _assemble(
                slots, {doc.source: _read(doc, settings, say, progress, waiting_for_ocr) for doc in new}
            )
            fresh = [p for p in parts if p.vectors is None]
            probes = [t for p in fresh or parts for t in p.chunk_texts()][:EXPORT_PROBE_TEXTS]
            encoder, query_encoder, known = _document_encoder(model, export, tmp_dir / ENCODER_DIR, probes)
            fresh_texts = [text for p in fresh for text in p.chunk_texts()]
            say(f"Embedding {len(fresh_texts)} passages of {len(fresh)} documents")
            embed_started = time.perf_counter()
            if fresh_texts:
                fresh_vectors = embed_texts(encoder, fresh_texts, progress=progress, report=say)
                offset = 0
                for part in fresh:
                    part.vectors = fresh_vectors[offset : offset + len(part.spans)]
                    offset += len(part.spans)
        else:
            probes = [] if export is not None else _probe_texts(slots, settings, say)
            encoder, query_encoder, known = _document_encoder(model, export, tmp_dir / ENCODER_DIR, probes)
            embed_started = time.perf_counter()
            if not isinstance(encoder, OnnxEncoder):
                raise ModelError(
                    f"A cluster build needs an ONNX export of the model, and {settings.model!r} has none "
                    f"({query_encoder.get('reason')}); build without --ray."
                )
            say(f"Reading and embedding {len(new)} documents on the cluster")
            parts, skipped = _assemble(slots, remote(new, tmp_dir / ENCODER_DIR, settings, say) if new else {})
            new_sources = {doc.source for doc in new}
            fresh = [p for p in parts if p.article.source in new_sources]
        embed_seconds = time.perf_counter() - embed_started
        chunks = [chunk for p in parts for chunk in p.chunks()]
        sentences = [span for part in parts for span in part.sentences]
        vector_spec = choose_index(len(chunks))
        doc_entries, stored_documents, bm25 = _write_text_side(tmp_dir, documents_dir, parts, chunks, previous)
        say(f"Writing the index ({len(chunks)} passages)")
        vectors = np.ascontiguousarray(np.concatenate([p.vectors for p in parts]).astype(np.float32, copy=False))
        faiss_index = new_index(vector_spec, vectors.shape[1])
        faiss_index.add(vectors)
        write_faiss(faiss_index, tmp_dir / FAISS_FILE)
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
        # The export embeds the documents too, whenever there is one.
        "document_encoder": query_encoder["kind"],
        "articles": sorted(p.article.source for p in parts),
        "documents": doc_entries,
        "skipped": skipped,
        "waiting_for_ocr": waiting_for_ocr,
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


def _reusable(previous: Previous, doc, settings: Settings, say, local: bool):
    """What the build takes for ``doc``: the previous build's `Part` (with its vectors) when
    the document is unchanged, else ``doc`` itself, to be read and embedded. When the ingestion
    rules changed (``previous.reread``) an unchanged file's stored text is marked and split
    again under the new rules (the file itself is not read again: its text is the same, and a
    scan's OCR takes seconds a page); it keeps its vectors only if it splits as stored;
    otherwise the new reading (``local``: embedded here) or ``doc`` (read and embedded on the
    cluster)."""
    part = previous.part(doc.sha256, doc.source)
    if part is None or not previous.reread:
        return part or doc
    fresh = read_part(doc.marked(part.article), settings) if hasattr(doc, "marked") else _read(doc, settings, say)
    if not isinstance(fresh, Part):
        return doc  # read again in its turn, which reports why it is left out
    if same_content(part, fresh):
        # Stored again, under the new rules' folder (`IndexStore._documents_dir`).
        return dataclasses.replace(part, stored_entry=None)
    return fresh if local else doc


def _read(doc, settings: Settings, say, progress: bool = False, waiting_for_ocr: list | None = None) -> Part | str:
    """A new document read, chunked and tokenized, or the message saying why it is left out.
    Pages read by OCR are reported as `qa.index.progress.EmbeddingProgress` (unit "pages"),
    and shown as a bar when ``progress``; a document left out for want of Tesseract is added
    to ``waiting_for_ocr``."""
    try:
        if isinstance(doc, Article):
            article = doc
        else:
            with PageProgress(doc.source, show=progress, report=say) as pages:
                article = doc.read(ocr=Tesseract(on_page=pages.on_page))
    except DocumentError as err:
        log.warning("Skipped a document: %s", err)
        if isinstance(err, OcrUnavailable) and waiting_for_ocr is not None:
            waiting_for_ocr.append(doc.source)
        return f"{doc.source}: {err}"
    say(f"Reading {doc.source}")
    return read_part(article, settings)


def read_part(article: Article, settings: Settings) -> Part | str:
    """``article`` chunked and tokenized, or the message when it holds nothing to answer from."""
    part = Part.of(article, settings)
    if not part.spans:
        return f"{article.source}: holds no sentences to answer from; check the file or remove it."
    return part


def _assemble(slots: list, read: dict) -> tuple[list[Part], list[str]]:
    """The build's documents in order (reused ones, and new ones from ``read``: a `Part` or a
    message by source) and the messages; `CorpusError` when none can be indexed."""
    parts: list[Part] = []
    skipped: list[str] = []
    for slot in slots:
        got = slot if isinstance(slot, Part) else read[slot.source]
        if isinstance(got, Part):
            parts.append(got)
        else:
            skipped.append(got)
    if not parts:
        raise CorpusError(
            "No document could be indexed"
            + (f" ({'; '.join(skipped)})" if skipped else "")
            + "; add readable documents to the corpus folder."
        )
    return parts, skipped


def _probe_texts(slots: list, settings: Settings, say) -> list[str]:
    """Texts to check a new export with, before the documents are embedded elsewhere: the
    reused documents' chunks, else those of the first new document that can be read here."""
    texts = [t for slot in slots if isinstance(slot, Part) for t in slot.chunk_texts()]
    for slot in slots:
        if len(texts) >= EXPORT_PROBE_TEXTS:
            break
        if not isinstance(slot, Part):
            got = _read(slot, settings, say)
            if isinstance(got, Part):
                texts += got.chunk_texts()
    return texts[:EXPORT_PROBE_TEXTS]


def _write_text_side(tmp_dir: Path, documents_dir: Path, parts: list[Part], chunks: list[Chunk], previous: Previous):
    """The new documents' stored copies (unchanged ones are already stored), and into the
    build being written: the BM25 matrix and ``chunks.json``. Returns the manifest's document
    entries and stored documents, and the bm25s model."""
    documents_dir.mkdir(parents=True, exist_ok=True)
    doc_entries, stored = {}, {}
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
    return doc_entries, dict(sorted(stored.items())), bm25


def write_faiss(index, path: Path) -> None:
    """Where and how LlamaIndex's ``FaissVectorStore.persist`` writes it, so that
    ``FaissVectorStore.from_persist_dir`` opens the build too."""
    import faiss

    path.parent.mkdir(parents=True, exist_ok=True)
    faiss.write_index(index, str(path))


def embed_texts(encoder, texts: list[str], progress: bool, report: Callable[[object], None] | None = None) -> np.ndarray:
    """One row per text, in input order, by ``encoder``: an `OnnxEncoder` (the model's export)
    or, for a model that cannot be exported, the LlamaIndex embedding itself. ``progress``
    shows a terminal bar; ``report`` gets `EmbeddingProgress` events."""
    with ProgressBar(len(texts), show=progress, report=report) as bar:
        if isinstance(encoder, OnnxEncoder):
            return encoder.embed_many(texts, on_batch=bar.update)
        return _model_vectors(encoder, texts, on_batch=bar.update)


def _model_vectors(embedder, texts: list[str], on_batch: Callable[[int], None] | None = None) -> np.ndarray:
    """The LlamaIndex embedding's own vectors, in input order, longest texts first so that
    batches pad little. For ``HuggingFaceEmbedding`` this is the call it makes itself
    (sentence-transformers' ``encode`` with the "text" prompt), without the round trip of
    the vectors through Python lists."""
    model = getattr(embedder, "_model", None)
    batch = getattr(embedder, "embed_batch_size", 64)
    order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
    out = None
    for i in range(0, len(texts), batch):
        rows = order[i : i + batch]
        items = [texts[r] for r in rows]
        if hasattr(model, "encode") and hasattr(embedder, "normalize"):
            vectors = model.encode(
                items, batch_size=batch, prompt_name="text", normalize_embeddings=embedder.normalize,
                show_progress_bar=False, convert_to_numpy=True,
            )
        else:
            vectors = embedder.get_text_embedding_batch(items)
        vectors = np.asarray(vectors, dtype=np.float32)
        if out is None:
            out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
        out[rows] = vectors
        if on_batch is not None:
            on_batch(len(rows))
    return out if out is not None else np.zeros((0, 0), dtype=np.float32)


def _document_encoder(model, export: Export | None, directory: Path, probes: list[str]) -> tuple[object, dict, dict]:
    """What embeds the build's documents, the manifest's ``query_encoder`` entry and the
    checksums of files linked from the previous build. The current build's export when it
    is of this model (linked into ``directory``, checked when it was made: no torch import);
    else the model, exported into ``directory`` and checked on ``probes`` against its own
    vectors; the model itself when it cannot be exported."""
    from qa.index.onnx_export import ExportUnsupported, export_encoder, verify

    if export is not None and (not _is_model(model) or _exportable(model)):
        link_tree(export.directory, directory)
        return OnnxEncoder(directory, threads=os.cpu_count() or 1), export.entry, export.files
    embedder = model if _is_model(model) else model()
    try:
        export_encoder(embedder, directory)
        difference = verify(directory, probes, _model_vectors(embedder, probes))
    except ExportUnsupported as err:
        shutil.rmtree(directory, ignore_errors=True)
        log.warning("Documents and questions will be embedded by sentence-transformers (slower): %s", err)
        return embedder, {"kind": "sentence-transformers", "reason": str(err)}, {}
    entry = {"kind": "onnx", "max_difference": difference, "checked_texts": len(probes)}
    return OnnxEncoder(directory, threads=os.cpu_count() or 1), entry, {}


def _is_model(model) -> bool:
    """A LlamaIndex embedding, as opposed to a function that loads one."""
    return hasattr(model, "get_text_embedding_batch")


def _exportable(embedder) -> bool:
    """Whether an export can be of this embedding (a sentence-transformers model); a stand-in
    or remote embedding embeds for itself."""
    return hasattr(getattr(embedder, "_model", None), "encode")
