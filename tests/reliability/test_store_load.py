"""Many chat servers, one database: two `qa chat --store` processes on loopback serving the
seeds from one PostgreSQL, 20 `gradio_client` clients x 25 questions spread over both.

Every reply must equal the single-process answer (an engine reading the same database, in
this process), with no error. Then the same load while the database is restarted: requests
during the outage get the "try again" message, none waits past `REQUEST_BOUND_SECONDS`, and
once the database is back the next load is answered in full, without touching the servers.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from postgres_server import database_with
from reliability_support import answer_key, eval_questions, percentile

from qa.engine import QAEngine
from qa.stores.postgres import CONNECT_TIMEOUT_S, POOL_WAIT_S

SERVERS = 2
CLIENTS = 20
QUESTIONS_PER_CLIENT = 25
#: The most one request may take, whatever the database does: a connection attempt gives up
#: after CONNECT_TIMEOUT_S and a wait for a pooled connection after POOL_WAIT_S; the rest is
#: the server's own queue on 2 cores.
REQUEST_BOUND_SECONDS = CONNECT_TIMEOUT_S + POOL_WAIT_S + 10
#: When the database goes down after the load starts (the 20 clients connect in about a
#: second), and for how long.
OUTAGE_AFTER_SECONDS = 2
OUTAGE_SECONDS = 4
#: After the database is back, the next load (this much later) must be answered in full.
RECOVERY_SECONDS = 1
SERVER_START_TIMEOUT = 120
RUN_TIMEOUT_SECONDS = 600
LOAD_CLIENTS = Path(__file__).with_name("load_clients.py")
TRY_AGAIN = "try again"


@pytest.fixture(scope="module")
def database(postgres_server, engine) -> str:
    return database_with(postgres_server, engine._index, "many_servers")


@pytest.fixture(scope="module")
def questions() -> list[tuple[str, list]]:
    """25 graded questions spread over the set: facts, abstentions, follow-ups with history."""
    picked = eval_questions()[::5][:QUESTIONS_PER_CLIENT]
    assert len(picked) == QUESTIONS_PER_CLIENT and any(q["history"] for q in picked)
    return [(q["question"], q["history"]) for q in picked]


@pytest.fixture(scope="module")
def expected(database, settings, engine, questions) -> list[str]:
    """The single-process answers: an engine of this process on the same database."""
    single = QAEngine(settings.with_(store=database), embedder=engine.embedder).load(progress=False)
    return [answer_key(single.ask(q, history=h or None)) for q, h in questions]


@pytest.fixture(scope="module")
def servers(database, settings):
    """Two `qa chat --store` processes (read-only: the corpus is the database's)."""
    env = {**os.environ, "QA_STORE": database, "QA_INDEX_DIR": str(settings.index_dir),
           "QA_READER_DIR": str(settings.reader_dir)}
    running, urls = [], []
    try:
        for _ in range(SERVERS):
            port = _free_port()
            process = subprocess.Popen(
                [sys.executable, "-m", "qa.cli", "chat", "--port", str(port)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            )
            running.append(process)
            urls.append(f"http://127.0.0.1:{port}/")
        for process in running:
            _wait_until_ready(process)
        yield urls
    finally:
        for process in running:
            process.terminate()
        for process in running:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_until_ready(process: subprocess.Popen) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    lines = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        lines.append(line)
        if line.startswith("Ready: http://127.0.0.1:"):
            threading.Thread(target=process.stdout.read, daemon=True).start()  # keep the pipe drained
            return
    raise AssertionError(f"`qa chat --store` did not start: {''.join(lines)[-2000:]}")


def run_load(urls: list[str], questions) -> list[dict]:
    done = subprocess.run(
        [sys.executable, str(LOAD_CLIENTS), ",".join(urls), str(CLIENTS)],
        input=json.dumps(questions), capture_output=True, text=True, timeout=RUN_TIMEOUT_SECONDS,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(done.stdout)
    assert len(results) == CLIENTS * QUESTIONS_PER_CLIENT
    return results


def test_two_servers_on_one_database_answer_every_client_as_one_process_does(servers, questions, expected, figures):
    began = time.perf_counter()
    results = run_load(servers, questions)
    seconds = time.perf_counter() - began
    errors = [r["error"] for r in results if r["error"]]
    wrong = [questions[r["question"]][0] for r in results if not r["error"] and answer_key(r["reply"]) != expected[r["question"]]]
    latencies = [r["seconds"] for r in results]
    figures["two servers, one database"] = {
        "servers x clients x questions": f"{SERVERS} x {CLIENTS} x {QUESTIONS_PER_CLIENT}",
        "requests per server": [sum(1 for r in results if r["server"] == s) for s in range(SERVERS)],
        "errors": len(errors),
        "wrong answers": len(wrong),
        "p50 ms": round(1000 * percentile(latencies, 0.50)),
        "p95 ms": round(1000 * percentile(latencies, 0.95)),
        "seconds (with client start)": round(seconds, 1),
    }
    assert all(sum(1 for r in results if r["server"] == s) > 0 for s in range(SERVERS))
    assert not errors, f"{len(errors)} requests failed, e.g. {errors[:3]}"
    assert not wrong, f"{len(wrong)} replies differ from the single-process answer, e.g. {wrong[:3]}"


def test_a_database_restart_during_the_load_is_survived(servers, questions, expected, postgres_server, figures):
    outage: dict[str, float] = {}

    def restart_the_database():
        time.sleep(OUTAGE_AFTER_SECONDS)  # the clients have connected and are asking
        outage["down"] = time.time()
        postgres_server.stop()
        time.sleep(OUTAGE_SECONDS)
        postgres_server.start()
        outage["up"] = time.time()

    restarter = threading.Thread(target=restart_the_database)
    restarter.start()
    during = run_load(servers, questions)
    restarter.join()
    time.sleep(RECOVERY_SECONDS)
    after = run_load(servers, questions)  # nothing was done to the servers in between

    failed = [r for r in during if r["error"]]
    unclear = [r["error"] for r in failed if TRY_AGAIN not in r["error"]]
    slowest = max(r["seconds"] for r in during + after)
    wrong = [r for r in during + after if not r["error"] and answer_key(r["reply"]) != expected[r["question"]]]
    figures["database restarted under load"] = {
        "outage seconds": round(outage["up"] - outage["down"], 1),
        "requests during": len(during),
        "answered": len(during) - len(failed),
        "told to try again": len(failed) - len(unclear),
        "other errors": len(unclear),
        "slowest request seconds (bound)": f"{slowest:.1f} ({REQUEST_BOUND_SECONDS})",
        "requests after / answered": f"{len(after)} / {sum(1 for r in after if not r['error'])}",
    }
    assert failed, "the restart was not felt: the load ended before it, or it did not happen"
    assert len(failed) < len(during), "nothing was answered around the restart"
    assert not unclear, f"errors without the 'try again' message: {unclear[:3]}"
    assert slowest <= REQUEST_BOUND_SECONDS
    assert all(not r["error"] for r in after), [r["error"] for r in after if r["error"]][:3]
    assert not wrong, "a reply during or after the restart differs from the single-process answer"
