"""One way to open an ONNX model for question time, shared by the query encoder and the reader."""

from __future__ import annotations

import os
from pathlib import Path

from qa.errors import ConfigError

#: Threads for one model's operators. Two cores is the target machine; more than four buys
#: little for batches of a few short windows.
MAX_INTRA_OP_THREADS = 4
#: Sets the threads exactly (e.g. 1 where many server processes share a machine). Answers do not
#: depend on it: `tests/test_invariance.py` asks both suites with 1, 2 and 4.
THREADS_ENV = "QA_ONNX_THREADS"


def session_threads(max_threads: int = MAX_INTRA_OP_THREADS) -> int:
    """``QA_ONNX_THREADS`` when set, else the machine's cores up to ``max_threads``."""
    value = os.environ.get(THREADS_ENV, "").strip()
    if not value:
        return min(os.cpu_count() or 1, max_threads)
    if not value.isdigit() or not 1 <= int(value) <= 256:
        raise ConfigError(f"{THREADS_ENV}={value!r} is not a number of threads; set a whole number from 1 to 256, or unset it")
    return int(value)


def open_session(path: Path, max_threads: int = MAX_INTRA_OP_THREADS):
    """An onnxruntime CPU session for ``path`` (onnxruntime's own exceptions propagate).

    Idle worker threads do not spin: every question runs the encoder and then the reader,
    and the encoder's spinning threads took the cores the reader needed (warm ``ask()`` p50
    134 ms with spinning, 71 ms without, on the seeds' 126 questions, 2 cores).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = session_threads(max_threads)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
