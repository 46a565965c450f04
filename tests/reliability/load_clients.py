"""Load generator for test_server_load.py: N `gradio_client` clients asking at once.

    python load_clients.py URL[,URL...] CLIENTS < questions.json > results.json

``questions.json`` is a list of ``[question, history]``; every client asks all
of them, starting at a different one, after all clients have connected. With
several URLs (servers), client n talks to the n-th, round robin. The output
holds one ``{"client", "server", "question", "began", "seconds", "reply", "error"}``
per request (``began``: Unix time). It runs in its own process so the clients do not share the server's
interpreter (and its lock) with it, as real users would not.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from gradio_client import Client


def run(urls: list[str], clients: int, questions: list) -> list[dict]:
    start = threading.Barrier(clients)

    def client_run(n: int) -> list[dict]:
        # Plain HTTP on loopback: skipping the CA bundle saves ~60 ms of CPU per request.
        server = n % len(urls)
        client = Client(urls[server], verbose=False, ssl_verify=False)
        start.wait()
        out = []
        for k in range(len(questions)):
            i = (n + k) % len(questions)  # staggered: every question is in flight at once
            question, history = questions[i]
            began, wall = time.perf_counter(), time.time()
            try:
                reply, error = client.predict(question, history, api_name="/ask"), None
            except Exception as err:  # reported to the test, which fails on any
                reply, error = None, f"{type(err).__name__}: {err}"
            out.append({
                "client": n, "server": server, "question": i, "began": wall,
                "seconds": time.perf_counter() - began, "reply": reply, "error": error,
            })
        return out

    with ThreadPoolExecutor(clients) as pool:
        return [r for rows in pool.map(client_run, range(clients)) for r in rows]


if __name__ == "__main__":
    urls, clients = sys.argv[1].split(","), int(sys.argv[2])
    json.dump(run(urls, clients, json.load(sys.stdin)), sys.stdout)
