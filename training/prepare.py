"""Extract the training and holdout examples from the bigbench sdist.

    python -m training.prepare --sdist /path/to/bigbench-1.0.0.tar.gz --work training/work
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

from training.examples import make_examples, split_articles
from training.sources import load_training_sources

SEED = 13


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, required=True, help="bigbench-1.0.0.tar.gz")
    parser.add_argument("--work", type=Path, default=Path("training/work"))
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    paragraphs = load_training_sources(args.sdist)
    train, holdout = split_articles(paragraphs, SEED)
    for name, part in (("train", train), ("holdout", holdout)):
        examples = make_examples(part, SEED)
        path = args.work / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for ex in examples:
                f.write(json.dumps(ex, ensure_ascii=False) + "\n")
        kinds = collections.Counter(ex["kind"] for ex in examples)
        print(f"{path}: {len(examples)} examples {dict(kinds)}")


if __name__ == "__main__":
    main()
