"""``ask`` from many threads at once gives exactly the answers of a sequential run.

The concurrent run uses a second engine on the session's index (loaded, not
rebuilt), so it starts cold while the threads race on its shared reader session,
tokenizers and retriever.
"""

from __future__ import annotations

import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from reliability_support import answer_key, eval_questions

from qa.engine import QAEngine

THREADS = 4
#: Each answer reads up to five passages (~80 ms on 2 cores): 4 x 50 calls take ~20 s.
QUESTIONS = 50
#: Generous.
RUN_TIMEOUT_SECONDS = 300


def test_four_threads_get_exactly_the_sequential_answers(engine, settings, embedder, check_answer, figures):
    questions = [(q["question"], q["history"] or None) for q in eval_questions()[:QUESTIONS]]
    assert len(questions) == QUESTIONS
    sequential = [answer_key(check_answer(engine.ask(q, history=h))) for q, h in questions]

    cold = QAEngine(settings, embedder=embedder).load(progress=False)
    assert cold.index_status == "loaded"
    start = threading.Barrier(THREADS)

    def worker(seed: int) -> dict[int, str]:
        order = list(range(QUESTIONS))
        random.Random(seed).shuffle(order)  # each thread its own order, the same on every run
        start.wait()
        return {i: answer_key(cold.ask(questions[i][0], history=questions[i][1])) for i in order}

    started = time.perf_counter()
    with ThreadPoolExecutor(THREADS) as pool:
        runs = [f.result(timeout=RUN_TIMEOUT_SECONDS) for f in [pool.submit(worker, t) for t in range(THREADS)]]
    seconds = time.perf_counter() - started

    mismatches = [
        (t, questions[i][0]) for t, run in enumerate(runs) for i in range(QUESTIONS) if run[i] != sequential[i]
    ]
    figures["concurrency"] = {
        "threads x questions": f"{THREADS} x {QUESTIONS}",
        "calls": sum(len(run) for run in runs),
        "mismatches": len(mismatches),
        "seconds": round(seconds, 1),
    }
    assert all(len(run) == QUESTIONS for run in runs)
    assert not mismatches, f"{len(mismatches)} answers differ from the sequential run, e.g. {mismatches[:3]}"
