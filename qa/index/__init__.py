"""Building, persisting and loading the index under ``index/``: the package.

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
                             # format, chunking and ingestion rules (the variant), so a build
                             # writes only new ones

The index holds what retrieval needs and nothing about answering: an answerer that
needs artifacts of its own builds and versions them itself.

Questions are answered from these files without importing LlamaIndex or torch
(`IndexStore.load` reads the FAISS index, the bm25s arrays and ``chunks.json``
directly), which is what lets a new process answer within about a second. LlamaIndex's
own retrievers open the same files (`qa.llamaindex_view`); ``tests/test_retrieve.py``
checks that they rank exactly as the fast path does.

Builds are incremental: a document whose file is unchanged (same sha256, same model,
chunking and ingestion rules: `qa.index.manifest.ingestion`) keeps its stored copy (text, spans and terms, untouched in ``documents/``)
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

Modules, one idea each: `manifest` (what a build holds, file checksums, the atomic write),
`reuse` (what a build takes from the previous one), `build` (documents to the files of a new
build), `store` (`IndexStore`: paths, lock, open, load, the switch to a new build),
`corpus_index` (the loaded index), and the model: `embedding` (sentence-transformers),
`onnx_export` (its ONNX export) and `encoder` (running the export).
"""

from qa.index.build import EXPORT_PROBE_TEXTS, embed_texts
from qa.index.corpus_index import Chunk, CorpusIndex, articles_by_name
from qa.index.manifest import (
    BM25_DIR,
    CHUNKS_FILE,
    DOCUMENTS_DIR,
    ENCODER_DIR,
    FAISS_FILE,
    INDEX_FORMAT_VERSION,
    MANIFEST_NAME,
    STORAGE_DIR,
    expected_manifest,
)
from qa.index.store import IndexStore

__all__ = [
    "BM25_DIR", "CHUNKS_FILE", "DOCUMENTS_DIR", "ENCODER_DIR", "EXPORT_PROBE_TEXTS", "FAISS_FILE",
    "INDEX_FORMAT_VERSION", "MANIFEST_NAME", "STORAGE_DIR", "Chunk", "CorpusIndex", "IndexStore",
    "articles_by_name", "embed_texts", "expected_manifest",
]
