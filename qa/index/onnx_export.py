"""Exporting the index's sentence-transformers model to ONNX, for `qa.index.encoder.OnnxEncoder`.

Runs at build time, where torch is loaded anyway. Only models that
sentence-transformers runs as a transformer, then mean or CLS pooling, then
optionally normalisation, are exported, and only when queries and passages
get the same prompt; other models raise `ExportUnsupported` and questions are
embedded by sentence-transformers itself.

An export is used only after `verify` finds it gives the vectors the model
gives (to `EXPORT_TOLERANCE`).
"""

from __future__ import annotations

import json
import logging
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from qa.index.encoder import (
    ENCODER_CONFIG_FILE,
    ONNX_MODEL_FILE,
    POOLINGS,
    TOKENIZER_FILE,
    OnnxEncoder,
)

log = logging.getLogger(__name__)

#: Largest difference, in any coordinate, between an exported model's vectors and the model's own.
EXPORT_TOLERANCE = 1e-4
#: ONNX operator set of the export (supported by every onnxruntime of the last years).
OPSET = 17


class ExportUnsupported(Exception):
    """The model cannot be exported, or its export does not reproduce it; use the model itself."""


def export_encoder(embedder, directory: Path) -> None:
    """Write ``model.onnx``, ``tokenizer.json`` and ``encoder.json`` for ``embedder``
    (a LlamaIndex ``HuggingFaceEmbedding``) into ``directory``."""
    model = getattr(embedder, "_model", None)
    modules = list(model) if model is not None else []
    names = [type(m).__name__ for m in modules]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise ExportUnsupported(f"model modules {names} are not transformer + pooling")
    pooling = getattr(modules[1], "pooling_mode", None)
    if pooling not in POOLINGS:
        raise ExportUnsupported(f"pooling {pooling!r} is not one of {POOLINGS}")
    prompts = getattr(model, "prompts", {}) or {}
    if (prompts.get("query") or "") != (prompts.get("document") or prompts.get("text") or "") or (
        getattr(embedder, "query_instruction", None) != getattr(embedder, "text_instruction", None)
    ):
        raise ExportUnsupported("queries and passages are embedded with different prompts")
    tokenizer = model.tokenizer
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None or tokenizer.pad_token is None:
        raise ExportUnsupported("the model has no fast tokenizer with a padding token")

    directory.mkdir(parents=True, exist_ok=True)
    input_names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in tokenizer.model_input_names]
    try:
        _export_transformer(modules[0].auto_model, tokenizer, input_names, directory / ONNX_MODEL_FILE)
    except Exception as err:  # an exporter missing from this torch, an operator ONNX lacks, ...
        raise ExportUnsupported(f"torch could not export the model ({type(err).__name__}: {err})") from err
    backend.save(str(directory / TOKENIZER_FILE))
    config = {
        "max_seq_length": int(model.max_seq_length),
        "pad_id": int(tokenizer.pad_token_id),
        "pad_token": tokenizer.pad_token,
        "pooling": pooling,
        "normalize": bool(getattr(embedder, "normalize", False)) or names[-1] == "Normalize",
        "dimension": int(_dimension(model)),
        "opset": OPSET,
    }
    (directory / ENCODER_CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def _dimension(model) -> int:
    # sentence-transformers 6 renamed get_sentence_embedding_dimension
    method = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return method()


def _export_transformer(transformer, tokenizer, input_names: list[str], path: Path) -> None:
    import torch

    class LastHiddenState(torch.nn.Module):
        def __init__(self, inner) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, *inputs):
            return self.inner(**dict(zip(input_names, inputs))).last_hidden_state

    sample = tokenizer(["an example sentence", "a second, longer example sentence"], padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in [*input_names, "last_hidden_state"]}
    with warnings.catch_warnings(), torch.no_grad():
        # The TorchScript exporter warns about its own deprecation and traced branches; the
        # export is checked against the model afterwards instead.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(transformer.eval()),
            tuple(sample[name] for name in input_names),
            str(path),
            input_names=input_names,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
        )


def verify(directory: Path, texts: Sequence[str], expected: np.ndarray) -> float:
    """Embed ``texts`` with the export and compare with ``expected`` (the model's vectors).

    Returns the largest difference; raises `ExportUnsupported` beyond `EXPORT_TOLERANCE`.
    """
    try:
        got = OnnxEncoder(directory).load().embed(texts)
    except Exception as err:
        raise ExportUnsupported(f"the export cannot run ({type(err).__name__}: {err})") from err
    difference = float(np.abs(got - expected).max()) if len(texts) else 0.0
    if got.shape != expected.shape or difference > EXPORT_TOLERANCE:
        raise ExportUnsupported(f"the export differs from the model by {difference:.2g} (> {EXPORT_TOLERANCE})")
    return difference
