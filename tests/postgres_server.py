"""A throw-away PostgreSQL server (with pgvector) for tests, from the ``pgserver`` wheel.

``pgserver`` ships PostgreSQL 16 and pgvector as binaries inside a wheel, so the tests need
no system PostgreSQL and no Docker. Its own ``get_server`` listens on a Unix socket only and
cannot be stopped and restarted on demand, so this module runs the same binaries itself
(``initdb`` then ``pg_ctl``), listening on a Unix socket *and* on a loopback port, which lets
a test stop the server and start it again. As root, PostgreSQL refuses to run; like
``pgserver``, the server then runs as a system user ``pgserver`` (created if missing).

Use the ``postgres_server`` fixture (one server per test session) or ``PostgresServer``
directly for a private one. When the server cannot start, the tests that need it fail
with the reason.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import warnings
from pathlib import Path

import pytest

#: What ``pg_ctl`` may take to start or stop the server.
PG_CTL_TIMEOUT_S = 30
#: The server's own user (a ``pgserver`` server runs as this user when started by root).
SYSTEM_USER_WHEN_ROOT = "pgserver"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """A PostgreSQL server in ``directory`` (created): data in ``data/``, socket in ``run/``.

    >>> server = PostgresServer(tmp_path).start()   # doctest: +SKIP
    >>> server.socket_uri                           # doctest: +SKIP
    'postgresql://postgres:@/postgres?host=/tmp/.../run&port=54321'
    """

    def __init__(self, directory: Path) -> None:
        with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH

        self.directory = Path(directory)
        self.data = self.directory / "data"
        self.socket_dir = self.directory / "run"
        self.log = self.directory / "server.log"
        self.port = _free_port()
        self.bin = POSTGRES_BIN_PATH
        self.user = SYSTEM_USER_WHEN_ROOT if os.geteuid() == 0 else None

    @property
    def socket_uri(self) -> str:
        """The URI through the Unix socket, written the way ``pgserver`` writes it."""
        return self.uri("postgres")

    @property
    def tcp_uri(self) -> str:
        return self.uri("postgres", tcp=True)

    def uri(self, database: str, tcp: bool = False) -> str:
        if tcp:
            return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"
        return f"postgresql://postgres:@/{database}?host={self.socket_dir}&port={self.port}"

    def create_database(self, name: str) -> str:
        """A new, empty database (with the ``vector`` extension); its socket URI."""
        self.psql(f'CREATE DATABASE "{name}"')
        self.psql_in(name, "CREATE EXTENSION IF NOT EXISTS vector")
        return self.uri(name)

    def start(self) -> "PostgresServer":
        if not (self.data / "PG_VERSION").exists():
            self._init()
        self._pg_ctl(
            "-w", "-l", str(self.log),
            "-o", f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} -c fsync=off",
            "start",
        )
        return self

    def stop(self) -> None:
        """Stops at once (``immediate``: open connections are cut, as when a server dies)."""
        self._pg_ctl("-w", "-m", "immediate", "stop")

    def psql(self, sql: str) -> str:
        return self.psql_in("postgres", sql)

    def psql_in(self, database: str, sql: str) -> str:
        return subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.uri(database), "-c", sql],
            check=True, capture_output=True, text=True, timeout=PG_CTL_TIMEOUT_S,
        ).stdout

    def _init(self) -> None:
        for path in (self.directory, self.data, self.socket_dir):
            path.mkdir(parents=True, exist_ok=True)
        if self.user:
            from pgserver.utils import ensure_prefix_permissions, ensure_user_exists

            entry = ensure_user_exists(self.user)
            ensure_prefix_permissions(self.directory)  # the user must reach its own folder
            for path in (self.directory, self.data, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
        self.data.chmod(0o700)
        self._run(
            str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
        )

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), *args)

    def _run(self, *command: str) -> None:
        # pg_ctl start leaves the server holding its stdout: write to a file, not a pipe.
        with open(self.directory / "commands.log", "a") as out:
            subprocess.run(
                list(command), check=True, stdout=out, stderr=subprocess.STDOUT,
                timeout=PG_CTL_TIMEOUT_S, user=self.user,
            )


def start_server(directory: Path) -> PostgresServer:
    """A started server with the ``vector`` extension; the test fails saying why it cannot
    start (pgserver is a test dependency: a database test that skips would prove nothing)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pgserver  # noqa: F401  (the wheel that ships the binaries)
    except ImportError:
        pytest.fail("pgserver is not installed: pip install -e '.[test]'")
    server = PostgresServer(directory)
    try:
        server.start()
        server.psql("CREATE EXTENSION IF NOT EXISTS vector")
    except (OSError, subprocess.SubprocessError) as err:
        log = server.log.read_text(errors="replace")[-2000:] if server.log.exists() else ""
        pytest.fail(f"PostgreSQL (pgserver) cannot start here: {err}\n{log}")
    return server


@pytest.fixture(scope="session")
def postgres_server(tmp_path_factory):
    """One PostgreSQL server for the test session; stopped and removed at the end."""
    directory = tmp_path_factory.mktemp("postgres")
    server = start_server(directory)
    yield server
    try:
        server.stop()
    except subprocess.SubprocessError:
        pass  # already stopped by a test
    shutil.rmtree(directory, ignore_errors=True)


def database_with(server: PostgresServer, index, name: str) -> str:
    """A new database of ``server`` holding ``index`` (a loaded `CorpusIndex`), published as
    `qa index --store` publishes; returns its URI."""
    from qa.stores.postgres import PostgresStore
    from qa.stores.published import publish

    uri = server.create_database(name)
    with PostgresStore(uri) as store:
        publish(index, store)
    return uri
