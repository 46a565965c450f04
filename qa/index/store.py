"""`IndexStore`: the index directory itself. Its paths, the one-builder lock, opening (load
when up to date, else build), loading a build with every file checked first, and the switch
to a new build: the manifest write is the commit point, then old builds and unused stored
documents are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import shutil
from pathlib import Path
from typing import Callable

from qa.config import Settings
from qa.corpus import Article
from qa.errors import IndexCorrupt, IndexMissing
from qa.index.build import RemoteEmbedding, write_build
from qa.index.corpus_index import Chunk, CorpusIndex, articles_by_name
from qa.index.manifest import (
    BM25_DIR,
    CHUNKS_FILE,
    DOCUMENTS_DIR,
    ENCODER_DIR,
    FAISS_FILE,
    MANIFEST_NAME,
    check_files,
    expected_manifest,
    ingestion,
    read_manifest,
    stale_reason,
    write_atomically,
)
from qa.index.reuse import Export, Part, Previous, Snapshot, read_part, reusable_export
from qa.lexical import ScoreMatrix, Vocabulary
from qa.vector_search import all_cores, prepare_for_search

log = logging.getLogger(__name__)


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
        self._snapshot: Snapshot | None = None

    @property
    def manifest_path(self) -> Path:
        return self.index_dir / MANIFEST_NAME

    def read_manifest(self) -> dict:
        return read_manifest(self.index_dir)

    def stale_reason(self, articles: list[Article]) -> str | None:
        """Why the persisted index cannot serve ``articles`` with these settings, or None.

        Raises `IndexMissing` / `IndexCorrupt` when there is no readable manifest.
        """
        manifest = self.read_manifest()
        return stale_reason(manifest, self.settings, articles) or _ocr_now_installed(manifest)

    def open(
        self,
        documents,
        load_embedder: Callable[[], object],
        progress: bool = True,
        rebuild: bool = False,
        report: Callable[[object], None] | None = None,
    ) -> tuple[CorpusIndex, str]:
        """Load the index if it is up to date, else build it (incrementally). Returns it and
        what was done.

        ``documents`` are the corpus's `Article`s or scanned files (`qa.corpus.SourceFile`:
        read only when they must be embedded). ``load_embedder`` returns the LlamaIndex
        embedding model; it is called only by a build that has no ONNX export of the model
        to embed with, so an up-to-date index opens, and later builds run, without torch.
        ``report`` gets each step of a build (and `qa.index.progress.EmbeddingProgress`).
        """
        documents = list(documents)

        def build(why: str):
            return self.build(documents, load_embedder, progress, report=report), why

        if rebuild:
            return self.build(documents, load_embedder, progress, report=report, reuse=False), "rebuilt on request"
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
        self._snapshot = Snapshot(str(manifest["build"]), parts, Vocabulary())
        return index

    def _load_build(self, build_dir: Path, manifest: dict) -> tuple[CorpusIndex, dict[str, Part]]:
        import faiss

        if not build_dir.is_dir():
            raise IndexCorrupt(f"Index build {str(build_dir)!r} is missing; rebuild with `qa index`.")
        check_files(build_dir, manifest.get("files"))
        documents_dir = self.index_dir / str(manifest.get("stored_documents_dir", ""))
        check_files(documents_dir, manifest.get("stored_documents"))
        chunks = [Chunk(*row) for row in json.loads((build_dir / CHUNKS_FILE).read_text(encoding="utf-8"))]
        faiss_index = prepare_for_search(faiss.read_index(str(build_dir / FAISS_FILE)), manifest["vector_index"])
        bm25 = ScoreMatrix.load(build_dir / BM25_DIR)
        parts = [
            read_part(documents_dir, source, entry) for source, entry in sorted(manifest.get("documents", {}).items())
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
        report: Callable[[object], None] | None = None,
        reuse: bool = True,
        remote: RemoteEmbedding | None = None,
    ) -> CorpusIndex:
        """Chunk, embed and persist ``documents`` (`Article`s or `qa.corpus.SourceFile`s);
        return the loaded result. ``embedder`` is the model (a LlamaIndex
        ``HuggingFaceEmbedding``) or a function loading it: documents are embedded by the
        model's ONNX export, which the first build makes (the only time the model is loaded);
        a model that cannot be exported embeds them itself.

        Documents unchanged since the previous build (same sha256, model and chunking) are
        reused, not read or embedded again (``reuse=False`` embeds everything anew). A document
        that cannot be read is left out with a message in `CorpusIndex.skipped`; `CorpusError`
        when none can be. ``remote`` reads and embeds the new documents elsewhere (a Ray
        cluster: `qa.index.ray_build.RayEmbedding`).
        """
        say = report or (lambda message: None)
        documents = sorted(documents, key=lambda d: d.source)
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with self._lock(), all_cores():
            previous = self._previous() if reuse else Previous.none()
            manifest, index, parts = write_build(
                self.index_dir, self._documents_dir, self.settings, documents, embedder, previous,
                self._export(), progress, say, remote=remote,
            )
            # The commit point. Compact: the indenting JSON encoder is pure Python, 10 ms for a
            # thousand documents.
            write_atomically(self.manifest_path, json.dumps(manifest) + "\n")
            build_id = manifest["build"]
            self._snapshot = Snapshot(build_id, {p.article.sha256: p for p in parts}, previous.vocabulary)
            self._remove_old_builds(keep=build_id)
            self._remove_unused_documents(keep=manifest["stored_documents"])
        log.info("Built index %s: %s", build_id, manifest["counts"])
        return index

    @property
    def _documents_dir(self) -> Path:
        """Where the documents' stored copies live, shared by every build of the same format,
        chunking and ingestion rules (a copy depends on nothing else): a build writes only new
        documents' copies and the switch to it touches no unchanged one."""
        lineage = expected_manifest(self.settings, [])
        variant = hashlib.sha256(
            json.dumps([lineage["format_version"], lineage["chunking"], lineage["ingestion"]], sort_keys=True).encode()
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

    def _previous(self) -> "Previous":
        """What the next build may reuse: the current build's documents, from memory when this
        store loaded or built that very build (checked then), else from disk (checked now)."""
        build_dir, manifest = self._reusable_build()
        if manifest is None:
            return Previous.none()
        # Documents stored under other ingestion rules are read again before they are reused.
        reread = manifest.get("ingestion") != ingestion(self.settings)
        snapshot = self._snapshot
        if snapshot is not None and snapshot.build_id == manifest["build"]:
            previous = Previous(build_dir, manifest, snapshot.parts, trusted=True, index_dir=self.index_dir, reread=reread)
            previous.vocabulary = snapshot.vocabulary
            return previous
        return Previous(build_dir, manifest, {}, trusted=False, index_dir=self.index_dir, reread=reread)

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

    def _export(self) -> Export | None:
        """The current build's ONNX export when the next build can embed with it."""
        try:
            manifest = self.read_manifest()
        except (IndexMissing, IndexCorrupt):
            return None
        snapshot = self._snapshot
        trusted = snapshot is not None and snapshot.build_id == manifest["build"]
        return reusable_export(self.index_dir, manifest, self.settings.model, trusted)

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


def _ocr_now_installed(manifest: dict) -> str | None:
    """Why an index whose build left scans out for want of Tesseract is stale once it is installed."""
    from qa.corpus.ocr import tesseract_installed

    waiting = manifest.get("waiting_for_ocr") or []
    if waiting and tesseract_installed():
        return f"Tesseract is installed now, and {len(waiting)} document(s) left out for want of it can be read"
    return None
