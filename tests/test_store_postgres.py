"""The PostgreSQL + pgvector store (`qa.stores.postgres`), against a real server.

Every test runs on a throw-away PostgreSQL 16 with pgvector (``tests/postgres_server.py``,
from the ``pgserver`` wheel), in a database of its own; nothing fakes the database.
"""

from __future__ import annotations

import threading
import time
import uuid

import numpy as np
import pytest


from postgres_server import start_server

from qa.errors import IndexChanged, IndexCorrupt, IndexMissing, StoreUnavailable
from qa.stores.postgres import (
    CONNECT_TIMEOUT_S,
    DEFAULT_EF_SEARCH,
    HNSW_EF_CONSTRUCTION,
    HNSW_M,
    PostgresStore,
    check_uri,
    describe_uri,
)

DIMENSION = 384

WORDS = (
    "harvest wheat export tariff minister summit bank rate inflation railway port steel coal "
    "election budget drought vaccine hospital school bridge satellite ferry copper nickel"
).split()


def normalised(rng: np.random.Generator, n: int, d: int = DIMENSION) -> np.ndarray:
    vectors = rng.standard_normal((n, d)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def corpus(n_documents: int, chunks_per_document: int, seed: int = 0, tag: str = "") -> tuple[dict, list]:
    """Documents of sentences made of `WORDS` (plus ``tag`` in every sentence), one chunk per sentence."""
    rng = np.random.default_rng(seed)
    documents, chunks = {}, []
    for d in range(n_documents):
        source = f"doc_{d:03d}.txt"
        sentences = [
            " ".join([tag, *rng.choice(WORDS, size=6)]).strip().capitalize() + "."
            for _ in range(chunks_per_document)
        ]
        text = " date 2024-05-01 \r\n\r\nNaïve café — Zürich 🚆\n\n" + "\n".join(sentences) + "\n"
        documents[source] = {
            "text": text, "sha256": f"{d:064x}", "kind": "txt", "date": "2024-05-01",
            "body_start": 0, "page_starts": [], "stated_title": None, "chunks": [len(chunks), chunks_per_document],
        }
        start = text.index(sentences[0])
        for n, sentence in enumerate(sentences):
            start = text.index(sentence, start)
            chunks.append((f"{source}#{n}", source, start, start + len(sentence), sentence))
            start += len(sentence)
    return documents, chunks


def manifest_for(chunks: list) -> dict:
    return {"format_version": 4, "model": "test-model", "chunking": {"max_chars": 600}, "counts": {"chunks": len(chunks)}}


@pytest.fixture
def database(postgres_server):
    """A new, empty database on the session's server: its URI."""
    return postgres_server.create_database(f"t_{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="module")
def built(postgres_server):
    """One database written once and read by several tests: (uri, documents, chunks, vectors)."""
    uri = postgres_server.create_database("shared")
    documents, chunks = corpus(n_documents=40, chunks_per_document=15)
    vectors = normalised(np.random.default_rng(1), len(chunks))
    PostgresStore(uri).write(manifest_for(chunks), chunks, vectors, documents)
    return uri, documents, chunks, vectors


# -- where the database is ------------------------------------------------------------


def test_unix_socket_and_host_port_uris_parse():
    socket_params = check_uri("postgresql://postgres:@/postgres?host=/tmp/pgserver-x")
    assert socket_params["host"] == "/tmp/pgserver-x" and socket_params["dbname"] == "postgres"
    tcp_params = check_uri("postgresql://reader:secret@db.example:5433/news")
    assert (tcp_params["host"], tcp_params["port"], tcp_params["user"]) == ("db.example", "5433", "reader")
    assert describe_uri("postgresql://reader:secret@db.example:5433/news") == "postgresql://reader@db.example:5433/news"
    with pytest.raises(ValueError, match="PostgreSQL URI"):
        PostgresStore("/var/lib/postgresql")


def test_store_reaches_the_server_by_socket_and_by_port(postgres_server, built):
    uri, _documents, chunks, _vectors = built
    database = check_uri(uri)["dbname"]
    for address in (postgres_server.uri(database), postgres_server.uri(database, tcp=True)):
        assert PostgresStore(address).read_manifest()["counts"]["chunks"] == len(chunks)


# -- writing and reading --------------------------------------------------------------


def test_write_then_load_round_trips_chunks_and_documents_exactly(built):
    uri, documents, chunks, _vectors = built
    store = PostgresStore(uri)
    loaded = store.load()
    assert loaded.documents == documents
    assert [(c.node_id, c.source, c.start, c.end) for c in loaded.chunks] == [c[:4] for c in chunks]
    for chunk, (*_, text) in zip(loaded.chunks, chunks):
        assert loaded.documents[chunk.source]["text"][chunk.start : chunk.end] == text
    assert loaded.manifest == {**manifest_for(chunks), "build": loaded.build} == store.read_manifest()
    assert store.build == loaded.build == store.current_build()


def test_write_refuses_a_chunk_that_is_not_its_documents_text(database):
    documents, chunks = corpus(2, 3)
    node_id, source, start, end, text = chunks[0]
    chunks[0] = (node_id, source, start, end, text + "!")
    with pytest.raises(ValueError, match="citations would not match"):
        PostgresStore(database).write(manifest_for(chunks), chunks, normalised(np.random.default_rng(0), 6), documents)
    with pytest.raises(IndexMissing):
        PostgresStore(database).read_manifest()


def test_dense_equals_exact_inner_product_top_k(built):
    uri, _documents, _chunks, vectors = built
    store = PostgresStore(uri)
    store.load()
    rng = np.random.default_rng(7)
    for query in normalised(rng, 5):
        exact = np.argsort(-(vectors @ query), kind="stable")[:10]
        found = store.dense(query, 10)
        assert [row for row, _ in found] == exact.tolist()
        np.testing.assert_allclose([score for _, score in found], (vectors @ query)[exact], atol=1e-5)
    row, score = store.dense(vectors[123], 1)[0]
    assert row == 123 and score == pytest.approx(1.0, abs=1e-5)


def test_dense_returns_more_rows_than_ef_search_when_asked(built):
    uri, _documents, chunks, vectors = built
    store = PostgresStore(uri, ef_search=10)
    store.load()
    assert len(store.dense(vectors[0], 50)) == 50


def test_lexical_ranks_the_chunk_holding_the_query_words_first(database):
    documents, chunks = corpus(10, 8, seed=3)
    source = "doc_004.txt"
    text = documents[source]["text"] + "Marie Curie was born in Warsaw in 1867.\n"
    documents[source]["text"] = text
    start = text.index("Marie")
    chunks.append((f"{source}#curie", source, start, len(text) - 1, text[start:-1]))
    store = PostgresStore(database)
    store.write(manifest_for(chunks), chunks, normalised(np.random.default_rng(0), len(chunks)), documents)
    store.load()
    best_row, best_score = store.lexical("Where was Marie Curie born?", 5)[0]
    assert best_row == len(chunks) - 1 and best_score > 0
    assert store.lexical("?!", 5) == [] and store.lexical("the of and", 5) == []


def test_dense_and_lexical_rank_as_llamaindex_pgvectorstore_does(built):
    """The question-time statements are PGVectorStore's own: the same rows, order and scores."""
    from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode
    from llama_index.vector_stores.postgres import PGVectorStore
    from sqlalchemy.engine import make_url

    uri, _documents, chunks, vectors = built
    store = PostgresStore(uri)
    loaded = store.load()
    # psycopg2, as PGVectorStore expects: its "SET hnsw.ef_search = :param" fails with psycopg 3,
    # which binds parameters on the server.
    url = make_url(uri)
    theirs = PGVectorStore(
        connection_string=url.set(drivername="postgresql+psycopg2"),
        async_connection_string=url.set(drivername="postgresql+psycopg"),  # never used
        schema_name=loaded.build, table_name="chunks",
        hybrid_search=True, embed_dim=DIMENSION, use_jsonb=True, perform_setup=False,
        hnsw_kwargs={"hnsw_ef_search": DEFAULT_EF_SEARCH, "hnsw_m": HNSW_M,
                     "hnsw_ef_construction": HNSW_EF_CONSTRUCTION, "hnsw_dist_method": "vector_cosine_ops"},
    )
    node_ids = [c.node_id for c in loaded.chunks]
    rng = np.random.default_rng(11)
    for query in normalised(rng, 3):
        result = theirs.query(VectorStoreQuery(query_embedding=query.tolist(), similarity_top_k=10))
        ours = store.dense(query, 10)
        assert [node_ids[row] for row, _ in ours] == result.ids
        np.testing.assert_allclose([s for _, s in ours], result.similarities, atol=1e-6)
    for question in ("wheat harvest", "Which minister spoke at the summit?", "copper, nickel & steel exports"):
        result = theirs.query(VectorStoreQuery(query_str=question, mode=VectorStoreQueryMode.TEXT_SEARCH, sparse_top_k=10))
        ours = store.lexical(question, 10)
        assert np.allclose([s for _, s in ours], result.similarities)
        # PGVectorStore leaves the order of equal ranks to the planner; ours orders them by row.
        by_score = lambda pairs: sorted((round(score, 6), node) for node, score in pairs)  # noqa: E731
        assert by_score([(node_ids[row], score) for row, score in ours]) == by_score(zip(result.ids, result.similarities))


# -- one build replacing another ------------------------------------------------------


def test_second_write_switches_over_and_an_old_reader_is_told_to_reload(database):
    old_documents, old_chunks = corpus(6, 5, seed=1, tag="aardvark")
    new_documents, new_chunks = corpus(8, 5, seed=2, tag="zebra")
    rng = np.random.default_rng(0)
    writer, reader = PostgresStore(database), PostgresStore(database)
    first = writer.write(manifest_for(old_chunks), old_chunks, normalised(rng, len(old_chunks)), old_documents)
    old = reader.load()
    assert reader.lexical("aardvark", 3)

    second = writer.write(manifest_for(new_chunks), new_chunks, normalised(rng, len(new_chunks)), new_documents)
    assert second != first and reader.current_build() == second
    with pytest.raises(IndexChanged, match="load it again"):
        reader.lexical("aardvark", 3)
    with pytest.raises(IndexChanged):
        reader.dense(normalised(rng, 1)[0], 3)
    new = reader.load()
    assert new.build == second and new.documents == new_documents and old.build == first
    assert reader.lexical("aardvark", 3) == [] and reader.lexical("zebra", 3)


def test_readers_during_a_rebuild_see_one_build_or_are_told_to_reload(database):
    """Readers query the store while builds replace each other: every answer they get
    matches the build they loaded (never a mix), or they get IndexChanged and reload."""
    rng = np.random.default_rng(5)
    builds = []
    for seed in range(3):
        documents, chunks = corpus(6, 5, seed=seed)
        builds.append((documents, chunks, normalised(rng, len(chunks)), {**manifest_for(chunks), "seed": seed}))
    writer = PostgresStore(database)
    writer.write(builds[0][3], builds[0][1], builds[0][2], builds[0][0])
    stop, seen, problems = threading.Event(), {"answers": 0, "reloads": 0}, []

    def read() -> None:
        store = PostgresStore(database)
        loaded = store.load()
        while not stop.is_set():
            vectors = builds[loaded.manifest["seed"]][2]
            try:
                row = int(rng.integers(len(vectors)))  # the build's own vector finds its own row
                if store.dense(vectors[row], 1)[0][0] != row:
                    problems.append(("dense", loaded.build, row))
                for row, _ in store.lexical("copper", 5):  # which rows hold it differs per build
                    chunk = loaded.chunks[row]
                    if "copper" not in loaded.documents[chunk.source]["text"][chunk.start : chunk.end].lower():
                        problems.append(("lexical", loaded.build, row))
                seen["answers"] += 1
            except IndexChanged:
                loaded = store.load()
                seen["reloads"] += 1

    readers = [threading.Thread(target=read) for _ in range(3)]
    for thread in readers:
        thread.start()
    for documents, chunks, vectors, manifest in builds[1:]:
        writer.write(manifest, chunks, vectors, documents)
    time.sleep(0.2)
    stop.set()
    for thread in readers:
        thread.join(timeout=30)
    assert not problems
    assert seen["answers"] > 0 and seen["reloads"] > 0


def test_two_builders_at_once_run_one_after_the_other(postgres_server, database):
    documents, chunks = corpus(5, 4)
    rng = np.random.default_rng(2)
    vectors = [normalised(rng, len(chunks)) for _ in range(2)]
    results, errors = [], []

    def build(n: int) -> None:
        try:
            results.append(PostgresStore(database).write(manifest_for(chunks), chunks, vectors[n], documents))
        except Exception as err:  # reported by the assertion below
            errors.append(err)

    threads = [threading.Thread(target=build, args=(n,)) for n in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors and len(results) == 2
    current = PostgresStore(database).current_build()
    assert current in results
    schemas = postgres_server.psql_in(check_uri(database)["dbname"], "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'qa_build_%'")
    assert schemas.split() == [current]


# -- nothing built, or something else -------------------------------------------------


def test_an_empty_database_has_no_index(database):
    store = PostgresStore(database)
    with pytest.raises(IndexMissing, match="build it with `qa index`"):
        store.read_manifest()
    with pytest.raises(IndexMissing):
        store.load()
    with pytest.raises(IndexMissing, match="load"):
        store.dense(np.zeros(DIMENSION, dtype=np.float32), 3)


def test_another_namespace_or_store_format_is_detected(postgres_server, built):
    uri, _documents, _chunks, _vectors = built
    with pytest.raises(IndexMissing):
        PostgresStore(uri, namespace="other_corpus").read_manifest()
    database = f"t_{uuid.uuid4().hex[:10]}"
    foreign = postgres_server.create_database(database)
    postgres_server.psql_in(database, """
        CREATE SCHEMA qa;
        CREATE TABLE qa.current (one boolean PRIMARY KEY, store_format integer, build_schema text,
                                 vector_index jsonb, manifest jsonb);
        INSERT INTO qa.current VALUES (true, 99, 'qa_build_x', '{}', '{"format_version": 1}');""")
    with pytest.raises(IndexCorrupt, match="store format 99"):
        PostgresStore(foreign).read_manifest()


# -- the server going away and coming back --------------------------------------------


def test_a_stopped_server_gives_store_unavailable_quickly_then_recovers():
    server = start_server()
    try:
        documents, chunks = corpus(3, 4)
        vectors = normalised(np.random.default_rng(0), len(chunks))
        for uri in (server.socket_uri, server.tcp_uri):
            store = PostgresStore(uri)
            store.write(manifest_for(chunks), chunks, vectors, documents)
            store.load()
            assert store.dense(vectors[2], 1)[0][0] == 2
            server.stop()
            for call in (lambda: store.dense(vectors[2], 1), lambda: store.lexical("wheat", 3), store.read_manifest):
                started = time.perf_counter()
                with pytest.raises(StoreUnavailable, match="not reachable.*try again in a moment"):
                    call()
                assert time.perf_counter() - started < CONNECT_TIMEOUT_S + 1
            server.start()
            assert store.dense(vectors[2], 1)[0][0] == 2  # the same object, reconnected
            assert store.read_manifest()["counts"]["chunks"] == len(chunks)
    finally:
        server.stop()
        server.remove()
