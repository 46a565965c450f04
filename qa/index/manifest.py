"""The index manifest: what a build holds and from what, the file names of a build, every
file's size and CRC-32, and the atomic write that makes a build current.

The manifest is the commit point of a build (`qa.index.store`): a build's files are written
first, under their final directory, and only then is ``manifest.json`` replaced. Loading
checks every file against its entry before trusting it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
import zlib
from pathlib import Path

from qa.config import Settings
from qa.corpus import corpus_hash
from qa.errors import IndexCorrupt, IndexMissing

#: Bump when the layout or the meaning of any persisted file changes.
INDEX_FORMAT_VERSION = 7  # 7: documents embedded by the ONNX export
MANIFEST_NAME = "manifest.json"
STORAGE_DIR = "storage"
BM25_DIR = "bm25"
ENCODER_DIR = "encoder"
CHUNKS_FILE = "chunks.json"
DOCUMENTS_DIR = "documents"
#: The file LlamaIndex's FaissVectorStore persists the FAISS index to (a FAISS binary, despite the name).
FAISS_FILE = f"{STORAGE_DIR}/default__vector_store.json"
#: Bytes read at a time when checksumming.
_CHECKSUM_BLOCK = 1 << 20


#: What each `ingestion` fingerprint covers, for the message saying why an index is stale.
INGESTION_RULES = {
    "furniture": "the page furniture rules (qa/corpus/furniture_rules.json or the corpus.toml [furniture] patterns)",
    "bm25_stopwords": "the BM25 stop words (qa/bm25_stopwords.json)",
}


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
        "ingestion": ingestion(settings),
        "corpus_hash": corpus_hash(articles),
    }


def ingestion(settings: Settings) -> dict:
    """Fingerprints of the rules, kept as data, that shape what a build stores of each document
    besides the code (the format version) and the chunking settings: the page furniture rules
    of the corpus folder (shipped and its corpus.toml's: what is left out of the sentences and
    chunks) and the BM25 stop words (each chunk's stored terms). When one changes, the next
    build reads every document again (`qa.index.reuse.Previous`)."""
    from qa.corpus.furniture import rules_for
    from qa.lexical import STOPWORDS_FILE

    return {
        "furniture": rules_for(settings.seeds_dir).fingerprint,
        "bm25_stopwords": _file_digest(STOPWORDS_FILE),
    }


def _file_digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def read_manifest(index_dir: Path) -> dict:
    """The manifest of ``index_dir``; `IndexMissing` or `IndexCorrupt` when there is no readable one."""
    path = Path(index_dir) / MANIFEST_NAME
    if not path.exists():
        raise IndexMissing(f"No index in {str(index_dir)!r}; build it with `qa index`.")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise IndexCorrupt(f"Index manifest {str(path)!r} is unreadable ({err}); rebuild with `qa index`.") from err
    if not isinstance(manifest, dict) or "build" not in manifest:
        raise IndexCorrupt(f"Index manifest {str(path)!r} lacks a build entry; rebuild with `qa index`.")
    return manifest


def stale_reason(manifest: dict, settings: Settings, articles) -> str | None:
    """Why an index with ``manifest`` cannot serve ``articles`` with ``settings``, or None."""
    for key, value in expected_manifest(settings, articles).items():
        if manifest.get(key) == value:
            continue
        if key == "ingestion":
            had = manifest.get(key) if isinstance(manifest.get(key), dict) else {}
            if not had:
                return "the index records no fingerprint of its ingestion rules (an older build), so every document is read again"
            changed = [INGESTION_RULES.get(name, name) for name in value if had.get(name) != value[name]]
            return f"{' and '.join(changed)} changed since it was built, so every document is read again"
        return f"{key} changed (index has {manifest.get(key)!r}, now {value!r})"
    return None


def describe_files(build_dir: Path, known: dict | None = None) -> dict:
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
            out[relative] = known.get(relative) or {"bytes": os.path.getsize(path), "crc32": crc32(path)}
    return dict(sorted(out.items()))


def check_files(build_dir: Path, files: dict | None) -> None:
    """`IndexCorrupt` unless every file of ``files`` (`describe_files`' entries) is intact."""
    if not isinstance(files, dict) or not files:
        raise IndexCorrupt(f"Index manifest lists no files of {str(build_dir)!r}; rebuild with `qa index`.")
    for name, expected in files.items():
        path = build_dir / name
        if not path.is_file():
            raise IndexCorrupt(f"Index file {str(path)!r} is missing; rebuild with `qa index`.")
        if path.stat().st_size != expected.get("bytes") or crc32(path) != expected.get("crc32"):
            raise IndexCorrupt(f"Index file {str(path)!r} is damaged (size or checksum differ); rebuild with `qa index`.")


def crc32(path: Path) -> int:
    checksum = 0
    with open(path, "rb") as handle:
        while block := handle.read(_CHECKSUM_BLOCK):
            checksum = zlib.crc32(block, checksum)
    return checksum


def write_atomically(path: Path, content: str) -> None:
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
