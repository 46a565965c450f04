"""A throw-away local PostgreSQL 16 with pgvector, from the ``pgserver`` wheel.

``pgserver`` ships the server's binaries inside a wheel, so trying the PostgreSQL store
(``make chat-postgres``), its tests and its benchmarks need no system PostgreSQL and no
Docker. This module runs those binaries itself (``initdb`` then ``pg_ctl``): the server
listens on a Unix socket and on a loopback port, and can be stopped and started again.

**As root.** PostgreSQL refuses to run as root, so the server runs as the system user
``pgserver`` (created if missing, as ``pgserver`` does), and that user must reach both the
binaries and the data. A clone often sits where only root may enter (``/root`` is mode
700), and ``pgserver``'s own ``get_server`` then makes every parent folder of its data and
of the virtual environment readable by everyone (``chmod o+rx``, ``/root`` included). This
module loosens nothing of the user's folders; instead, as root:

- the binaries are copied once per machine and ``pgserver`` build into
  ``BINARIES_HOME/<digest of their bytes>/`` (root's, readable by all, with a manifest), and
  run from there;
- the data and the socket live in a fresh folder under the system's temporary folder,
  owned by ``pgserver`` (mode 700).

Whatever still cannot be reached is named in one `LocalServerError` line with the fix.

>>> server = LocalPostgres().start()          # doctest: +SKIP
>>> server.socket_uri                         # doctest: +SKIP
'postgresql://postgres:@/postgres?host=/tmp/qa-postgres-.../run&port=54321'
>>> server.stop(); server.remove()            # doctest: +SKIP

``python -m qa.stores.local_postgres -- COMMAND ...`` runs COMMAND with ``QA_STORE`` naming
such a server (with the ``vector`` extension), then stops and removes it (``make chat-postgres``).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

from qa.errors import LocalServerError

#: What ``pg_ctl`` and ``initdb`` may take (initdb on a busy 2-core machine: about 3 s).
PG_CTL_TIMEOUT_S = 30
#: The server's own user when started by root (the one ``pgserver`` itself uses).
SERVER_USER_WHEN_ROOT = "pgserver"
#: Where root keeps the copies of the binaries that ``SERVER_USER_WHEN_ROOT`` runs: a
#: root-owned folder every user may enter, which no clone's location can hide.
BINARIES_HOME = Path("/var/lib/qa-pgserver")
#: The file beside each copy of the binaries; bump the version when the layout changes.
BINARIES_MANIFEST = "manifest.json"
BINARIES_FORMAT_VERSION = 1
#: Bytes of digest naming a copy: one copy per distinct set of binaries.
DIGEST_HEX_CHARS = 16


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pgserver_binaries() -> Path:
    """The ``bin`` folder inside the installed ``pgserver`` wheel."""
    try:
        with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset
            warnings.simplefilter("ignore")
            from pgserver._commands import POSTGRES_BIN_PATH
    except ImportError:
        raise LocalServerError(
            "PostgreSQL (pgserver) cannot start: the pgserver package is not installed; "
            "run: pip install -e '.[test]'"
        ) from None
    return Path(POSTGRES_BIN_PATH)


def first_closed_folder(path: Path, uid: int, gids: set[int]) -> Path | None:
    """The first folder on the way to ``path`` (``path`` included) that the user ``uid``
    (in groups ``gids``) may not enter, or None when every one lets it through."""
    path = Path(path).resolve()
    for folder in [*reversed(path.parents), path]:
        mode = folder.stat()
        if mode.st_uid == uid:
            bit = stat.S_IXUSR
        elif mode.st_gid in gids:
            bit = stat.S_IXGRP
        else:
            bit = stat.S_IXOTH
        if not mode.st_mode & bit:
            return folder
    return None


def _tree_digest(folders: list[Path]) -> str:
    """sha256 of every file's relative path and bytes under ``folders`` (0.2 s for the wheel's 34 MB)."""
    digest = hashlib.sha256()
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            if path.is_file() and not path.is_symlink():
                digest.update(str(path.relative_to(folder.parent)).encode())
                digest.update(path.read_bytes())
    return digest.hexdigest()


def _readable_by_all(root: Path) -> None:
    """Folders 755; files gain read (and execute where the owner has it) for everyone."""
    for path in [root, *root.rglob("*")]:
        if path.is_symlink():
            continue
        mode = path.stat().st_mode
        if path.is_dir():
            path.chmod(0o755)
        else:
            extra = stat.S_IRGRP | stat.S_IROTH
            if mode & stat.S_IXUSR:
                extra |= stat.S_IXGRP | stat.S_IXOTH
            path.chmod(stat.S_IMODE(mode) | extra)


def _check_roots_alone(path: Path) -> None:
    """Root runs nothing from a folder another user could have written."""
    for folder in (path.parent, path):
        mode = folder.stat()
        if mode.st_uid != 0 or mode.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise LocalServerError(
                f"PostgreSQL (pgserver) cannot start: {folder} must belong to root and be writable "
                f"by root alone (it holds the binaries the server runs); remove it and try again"
            )


def shared_binaries(source_bin: Path, home: Path = BINARIES_HOME) -> Path:
    """The ``bin`` folder of root's copy of ``pgserver``'s binaries under ``home``, made once.

    The copy keeps the wheel's layout (``pgserver/pginstall`` beside ``pgserver.libs``)
    because the binaries find their libraries through ``$ORIGIN/../../../pgserver.libs``.
    It is built in a staging folder and renamed into place, so a copy interrupted half way
    is never used, and two processes copying at once both end with one whole copy.
    """
    install = source_bin.parent                  # .../site-packages/pgserver/pginstall
    libs = install.parent.parent / "pgserver.libs"
    sources = [install] + ([libs] if libs.is_dir() else [])
    digest = _tree_digest(sources)
    target = home / digest[:DIGEST_HEX_CHARS]
    copied_bin = target / "pgserver" / "pginstall" / "bin"
    if not (target / BINARIES_MANIFEST).is_file():
        try:
            home.mkdir(mode=0o755, parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=home))
        except OSError as err:
            raise LocalServerError(
                f"PostgreSQL (pgserver) cannot start: cannot copy its binaries to {home} ({err.strerror}); "
                f"run once as root where {home} can be created, or run the tests as another user"
            ) from None
        try:
            shutil.copytree(install, staging / "pgserver" / "pginstall", symlinks=True)
            if libs.is_dir():
                shutil.copytree(libs, staging / "pgserver.libs", symlinks=True)
            manifest = {"format_version": BINARIES_FORMAT_VERSION, "sha256": digest, "copied_from": str(install)}
            (staging / BINARIES_MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
            _readable_by_all(staging)
            try:
                staging.rename(target)
            except OSError:
                if not (target / BINARIES_MANIFEST).is_file():  # not another process's whole copy
                    raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    _check_roots_alone(target)
    return copied_bin


class LocalPostgres:
    """A PostgreSQL server in a fresh folder under ``parent`` (default: the system's
    temporary folder): data in ``data/``, socket in ``run/``, log in ``server.log``.

    The constructor only chooses a port; `start` makes the folder (first time), runs
    ``initdb`` (first time) and starts the server; `stop` then `start` restarts it on the
    same data; `remove` deletes the folder.
    """

    def __init__(self, parent: Path | None = None, binaries_home: Path = BINARIES_HOME) -> None:
        self.parent = Path(parent) if parent is not None else None
        self.binaries_home = Path(binaries_home)
        self.port = _free_port()
        self.user = SERVER_USER_WHEN_ROOT if os.geteuid() == 0 else None
        self.directory: Path | None = None
        self.bin: Path | None = None

    @property
    def data(self) -> Path:
        return self._folder() / "data"

    @property
    def socket_dir(self) -> Path:
        return self._folder() / "run"

    @property
    def log(self) -> Path:
        return self._folder() / "server.log"

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

    def start(self) -> "LocalPostgres":
        """Starts the server (making its folder and data the first time); `LocalServerError`
        in one line saying why when it cannot."""
        if self.bin is None:
            self.bin = self._binaries()
        if self.directory is None:
            self.directory = self._make_folder()
        try:
            if not (self.data / "PG_VERSION").exists():
                self._run(
                    str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                    "--auth=trust", "--encoding=UTF8", "--locale=C", "--no-sync",
                )
            self._pg_ctl(
                "-w", "-l", str(self.log),
                "-o", f"-h 127.0.0.1 -p {self.port} -k {self.socket_dir} -c fsync=off",
                "start",
            )
        except (OSError, subprocess.SubprocessError) as err:
            raise LocalServerError(f"PostgreSQL (pgserver) cannot start in {self.directory}: {self._why(err)}") from None
        return self

    def stop(self, mode: str = "immediate") -> None:
        """Stops the server; ``immediate`` (the default) cuts open connections, as when a
        server dies; ``fast`` rolls back open transactions and shuts down cleanly."""
        try:
            self._pg_ctl("-w", "-m", mode, "stop")
        except (OSError, subprocess.SubprocessError) as err:
            raise LocalServerError(f"PostgreSQL (pgserver) in {self.directory} did not stop: {self._why(err)}") from None

    def remove(self) -> None:
        """Deletes the server's folder (stop it first)."""
        if self.directory is not None:
            shutil.rmtree(self.directory, ignore_errors=True)
            self.directory = None

    def psql(self, sql: str) -> str:
        return self.psql_in("postgres", sql)

    def psql_in(self, database: str, sql: str) -> str:
        return subprocess.run(
            [str(self.bin / "psql"), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", self.uri(database), "-c", sql],
            check=True, capture_output=True, text=True, timeout=PG_CTL_TIMEOUT_S,
        ).stdout

    def create_database(self, name: str) -> str:
        """A new, empty database (with the ``vector`` extension); its socket URI."""
        self.psql(f'CREATE DATABASE "{name}"')
        self.psql_in(name, "CREATE EXTENSION IF NOT EXISTS vector")
        return self.uri(name)

    # -- where the server's files live ---------------------------------------------------

    def _folder(self) -> Path:
        if self.directory is None:
            raise RuntimeError("LocalPostgres: call start() first")
        return self.directory

    def _server_user(self):
        from pgserver.utils import ensure_user_exists

        return ensure_user_exists(self.user)

    def _binaries(self) -> Path:
        source = _pgserver_binaries()
        if self.user is None:
            return source  # the binaries run as the user who installed them
        return shared_binaries(source, self.binaries_home)

    def _make_folder(self) -> Path:
        parent = self.parent if self.parent is not None else Path(tempfile.gettempdir())
        owner = None
        if self.user is not None:
            owner = self._server_user()
            closed = first_closed_folder(parent, owner.pw_uid, set(os.getgrouplist(self.user, owner.pw_gid)))
            if closed is not None:
                raise LocalServerError(
                    f"PostgreSQL (pgserver) cannot start: its server user {self.user!r} (PostgreSQL "
                    f"does not run as root) cannot enter {closed} (mode {stat.S_IMODE(closed.stat().st_mode):o}) "
                    f"to keep its data under {parent}; set TMPDIR to a folder every user may enter, such as /tmp"
                )
        folder = Path(tempfile.mkdtemp(prefix="qa-postgres-", dir=parent))
        for path in (folder / "data", folder / "run"):
            path.mkdir(mode=0o700)
        if owner is not None:
            for path in (folder, folder / "data", folder / "run"):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        return folder

    # -- running the binaries -------------------------------------------------------------

    def _pg_ctl(self, *args: str) -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), *args)

    def _run(self, *command: str) -> None:
        # pg_ctl start leaves the server holding its stdout: write to a file, not a pipe.
        with open(self._folder() / "commands.log", "a") as out:
            subprocess.run(
                list(command), check=True, stdout=out, stderr=subprocess.STDOUT,
                timeout=PG_CTL_TIMEOUT_S, user=self.user,
            )

    def _why(self, err: Exception) -> str:
        """The error, and the folder in the way or the last line the server or its tools logged."""
        if isinstance(err, PermissionError) and err.filename and self.user is not None:
            owner = self._server_user()
            closed = first_closed_folder(Path(err.filename).parent, owner.pw_uid,
                                         set(os.getgrouplist(self.user, owner.pw_gid)))
            if closed is not None:
                return (f"its server user {self.user!r} cannot enter {closed} "
                        f"(mode {stat.S_IMODE(closed.stat().st_mode):o}) to run {err.filename}")
        lines = []
        for log in (self._folder() / "commands.log", self._folder() / "server.log"):
            if log.exists():
                lines += [line for line in log.read_text(errors="replace").splitlines() if line.strip()]
        last = f"; last logged: {lines[-1].strip()}" if lines else ""
        return f"{err}{last}"


