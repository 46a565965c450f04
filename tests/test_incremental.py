"""Incremental indexing: adding, changing or removing one file re-embeds only that file,
the result equals a full rebuild, and nothing stale is ever cited. Questions keep being
answered while the index is brought up to date."""

from __future__ import annotations

import json
import threading

import faiss
import numpy as np
import pytest

from qa.config import Settings
from qa.corpus import CorpusFolder
from qa.engine import QAEngine
from qa.index import MANIFEST_NAME, IndexStore


DOCS = {
    "library.txt": "Council backs new library\n\nThe Lisbon city council approved a budget of 4 million euros for the new library on Monday. Building starts in June.\n",
    "bridge.txt": "Bridge reopens\n\nThe Porto bridge reopened on Friday after repairs that cost 12 million euros, the mayor said.\n",
    "ferry.txt": "Ferry strike ends\n\nFerry workers in Setubal ended their strike after the company agreed to a pay rise of 6 per cent.\n",
}
NEW_DOC = ("stadium.txt", "Stadium sold\n\nThe Braga stadium was sold to an investment fund for 80 million euros, the club announced.\n")


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    for name, text in DOCS.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def live(corpus, tmp_path, engine):
    settings = Settings(seeds_dir=corpus, index_dir=tmp_path / "index", reader_dir=engine.settings.reader_dir)
    return QAEngine(settings, embedder=engine.embedder).load(progress=False)


def counts(engine) -> dict:
    return json.loads((engine.settings.index_dir / MANIFEST_NAME).read_text(encoding="utf-8"))["counts"]


def assert_citations_exact(engine, answer):
    for c in answer.citations + answer.related + answer.passages:
        assert engine.text_of(c.source)[c.start : c.end] == c.text


def test_first_build_embeds_every_document(live):
    assert counts(live)["documents_embedded"] == 3
    assert counts(live)["documents_reused"] == 0


def test_adding_a_file_embeds_only_that_file_and_answers_from_it(live, corpus):
    (corpus / NEW_DOC[0]).write_text(NEW_DOC[1], encoding="utf-8")
    assert live.refresh().startswith("rebuilt")
    assert (counts(live)["documents_embedded"], counts(live)["documents_reused"]) == (1, 3)
    answer = live.ask("For how much was the Braga stadium sold?")
    assert "80 million" in (answer.short or "") and answer.citations[0].source == NEW_DOC[0]
    assert_citations_exact(live, answer)


def test_changing_a_file_re_embeds_only_it_and_never_cites_the_old_text(live, corpus):
    before = live.ask("What budget did the Lisbon council approve for the library?")
    assert "4 million" in (before.short or "")
    (corpus / "library.txt").write_text(DOCS["library.txt"].replace("4 million", "9 million"), encoding="utf-8")
    live.refresh()
    assert (counts(live)["documents_embedded"], counts(live)["documents_reused"]) == (1, 2)
    after = live.ask("What budget did the Lisbon council approve for the library?")
    assert "9 million" in (after.short or "")
    assert live.text_of("library.txt") == (corpus / "library.txt").read_text(encoding="utf-8")
    for c in after.citations + after.related + after.passages:
        assert "4 million" not in c.text
    assert_citations_exact(live, after)


def test_removing_a_file_removes_its_chunks_and_its_answers(live, corpus):
    CorpusFolder(corpus).remove("ferry.txt")
    live.refresh()
    assert (counts(live)["documents_embedded"], counts(live)["documents_reused"]) == (0, 2)
    assert "ferry.txt" not in {a.source for a in live.articles}
    assert all(c.source != "ferry.txt" for c in live._index.chunks)
    answer = live.ask("What pay rise did the ferry workers in Setubal get?")
    assert all(c.source != "ferry.txt" for c in answer.citations + answer.related + answer.passages)


def test_nothing_changed_means_nothing_rebuilt(live):
    build = live._index.manifest["build"]
    assert live.refresh() == "loaded"
    assert live._index.manifest["build"] == build


