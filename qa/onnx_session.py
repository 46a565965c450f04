"""One way to open an ONNX model for question time, shared by the query encoder and the reader."""

from __future__ import annotations

import os
from pathlib import Path

#: Threads for one model's operators. Two cores is the target machine; more than four buys
#: little for batches of a few short windows.
MAX_INTRA_OP_THREADS = 4


def open_session(path: Path, max_threads: int = MAX_INTRA_OP_THREADS):
    """An onnxruntime CPU session for ``path`` (onnxruntime's own exceptions propagate).

    Idle worker threads do not spin: every question runs the encoder and then the reader,
    and the encoder's spinning threads took the cores the reader needed (warm ``ask()`` p50
    134 ms with spinning, 71 ms without, on the seeds' 126 questions, 2 cores).
    """
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = min(os.cpu_count() or 1, max_threads)
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # warnings about unused initialisers are noise here
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
