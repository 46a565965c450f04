"""Second-stage training data: the stage-one examples the first run never reached, plus
near-miss negatives.

    python -m training.near_miss --work training/work --seen-steps 1700

A near miss keeps the question's own paragraph but changes one detail of the question: a
name (a run of capitalised words) or a number that the paragraph contains is replaced by
one of the same kind, taken from another question, that the paragraph does not contain.
"How many troops did Napoleon lead in 1812?" becomes "... in 1807?": the paragraph is
still on topic, and the answer to the changed question is not in it. These are the
questions a news reader is most often asked wrongly ("what did X say about Y" when only
Z spoke), and stage one's negatives (answer sentences removed, other paragraphs) never
show them.
"""

from __future__ import annotations

import argparse
import collections
import json
import random
import re
from pathlib import Path

from training.train import SEED, batch_at, load_examples

#: Share of answerable questions that also yield a near miss: about one example in five of
#: the second stage, so stage one's share of negatives (about one in three) barely moves.
NEAR_MISS_SHARE = 0.3

# A name: capitalised words (with inner connectors such as "of"), not at the question's
# start, where every word is capitalised. A number: digits with separators.
_NAME = re.compile(r"(?<!^)(?<![.?!] )\b[A-Z][\w'’-]*(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][\w'’-]*)*")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")


def details(question: str) -> list[tuple[str, str]]:
    """(kind, text) of the names and numbers of ``question`` that a near miss may change."""
    found = [("number", m.group()) for m in _NUMBER.finditer(question)]
    found += [("name", m.group()) for m in _NAME.finditer(question) if m.start() > 0]
    return found


def near_miss(example: dict, pool: dict[str, list[str]], rng: random.Random) -> dict | None:
    """``example`` with one of its paragraph's details in the question swapped for one the
    paragraph lacks; None when the question has no such detail."""
    context = example["context"].lower()
    answers = " ".join(a["text"].lower() for a in example["answers"])
    own = [(kind, text) for kind, text in details(example["question"]) if text.lower() in context]
    if not own:
        return None
    kind, text = rng.choice(own)
    for _ in range(10):
        other = rng.choice(pool[kind])
        if other.lower() not in context and other.lower() not in answers and other.lower() != text.lower():
            question = example["question"].replace(text, other, 1)
            return {
                "id": example["id"],
                "kind": "near_miss",
                "question": question,
                "context": example["context"],
                "answers": [],
            }
    return None


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("training/work"))
    parser.add_argument("--seen-steps", type=int, default=1700, help="optimiser steps stage one ran")
    parser.add_argument("--batch", type=int, default=8)
    args = parser.parse_args(argv)
    examples = load_examples(args.work / "train.jsonl")
    seen = {
        (ex["id"], ex["kind"], ex["context"][:50])
        for step in range(args.seen_steps)
        for ex in batch_at(examples, step, args.batch)
    }
    unseen = [ex for ex in examples if (ex["id"], ex["kind"], ex["context"][:50]) not in seen]
    answerable = [ex for ex in examples if ex["kind"] == "answer"]
    pool: dict[str, list[str]] = collections.defaultdict(list)
    for ex in answerable:
        for kind, text in details(ex["question"]):
            pool[kind].append(text)
    rng = random.Random(SEED)
    misses = [m for ex in answerable if rng.random() < NEAR_MISS_SHARE if (m := near_miss(ex, pool, rng))]
    out = unseen + misses
    rng.shuffle(out)
    stage = args.work / "stage2"
    stage.mkdir(parents=True, exist_ok=True)
    with (stage / "train.jsonl").open("w", encoding="utf-8") as f:
        for ex in out:
            f.write(json.dumps(ex, ensure_ascii=False) + "\n")
    kinds = collections.Counter(ex["kind"] for ex in out)
    print(f"{stage / 'train.jsonl'}: {len(out)} examples {dict(kinds)}")
    for m in misses[:8]:
        print("  near miss:", m["question"])


if __name__ == "__main__":
    main()
