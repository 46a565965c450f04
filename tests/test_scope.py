"""Questions scoped to chosen documents and dates (`qa.scope`): the restriction is applied
inside retrieval, before ranking, in both stores; every way in (ask, CLI, chat API) takes it;
and the scoped eval questions (each answerable seeds question scoped to its gold documents,
and to the documents without them) cite only documents in scope."""

from __future__ import annotations

import json

import numpy as np
import pytest

from qa.cli import main
from qa.errors import BadScope
from qa.evaluation.dataset import load_questions
from qa.evaluation.metrics import exact_match
from qa.scope import Allowed, RowsBySource, Scope
from qa.stores.files import FileSearch, restricted_dense
from qa.topk import top_indices

#: Scoped to its gold documents, a question may lose at most this share of the exact answers
#: it gets unscoped (the reader reads the same passages or better ones; a margin for the
#: answerer's fallbacks, which see other passages).
GOLD_SCOPE_MAY_LOSE = 0.05


def _questions():
    return [q.question for q in load_questions() if not q.history][:40]


def _scopes(engine) -> list[frozenset[str]]:
    """One scope per document, one of every other document, and one of two documents."""
    names = [a.source for a in engine.articles]
    return [frozenset([n]) for n in names] + [frozenset(names[1::2]), frozenset(names[:2])]


# ------------------------------------------------------------------ the scope itself


def test_a_scope_checks_its_dates_and_names(engine):
    assert Scope.of() is None and Scope.of(sources=[], since="", until=None) is None
    for bad in ("2025-13-01", "yesterday", 20250821):
        with pytest.raises(BadScope, match="not a date; write it as YYYY-MM-DD"):
            Scope.of(since=bad)
    with pytest.raises(BadScope, match="is after until"):
        Scope.of(since="2025-09-01", until="2025-08-01")
    with pytest.raises(BadScope, match="'missing.txt' is not a document of this corpus"):
        Scope.of(sources=["missing.txt"]).documents(engine._index.articles)
    with pytest.raises(BadScope, match="No document is in scope"):
        Scope.of(since="2999-01-01").documents(engine._index.articles)


def test_dates_keep_the_documents_dated_within_them_and_leave_undated_ones_out(engine):
    articles = engine._index.articles
    dated = sorted({a.date for a in articles.values() if a.date})
    assert dated, "the corpus states some dates"
    day = dated[-1]
    kept = Scope.of(since=day, until=day).documents(articles)
    assert kept == {s for s, a in articles.items() if a.date == day}
    everything = Scope.of(since="1900-01-01").documents(articles)
    assert everything == {s for s, a in articles.items() if a.date}


# ------------------------------------------------------------------ retrieval, before ranking


def test_scoped_dense_search_ranks_exactly_the_allowed_rows(engine):
    index = engine._index
    vectors = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    search, rows_by_source = FileSearch(index), RowsBySource(index.chunks)
    for question in _questions()[:15]:
        vector = engine._encoder.embed([question])[0]
        for sources in _scopes(engine):
            allowed = rows_by_source.allowed(sources)
            k = min(10, len(allowed.rows))
            scores = vectors[allowed.rows] @ vector
            expected = allowed.rows[np.argsort(-scores, kind="stable")[:k]]
            got = search.dense(vector, 10, allowed=allowed)
            assert len(got) == k
            assert np.allclose([s for _, s in got], np.sort(scores)[::-1][:k], atol=1e-5)
            assert {r for r, _ in got} <= set(allowed.rows.tolist())
            assert [r for r, _ in got][:1] == expected.tolist()[:1]  # the best, and k of the best scores above


