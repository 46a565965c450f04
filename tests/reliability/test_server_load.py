"""The real Gradio app under load: 20 `gradio_client` clients, 25 questions each, at once.

The app runs on a free 127.0.0.1 port and serves the session engine; the
clients run in another process (`load_clients.py`). Every reply must be the
engine's own answer to that question (the dict ``engine.ask(...).to_dict()``
gives), with no error: the queue makes a burst wait its turn. Latency
percentiles are reported, not asserted.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from reliability_support import answer_key, eval_questions, percentile

CLIENTS = 20
QUESTIONS_PER_CLIENT = 25
#: Generous bound on the whole burst (it takes ~12 s on 2 cores).
RUN_TIMEOUT_SECONDS = 300
LOAD_CLIENTS = Path(__file__).with_name("load_clients.py")


@pytest.fixture(scope="module")
def questions() -> list[tuple[str, list]]:
    """25 graded questions spread over the set: facts, abstentions, follow-ups with history."""
    picked = eval_questions()[::5][:QUESTIONS_PER_CLIENT]
    assert len(picked) == QUESTIONS_PER_CLIENT and any(q["history"] for q in picked)
    return [(q["question"], q["history"]) for q in picked]


def test_twenty_clients_at_once_get_every_answer_right_without_errors(engine, serve_app, questions, figures):
    url = serve_app(engine)  # the default host: loopback only
    assert url.startswith("http://127.0.0.1:")
    expected = [answer_key(engine.ask(q, history=h or None)) for q, h in questions]

    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, str(LOAD_CLIENTS), url, str(CLIENTS)],
        input=json.dumps(questions),
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_SECONDS,
    )
    seconds = time.perf_counter() - began
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)

    errors = [(questions[r["question"]][0], r["error"]) for r in results if r["error"]]
    wrong = [questions[r["question"]][0] for r in results if not r["error"] and answer_key(r["reply"]) != expected[r["question"]]]
    latencies = [r["seconds"] for r in results]
    figures["server load"] = {
        "clients x questions": f"{CLIENTS} x {QUESTIONS_PER_CLIENT}",
        "requests": len(results),
        "errors": len(errors),
        "wrong answers": len(wrong),
        "p50 ms": round(1000 * percentile(latencies, 0.50)),
        "p95 ms": round(1000 * percentile(latencies, 0.95)),
        "max ms": round(1000 * max(latencies)),
        "seconds (with client start)": round(seconds, 1),
    }
    assert len(results) == CLIENTS * QUESTIONS_PER_CLIENT
    assert sorted((r["client"], r["question"]) for r in results) == [
        (c, q) for c in range(CLIENTS) for q in range(QUESTIONS_PER_CLIENT)
    ]
    assert not errors, f"{len(errors)} requests failed, e.g. {errors[:3]}"
    assert not wrong, f"{len(wrong)} replies differ from the engine's answer, e.g. {wrong[:3]}"
