"""A throw-away PostgreSQL server (with pgvector) for tests, from the ``pgserver`` wheel.

The server itself is `qa.stores.local_postgres.LocalPostgres` (shared with ``make
chat-postgres`` and the store benchmarks): PostgreSQL 16 and pgvector from the wheel, in a
fresh temporary folder, listening on a Unix socket and a loopback port, so a test can stop
it and start it again. As root it runs as the system user ``pgserver`` from a root-owned
copy of the binaries, so it starts wherever the clone lives (``/root/...`` included).

Use the ``postgres_server`` fixture (one server per test session) or `start_server` for a
private one. When the server cannot start, the tests that need it fail with the reason.
"""

from __future__ import annotations

import subprocess

import pytest

from qa.errors import LocalServerError
from qa.stores.local_postgres import LocalPostgres

def start_server() -> LocalPostgres:
    """A started server with the ``vector`` extension; the test fails saying why it cannot
    start (pgserver is a test dependency: a database test that skips would prove nothing)."""
    server = LocalPostgres()
    try:
        server.start()
        server.psql("CREATE EXTENSION IF NOT EXISTS vector")
    except LocalServerError as err:
        server.remove()
        pytest.fail(str(err))
    except subprocess.CalledProcessError as err:
        server.stop()
        server.remove()
        pytest.fail(f"PostgreSQL (pgserver) started but did not answer: {err.stderr}")
    return server


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server for the test session; stopped and removed at the end."""
    server = start_server()
    yield server
    try:
        server.stop()
    except LocalServerError:
        pass  # already stopped by a test
    server.remove()


def database_with(server: LocalPostgres, index, name: str) -> str:
    """A new database of ``server`` holding ``index`` (a loaded `CorpusIndex`), published as
    `qa index --store` publishes; returns its URI."""
    from qa.stores.postgres import PostgresStore
    from qa.stores.published import publish

    uri = server.create_database(name)
    with PostgresStore(uri) as store:
        publish(index, store)
    return uri
