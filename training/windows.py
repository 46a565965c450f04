"""Question + context -> model windows with span labels, the same way the runtime
reader cuts them (``[CLS] question [SEP] context [SEP]``, uncased BERT word pieces)."""

from __future__ import annotations

import random

#: Tokens per window. Training and the runtime reader use the same length: 192 tokens fits
#: most news paragraphs with the question, and costs about 0.17 ms a token to read.
MAX_TOKENS = 192
#: Context tokens shared by consecutive windows, so an answer on a border is whole in one.
STRIDE = 64
MAX_QUESTION_TOKENS = 48


def encode_batch(tokenizer, examples: list[dict], rng: random.Random):
    """One window per example: one holding the answer for answerable examples (at random
    among several), any window for the others, labelled with position 0 ([CLS])."""
    questions = [clip_question(tokenizer, ex["question"].strip()) for ex in examples]
    enc = tokenizer(
        questions,
        [ex["context"] for ex in examples],
        truncation="only_second",
        max_length=MAX_TOKENS,
        stride=STRIDE,
        return_overflowing_tokens=True,
        return_offsets_mapping=True,
        padding=False,
    )
    per_example: dict[int, list[tuple[int, int, int]]] = {}
    for w, ex_i in enumerate(enc["overflow_to_sample_mapping"]):
        ex = examples[ex_i]
        seq = enc.sequence_ids(w)
        offsets = enc["offset_mapping"][w]
        start_tok = end_tok = 0
        for ans in ex["answers"]:
            a_start, a_end = ans["start"], ans["start"] + len(ans["text"])
            ctx = [i for i, s in enumerate(seq) if s == 1]
            if not ctx or offsets[ctx[0]][0] > a_start or offsets[ctx[-1]][1] < a_end:
                continue
            start_tok = next(i for i in ctx if offsets[i][1] > a_start)
            end_tok = next(i for i in reversed(ctx) if offsets[i][0] < a_end)
            break
        per_example.setdefault(ex_i, []).append((w, start_tok, end_tok))
    chosen = []
    for ex_i in range(len(examples)):
        windows = per_example.get(ex_i, [])
        if not windows:
            continue
        with_answer = [w for w in windows if w[1] > 0]
        chosen.append(rng.choice(with_answer) if with_answer else rng.choice(windows))
    ids = [enc["input_ids"][w] for w, _, _ in chosen]
    types = [enc["token_type_ids"][w] for w, _, _ in chosen]
    return ids, types, [s for _, s, _ in chosen], [e for _, _, e in chosen]


def clip_question(tokenizer, question: str) -> str:
    """At most `MAX_QUESTION_TOKENS` word pieces of ``question`` (as the runtime reader clips it),
    so every window keeps room for context."""
    enc = tokenizer(question, add_special_tokens=False, return_offsets_mapping=True)
    if len(enc["input_ids"]) <= MAX_QUESTION_TOKENS:
        return question
    return question[: enc["offset_mapping"][MAX_QUESTION_TOKENS - 1][1]]


def pad(rows: list[list[int]], value: int = 0) -> list[list[int]]:
    width = max(len(r) for r in rows)
    return [r + [value] * (width - len(r)) for r in rows]