def test_incremental_index_equals_a_full_rebuild(live, corpus, tmp_path, engine):
    (corpus / NEW_DOC[0]).write_text(NEW_DOC[1], encoding="utf-8")
    (corpus / "bridge.txt").write_text(DOCS["bridge.txt"].replace("Friday", "Sunday"), encoding="utf-8")
    live.refresh()
    settings = Settings(seeds_dir=corpus, index_dir=tmp_path / "full", reader_dir=engine.settings.reader_dir)
    full = IndexStore(settings.index_dir, settings).build(CorpusFolder(corpus).scan().files, engine.embedder, False)
    assert live._index.chunks == full.chunks
    incremental = live._index.faiss_index.reconstruct_n(0, len(full.chunks))
    np.testing.assert_allclose(incremental, full.faiss_index.reconstruct_n(0, len(full.chunks)), atol=1e-5)
    assert isinstance(live._index.faiss_index, faiss.Index)


def flip_a_vector_byte(live) -> None:
    from qa.index import FAISS_FILE

    faiss_path = live.settings.index_dir / live._index.manifest["build"] / FAISS_FILE
    data = bytearray(faiss_path.read_bytes())
    data[-100] ^= 0xFF  # one flipped byte inside the vectors
    faiss_path.write_bytes(bytes(data))


def test_damaged_stored_vectors_are_re_embedded_not_reused(live, corpus):
    """A new process checks the file and embeds again; a running engine, which checked the
    vectors when it loaded them, writes them afresh from memory: the damage goes either way."""
    flip_a_vector_byte(live)
    (corpus / NEW_DOC[0]).write_text(NEW_DOC[1], encoding="utf-8")
    live.refresh()
    assert (counts(live)["documents_embedded"], counts(live)["documents_reused"]) == (1, 3)
    assert QAEngine(live.settings, embedder=live.embedder).load(progress=False).index_status == "loaded"

    flip_a_vector_byte(live)
    (corpus / NEW_DOC[0]).unlink()
    fresh = QAEngine(live.settings, embedder=live.embedder).load(progress=False)
    assert fresh.index_status.startswith("rebuilt")
    assert (counts(fresh)["documents_embedded"], counts(fresh)["documents_reused"]) == (3, 0)
    answer = fresh.ask("How much did the repairs of the Porto bridge cost?")
    assert "12 million" in (answer.short or "")


def test_unchanged_documents_stored_copies_are_not_rewritten_and_removed_ones_go(live, corpus):
    def stored() -> dict[str, tuple[int, int]]:
        manifest = live._index.manifest
        folder = live.settings.index_dir / manifest["stored_documents_dir"]
        assert sorted(p.name for p in folder.iterdir()) == sorted(manifest["stored_documents"])
        return {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in folder.iterdir()}

    before = stored()
    (corpus / NEW_DOC[0]).write_text(NEW_DOC[1], encoding="utf-8")
    live.refresh()
    after = stored()
    assert {name: after[name] for name in before} == before  # the very same files, untouched
    assert len(after) == len(before) + 1
    (corpus / NEW_DOC[0]).unlink()
    live.refresh()
    assert stored() == before


def test_questions_are_answered_while_the_index_is_refreshed(live, corpus):
    errors, answers, stop = [], [], threading.Event()

    def keep_asking():
        while not stop.is_set():
            try:
                answers.append(live.ask("How much did the repairs of the Porto bridge cost?"))
            except Exception as err:  # any failure is the finding
                errors.append(err)

    asker = threading.Thread(target=keep_asking)
    asker.start()
    try:
        (corpus / NEW_DOC[0]).write_text(NEW_DOC[1], encoding="utf-8")
        live.refresh()
    finally:
        stop.set()
        asker.join()
    assert errors == [] and len(answers) >= 2
    assert all("12 million" in (a.short or "") for a in answers)
