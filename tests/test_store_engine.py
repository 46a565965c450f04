"""The engine served from PostgreSQL (``QA_STORE`` / ``--store``) answers as the default
store does: the seeds' whole eval set through both, against a real server."""

from __future__ import annotations

import json
import shutil

import pytest
from postgres_server import database_with

from qa.cli import main
from qa.engine import QAEngine
from qa.evaluation.dataset import load_questions
from qa.stores.postgres import PostgresStore
from qa.stores.published import publish

#: The done-when of the store: the same short answer and abstention on this share at least.
SAME_ANSWERS_AT_LEAST = 0.95


@pytest.fixture(scope="module")
def database(postgres_server, engine) -> str:
    return database_with(postgres_server, engine._index, "engine_store")


@pytest.fixture(scope="module")
def served(database, settings, engine) -> QAEngine:
    return QAEngine(settings.with_(store=database), embedder=engine.embedder).load(progress=False)


def test_the_eval_set_gets_the_same_answers_from_the_database(engine, served):
    questions = [q.question for q in load_questions()]
    differ, citations = [], 0
    for question in questions:
        ours, theirs = served.ask(question), engine.ask(question)
        for c in ours.citations + ours.related:
            assert served.text_of(c.source)[c.start : c.end] == c.text, (question, c)
            citations += 1
        if (ours.short, ours.abstained) != (theirs.short, theirs.abstained):
            differ.append((question, theirs.short, ours.short))
    assert citations > len(questions)
    assert 1 - len(differ) / len(questions) >= SAME_ANSWERS_AT_LEAST, differ
    # BM25 over the same weights and exact vector search at this size: no difference at all.
    assert differ == []


def test_the_served_engine_holds_no_local_search_index(served):
    assert served._index.faiss_index is None and served._index.bm25 is None
    assert served.index_status.startswith("loaded from the database")
    assert len(served.articles) == 5


def test_qa_index_publishes_and_qa_ask_answers_from_the_database(postgres_server, settings, capsys, tmp_path, engine):
    uri = postgres_server.create_database("cli_store")
    index_dir = tmp_path / "index"
    shutil.copytree(settings.index_dir, index_dir)  # the session engine's stays as it is
    common = ["--corpus", str(settings.seeds_dir), "--index", str(index_dir), "--store", uri]
    assert main(["index", *common]) == 0
    assert "Published it to" in capsys.readouterr().out
    assert main(["ask", *common, "--json", "How many Indians were recruited into the Russian army?"]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert answer["short"].startswith("126") and not answer["abstained"]


def test_a_rebuild_in_the_database_is_picked_up_by_a_running_engine(postgres_server, settings, engine):
    uri = postgres_server.create_database("rebuilt_store")
    with PostgresStore(uri) as store:
        publish(engine._index, store)
        running = QAEngine(settings.with_(store=uri), embedder=engine.embedder).load(progress=False)
        first = running._index.manifest["build"]
        publish(engine._index, store)  # replaces (and drops) the build the engine serves
    answer = running.ask("How many Indians were recruited into the Russian army?")
    assert answer.short.startswith("126")
    assert running._index.manifest["build"] != first


def test_an_unreachable_database_is_one_clear_error(settings, capsys, tmp_path):
    uri = f"postgresql://postgres@/none?host={tmp_path}&port=1"
    assert main(["ask", "--corpus", str(settings.seeds_dir), "--store", uri, "Who met Lavrov?"]) == 1
    error = capsys.readouterr().err
    assert error.startswith("error: ") and "not reachable" in error and "try again" in error
    assert main(["ask", "--store", "mysql://x", "Who met Lavrov?"]) == 1
    assert "PostgreSQL URI" in capsys.readouterr().err
