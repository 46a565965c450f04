"""The index in PostgreSQL with pgvector, shared by any number of chat servers.

Layout in the database (``qa`` is the store's namespace, a constructor argument)::

    qa.current                one row: the manifest, and the build schema it describes (the commit point)
    qa_build_<id>.data_chunks one row per chunk, id = row + 1: text, LlamaIndex node metadata,
                              embedding vector(d) with an HNSW index (vector_cosine_ops),
                              text_search_tsv tsvector('english') with a GIN index
    qa_build_<id>.chunk_spans row -> node id, document, character span (what chunks.json is for FAISS)
    qa_build_<id>.documents   each document's text as cited, and its metadata

**Building** (`PostgresStore.write`) fills a new schema, then switches ``qa.current`` to it
in one transaction, then drops the builds it replaced. A reader therefore sees the old
build or the new one, never half of one. Builders take an advisory lock, so two at once
run one after the other. LlamaIndex's ``PGVectorStore`` creates ``data_chunks`` (its table
layout, full-text column and GIN index) and inserts the rows; the rest is SQL written here,
each piece saying why it is not ``PGVectorStore``'s.

**Questions** are answered with psycopg and two statements equal to the ones
``PGVectorStore.query`` runs (`dense`: its ``DEFAULT`` mode; `lexical`: its ``TEXT_SEARCH``
mode), without importing LlamaIndex or SQLAlchemy (1.6 s and more at start-up);
``tests/test_store_postgres.py`` checks that both rank as ``PGVectorStore`` does.

**Serving.** `load` pins the store to the build that is current then: `dense` and `lexical`
query that build's schema only, so their row numbers always match the chunks `load`
returned. When a newer build replaces it (and drops its schema), they raise
`IndexChanged`; a server then calls `load` again, swaps in what it returns and asks again
(`current_build` tells, with one cheap query, whether that is due). Until the old schema is
dropped, a server keeps answering from it, consistently.

**When the database is down**, every call raises `StoreUnavailable` within
`CONNECT_TIMEOUT_S` (or `STATEMENT_TIMEOUT_MS` for a statement that hangs); the store is not
broken by it: the next call connects afresh, so once the server is back calls work again.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import re
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np

from qa.errors import IndexChanged, IndexCorrupt, IndexMissing, StoreUnavailable

log = logging.getLogger(__name__)

#: Bump when the tables or the meaning of any column change.
STORE_FORMAT_VERSION = 1
DEFAULT_NAMESPACE = "qa"
#: Seconds to wait for a connection to the server: a server that is down answers at once
#: ("connection refused"); an unreachable host is given up after this long.
CONNECT_TIMEOUT_S = 3
#: Server-side limit of one statement while answering; a question's queries take milliseconds.
STATEMENT_TIMEOUT_MS = 5_000
#: The same limit while loading the chunks and documents' texts (tens of MB at 100k chunks).
LOAD_TIMEOUT_MS = 120_000
#: Milliseconds unacknowledged data may wait on a TCP connection before the kernel gives it up,
#: so a query to a host that vanished fails instead of hanging (libpq ``tcp_user_timeout``).
TCP_USER_TIMEOUT_MS = 10_000
#: Connections one store keeps open at most; callers beyond that wait for one.
POOL_SIZE = 8
#: Seconds a caller waits for one of the `POOL_SIZE` connections before `StoreUnavailable`.
POOL_WAIT_S = 10
#: HNSW neighbours per node, and the candidate list while building (pgvector's defaults):
#: 100k 384-d chunks took 198 s to index on a busy 2-core machine (``benchmarks/store_postgres.py``).
HNSW_M = 16
HNSW_EF_CONSTRUCTION = 64
#: HNSW candidate list while searching: the recall/latency knob (pgvector's default, 40, also
#: caps the rows one search returns). At 100k random 384-d vectors a question-like vector
#: (cosine 0.8 to its passage) found its passage in the top 10 in 59 % of searches at 40,
#: 86 % at 100, 96 % at 200 (28 ms p50) and 99.5 % at 400 (45 ms), on a busy 2-core machine.
DEFAULT_EF_SEARCH = 200
#: Memory for building the HNSW graph: pgvector builds it much faster when the graph fits
#: (100k 384-d vectors: their 150 MB plus the neighbour lists).
BUILD_MAINTENANCE_WORK_MEM = "1GB"
#: PostgreSQL's full-text configuration (stemming and stop words) of the text-search column.
TEXT_SEARCH_CONFIG = "english"
#: Per build: each (term, chunk) BM25 weight of the corpus (`PostgresStore.bm25`).
BM25_TABLE = "bm25_weights"
#: Rows LlamaIndex inserts per transaction (each row holds a Python list of floats meanwhile).
INSERT_BATCH = 2_000
#: Times `load` tries again when a newer build replaced the current one while it read.
LOAD_ATTEMPTS = 3
#: The table name LlamaIndex's ``PGVectorStore`` is given; it creates ``data_<name>``.
LLAMAINDEX_TABLE = "chunks"
CHUNKS_TABLE = f"data_{LLAMAINDEX_TABLE}"
#: Classes of this program's advisory locks (the key's first half; the second is the namespace's hash).
_BUILD_LOCK_CLASS = 7_351_001

_NAMESPACE_PATTERN = re.compile(r"[a-z_][a-z0-9_]{0,30}")


@dataclass(frozen=True)
class StoredChunk:
    """A retrievable passage: ``documents[source]["text"][start:end]`` (fields as `qa.index.Chunk`)."""

    node_id: str
    source: str
    start: int
    end: int


@dataclass(frozen=True)
class StoredIndex:
    """What `PostgresStore.load` reads: one build, as of one moment."""

    manifest: dict
    #: The build's schema; `dense` and `lexical` query it.
    build: str
    #: One per row, in row order (row = index in this list).
    chunks: list[StoredChunk]
    #: source -> the document's metadata as written, and its ``text``.
    documents: dict[str, dict]


# -- where the database is ------------------------------------------------------------


def check_uri(uri: str) -> dict:
    """The connection parameters of a PostgreSQL URI; `ValueError` naming it when it is not one.

    Both forms work: ``postgresql://user:password@host:5432/db`` and a Unix socket's, as
    ``pgserver`` writes it: ``postgresql://postgres:@/postgres?host=/path/to/socket/dir``.

    >>> check_uri("postgresql://postgres:@/postgres?host=/tmp/pg")["host"]
    '/tmp/pg'
    """
    import psycopg.conninfo

    if not isinstance(uri, str) or not uri.startswith(("postgresql://", "postgres://")):
        raise ValueError(
            f"Expected a PostgreSQL URI such as postgresql://user@host:5432/db or "
            f"postgresql://user@/db?host=/path/to/socket/dir; got {uri!r}"
        )
    try:
        return psycopg.conninfo.conninfo_to_dict(uri)
    except psycopg.ProgrammingError as err:
        raise ValueError(f"Cannot read the PostgreSQL URI {describe_uri(uri)!r}: {err}") from err


def describe_uri(uri: str) -> str:
    """The URI without its password, for messages."""
    return re.sub(r"^(\w+://[^:/@]*):[^@/]*@", r"\1@", uri)


def connection_parameters(uri: str, statement_timeout_ms: int | None) -> dict:
    """``psycopg.connect`` keyword arguments for ``uri``: its own, plus the timeouts."""
    params = check_uri(uri)
    params.setdefault("connect_timeout", CONNECT_TIMEOUT_S)
    params.setdefault("application_name", "qa-news")
    if not str(params.get("host", "")).startswith("/"):
        params.setdefault("tcp_user_timeout", TCP_USER_TIMEOUT_MS)  # TCP only: libpq ignores it on sockets
    if statement_timeout_ms is not None:
        options = params.get("options", "")
        params["options"] = f"{options} -c statement_timeout={statement_timeout_ms}".strip()
    return params


class _Connections:
    """Up to `POOL_SIZE` connections shared by threads, each opened when first needed.

    Not ``psycopg_pool``: when the server is down, its callers wait out the whole pool
    timeout while it retries in the background; here a call fails as soon as its own
    connection attempt does ("connection refused" is immediate), and every call after
    that tries again itself, so the store recovers without any background thread.
    """

    def __init__(self, uri: str, statement_timeout_ms: int, settings: dict[str, str]) -> None:
        self.uri = uri
        self._params = connection_parameters(uri, statement_timeout_ms)
        self._settings = settings
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._slots = threading.BoundedSemaphore(POOL_SIZE)

    def run(self, work):
        """``work(connection)``'s result. A connection that breaks while reused (the server
        restarted since) is replaced and ``work`` run once more: callers pass read-only work."""
        import psycopg

        if not self._slots.acquire(timeout=POOL_WAIT_S):
            raise StoreUnavailable(f"All {POOL_SIZE} connections to {self._where} are busy; try again in a moment.")
        try:
            for attempt in range(2):
                conn, reused = self._take()
                try:
                    result = work(conn)
                except psycopg.OperationalError as err:
                    if conn.broken:
                        conn.close()
                        # The server went away since these were opened: the idle ones are
                        # broken too, so the retry opens a fresh connection.
                        self.close()
                        if reused and attempt == 0:
                            continue
                        raise StoreUnavailable(self._unreachable(err)) from err
                    self._idle.put(conn)
                    raise StoreUnavailable(
                        f"The database at {self._where} did not answer in time ({err}); try again in a moment."
                    ) from err
                except BaseException:
                    if conn.broken:
                        conn.close()
                    else:
                        self._idle.put(conn)
                    raise
                self._idle.put(conn)
                return result
        finally:
            self._slots.release()

    def connect(self, autocommit: bool = True, statement_timeout_ms: int | None = None):
        """A new connection of the caller's own (not pooled), or `StoreUnavailable`."""
        import psycopg

        params = self._params if statement_timeout_ms is None else connection_parameters(self.uri, statement_timeout_ms)
        try:
            return psycopg.connect(autocommit=autocommit, **params)
        except psycopg.OperationalError as err:
            raise StoreUnavailable(self._unreachable(err)) from err

    def close(self) -> None:
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return

    @property
    def _where(self) -> str:
        return describe_uri(self.uri)

    def _unreachable(self, err: Exception) -> str:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return f"The database at {self._where} is not reachable ({reason}); try again in a moment."

    def _take(self):
        try:
            return self._idle.get_nowait(), True
        except queue.Empty:
            pass
        conn = self.connect()
        try:
            for name, value in self._settings.items():
                conn.execute("SELECT set_config(%s, %s, false)", (name, value))
        except BaseException:
            conn.close()
            raise
        return conn, False