def test_scoped_search_over_an_hnsw_graph_is_the_exact_one(engine, monkeypatch):
    import faiss

    from qa.stores import files

    index = engine._index
    vectors = index.faiss_index.reconstruct_n(0, index.faiss_index.ntotal)
    graph = faiss.IndexHNSWFlat(vectors.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    graph.hnsw.efSearch = 256
    graph.add(vectors)
    rows = RowsBySource(index.chunks).allowed(_scopes(engine)[0]).rows
    vector = engine._encoder.embed([_questions()[0]])[0].reshape(1, -1).astype(np.float32)
    exact = restricted_dense(index.faiss_index, vector, 5, rows)
    assert [r for r, _ in restricted_dense(graph, vector, 5, rows)] == [r for r, _ in exact]
    monkeypatch.setattr(files, "EXACT_SCOPED_MAX_ROWS", 0)  # the graph with FAISS's id selector
    assert [r for r, _ in restricted_dense(graph, vector, 5, rows)] == [r for r, _ in exact]


def test_scoped_bm25_ranks_the_allowed_rows_by_the_corpus_scores(engine):
    from qa.lexical import query_terms

    index = engine._index
    search, rows_by_source = FileSearch(index), RowsBySource(index.chunks)
    for question in _questions()[:15]:
        scores = index.bm25.get_scores(query_terms(question))
        for sources in _scopes(engine):
            allowed = rows_by_source.allowed(sources)
            got = search.lexical(question, 10, allowed=allowed)
            expected = allowed.rows[top_indices(scores[allowed.rows], 10)]
            assert [r for r, _ in got] == expected.tolist()


def test_a_scoped_question_gets_a_full_list_of_its_documents_passages(engine):
    """Not what is left of a global top-k: as many passages as the unscoped question gets
    (or every passage of the scope, when it holds fewer)."""
    retriever = engine._retriever
    for question in _questions()[:10]:
        vector = engine._encoder.embed([question])[0]
        unscoped = retriever.retrieve(question, vector)
        for sources in _scopes(engine):
            chunks = retriever.retrieve(question, vector, sources=sources)
            owned = sum(1 for c in engine._index.chunks if c.source in sources)
            assert {c.source for c in chunks} <= sources
            assert len(chunks) == min(len(unscoped), owned), (question, sources)


def test_an_unscoped_question_is_retrieved_as_before(engine):
    """No scope takes the old path: the same rows as a scope of every document."""
    retriever = engine._retriever
    everything = frozenset(engine._index.articles)
    for question in _questions()[:10]:
        vector = engine._encoder.embed([question])[0]
        plain = [(c.node_id, round(c.score, 5)) for c in retriever.retrieve(question, vector)]
        scoped = [(c.node_id, round(c.score, 5)) for c in retriever.retrieve(question, vector, sources=everything)]
        assert plain == scoped


# ------------------------------------------------------------------ the scoped eval questions


def test_scoped_eval_questions_cite_only_documents_in_scope(engine):
    """Each answerable seeds question, scoped to its gold documents and to the corpus without
    them: every citation, related passage and retrieved passage lies in the scope."""
    names = frozenset(engine._index.articles)
    asked = outside = 0
    plain_right = gold_right = 0
    answerable = [q for q in load_questions() if q.answerable and q.evidence]
    for q in answerable:
        gold = frozenset(e.source for e in q.evidence)
        history = q.history or None
        for scope in (gold, names - gold):
            if not scope:
                continue
            answer = engine.ask(q.question, history=history, sources=sorted(scope))
            asked += 1
            cited = {c.source for c in answer.citations + answer.related + answer.passages}
            outside += not cited <= scope
            assert cited <= scope, (q.id, scope, cited)
            if scope == gold:
                gold_right += exact_match(answer.short, q.answers)
                plain_right += exact_match(engine.ask(q.question, history=history).short, q.answers)
    print(
        f"\nscoped eval: {asked} scoped questions from {len(answerable)} answerable ones, {outside} citing "
        f"outside their scope; exact answers scoped to the gold documents {gold_right:.0f} vs unscoped "
        f"{plain_right:.0f}"
    )
    assert asked >= len(answerable)
    assert gold_right >= plain_right - GOLD_SCOPE_MAY_LOSE * len(answerable)


# ------------------------------------------------------------------ every way in


def test_ask_names_the_bad_scope_in_one_line(engine):
    with pytest.raises(BadScope) as err:
        engine.ask("How many?", sources=["no-such-file.pdf"])
    assert "no-such-file.pdf" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(ValueError):  # BadScope is a ValueError, as BadQuestion is
        engine.ask("How many?", until="21/08/2025")


def test_cli_scopes_a_question_and_reports_a_bad_date(settings, capsys, engine):
    source = engine.articles[-1].source
    common = ["--corpus", str(settings.seeds_dir), "--index", str(settings.index_dir)]
    question = _questions()[0]
    assert main(["ask", *common, "--json", "--source", source, question]) == 0
    answer = json.loads(capsys.readouterr().out)
    assert {c["source"] for c in answer["citations"] + answer["related"] + answer["passages"]} == {source}
    assert main(["ask", *common, "--since", "2025-02-30", question]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: since '2025-02-30' is not a date") and err.count("\n") == 1


def test_the_api_takes_a_scope_and_keeps_its_old_call_shape(engine, serve_app):
    from gradio_client import Client
    from gradio_client.exceptions import AppError

    client = Client(serve_app(engine, host="127.0.0.1"), verbose=False)
    question = _questions()[0]
    old = client.predict(question, api_name="/ask")
    plain = engine.ask(question)
    assert (old["short"], [(c["source"], c["start"]) for c in old["citations"]]) == (
        plain.short, [(c.source, c.start) for c in plain.citations]
    )
    source = engine.articles[-1].source
    scoped = client.predict(question, None, [source], api_name="/ask")
    assert {c["source"] for c in scoped["passages"]} == {source}
    by_keyword = client.predict(question, sources=[source], since="1900-01-01", api_name="/ask")
    assert {c["source"] for c in by_keyword["passages"]} <= {source}
    with pytest.raises(AppError) as err:
        client.predict(question, sources=["nothing.txt"], api_name="/ask")
    assert "not a document of this corpus" in str(err.value)


# ------------------------------------------------------------------ the PostgreSQL store


def test_the_database_scopes_with_a_where_and_ranks_as_the_files_do(postgres_server, engine, settings):
    from postgres_server import database_with

    from qa.engine import QAEngine

    uri = database_with(postgres_server, engine._index, "scoped_store")
    served = QAEngine(settings.with_(store=uri), embedder=engine.embedder).load(progress=False)
    files_retriever, db_retriever = engine._retriever, served._retriever
    for question in _questions()[:10]:
        vector = engine._encoder.embed([question])[0]
        for sources in _scopes(engine):
            ours = [(c.node_id, round(c.score, 4)) for c in db_retriever.retrieve(question, vector, sources=sources)]
            theirs = [(c.node_id, round(c.score, 4)) for c in files_retriever.retrieve(question, vector, sources=sources)]
            assert ours == theirs, (question, sources)
    answer = served.ask(_questions()[0], sources=[engine.articles[0].source])
    assert {c.source for c in answer.passages} == {engine.articles[0].source}


def test_allowed_rows_are_sorted_and_belong_to_their_documents(engine):
    index = engine._index
    for sources in _scopes(engine):
        allowed = RowsBySource(index.chunks).allowed(sources)
        assert isinstance(allowed, Allowed)
        assert allowed.rows.tolist() == sorted(r for r, c in enumerate(index.chunks) if c.source in sources)


def test_the_chat_turn_takes_a_scope_and_shows_a_bad_one_as_a_message(engine):
    from qa.ui import chat as chat_turn

    source = engine.articles[0].source
    reply = chat_turn.ask(engine, _questions()[0], [], sources=[source], since=None, until=None)
    assert not reply.failed and {p.source for p in reply.answer.passages} == {source}
    bad = chat_turn.ask(engine, _questions()[0], [], sources=None, since="soon", until=None)
    assert bad.failed and "not a date" in bad.message and bad.sources is None


def test_api_sources_may_be_a_name_a_list_or_its_json():
    from qa.ui.chat import clean_sources

    assert clean_sources(None) is None and clean_sources("") is None and clean_sources([]) is None
    assert clean_sources("a.txt") == ["a.txt"] and clean_sources('["a.txt", "b.pdf"]') == ["a.txt", "b.pdf"]
    for bad in ('["a.txt"', [1, 2], {"a": 1}):
        with pytest.raises(BadScope):
            clean_sources(bad)
