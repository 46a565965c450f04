"""The time-boxed, resumable training loop of the reader (`training.train`), apart from what
is the reader's own (its windows and span loss), so that another model's training reuses it
(the answer-verifier experiment did: `evals/README.md`).

A checkpoint (model, optimiser, schedule, step, random state) is written atomically every
``--checkpoint-every`` steps and when the time box ends; running the same command again
continues from it with the same data order (`batch_at`) and learning-rate schedule
(`lr_at`), so an interrupted and resumed run trains the same model as an uninterrupted one.
``--replan`` changes the planned steps of a running schedule: it decays from where it is to
the new total, and the plans are kept in the checkpoint so that ``--plan`` reproduces them.
"""

from __future__ import annotations

import argparse
import os
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import torch

SEED = 13
CHECKPOINT = "checkpoint.pt"


def add_arguments(parser: argparse.ArgumentParser, steps: int, batch: int, lr: float, minutes: float) -> None:
    parser.add_argument("--steps", type=int, default=steps, help="planned optimiser steps (fixes the schedule)")
    parser.add_argument("--minutes", type=float, default=minutes, help="stop (with a checkpoint) after this long")
    parser.add_argument("--batch", type=int, default=batch)
    parser.add_argument("--lr", type=float, default=lr)
    parser.add_argument("--warmup", type=int, default=100)
    parser.add_argument("--checkpoint-every", type=int, default=100)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    parser.add_argument(
        "--plan", default="", metavar="STEP:TOTAL,...",
        help="re-plan the schedule at these steps (how a shipped model's run was re-planned, "
        "so that one command reproduces it)",
    )
    parser.add_argument(
        "--replan", action="store_true",
        help="resume a checkpoint planned for other --steps: decay from where it is to the new total",
    )


def batch_at(examples: list, step: int, size: int) -> list:
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


@dataclass
class Outcome:
    step: int
    trained_s: float
    plans: list[tuple[int, int]]
    #: False when the time box ended the run before the planned steps: run it again to resume.
    finished: bool


def train(
    model, optimizer, examples: list, loss_of: Callable[[list], torch.Tensor], args, work: Path,
    rng: random.Random | None = None, recorded_args: dict | None = None,
) -> Outcome:
    """Trains ``model`` on ``examples`` (``loss_of(batch)`` -> the batch's loss) as ``args``
    (`add_arguments`) say, resuming from ``work/checkpoint.pt`` when it exists. ``rng`` is
    the examples' own random state (windows drawn per example), kept in the checkpoint."""
    ckpt = work / CHECKPOINT
    step, trained_s = 0, 0.0
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
        if rng is not None:
            rng.setstate(state["rng"])
        torch.set_rng_state(state["torch_rng"])
        print(f"resumed at step {step} ({trained_s / 60:.1f} min trained)", flush=True)
    else:
        torch.manual_seed(SEED)

    def save() -> None:
        tmp = ckpt.with_suffix(".tmp")
        state = {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(), "step": step, "steps": args.steps,
            "plans": plans, "trained_s": trained_s, "torch_rng": torch.get_rng_state(),
            "args": vars(args) | (recorded_args or {}),
        }
        if rng is not None:
            state["rng"] = rng.getstate()
        torch.save(state, tmp)
        os.replace(tmp, ckpt)

    model.train()
    log = (work / "train.log").open("a")
    started, window_loss, window_n = time.monotonic(), 0.0, 0
    while step < plans[-1][1]:
        if time.monotonic() - started > args.minutes * 60:
            print(f"time box of {args.minutes} min reached at step {step}; run again to resume", flush=True)
            save()
            return Outcome(step, trained_s, plans, finished=False)
        t0 = time.monotonic()
        loss = loss_of(batch_at(examples, step, args.batch))
        for group in optimizer.param_groups:
            group["lr"] = lr_at(step, plans, args.lr, args.warmup)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        step += 1
        trained_s += time.monotonic() - t0
        window_loss, window_n = window_loss + loss.item(), window_n + 1
        if step % 20 == 0:
            line = (f"step {step}/{plans[-1][1]} loss {window_loss / window_n:.3f} {trained_s / step:.2f} s/step "
                    f"trained {trained_s / 60:.1f} min")
            print(line, flush=True)
            log.write(line + "\n")
            log.flush()
            window_loss, window_n = 0.0, 0
        if step % args.checkpoint_every == 0:
            save()
    save()
    return Outcome(step, trained_s, plans, finished=True)
