"""Does the ONNX-embedded index retrieve what the torch-embedded one did?

Compares two indexes of the same corpus and chunking: one whose documents sentence-transformers
(torch) embedded, one whose documents the ONNX export embedded. Prints, per suite:

* each chunk's cosine between its two vectors (min and mean),
* for every eval question of the suite, the dense top-10 of each index (the question embedded
  once, by the export): how many rankings are identical, and recall@10 of the ONNX index's
  top 10 against the torch index's.

    python benchmarks/encoder_agreement.py --suite seeds --torch /tmp/base-seeds --onnx /tmp/new-seeds
    python benchmarks/encoder_agreement.py --suite nyt --torch /tmp/base-nyt --onnx /tmp/new-nyt

Build the torch index with the code before the ONNX build (format 6), e.g. ``qa eval --index``
from that checkout. Asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from qa.config import Settings
from qa.evaluation.dataset import load_questions
from qa.evaluation.suites import get_suite
from qa.index import IndexStore
from qa.index.encoder import OnnxEncoder

TOP_K = 10


def _index(path: Path):
    return IndexStore(path, Settings(index_dir=path)).load()


def compare(suite_name: str, torch_dir: Path, onnx_dir: Path) -> dict:
    suite = get_suite(suite_name)
    torch_index, onnx_index = _index(torch_dir), _index(onnx_dir)
    if torch_index.chunks != onnx_index.chunks:
        raise SystemExit("the two indexes hold different chunks; build them from the same corpus and chunking")
    a = torch_index.faiss_index.reconstruct_n(0, torch_index.faiss_index.ntotal)
    b = onnx_index.faiss_index.reconstruct_n(0, onnx_index.faiss_index.ntotal)
    cosines = (a * b).sum(axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1))
    questions = [q.question for q in load_questions(suite.dataset_dir, suite.splits, suite=suite)]
    vectors = OnnxEncoder(onnx_index.encoder_dir).load().embed(questions)
    _, torch_top = torch_index.faiss_index.search(vectors, TOP_K)
    _, onnx_top = onnx_index.faiss_index.search(vectors, TOP_K)
    identical = sum(list(t) == list(o) for t, o in zip(torch_top, onnx_top))
    recall = [len(set(t) & set(o)) / TOP_K for t, o in zip(torch_top, onnx_top)]
    return {
        "suite": suite_name, "chunks": len(onnx_index.chunks), "questions": len(questions),
        "chunk_cosine_min": float(cosines.min()), "chunk_cosine_mean": float(cosines.mean()),
        "max_abs_difference": float(np.abs(a - b).max()),
        "identical_top10_rankings": identical, "recall_at_10_min": min(recall),
        "recall_at_10_mean": float(np.mean(recall)),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", default="seeds")
    parser.add_argument("--torch", type=Path, required=True, help="index embedded by sentence-transformers")
    parser.add_argument("--onnx", type=Path, required=True, help="index embedded by the ONNX export")
    args = parser.parse_args(argv)
    print(json.dumps(compare(args.suite, args.torch, args.onnx), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
