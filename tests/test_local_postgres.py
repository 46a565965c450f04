"""The throw-away PostgreSQL (`qa.stores.local_postgres`): it starts wherever the clone lives.

As root the server runs as the system user ``pgserver``, which cannot enter a folder only
root may enter (``/root`` is mode 700). The main test puts a copy of the package and of the
``pgserver`` wheel (binaries included) inside such a folder, as a clone with its own
``.venv`` there would be, and starts a server from it in a new process.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import pytest

from qa.errors import LocalServerError
from qa.stores.local_postgres import LocalPostgres, first_closed_folder

ROOT = Path(__file__).resolve().parent.parent
#: A server start (initdb included), a write through LlamaIndex and a stop take about 15 s
#: on the busy 2-core machine; the bound leaves room for a slower one.
ROUND_TRIP_TIMEOUT_S = 180

as_root = pytest.mark.skipif(
    os.geteuid() != 0, reason="only root's server runs as another user (pgserver); run the tests as root to check it"
)

ROUND_TRIP = """
import json, sys
import numpy as np
import pgserver
sys.path.insert(0, "tests")
from test_store_postgres import corpus, manifest_for, normalised
from qa.stores.local_postgres import LocalPostgres
from qa.stores.postgres import PostgresStore

server = LocalPostgres()
try:
    server.start()
    uri = server.create_database("private_clone")
    documents, chunks = corpus(4, 5)
    vectors = normalised(np.random.default_rng(1), len(chunks))
    with PostgresStore(uri) as store:
        store.write(manifest_for(chunks), chunks, vectors, documents)
        store.load()
        found = [int(store.dense(vectors[row], 1)[0][0]) for row in range(len(chunks))]
    print(json.dumps({"pgserver": pgserver.__file__, "bin": str(server.bin),
                      "folder": str(server.directory), "found": found}))
finally:
    try:
        server.stop()
    finally:
        server.remove()
"""


def _modes(path: Path) -> dict[str, int]:
    return {str(folder): stat.S_IMODE(folder.stat().st_mode) for folder in [path, *path.parents]}


@pytest.fixture
def private_folder():
    """A folder only its owner may enter (mode 700), in the system's temporary folder (open
    to all, unlike pytest's own): the one thing in the server user's way, as ``/root`` is."""
    folder = Path(tempfile.mkdtemp(prefix="qa-test-private-"))
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    yield folder
    shutil.rmtree(folder)


def _private_clone(private: Path) -> Path:
    """``private/clone`` holding the package, the tests and a ``.venv/site`` with a copy
    of the ``pgserver`` wheel (its binaries and libraries)."""
    with warnings.catch_warnings():  # platformdirs warns that XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        import pgserver

    clone = private / "clone"
    ignore = shutil.ignore_patterns("__pycache__")
    for folder in ("qa", "tests"):
        shutil.copytree(ROOT / folder, clone / folder, ignore=ignore)
    wheel = Path(pgserver.__file__).resolve().parent
    for folder in (wheel, wheel.parent / "pgserver.libs"):
        if folder.is_dir():
            shutil.copytree(folder, clone / ".venv" / "site" / folder.name, ignore=ignore, symlinks=True)
    return clone


@as_root
def test_as_root_a_clone_in_a_private_folder_starts_the_server_and_round_trips(private_folder):
    clone = _private_clone(private_folder)
    before = _modes(clone)
    env = {**os.environ, "PYTHONPATH": f"{clone / '.venv' / 'site'}{os.pathsep}{clone}"}
    run = subprocess.run([sys.executable, "-c", ROUND_TRIP], cwd=clone, env=env, capture_output=True,
                         text=True, timeout=ROUND_TRIP_TIMEOUT_S)
    assert run.returncode == 0, run.stderr[-3000:]
    result = json.loads(run.stdout.strip().splitlines()[-1])

    assert Path(result["pgserver"]).is_relative_to(clone)  # the wheel was the private copy...
    assert first_closed_folder(clone, 65534, {65534}) == private_folder  # ...which others cannot reach
    assert not Path(result["bin"]).is_relative_to(private_folder)  # the server ran root's shared copy
    assert result["found"] == list(range(len(result["found"])))  # every vector finds its own row
    assert not Path(result["folder"]).exists()  # removed
    assert _modes(clone) == before  # nothing loosened on the way to the clone


@as_root
def test_as_root_a_data_folder_the_server_user_cannot_enter_is_named_in_one_line(private_folder):
    private = private_folder
    server = LocalPostgres(parent=private)
    with pytest.raises(LocalServerError) as caught:
        server.start()
    message = str(caught.value)
    assert "\n" not in message
    assert f"cannot enter {private} (mode 700)" in message and "'pgserver'" in message and "TMPDIR" in message
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert list(private.iterdir()) == []


def test_the_first_folder_a_user_cannot_enter_is_found():
    other = os.geteuid() + 1  # a user who owns nothing here, in no group that does
    base = Path(tempfile.mkdtemp(prefix="qa-test-folders-"))  # pytest's own folders are private
    try:
        base.chmod(0o755)
        closed = base / "closed"
        inner = closed / "inner"
        inner.mkdir(parents=True)
        closed.chmod(0o700)
        assert first_closed_folder(base, other, {other}) is None, f"{tempfile.gettempdir()} is closed to others"
        assert first_closed_folder(inner, other, {other}) == closed
        assert first_closed_folder(closed, other, {other}) == closed  # the folder itself counts
        assert first_closed_folder(inner, os.geteuid(), set()) is None  # its owner goes through
        closed.chmod(0o701)  # entering without listing is enough
        assert first_closed_folder(inner, other, {other}) is None
        closed.chmod(0o710)  # through the folder's group only
        assert first_closed_folder(inner, other, {other}) == closed
        assert first_closed_folder(inner, other, {closed.stat().st_gid}) is None
    finally:
        shutil.rmtree(base)


def test_a_command_runs_with_qa_store_naming_a_fresh_server_removed_afterwards(tmp_path):
    """``python -m qa.stores.local_postgres -- COMMAND`` (``make chat-postgres``)."""
    probe = (
        "import os, sys, psycopg\n"
        "from qa.stores.postgres import check_uri\n"
        "with psycopg.connect(os.environ['QA_STORE']) as c:\n"
        "    print(c.execute(\"SELECT extname FROM pg_extension WHERE extname = 'vector'\").fetchone()[0])\n"
        "print(check_uri(os.environ['QA_STORE'])['host'])\n"
        "sys.exit(3)\n"
    )
    run = subprocess.run(
        [sys.executable, "-m", "qa.stores.local_postgres", "--", sys.executable, "-c", probe],
        cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
        timeout=ROUND_TRIP_TIMEOUT_S,
    )
    assert run.returncode == 3, run.stderr[-3000:]  # the command's own exit status
    announced, extension, socket_dir = run.stdout.strip().splitlines()
    assert announced.startswith("PostgreSQL: postgresql://")
    assert extension == "vector"
    assert not Path(socket_dir).parent.exists()  # the server's folder is gone
