"""The answer verifier: does this sentence answer this question with this span?

The reader scores a span from a 192-token window as a whole, and its worst answers are
plausible spans that answer another question: "When will the consulates open?" read as
"two" from a sentence about how many there are, "How many Russians were recruited by the
Indian army?" read as "126" from "126 Indians were recruited by the Russian military".
The verifier, a fine-tuned all-MiniLM-L6-v2 cross-encoder (``models/verifier/``, made by
``training/verifier.py``), reads ``[CLS] question [SEP] span [SEP] sentence [SEP]``
for a few of the best readings at once and gives each a logit: above 0 "this answers it".
It runs on onnxruntime with the ``tokenizers`` library, no torch at question time.

>>> verifier = Verifier(Path("models/verifier")).load()                       # doctest: +SKIP
>>> verifier.score("Who won?", [("Smith", "Smith won the race on Sunday.")])  # doctest: +SKIP
array([4.1], dtype=float32)
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from qa.answering.model_files import ShippedModel, read_manifest
from qa.errors import ModelError
from qa.onnx_session import open_session

MODEL_FILE = "model.onnx"
TOKENIZER_FILE = "tokenizer.json"
CONFIG_FILE = "verifier.json"
#: The verifier.json format this code reads.
FORMAT = 1


class VerifierError(ModelError):
    """The verifier's files are missing, damaged or of another format."""


def second_text(span: str, sentence: str) -> str:
    """The verifier's second segment, exactly as it was trained (`training.verifier`)."""
    return f"{span} [SEP] {sentence}"


class Verifier(ShippedModel):
    """Runs a shipped verifier. Cheap to construct; `load` reads and checks the files."""

    def _load(self) -> None:
        from tokenizers import Tokenizer

        config = read_manifest(self.directory, CONFIG_FILE, FORMAT, VerifierError)
        try:
            tokenizer = Tokenizer.from_file(str(self.directory / TOKENIZER_FILE))
            tokenizer.no_padding()
            tokenizer.enable_truncation(max_length=int(config["max_tokens"]), strategy="only_second")
            # A second copy counts and clips the question: the first truncates pairs only.
            words = Tokenizer.from_file(str(self.directory / TOKENIZER_FILE))
            words.no_padding()
            words.no_truncation()
            session = open_session(self.directory / MODEL_FILE)
        except Exception as err:  # onnxruntime and tokenizers raise their own types
            raise VerifierError(
                f"the verifier in {self.directory} cannot be loaded ({type(err).__name__}: {err})"
            ) from err
        self.config = config
        self._input_names = [i.name for i in session.get_inputs()]
        self._tokenizer = tokenizer
        self._words = words
        self._session = session

    def score(self, question: str, candidates: Sequence[tuple[str, str]]) -> np.ndarray:
        """One logit per (span, sentence) of ``candidates``, read as one batch: above 0, the
        sentence answers ``question`` with that span."""
        self.load()
        if not candidates:
            return np.zeros(0, dtype=np.float32)
        question = self._clip_question(question)
        encodings = self._tokenizer.encode_batch([(question, second_text(s, t)) for s, t in candidates])
        width = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(encodings), width), dtype=np.int64)
        types = np.zeros_like(ids)
        mask = np.zeros_like(ids)
        for row, e in enumerate(encodings):
            n = len(e.ids)
            ids[row, :n], types[row, :n], mask[row, :n] = e.ids, e.type_ids, 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
        [logits] = self._session.run(None, {k: v for k, v in feeds.items() if k in self._input_names})
        return logits.reshape(-1).astype(np.float32)