# -- the store ------------------------------------------------------------------------


class PostgresStore:
    """The index in a PostgreSQL database. Cheap to construct: connects only when used.
    Safe to share between threads.

    >>> store = PostgresStore("postgresql://postgres@db:5432/news")   # doctest: +SKIP
    >>> index = store.load()                                          # doctest: +SKIP
    >>> store.dense(query_vector, 8)[0]                               # doctest: +SKIP
    (1532, 0.71)
    """

    def __init__(self, uri: str, namespace: str = DEFAULT_NAMESPACE, ef_search: int = DEFAULT_EF_SEARCH) -> None:
        check_uri(uri)
        if not isinstance(namespace, str) or not _NAMESPACE_PATTERN.fullmatch(namespace):
            raise ValueError(
                f"namespace must be a lower-case SQL name of 1 to 31 letters, digits and '_'; got {namespace!r}"
            )
        if ef_search < 1:
            raise ValueError(f"ef_search must be at least 1; got {ef_search}")
        self.uri = uri
        self.namespace = namespace
        self.ef_search = int(ef_search)
        self._connections = _Connections(
            uri, STATEMENT_TIMEOUT_MS, {"hnsw.ef_search": str(self.ef_search)}
        )
        #: (build schema, {query name: statement}) after `load`; replaced whole, so threads
        #: never see one build's name with another's statements.
        self._pinned: tuple[str, dict] | None = None

    def __repr__(self) -> str:
        return f"PostgresStore({describe_uri(self.uri)!r}, namespace={self.namespace!r})"

    def __enter__(self) -> "PostgresStore":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Closes the idle connections (a later call opens new ones)."""
        self._connections.close()

    @property
    def build(self) -> str | None:
        """The build schema `load` pinned this store to, or None before `load`."""
        return self._pinned[0] if self._pinned else None

    # -- reading ------------------------------------------------------------------------

    def read_manifest(self) -> dict:
        """The current build's manifest (with ``"build"``: its schema). `IndexMissing` when
        nothing was built in this database (or namespace), `IndexCorrupt` when what is there
        was not written by this store format."""
        return self._connections.run(lambda conn: self._read_pointer(conn))[1]

    def current_build(self) -> str:
        """The schema of the current build: when it is not `build`, `load` again."""
        return self._connections.run(lambda conn: self._read_pointer(conn))[0]

    def load(self) -> StoredIndex:
        """Reads the current build's chunks and documents, and pins `dense` and `lexical` to it."""
        import psycopg

        for attempt in range(LOAD_ATTEMPTS):
            try:
                loaded = self._connections.run(self._load_current)
            except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName, psycopg.InternalError):
                # (InternalError: "could not open relation", for a lock that waited for the drop)
                log.info("A newer build replaced the current one while it was read; reading again")
                continue
            self._pin(loaded.build)
            return loaded
        raise IndexChanged(
            f"The index in {self._where} was replaced {LOAD_ATTEMPTS} times while being read; try again."
        )

    def dense(self, vector, k: int, sources: Sequence[str] | None = None) -> list[tuple[int, float]]:
        """The ``k`` rows whose vectors are nearest ``vector`` (cosine: the inner product of
        normalised vectors), best first, as (row, score). HNSW search: approximate, see
        `DEFAULT_EF_SEARCH`. The statement is ``PGVectorStore``'s ``DEFAULT``-mode query.

        With ``sources``, only those documents' chunks (a ``WHERE`` on the document), scored
        exactly: an HNSW scan filtered afterwards would return fewer than ``k`` rows, or
        none, for a small scope."""
        vector = np.asarray(vector, dtype=np.float32).reshape(-1)
        literal = "[" + ",".join(f"{x:.9g}" for x in vector.tolist()) + "]"
        if k < 1:
            return []
        if sources is not None:
            rows = self._query("dense_in", (literal, list(sources), k), settings={"enable_indexscan": "off"})
            return [(int(row), 1.0 - float(distance)) for row, distance in rows]
        if k <= self.ef_search:
            rows = self._query("dense", (literal, k))
        else:  # an HNSW search returns at most ef_search rows: widen it for this one
            rows = self._query("dense", (literal, k), settings={"hnsw.ef_search": str(k)})
        return [(int(row), 1.0 - float(distance)) for row, distance in rows]

    def lexical(self, query: str, k: int) -> list[tuple[int, float]]:
        """Up to ``k`` rows holding any of ``query``'s words (stemmed, stop words left out),
        best first, as (row, PostgreSQL ``ts_rank``); ties by row.

        ``ts_rank`` is not BM25: it counts how often the query's words occur in a chunk
        (weighted by nothing the corpus knows), so a common word counts as much as a rare
        one (no IDF), and a long chunk is not discounted (no length normalisation); BM25
        weighs rare words up and saturates repeated ones. The statement is
        ``PGVectorStore``'s ``TEXT_SEARCH``-mode query, ties ordered by row.
        """
        words = tsquery_words(query)
        if not words or k < 1:
            return []
        return [(int(row), float(rank)) for row, rank in self._query("lexical", (words, k))]

    def bm25(self, terms: Sequence[str], k: int, sources: Sequence[str] | None = None) -> list[tuple[int, float]]:
        """Up to ``k`` rows holding any of ``terms`` (`qa.lexical.query_terms`), best first by
        their BM25 score, the very weights of the index folder's bm25s matrix; ties by row.
        With ``sources``, only those documents' rows (a ``WHERE`` on the document)."""
        if not terms or k < 1:
            return []
        if sources is not None:
            found = self._query("bm25_in", (list(terms), list(sources), k))
        else:
            found = self._query("bm25", (list(terms), k))
        return [(int(row), float(score)) for row, score in found]

    # -- writing ------------------------------------------------------------------------

    def write(
        self,
        manifest: Mapping,
        chunks: Sequence[Sequence],
        vectors: np.ndarray,
        documents: Mapping[str, Mapping],
        report: Callable[[str], None] | None = None,
        bm25=None,
    ) -> str:
        """Writes a new build and makes it the current one; returns its schema.

        ``chunks`` are (node_id, source, start, end, text) in row order; ``vectors`` one
        L2-normalised float32 row per chunk; ``documents`` source -> {"text": ..., and any
        JSON metadata (sha256, kind, date, ...)}; ``manifest`` any JSON object (its
        ``"build"`` is set to the new schema). Builds of the same namespace run one at a time.
        ``report`` is told each step as it starts. ``bm25``: the corpus's bm25s model
        (`qa.lexical`), whose weights `bm25` then ranks by; without it `bm25` finds nothing.
        """
        say = report or (lambda message: None)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        _check_build_input(chunks, vectors, documents)
        build = f"{self.namespace}_build_{time.strftime('%Y%m%d_%H%M%S')}_{uuid.uuid4().hex[:6]}"
        manifest = {**json.loads(json.dumps(manifest)), "build": build}
        started = time.perf_counter()
        with self._connections.connect(autocommit=True, statement_timeout_ms=0) as conn:
            say("Waiting for any other build of this index to finish")
            conn.execute("SELECT pg_advisory_lock(%s, hashtext(%s))", (_BUILD_LOCK_CLASS, self.namespace))
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
                self._create_pointer_table(conn)
                say(f"Inserting {len(chunks)} chunks into {build} (LlamaIndex PGVectorStore)")
                _insert_chunks_with_llamaindex(conn, self.uri, build, chunks, vectors, documents)
                say(f"Copying the chunks' spans and {len(documents)} documents")
                _write_spans_and_documents(conn, build, chunks, documents)
                if bm25 is not None:
                    say("Copying the BM25 weights")
                    _write_bm25_weights(conn, build, bm25)
                _check_rows(conn, build, len(chunks))
                say(f"Building the HNSW index (m={HNSW_M}, ef_construction={HNSW_EF_CONSTRUCTION})")
                _create_hnsw_index(conn, build)
                conn.execute("ANALYZE {}.{}".format(_ident(build), CHUNKS_TABLE))
                say("Switching to the new build")
                self._switch(conn, build, manifest, vector_index(vectors.shape[1]))
            except BaseException:
                _drop_schema(conn, build)
                raise
            finally:
                if not conn.broken:
                    conn.execute("SELECT pg_advisory_unlock(%s, hashtext(%s))", (_BUILD_LOCK_CLASS, self.namespace))
        log.info("Wrote build %s (%d chunks) in %.1f s", build, len(chunks), time.perf_counter() - started)
        return build

    # -- inside -------------------------------------------------------------------------

    @property
    def _where(self) -> str:
        return f"the database at {describe_uri(self.uri)} (namespace {self.namespace!r})"

    @property
    def _pointer(self) -> str:
        return f"{_ident(self.namespace)}.current"

    def _read_pointer(self, conn) -> tuple[str, dict]:
        import psycopg

        try:
            row = conn.execute(f"SELECT store_format, build_schema, manifest FROM {self._pointer}").fetchone()
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName):
            row = None
        if row is None:
            raise IndexMissing(f"No index in {self._where}; build it with `qa index`.")
        store_format, build, manifest = row
        if store_format != STORE_FORMAT_VERSION or not isinstance(manifest, dict):
            raise IndexCorrupt(
                f"The index in {self._where} was written in store format {store_format!r}, "
                f"not {STORE_FORMAT_VERSION}; rebuild it with `qa index`."
            )
        return build, {**manifest, "build": build}

    def _load_current(self, conn) -> StoredIndex:
        with conn.transaction():
            conn.execute("SELECT set_config('statement_timeout', %s, true)", (str(LOAD_TIMEOUT_MS),))
            build, manifest = self._read_pointer(conn)
            schema = _ident(build)
            # Held to the end of this transaction: a newer build cannot drop these tables
            # while they are read (it waits), and a reader needs only SELECT rights for it.
            conn.execute(f"LOCK TABLE {schema}.chunk_spans, {schema}.documents IN ACCESS SHARE MODE")
            chunks = [
                StoredChunk(node_id, source, start, end)
                for node_id, source, start, end in conn.execute(
                    f"SELECT node_id, source, start_char, end_char FROM {schema}.chunk_spans ORDER BY row_no"
                )
            ]
            documents = {
                source: {**meta, "text": text}
                for source, text, meta in conn.execute(f"SELECT source, text, meta FROM {schema}.documents")
            }
        count = manifest.get("counts", {}).get("chunks") if isinstance(manifest.get("counts"), dict) else None
        if count is not None and count != len(chunks):
            raise IndexCorrupt(
                f"The index in {self._where} holds {len(chunks)} chunks but its manifest says {count}; "
                "rebuild it with `qa index`."
            )
        return StoredIndex(manifest=manifest, build=build, chunks=chunks, documents=documents)

    def _pin(self, build: str) -> None:
        from psycopg import sql

        table = sql.Identifier(build, CHUNKS_TABLE)
        # PGVectorStore._build_query: cosine distance, nearest first, LIMIT k. (Its session
        # also sets ``enable_bitmapscan = off``, which only matters with a WHERE filter.)
        dense = sql.SQL(
            "SELECT id - 1, embedding <=> %s::vector AS distance FROM {} ORDER BY distance LIMIT %s"
        ).format(table)
        # PGVectorStore._build_sparse_query: to_tsquery of the words joined by '|', ts_rank.
        lexical = sql.SQL(
            "SELECT id - 1, ts_rank(text_search_tsv, q) AS rank "
            "FROM {}, to_tsquery({}::regconfig, %s) AS q "
            "WHERE text_search_tsv @@ q ORDER BY rank DESC, id LIMIT %s"
        ).format(table, sql.Literal(TEXT_SEARCH_CONFIG))
        # BM25 as the index folder ranks (see `_write_bm25_weights`): each query term's weight
        # in each chunk, summed (a repeated query term counts again, as in bm25s).
        bm25 = sql.SQL(
            "SELECT w.row_no, sum(w.weight::float8) AS score "
            "FROM unnest(%s::text[]) AS q(term) JOIN {} w ON w.term = q.term "
            "GROUP BY w.row_no ORDER BY score DESC, w.row_no LIMIT %s"
        ).format(sql.Identifier(build, BM25_TABLE))
        # The same two, scoped to chosen documents: a WHERE on each chunk's document.
        spans = sql.Identifier(build, "chunk_spans")
        dense_in = sql.SQL(
            "SELECT d.id - 1, d.embedding <=> %s::vector AS distance FROM {} d "
            "JOIN {} s ON s.row_no = d.id - 1 WHERE s.source = ANY(%s::text[]) "
            "ORDER BY distance, d.id LIMIT %s"
        ).format(table, spans)
        bm25_in = sql.SQL(
            "SELECT w.row_no, sum(w.weight::float8) AS score "
            "FROM unnest(%s::text[]) AS q(term) JOIN {} w ON w.term = q.term "
            "JOIN {} s ON s.row_no = w.row_no WHERE s.source = ANY(%s::text[]) "
            "GROUP BY w.row_no ORDER BY score DESC, w.row_no LIMIT %s"
        ).format(sql.Identifier(build, BM25_TABLE), spans)
        self._pinned = (
            build, {"dense": dense, "lexical": lexical, "bm25": bm25, "dense_in": dense_in, "bm25_in": bm25_in}
        )

    def _query(self, name: str, params: tuple, settings: dict | None = None) -> list[tuple]:
        import psycopg

        if self._pinned is None:
            raise IndexMissing(f"{self!r} has not loaded an index yet; call load() first.")
        build, statements = self._pinned
        statement = statements[name]

        def work(conn):
            if not settings:
                return conn.execute(statement, params).fetchall()
            with conn.transaction():
                for key, value in settings.items():
                    conn.execute("SELECT set_config(%s, %s, true)", (key, value))
                return conn.execute(statement, params).fetchall()

        try:
            return self._connections.run(work)
        except (psycopg.errors.UndefinedTable, psycopg.errors.InvalidSchemaName, psycopg.InternalError) as err:
            # The build's tables went away (or, in a query that waited for the drop, its
            # relation did): a newer build replaced it.
            current = self.current_build()
            if current != build:
                raise IndexChanged(
                    f"The index in {self._where} was rebuilt ({build} is now {current}); load it again."
                ) from err
            raise IndexCorrupt(f"The index build {build} in {self._where} cannot be read ({err}).") from err

    def _create_pointer_table(self, conn) -> None:
        # By hand: PGVectorStore keeps vectors, not a manifest or a switch between builds.
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ident(self.namespace)}")
        conn.execute(
            f"""CREATE TABLE IF NOT EXISTS {self._pointer} (
                one boolean PRIMARY KEY DEFAULT true CHECK (one),
                store_format integer NOT NULL,
                build_schema text NOT NULL,
                vector_index jsonb NOT NULL,
                manifest jsonb NOT NULL,
                switched_at timestamptz NOT NULL DEFAULT now()
            )"""
        )

    def _switch(self, conn, build: str, manifest: dict, index: dict) -> None:
        """Makes ``build`` current (one transaction: the commit point), then drops the builds
        it replaced. A query already running on one of those finishes first; a later one
        gets `IndexChanged`."""
        from psycopg.types.json import Jsonb

        with conn.transaction():
            conn.execute(
                f"""INSERT INTO {self._pointer} (store_format, build_schema, vector_index, manifest)
                    VALUES (%s, %s, %s, %s)
                    ON CONFLICT (one) DO UPDATE SET store_format = excluded.store_format,
                        build_schema = excluded.build_schema, vector_index = excluded.vector_index,
                        manifest = excluded.manifest, switched_at = now()""",
                (STORE_FORMAT_VERSION, build, Jsonb(index), Jsonb(manifest)),
            )
        old = conn.execute(
            "SELECT nspname FROM pg_namespace WHERE starts_with(nspname, %s) AND nspname <> %s",
            (f"{self.namespace}_build_", build),
        ).fetchall()
        for (schema,) in old:
            _drop_schema(conn, schema)