def main(argv: list[str] | None = None) -> int:
    """``python -m qa.stores.local_postgres -- COMMAND ...``: COMMAND with ``QA_STORE`` set to
    a throw-away server, stopped and removed when COMMAND ends (or on Ctrl-C)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    command = argv[argv.index("--") + 1:] if "--" in argv else argv
    if not command:
        print("usage: python -m qa.stores.local_postgres -- COMMAND [ARG ...]", file=sys.stderr)
        return 2
    # `kill` as well as Ctrl-C: leave through `finally`, so the server never outlives the command.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    server, child = LocalPostgres(), None
    try:
        server.start()
        server.psql("CREATE EXTENSION IF NOT EXISTS vector")
        print(f"PostgreSQL: {server.socket_uri} (stopped and removed when this ends)", flush=True)
        child = subprocess.Popen(command, env={**os.environ, "QA_STORE": server.socket_uri})
        try:
            code = child.wait()
        except KeyboardInterrupt:  # Ctrl-C reached the child too: let it finish its own way
            code = child.wait()
        return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except LocalServerError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as err:
        print(f"error: PostgreSQL (pgserver) started but did not answer: {err.stderr.strip() or err}", file=sys.stderr)
        return 1
    finally:
        if child is not None and child.poll() is None:  # this process alone was told to stop
            child.terminate()
            child.wait()
        if server.directory is not None:
            try:
                server.stop(mode="fast")
            except LocalServerError:
                pass  # it had stopped already (Ctrl-C reaches the server too when it shares the terminal)
            server.remove()

if __name__ == "__main__":
    sys.exit(main())
