"""What a new build can take from the previous one: each unchanged document's stored copy
(text, spans, BM25 terms) and its vectors, and the model's ONNX export.

A document is reused when its file is unchanged (same sha256, same model and chunking): its
stored copy under ``documents/`` is kept as it is and its vectors are read back from the
previous FAISS index, which stores them exactly. A store that loaded or wrote the current
build keeps its documents in memory (`Snapshot`, checked then), so adding a file while the
chat runs reads nothing else back from disk.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import shutil
import uuid
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.corpus import Article
from qa.corpus.chunking import Span, chunk_spans, sentence_spans
from qa.errors import IndexCorrupt
from qa.index.corpus_index import Chunk
from qa.index.manifest import ENCODER_DIR, FAISS_FILE, check_files
from qa.lexical import Vocabulary, chunk_terms

log = logging.getLogger(__name__)


@dataclass
class Part:
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
    def of(cls, article: Article, settings: Settings) -> "Part":
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

    def named(self, source: str) -> "Part":
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
            "ocr_pages": list(article.ocr_pages),
            "ocr_confidence": article.ocr_confidence,
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


def read_part(documents_dir: Path, source: str, entry: dict) -> Part:
    """A document's stored copy (vectors not included: they live in the FAISS index)."""
    record = json.loads((documents_dir / f"{entry['sha256']}.json").read_text(encoding="utf-8"))
    article = Article(
        source=source, text=record["text"], date=record["date"], body_start=record["body_start"],
        kind=record["kind"], page_starts=tuple(record["page_starts"]), sha256=entry["sha256"],
        stated_title=record["stated_title"], ocr_pages=tuple(record.get("ocr_pages", ())),
        ocr_confidence=record.get("ocr_confidence"),
    )
    spans = [tuple(span) for span in record["chunks"]]
    terms = record["terms"]
    if len(terms) != len(spans):
        raise ValueError(f"{len(spans)} chunks but terms for {len(terms)}")
    return Part(article, spans, [Span(source, s, e) for s, e in record["sentences"]], terms)


@dataclass(frozen=True)
class Snapshot:
    """The documents of a build this store loaded or wrote itself."""

    build_id: str
    parts: dict[str, Part]  # by sha256
    vocabulary: Vocabulary  # the one its parts' terms are (or will be) encoded with


class Previous:
    """The previous build's reusable documents: from a `Snapshot` (trusted: checked when
    loaded or written), or read from disk, each file checked against the manifest first.

    ``reread``: the ingestion rules changed since that build (`qa.index.manifest.ingestion`:
    the page furniture rules, the stop words), so a document is reused only once it has been
    read again and its sentences, chunks and terms come out as stored (`same_content`).
    """

    def __init__(
        self, build_dir: Path | None, manifest: dict | None, parts: dict[str, Part], trusted: bool,
        index_dir: Path | None = None, reread: bool = False,
    ):
        self.build_dir, self.manifest, self._parts, self.trusted = build_dir, manifest, parts, trusted
        self.reread = reread
        self._documents_dir = index_dir / str(manifest.get("stored_documents_dir", "")) if manifest else None
        self._by_sha = {e["sha256"]: (source, e) for source, e in (manifest or {}).get("documents", {}).items()}
        self._vectors = None
        self.vocabulary = Vocabulary()

    @classmethod
    def none(cls) -> "Previous":
        return cls(None, None, {}, trusted=True)

    def part(self, sha256: str, source: str) -> Part | None:
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
            check_files(self._documents_dir, {name: stored})
            part = read_part(self._documents_dir, stored_source, entry)
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
                check_files(self.build_dir, {FAISS_FILE: self.manifest["files"][FAISS_FILE]})
                index = faiss.read_index(str(self.build_dir / FAISS_FILE))
                self._vectors = index.reconstruct_n(0, index.ntotal)
            except (IndexCorrupt, KeyError, RuntimeError) as err:
                self._vectors = err
                raise
        if first + count > len(self._vectors):
            raise ValueError(f"rows {first}..{first + count} past the {len(self._vectors)} stored vectors")
        return self._vectors[first : first + count]


def same_content(stored: Part, fresh: Part) -> bool:
    """Whether a document read again splits as its stored copy does: the same sentences,
    chunks and terms (so its stored vectors still fit)."""
    return (
        stored.spans == fresh.spans
        and [(s.start, s.end) for s in stored.sentences] == [(s.start, s.end) for s in fresh.sentences]
        and stored.terms == fresh.terms
    )


@dataclass(frozen=True)
class Export:
    """The current build's ONNX export of the model, reusable by the next build."""

    directory: Path
    #: Its files' manifest entries, by path inside a build (``encoder/...``).
    files: dict
    #: The manifest's ``query_encoder`` entry.
    entry: dict


def reusable_export(index_dir: Path, manifest: dict | None, model: str, trusted: bool) -> Export | None:
    """The export of the build ``manifest`` describes when it is of ``model`` and (unless
    ``trusted``: checked when this store loaded or wrote that build) every file is intact.
    An export depends on the model alone, so a build with other chunking, or one that
    embeds every document anew, reuses it too."""
    if not manifest or manifest.get("model") != model or manifest.get("query_encoder", {}).get("kind") != "onnx":
        return None
    build_dir = index_dir / str(manifest["build"])
    files = {k: v for k, v in manifest.get("files", {}).items() if k.startswith(ENCODER_DIR + "/")}
    if not files:
        return None
    if not trusted:
        try:
            check_files(build_dir, files)
        except IndexCorrupt:
            return None
    return Export(build_dir / ENCODER_DIR, files, manifest["query_encoder"])


def link_tree(source: Path, target: Path) -> bool:
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