def tsquery_words(query: str) -> str:
    """``query``'s words joined by ``|`` (any of them), as ``PGVectorStore`` cleans a query
    for ``to_tsquery``: punctuation dropped except a period inside a word."""
    return re.sub(r"(?!\b\.\b)\W+", " ", str(query)).strip().replace(" ", "|")


def vector_index(dimension: int) -> dict:
    """How the vectors are indexed (stored beside the manifest)."""
    return {
        "type": "hnsw", "library": "pgvector", "metric": "cosine", "dimension": int(dimension),
        "m": HNSW_M, "ef_construction": HNSW_EF_CONSTRUCTION,
    }


def _ident(name: str) -> str:
    """A schema name this module made (lower-case letters, digits, '_'), checked, for SQL."""
    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise IndexCorrupt(f"Unexpected schema name {name!r} in the index pointer; rebuild with `qa index`.")
    return name


def _check_build_input(chunks, vectors: np.ndarray, documents) -> None:
    if vectors.ndim != 2 or len(vectors) != len(chunks) or len(chunks) == 0:
        raise ValueError(f"Expected one vector per chunk; got {len(chunks)} chunks and vectors of shape {vectors.shape}")
    norms = np.linalg.norm(vectors, axis=1)
    if not np.all(np.abs(norms - 1.0) < 1e-3):
        raise ValueError("Vectors must be L2-normalised (cosine = inner product); normalise them before writing.")
    for node_id, source, start, end, text in chunks:
        document = documents.get(source)
        if document is None:
            raise ValueError(f"Chunk {node_id!r} comes from {source!r}, which is not among the documents.")
        if document["text"][start:end] != text:
            raise ValueError(f"Chunk {node_id!r} is not {source!r}[{start}:{end}]; citations would not match.")
    for source, document in documents.items():
        if "\x00" in document["text"]:
            raise ValueError(f"{source!r} holds a NUL character, which PostgreSQL text cannot; remove it.")


