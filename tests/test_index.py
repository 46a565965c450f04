"""The persisted index: build once, load after, rebuild when stale or corrupt, never half-written.

Builds here run on a one-article copy of the corpus (002, the recruitment
article) with the session's real model, so each costs a few seconds rather
than the full corpus' twenty.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

import qa.index.build as build_module
import qa.index.store as store_module
from qa.config import DEFAULT_MODEL, Settings
from qa.corpus import corpus_hash, load_corpus
from qa.engine import QAEngine
from qa.errors import IndexCorrupt, IndexMissing
from qa.index import INDEX_FORMAT_VERSION, MANIFEST_NAME, IndexStore

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
RECRUITED = "002_626d0c358e0fb90a.txt"
QUESTION = "How many Indians were recruited?"
#: As the session engine's (conftest.py): ``QA_READER_DIR``, else the shipped reader.
READER_DIR = Path(os.environ.get("QA_READER_DIR") or Settings().reader_dir)


@pytest.fixture(scope="module")
def embedder(engine):
    return engine.embedder


@pytest.fixture(scope="module")
def small_seeds(tmp_path_factory) -> Path:
    seeds = tmp_path_factory.mktemp("small-seeds")
    shutil.copy(SEEDS_DIR / RECRUITED, seeds / RECRUITED)
    return seeds


@pytest.fixture(scope="module")
def pristine_index(tmp_path_factory, small_seeds, embedder) -> Path:
    """A good index of ``small_seeds``, built once; tests copy it before damaging it."""
    index_dir = tmp_path_factory.mktemp("pristine-index")
    IndexStore(index_dir, Settings(seeds_dir=small_seeds, index_dir=index_dir)).build(
        load_corpus(small_seeds), embedder, progress=False
    )
    return index_dir


@pytest.fixture
def index_copy(tmp_path, pristine_index) -> Path:
    target = tmp_path / "index"
    shutil.copytree(pristine_index, target)
    return target


@pytest.fixture
def embed_calls(monkeypatch) -> list[int]:
    """Records how many texts each build embeds (and so whether anything was embedded)."""
    calls: list[int] = []
    real = build_module.embed_texts

    def counting(encoder, texts, progress, **options):
        calls.append(len(texts))
        return real(encoder, texts, progress, **options)

    monkeypatch.setattr(build_module, "embed_texts", counting)
    return calls


def small_settings(seeds: Path, index_dir: Path, **changes) -> Settings:
    return Settings(seeds_dir=seeds, index_dir=index_dir, reader_dir=READER_DIR, **changes)


def build_dirs(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("build-"))


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith(".tmp-"))


# -- build, then load ---------------------------------------------------------------


def test_first_open_builds_and_second_open_loads_without_embedding(tmp_path, small_seeds, embedder, embed_calls):
    settings = small_settings(small_seeds, tmp_path / "index")
    articles = load_corpus(small_seeds)

    built, status = IndexStore(settings.index_dir, settings).open(articles, lambda: embedder, progress=False)
    assert "built" in status
    assert len(embed_calls) == 1

    loaded, status = IndexStore(settings.index_dir, settings).open(articles, lambda: embedder, progress=False)
    assert status == "loaded"
    assert len(embed_calls) == 1, "loading an up-to-date index must not embed anything"
    assert loaded.chunks == built.chunks
    assert loaded.sentences == built.sentences
    assert loaded.manifest == built.manifest


def test_session_engine_built_its_index_and_a_second_engine_loads_it(engine, settings, embed_calls):
    assert engine.index_status == "built (no index yet)"
    second = QAEngine(settings, embedder=engine.embedder).load(progress=False)
    assert second.index_status == "loaded"
    assert embed_calls == []
    assert second.passage_count == engine.passage_count
    assert second.ask(QUESTION).short == "126"


def test_loaded_nodes_carry_exact_spans_of_the_articles(settings, engine):
    store = IndexStore(settings.index_dir, settings)
    articles = load_corpus(settings.seeds_dir)
    index = store.load(articles)
    texts = {a.source: a.text for a in articles}
    assert index.chunks
    for chunk in index.chunks:
        assert index.chunk_text(chunk) == texts[chunk.source][chunk.start : chunk.end]
        assert chunk.node_id.startswith(chunk.source + "#")


def test_manifest_records_format_model_chunking_and_corpus_hash(pristine_index, small_seeds):
    manifest = json.loads((pristine_index / MANIFEST_NAME).read_text(encoding="utf-8"))
    articles = load_corpus(small_seeds)
    assert manifest["format_version"] == INDEX_FORMAT_VERSION
    assert manifest["model"] == DEFAULT_MODEL
    assert manifest["chunking"] == {"max_chars": 600, "overlap_sentences": 1}
    assert manifest["corpus_hash"] == corpus_hash(articles)
    assert set(manifest["ingestion"]) == {"furniture", "bm25_stopwords"}
    assert manifest["articles"] == [RECRUITED]
    assert manifest["dimension"] == 384
    assert set(manifest["counts"]) == {"chunks", "sentences", "documents_embedded", "documents_reused"}
    [(source, entry)] = manifest["documents"].items()
    assert source == RECRUITED and entry["sha256"] == articles[0].sha256 and entry["kind"] == "txt"
    assert manifest["vector_index"]["type"] == "flat"  # a one-article corpus is searched exactly
    assert manifest["query_encoder"]["kind"] == "onnx"
    assert manifest["query_encoder"]["max_difference"] <= 1e-4
    build = pristine_index / manifest["build"]
    assert {p for p in manifest["files"]} == {str(p.relative_to(build)) for p in build.rglob("*") if p.is_file()}
    assert manifest["build"] in build_dirs(pristine_index)


def test_index_holds_retrieval_files_and_nothing_about_answering(pristine_index):
    manifest = json.loads((pristine_index / MANIFEST_NAME).read_text(encoding="utf-8"))
    top_level = {name.split("/")[0] for name in manifest["files"]}
    assert top_level == {"storage", "bm25", "chunks.json", "encoder"}
    # The documents' stored copies are shared by builds, beside them.
    documents = pristine_index / manifest["stored_documents_dir"]
    assert sorted(p.name for p in documents.iterdir()) == sorted(manifest["stored_documents"])
    assert "sentence_index" not in manifest


def test_a_build_leaves_one_build_dir_and_no_temporary_files(index_copy, small_seeds, embedder):
    settings = small_settings(small_seeds, index_copy)
    old = build_dirs(index_copy)
    _index, status = IndexStore(index_copy, settings).open(load_corpus(small_seeds), lambda: embedder, progress=False, rebuild=True)
    assert status == "rebuilt on request"
    assert len(build_dirs(index_copy)) == 1
    assert build_dirs(index_copy) != old
    assert leftovers(index_copy) == []
    manifest = json.loads((index_copy / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert build_dirs(index_copy) == [manifest["build"]]


# -- missing and stale ----------------------------------------------------------------


def test_empty_index_dir_is_missing_with_the_fix_in_the_message(tmp_path, small_seeds, embedder):
    store = IndexStore(tmp_path, small_settings(small_seeds, tmp_path))
    articles = load_corpus(small_seeds)
    with pytest.raises(IndexMissing, match="build it with `qa index`"):
        store.load(articles)
    with pytest.raises(IndexMissing):
        store.stale_reason(articles)


def test_up_to_date_index_has_no_stale_reason(index_copy, small_seeds):
    store = IndexStore(index_copy, small_settings(small_seeds, index_copy))
    assert store.stale_reason(load_corpus(small_seeds)) is None


def test_edited_seed_makes_the_index_stale_and_open_rebuilds_with_the_new_text(tmp_path, index_copy, small_seeds, embedder):
    seeds = tmp_path / "seeds"
    shutil.copytree(small_seeds, seeds)
    path = seeds / RECRUITED
    path.write_text(path.read_text(encoding="utf-8").replace("126 Indians", "127 Indians"), encoding="utf-8")
    settings = small_settings(seeds, index_copy)

    reason = IndexStore(index_copy, settings).stale_reason(load_corpus(seeds))
    assert reason is not None and reason.startswith("corpus_hash changed")

    engine = QAEngine(settings, embedder=embedder).load(progress=False)
    assert engine.index_status.startswith("rebuilt (corpus_hash changed")
    answer = engine.ask(QUESTION)
    assert answer.short in ("127", "127 Indians")
    assert path.read_text(encoding="utf-8")[answer.citations[0].start : answer.citations[0].end] == answer.citations[0].text


def test_added_seed_makes_the_index_stale(tmp_path, index_copy, small_seeds):
    seeds = tmp_path / "seeds"
    shutil.copytree(small_seeds, seeds)
    shutil.copy(SEEDS_DIR / "003_903cd1dc65ffebe3.txt", seeds)
    reason = IndexStore(index_copy, small_settings(seeds, index_copy)).stale_reason(load_corpus(seeds))
    assert reason is not None and reason.startswith("corpus_hash changed")


@pytest.mark.parametrize(
    "changes, key",
    [
        ({"chunk_max_chars": 300}, "chunking"),
        ({"chunk_overlap_sentences": 0}, "chunking"),
        ({"model": "some/other-model"}, "model"),
    ],
)
def test_changed_settings_make_the_index_stale(index_copy, small_seeds, changes, key):
    store = IndexStore(index_copy, small_settings(small_seeds, index_copy, **changes))
    reason = store.stale_reason(load_corpus(small_seeds))
    assert reason is not None and reason.startswith(f"{key} changed")


def test_older_format_version_makes_the_index_stale(index_copy, small_seeds):
    path = index_copy / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    path.write_text(json.dumps({**manifest, "format_version": INDEX_FORMAT_VERSION - 1}), encoding="utf-8")
    reason = IndexStore(index_copy, small_settings(small_seeds, index_copy)).stale_reason(load_corpus(small_seeds))
    assert reason is not None and reason.startswith("format_version changed")


def test_changed_chunk_settings_rebuild_with_the_new_chunking(index_copy, small_seeds, embedder):
    before = json.loads((index_copy / MANIFEST_NAME).read_text(encoding="utf-8"))
    settings = small_settings(small_seeds, index_copy, chunk_max_chars=300)
    index, status = IndexStore(index_copy, settings).open(load_corpus(small_seeds), lambda: embedder, progress=False)
    assert status.startswith("rebuilt (chunking changed")
    assert index.manifest["chunking"]["max_chars"] == 300
    assert index.manifest["counts"]["chunks"] > before["counts"]["chunks"]
    for chunk in index.chunks:
        inside = [s for s in index.sentences if chunk.start <= s.start and s.end <= chunk.end]
        assert chunk.end - chunk.start <= 300 or len(inside) == 1


#: A whole line of the recruited article, made page furniture by a corpus.toml pattern.
RECRUITED_LINE = "According to the external affairs ministry, 126 Indians were recruited"


def test_a_changed_furniture_pattern_rereads_the_documents_and_drops_the_passage(tmp_path, small_seeds, embedder, embed_calls, monkeypatch):
    """The stored texts were split under the old rules: a changed corpus.toml pattern makes the
    index stale, and the next (incremental) build reads every document again, embedding only
    the one whose sentences changed; the line it now matches is in no sentence or chunk. The
    files are not read again (a scan's OCR takes seconds a page): their stored texts are."""
    seeds = tmp_path / "seeds"
    shutil.copytree(small_seeds, seeds)
    shutil.copy(SEEDS_DIR / "003_903cd1dc65ffebe3.txt", seeds)
    (seeds / "corpus.toml").write_text('title = "Two reports"\n', encoding="utf-8")
    settings = small_settings(seeds, tmp_path / "index")
    store = IndexStore(settings.index_dir, settings)
    store.open(load_corpus(seeds), lambda: embedder, progress=False)
    embed_calls.clear()

    def holding_the_line(index) -> list:
        text = index.articles[RECRUITED].text
        return [s for s in [*index.sentences, *index.chunks] if s.source == RECRUITED and RECRUITED_LINE in text[s.start : s.end]]

    # A setting of the chat, not of the text: still up to date.
    (seeds / "corpus.toml").write_text('title = "Two news reports"\n', encoding="utf-8")
    assert IndexStore(settings.index_dir, settings).stale_reason(load_corpus(seeds)) is None

    (seeds / "corpus.toml").write_text(
        'title = "Two news reports"\n[furniture]\npatterns = ["According to the external affairs ministry, .*"]\n',
        encoding="utf-8",
    )
    reason = IndexStore(settings.index_dir, settings).stale_reason(load_corpus(seeds))
    assert reason is not None and "page furniture rules" in reason and "corpus.toml" in reason

    from qa.corpus.folder import CorpusFolder, SourceFile

    files = CorpusFolder(seeds).scan(required=True).files  # as `qa index` gives them: read when needed
    files_read, read = [], SourceFile.read
    monkeypatch.setattr(SourceFile, "read", lambda self, *a, **k: files_read.append(self.source) or read(self, *a, **k))
    # This store built the current index: it reuses the documents from memory.
    index, status = store.open(files, lambda: embedder, progress=False)
    assert status.startswith("rebuilt (the page furniture rules")
    assert files_read == [], "the stored texts are split again, the files not read again"
    assert holding_the_line(index) == []
    assert index.manifest["counts"]["documents_embedded"] == 1, "only the article whose sentences changed"
    assert embed_calls == [len([c for c in index.chunks if c.source == RECRUITED])]
    # Loaded afresh from disk, the new build serves the new sentences and is up to date.
    loaded, status = IndexStore(settings.index_dir, settings).open(load_corpus(seeds), lambda: embedder, progress=False)
    assert status == "loaded" and holding_the_line(loaded) == []
    assert [p.name for p in (settings.index_dir / "documents").iterdir()] == [index.manifest["stored_documents_dir"].split("/")[-1]]

    # The pattern taken out again: the line is back (a new store: the documents come from disk).
    (seeds / "corpus.toml").write_text('title = "Two news reports"\n', encoding="utf-8")
    index, status = IndexStore(settings.index_dir, settings).open(load_corpus(seeds), lambda: embedder, progress=False)
    assert status.startswith("rebuilt (the page furniture rules") and len(holding_the_line(index)) >= 1
    assert index.manifest["counts"]["documents_embedded"] == 1


def test_an_index_without_ingestion_fingerprints_is_read_again_but_not_embedded_again(index_copy, small_seeds, embedder, embed_calls):
    path = index_copy / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["ingestion"]
    path.write_text(json.dumps(manifest), encoding="utf-8")
    settings = small_settings(small_seeds, index_copy)
    reason = IndexStore(index_copy, settings).stale_reason(load_corpus(small_seeds))
    assert reason is not None and "no fingerprint" in reason
    index, status = IndexStore(index_copy, settings).open(load_corpus(small_seeds), lambda: embedder, progress=False)
    assert status.startswith("rebuilt (the index records no fingerprint")
    assert embed_calls == [] and index.manifest["counts"]["documents_reused"] == 1
    assert index.manifest["ingestion"] == IndexStore(index_copy, settings).read_manifest()["ingestion"]


# -- corrupt ---------------------------------------------------------------------


def _garbage_manifest(index_dir: Path) -> None:
    (index_dir / MANIFEST_NAME).write_text("{ this is not json", encoding="utf-8")


def _manifest_without_build(index_dir: Path) -> None:
    path = index_dir / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    del manifest["build"]
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _binary_manifest(index_dir: Path) -> None:
    (index_dir / MANIFEST_NAME).write_bytes(b"\xff\xfe\x00garbage")


def _deleted_build_dir(index_dir: Path) -> None:
    for name in build_dirs(index_dir):
        shutil.rmtree(index_dir / name)


def _truncated_faiss_file(index_dir: Path) -> None:
    [name] = build_dirs(index_dir)
    path = index_dir / name / "storage" / "default__vector_store.json"
    path.write_bytes(path.read_bytes()[:100])


def _wrong_counts(index_dir: Path) -> None:
    path = index_dir / MANIFEST_NAME
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["counts"]["chunks"] += 1
    path.write_text(json.dumps(manifest), encoding="utf-8")


def _truncated_chunks_file(index_dir: Path) -> None:
    [name] = build_dirs(index_dir)
    path = index_dir / name / "chunks.json"
    path.write_bytes(path.read_bytes()[:64])


def _flipped_byte_in_query_encoder(index_dir: Path) -> None:
    [name] = build_dirs(index_dir)
    path = index_dir / name / "encoder" / "model.onnx"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF  # a weight changes; the file still parses
    path.write_bytes(bytes(data))


def _deleted_bm25_file(index_dir: Path) -> None:
    [name] = build_dirs(index_dir)
    next((index_dir / name / "bm25").glob("*.npy")).unlink()


CORRUPTIONS = {
    "garbage manifest": _garbage_manifest,
    "manifest without build": _manifest_without_build,
    "binary manifest": _binary_manifest,
    "deleted build dir": _deleted_build_dir,
    "truncated faiss file": _truncated_faiss_file,
    "wrong counts": _wrong_counts,
    "truncated chunks file": _truncated_chunks_file,
    "flipped byte in query encoder": _flipped_byte_in_query_encoder,
    "deleted bm25 file": _deleted_bm25_file,
}


@pytest.mark.parametrize("damage", list(CORRUPTIONS.values()), ids=list(CORRUPTIONS))
def test_corrupt_index_fails_to_load_with_the_fix_in_the_message(index_copy, small_seeds, embedder, damage):
    damage(index_copy)
    store = IndexStore(index_copy, small_settings(small_seeds, index_copy))
    with pytest.raises(IndexCorrupt, match="rebuild with `qa index`") as err:
        store.load(load_corpus(small_seeds))
    assert str(index_copy) in str(err.value)


@pytest.mark.parametrize(
    "damage",
    [_garbage_manifest, _deleted_build_dir, _truncated_faiss_file, _wrong_counts, _flipped_byte_in_query_encoder],
    ids=["garbage manifest", "deleted build dir", "truncated faiss file", "wrong counts", "flipped byte in query encoder"],
)
def test_open_rebuilds_a_corrupt_index_and_answers_correctly(index_copy, small_seeds, embedder, damage):
    damage(index_copy)
    settings = small_settings(small_seeds, index_copy)
    engine = QAEngine(settings, embedder=embedder).load(progress=False)
    assert engine.index_status.startswith("rebuilt (corrupt:")
    assert engine.ask(QUESTION).short == "126"
    assert len(build_dirs(index_copy)) == 1
    assert leftovers(index_copy) == []
    _index, status = IndexStore(index_copy, settings).open(load_corpus(small_seeds), lambda: embedder, progress=False)
    assert status == "loaded"


# -- interrupted builds ---------------------------------------------------------------


def test_build_interrupted_while_writing_leaves_the_previous_index_loadable(index_copy, small_seeds, embedder, monkeypatch):
    manifest_before = (index_copy / MANIFEST_NAME).read_bytes()
    builds_before = build_dirs(index_copy)
    real = build_module.write_faiss

    def write_then_interrupt(index, path):
        real(index, path)  # half the files are on disk when Ctrl-C lands
        raise KeyboardInterrupt

    monkeypatch.setattr(build_module, "write_faiss", write_then_interrupt)
    settings = small_settings(small_seeds, index_copy)
    with pytest.raises(KeyboardInterrupt):
        IndexStore(index_copy, settings).build(load_corpus(small_seeds), embedder, progress=False)
    monkeypatch.undo()

    assert (index_copy / MANIFEST_NAME).read_bytes() == manifest_before
    assert build_dirs(index_copy) == builds_before
    assert leftovers(index_copy) == []
    engine = QAEngine(settings, embedder=embedder).load(progress=False)
    assert engine.index_status == "loaded"
    assert engine.ask(QUESTION).short == "126"


def test_build_failing_before_the_manifest_is_written_keeps_the_old_index(index_copy, small_seeds, embedder, monkeypatch):
    manifest_before = (index_copy / MANIFEST_NAME).read_bytes()

    def disk_full(path, content):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store_module, "write_atomically", disk_full)
    settings = small_settings(small_seeds, index_copy)
    with pytest.raises(OSError, match="No space left"):
        IndexStore(index_copy, settings).build(load_corpus(small_seeds), embedder, progress=False)
    monkeypatch.undo()

    assert (index_copy / MANIFEST_NAME).read_bytes() == manifest_before
    engine = QAEngine(settings, embedder=embedder).load(progress=False)
    assert engine.index_status == "loaded"
    assert engine.ask(QUESTION).short == "126"

    # The orphaned build is cleared by the next successful build.
    IndexStore(index_copy, settings).build(load_corpus(small_seeds), embedder, progress=False)
    manifest = json.loads((index_copy / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert build_dirs(index_copy) == [manifest["build"]]
    assert leftovers(index_copy) == []


# -- index type by size ------------------------------------------------------------


def test_a_corpus_above_the_exact_limit_is_searched_by_hnsw_and_still_answers(tmp_path, small_seeds, embedder, monkeypatch):
    import qa.vector_search as vector_search

    monkeypatch.setattr(vector_search, "EXACT_MAX_VECTORS", 5)  # the one-article corpus counts as large
    settings = small_settings(small_seeds, tmp_path / "index")
    engine = QAEngine(settings, embedder=embedder).load(progress=False)
    manifest = json.loads((settings.index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["vector_index"]["type"] == "hnsw"
    assert engine.ask(QUESTION).short == "126"
    again = QAEngine(settings, embedder=embedder).load(progress=False)
    assert again.index_status == "loaded"
    assert again.ask(QUESTION).short == "126"


def test_a_model_that_cannot_be_exported_embeds_questions_with_sentence_transformers(tmp_path, small_seeds, embedder, monkeypatch):
    import qa.index.onnx_export as onnx_export
    from qa.index.encoder import SentenceTransformerEncoder

    def exporter_fails(*args):
        raise RuntimeError("Exporting the operator 'aten::custom' to ONNX opset version 17 is not supported")

    monkeypatch.setattr(onnx_export, "_export_transformer", exporter_fails)
    settings = small_settings(small_seeds, tmp_path / "index")
    engine = QAEngine(settings, embedder=embedder).load(progress=False)
    manifest = engine._index.manifest
    assert manifest["query_encoder"]["kind"] == "sentence-transformers"
    assert "torch could not export the model (RuntimeError: Exporting the operator" in manifest["query_encoder"]["reason"]
    assert not any(name.startswith("encoder/") for name in manifest["files"])
    assert isinstance(engine._encoder, SentenceTransformerEncoder)
    assert engine.ask(QUESTION).short == "126"


# -- documents embedded by the ONNX export ----------------------------------------------


def test_documents_are_embedded_by_the_export_as_sentence_transformers_embeds_them(engine):
    """The index's vectors (the export, batched by length) against sentence-transformers'
    own encode of every seeds chunk: within the export's tolerance (measured: 2.4e-7 on the
    NYT suite's 459 passages; min cosine 0.9999999)."""
    from qa.index.onnx_export import EXPORT_TOLERANCE

    index = engine._index
    assert index.manifest["document_encoder"] == "onnx"
    texts = [index.chunk_text(c) for c in index.chunks]
    stored = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    theirs = engine.embedder._model.encode(texts, batch_size=64, normalize_embeddings=True)
    assert float(abs(stored - theirs).max()) <= EXPORT_TOLERANCE


@pytest.mark.parametrize("batch", [1, 7, 32, 1000])
def test_a_documents_vector_does_not_depend_on_its_batch(engine, batch):
    from qa.index.encoder import OnnxEncoder

    index = engine._index
    texts = [index.chunk_text(c) for c in index.chunks[:40]]
    encoder = OnnxEncoder(index.encoder_dir).load()
    one_at_a_time = [encoder.embed([t])[0] for t in texts]
    assert float(abs(encoder.embed_many(texts, batch=batch) - one_at_a_time).max()) <= 1e-5


def test_a_new_process_rebuild_imports_neither_torch_nor_sentence_transformers(index_copy, small_seeds):
    """Nor bm25s and scipy (0.6 s of a new process on 2 cores): the BM25 terms and matrix are
    made and written with numpy (`qa.lexical`)."""
    import subprocess
    import sys

    code = (
        "import sys\nfrom qa.cli import main\n"
        f"status = main(['index', '--full', '--corpus', {str(small_seeds)!r}, '--index', {str(index_copy)!r}])\n"
        "print(status, [m for m in ('torch', 'sentence_transformers', 'bm25s', 'scipy') if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                          cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout + done.stderr
    manifest = json.loads((index_copy / MANIFEST_NAME).read_text(encoding="utf-8"))
    assert manifest["counts"]["documents_reused"] == 0


def test_a_build_reports_its_progress_with_a_rate_and_an_estimate(index_copy, small_seeds, embedder):
    from qa.index.progress import EmbeddingProgress

    events = []
    settings = small_settings(small_seeds, index_copy)
    index = IndexStore(index_copy, settings).build(
        load_corpus(small_seeds), embedder, progress=False, report=events.append, reuse=False
    )
    progress = [e for e in events if isinstance(e, EmbeddingProgress)]
    assert progress[0].done == 0 and progress[-1].done == progress[-1].total == len(index.chunks)
    assert progress[-1].rate > 0
    assert " a second, about " in str(progress[-1]) and str(progress[-1]).endswith(" left)")
    assert [e.done for e in progress] == sorted(e.done for e in progress)
