"""Reading, chunking and embedding new documents on a Ray cluster (`qa index --ray ADDRESS`).

The only module that imports Ray (``pip install 'qa-news[cluster]'``). The build is otherwise
the local one (`qa.index.build`): the driver finds which documents are new or changed, makes
sure the model's ONNX export exists (the first build exports it, as locally), and hands those
documents to the cluster as a Ray Dataset. ``map_batches`` runs `_Embedder`, a stateful class:
each worker loads the export once (its files travel through Ray's object store, so workers
need no shared disk), then extracts, chunks, tokenizes and embeds batches of documents with
the same code as a local build. The results come back to the driver and into the same
incremental build: written to the index directory, and publishable with ``--store``.

The driver reads the files' bytes (workers need not see the corpus folder); everything
costly happens on the workers.
"""

from __future__ import annotations

import logging
import pickle
import tempfile
from pathlib import Path
from typing import Callable

from qa.config import Settings
from qa.errors import ConfigError
from qa.index.progress import ProgressBar

log = logging.getLogger(__name__)

#: CPUs (and onnxruntime threads) per worker: MiniLM's matrices are small, so one-thread
#: workers side by side use cores better than one session spread over many.
CPUS_PER_WORKER = 1
#: Documents per batch a worker embeds together (a news article is 5 to 10 passages: batches
#: of tens of passages, which `OnnxEncoder.embed_many` sorts by length).
DOCUMENTS_PER_BATCH = 8


class RayEmbedding:
    """Embeds documents on the Ray cluster at ``address`` (as `ray.init` takes it: "auto",
    "ray://host:10001", "local"; None: the cluster this process is already connected to).
    Cheap to construct; connects on the first call. A `qa.index.build.RemoteEmbedding`."""

    def __init__(self, address: str | None, workers: int | None = None, progress: bool = False) -> None:
        self.address = address
        self.workers = workers
        self.progress = progress

    def connect(self):
        try:
            import ray
        except ImportError as err:
            raise ConfigError("--ray needs Ray: pip install 'qa-news[cluster]'") from err
        if not ray.is_initialized():
            try:
                ray.init(address=self.address, include_dashboard=False, log_to_driver=False)
            except (ConnectionError, RuntimeError, ValueError) as err:
                raise ConfigError(
                    f"Cannot reach the Ray cluster at {self.address!r} ({err}); start it with "
                    "`ray start --head` or pass its address (e.g. auto, ray://HOST:10001)."
                ) from err
        return ray

    def worker_count(self, ray) -> int:
        if self.workers:
            return self.workers
        return max(1, int(ray.cluster_resources().get("CPU", 1) // CPUS_PER_WORKER))

    def __call__(self, documents: list, encoder_dir: Path, settings: Settings, say: Callable[[object], None]) -> dict:
        """Each document's `Part` (vectors included) or the message saying why it is left out, by source."""
        ray = self.connect()
        results: dict = {}
        rows = []
        for doc in documents:
            payload = _payload(doc)
            if isinstance(payload, str):
                results[doc.source] = payload
            else:
                rows.append({"source": doc.source, "payload": payload})
        if not rows:
            return results
        # Ray Data's own progress lines would interleave with the build's bar.
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        context = ray.data.DataContext.get_current()
        context.enable_progress_bars = False
        context.print_on_execution_start = False
        export = ray.put({path.name: path.read_bytes() for path in Path(encoder_dir).iterdir()})
        workers = min(self.worker_count(ray), max(1, len(rows) // DOCUMENTS_PER_BATCH))
        dataset = ray.data.from_items(rows).map_batches(
            _Embedder,
            fn_constructor_kwargs={"export": export, "settings": settings},
            batch_size=DOCUMENTS_PER_BATCH,
            compute=ray.data.ActorPoolStrategy(size=workers),
            num_cpus=CPUS_PER_WORKER,
        )
        with ProgressBar(len(rows), show=self.progress, report=say, unit="documents") as bar:
            for row in dataset.iter_rows():
                results[row["source"]] = pickle.loads(row["result"])
                bar.update(1)
        return results


def _payload(doc) -> bytes | str:
    """What a worker needs to read ``doc`` (a scanned file's bytes, or an `Article` as it is),
    or the message when the file cannot be read here."""
    from qa.corpus import Article

    if isinstance(doc, Article):
        return pickle.dumps(("article", doc))
    try:
        return pickle.dumps(("file", doc.path.read_bytes(), str(doc.path)))
    except OSError as err:
        return f"{doc.source}: {doc.source!r} cannot be read ({err.strerror}); check its permissions."


class _Embedder:
    """One per worker: loads the export once, then reads, chunks and embeds batches."""

    def __init__(self, export, settings: Settings) -> None:
        import ray

        from qa.index.encoder import OnnxEncoder

        files = ray.get(export) if isinstance(export, ray.ObjectRef) else export
        self._dir = tempfile.TemporaryDirectory(prefix="qa-encoder-")
        for name, data in files.items():
            (Path(self._dir.name) / name).write_bytes(data)
        self.encoder = OnnxEncoder(Path(self._dir.name), threads=CPUS_PER_WORKER).load()
        self.settings = settings

    def __call__(self, batch: dict) -> dict:
        import numpy as np

        from qa.corpus.formats import read_document
        from qa.errors import DocumentError
        from qa.index.build import read_part

        results = []
        for source, payload in zip(batch["source"], batch["payload"]):
            item = pickle.loads(payload)
            try:
                article = item[1] if item[0] == "article" else read_document(source, item[1], path_for_messages=item[2])
            except DocumentError as err:
                results.append(f"{source}: {err}")
                continue
            results.append(read_part(article, self.settings))
        parts = [r for r in results if not isinstance(r, str)]
        texts = [t for part in parts for t in part.chunk_texts()]
        vectors = self.encoder.embed_many(texts)
        row = 0
        for part in parts:
            part.vectors = vectors[row : row + len(part.spans)]
            row += len(part.spans)
        return {
            "source": np.asarray(batch["source"], dtype=object),
            "result": np.asarray([pickle.dumps(r) for r in results], dtype=object),
        }