def _insert_chunks_with_llamaindex(conn, uri: str, build: str, chunks, vectors: np.ndarray, documents) -> None:
    """LlamaIndex's ``PGVectorStore`` creates the build's ``data_chunks`` (its layout, with
    the generated tsvector column and its GIN index) and inserts one row per chunk, in
    order, so that ``id - 1`` is the row."""
    import psycopg
    from llama_index.core.schema import TextNode
    from llama_index.vector_stores.postgres import PGVectorStore
    from sqlalchemy import create_engine
    from sqlalchemy.ext.asyncio import create_async_engine

    params = connection_parameters(uri, statement_timeout_ms=None)
    # SQLAlchemy connects through psycopg with the same parameters as the rest of the store.
    engine = create_engine("postgresql+psycopg://", creator=lambda: psycopg.connect(**params))
    # PGVectorStore wants an async engine as well; it is never used here.
    async_engine = create_async_engine(
        "postgresql+psycopg://", async_creator=lambda: psycopg.AsyncConnection.connect(**params)
    )
    store = PGVectorStore(
        engine=engine, async_engine=async_engine, schema_name=build, table_name=LLAMAINDEX_TABLE,
        hybrid_search=True, text_search_config=TEXT_SEARCH_CONFIG, embed_dim=int(vectors.shape[1]),
        use_jsonb=True, initialization_fail_on_error=True,
        # No hnsw_kwargs: PGVectorStore would create the HNSW index before the first row and
        # pgvector would then grow the graph one insert at a time (`_create_hnsw_index`).
    )
    try:
        for first in range(0, len(chunks), INSERT_BATCH):
            nodes = []
            for (node_id, source, start, end, text), vector in zip(
                chunks[first : first + INSERT_BATCH], vectors[first : first + INSERT_BATCH]
            ):
                nodes.append(
                    TextNode(  # as qa.index.make_nodes_from_spans makes them
                        id_=node_id, text=text, start_char_idx=start, end_char_idx=end,
                        metadata={"source": source, "date": documents[source].get("date") or ""},
                        excluded_embed_metadata_keys=["source", "date"],
                        excluded_llm_metadata_keys=["source", "date"],
                        embedding=vector.tolist(),
                    )
                )
            store.add(nodes)
    finally:
        engine.dispose()


