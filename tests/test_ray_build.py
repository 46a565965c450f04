"""`qa index --ray`: the new documents read, chunked and embedded on a real local Ray cluster
(two CPUs on 127.0.0.1) give the index a local build gives: the same chunks and sentences,
vectors within `VECTOR_TOLERANCE`, and the same answers to every question of the seeds eval.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from qa.config import Settings
from qa.corpus import CorpusFolder
from qa.engine import QAEngine
from qa.evaluation.dataset import load_questions

ray = pytest.importorskip("ray", reason="the cluster build needs the [cluster] extra")

from qa.index import IndexStore  # noqa: E402
from qa.index.ray_build import RayEmbedding  # noqa: E402

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
#: Largest difference in any coordinate between a vector embedded on a worker (one thread,
#: its own batches) and locally (every core, other batches): float rounding only; measured
#: 2.4e-7 between the export and sentence-transformers on the NYT suite's 459 passages.
VECTOR_TOLERANCE = 1e-5


@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    try:
        yield
    finally:
        ray.shutdown()


def _vectors(index) -> np.ndarray:
    return index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)


def _answer(engine, question: str) -> tuple:
    a = engine.ask(question)
    return a.short, a.abstained, [(c.source, c.start, c.end) for c in a.citations]


def test_a_cluster_build_equals_the_local_build(cluster, tmp_path, engine, settings):
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    ray_settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "ray-index", reader_dir=settings.reader_dir)
    files = CorpusFolder(seeds).scan(required=True).files
    # The first build: no export yet, so the driver exports the model, then the cluster embeds.
    built = IndexStore(ray_settings.index_dir, ray_settings).build(
        files, engine.embedder, progress=False, remote=RayEmbedding(None)
    )
    local = engine._index
    assert built.manifest["counts"]["documents_embedded"] == len(files)
    assert built.chunks == local.chunks
    assert built.sentences == local.sentences
    assert {s: a.text for s, a in built.articles.items()} == {s: a.text for s, a in local.articles.items()}
    assert float(np.abs(_vectors(built) - _vectors(local)).max()) <= VECTOR_TOLERANCE

    on_cluster = QAEngine(ray_settings, embedder=engine.embedder).load(progress=False)
    assert on_cluster.index_status == "loaded"
    questions = load_questions()
    assert len(questions) > 100
    different = [q.question for q in questions if _answer(on_cluster, q.question) != _answer(engine, q.question)]
    assert different == []


def test_a_cluster_build_is_incremental(cluster, tmp_path, engine, settings):
    """After an edit only the changed document goes to the cluster; the rest is reused."""
    seeds = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, seeds)
    ray_settings = Settings(seeds_dir=seeds, index_dir=tmp_path / "ray-index", reader_dir=settings.reader_dir)
    store = IndexStore(ray_settings.index_dir, ray_settings)
    store.build(CorpusFolder(seeds).scan(required=True).files, engine.embedder, progress=False)
    edited = sorted(seeds.glob("*.txt"))[0]
    edited.write_text(edited.read_text(encoding="utf-8") + "\nA sentence added later to this article.\n", encoding="utf-8")
    seen = []

    class Counting(RayEmbedding):
        def __call__(self, documents, *args):
            seen.extend(d.source for d in documents)
            return super().__call__(documents, *args)

    def no_model():
        raise AssertionError("the build must embed with the export, not load the model")

    rebuilt = store.build(CorpusFolder(seeds).scan(required=True).files, no_model, progress=False, remote=Counting(None))
    assert seen == [edited.name]
    assert rebuilt.manifest["counts"]["documents_embedded"] == 1
    assert "A sentence added later" in rebuilt.articles[edited.name].text