def _write_spans_and_documents(conn, build: str, chunks, documents) -> None:
    """By hand: PGVectorStore keeps a chunk's span only inside a JSON string of its node
    metadata, and has no place for the documents' full texts that citations are checked
    against. COPY writes both in seconds at 100k chunks."""
    from psycopg.types.json import Jsonb

    schema = _ident(build)
    with conn.transaction():
        conn.execute(
            f"""CREATE TABLE {schema}.chunk_spans (
                row_no integer PRIMARY KEY, node_id text NOT NULL UNIQUE, source text NOT NULL,
                start_char integer NOT NULL, end_char integer NOT NULL)"""
        )
        conn.execute(
            f"CREATE TABLE {schema}.documents (source text PRIMARY KEY, text text NOT NULL, meta jsonb NOT NULL)"
        )
        with conn.cursor().copy(f"COPY {schema}.chunk_spans FROM STDIN") as copy:
            for row, (node_id, source, start, end, _text) in enumerate(chunks):
                copy.write_row((row, node_id, source, int(start), int(end)))
        with conn.cursor().copy(f"COPY {schema}.documents FROM STDIN") as copy:
            for source, document in documents.items():
                meta = {key: value for key, value in document.items() if key != "text"}
                copy.write_row((source, document["text"], Jsonb(meta)))


def _write_bm25_weights(conn, build: str, bm25) -> None:
    """By hand: PostgreSQL's text search ranks by ``ts_rank`` (how often the words occur; no
    IDF, no length normalisation), and with it 11 % of the seeds' eval questions got another
    answer than from the index folder (BM25). Each (term, chunk) weight of the bm25s matrix
    becomes a row, so a question's BM25 score is a sum over an index lookup per term, in
    the database, and equals the folder's."""
    scores = bm25.scores
    term_of = {column: term for term, column in bm25.vocab_dict.items()}
    indptr, indices, data = scores["indptr"], scores["indices"], scores["data"]
    schema = _ident(build)
    with conn.transaction():
        conn.execute(f"CREATE TABLE {schema}.{BM25_TABLE} (term text NOT NULL, row_no integer NOT NULL, weight real NOT NULL)")
        with conn.cursor().copy(f"COPY {schema}.{BM25_TABLE} FROM STDIN") as copy:
            for column in range(len(indptr) - 1):
                term = term_of[column]
                for k in range(int(indptr[column]), int(indptr[column + 1])):
                    copy.write_row((term, int(indices[k]), float(data[k])))
        conn.execute(f"CREATE INDEX {BM25_TABLE}_term_idx ON {schema}.{BM25_TABLE} (term) INCLUDE (row_no, weight)")


def _check_rows(conn, build: str, count: int) -> None:
    schema = _ident(build)
    mismatched, rows = conn.execute(
        f"""SELECT count(*) FILTER (WHERE d.node_id IS DISTINCT FROM s.node_id), count(*)
            FROM {schema}.{CHUNKS_TABLE} d FULL JOIN {schema}.chunk_spans s ON s.row_no = d.id - 1"""
    ).fetchone()
    if mismatched or rows != count:
        raise RuntimeError(f"LlamaIndex stored the chunks out of order ({mismatched} of {rows} rows differ)")


def _create_hnsw_index(conn, build: str) -> None:
    """By hand, after the rows are in (see `_insert_chunks_with_llamaindex`), with the
    statement ``PGVectorStore._create_hnsw_index`` writes, and the memory and parallel
    workers that let pgvector build the graph in memory on every core."""
    schema = _ident(build)
    with conn.transaction():
        conn.execute("SELECT set_config('maintenance_work_mem', %s, true)", (BUILD_MAINTENANCE_WORK_MEM,))
        workers = str(max(0, (os.cpu_count() or 1) - 1))
        conn.execute("SELECT set_config('max_parallel_maintenance_workers', %s, true)", (workers,))
        conn.execute(
            f"CREATE INDEX {CHUNKS_TABLE}_embedding_idx ON {schema}.{CHUNKS_TABLE} "
            f"USING hnsw (embedding vector_cosine_ops) WITH (m = {HNSW_M}, ef_construction = {HNSW_EF_CONSTRUCTION})"
        )


def _drop_schema(conn, schema: str) -> None:
    import psycopg

    try:
        conn.execute(f"DROP SCHEMA IF EXISTS {_ident(schema)} CASCADE")
    except psycopg.Error as err:  # left for the next build to drop
        log.warning("Could not drop the old index build %s: %s", schema, err)

