"""The web chat: rendering helpers, one chat turn, and the running app over HTTP.

Rendering and chat-turn tests build real `Answer`/`Citation` objects on the
real seed files; the server tests launch the real app (the session `engine`)
on a free loopback port and talk to it with `gradio_client`.
"""

from __future__ import annotations

import argparse
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from qa.corpus import load_corpus
from qa.errors import BadQuestion
from qa.results import Answer, Citation
from qa.ui import chat, render

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

RECRUITED_SOURCE = "002_626d0c358e0fb90a.txt"
RECRUITED_SENTENCE = "According to the external affairs ministry, 126 Indians were recruited by the Russian military"


@pytest.fixture(scope="module")
def articles():
    return load_corpus(SEEDS_DIR)


def cite(articles, source: str, passage: str, answer: str | None = None, score: float = 1.0) -> Citation:
    """A real citation of ``passage`` in ``source``, its ``answer`` located for highlighting."""
    text = next(a.text for a in articles if a.source == source)
    start = text.index(passage)
    end = start + len(passage)
    a_start = text.index(answer, start) if answer else None
    a_end = a_start + len(answer) if answer else None
    return Citation(source, start, end, text[start:end], score, a_start, a_end)


def recruited_answer(articles, question: str = "How many Indians were recruited?") -> Answer:
    c = cite(articles, RECRUITED_SOURCE, RECRUITED_SENTENCE, "126")
    return Answer(question, "126 Indians were recruited by the Russian military [1].", "126", [c], False)


@dataclass
class StubArticle:
    source: str
    date: str | None
    title: str
    text: str


class ScriptedEngine:
    """Plumbing stand-in: returns or raises what it is given, records every call."""

    def __init__(self, articles, result):
        self.articles = articles
        self.passage_count = 3
        self.result = result
        self.calls: list[tuple[str, list | None]] = []

    def ask(self, question, history=None):
        self.calls.append((question, history))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


# ---------------------------------------------------------------- rendering


def test_passage_highlights_answer_span_at_its_offsets(articles):
    answer = recruited_answer(articles)
    html = render.sources_html(answer, articles)
    assert "ministry, <mark>126</mark> Indians were recruited" in html
    assert html.count("<mark>") == 1
    assert RECRUITED_SOURCE in html and "2025-08-21" in html


def test_passage_shows_dimmed_context_read_from_the_article(articles):
    c = cite(articles, RECRUITED_SOURCE, "126 Indians were recruited", "126")
    html = render.passage_html(c, next(a for a in articles if a.source == RECRUITED_SOURCE))
    before, cited, after = html.split('<span class="qa-')[1:4]
    assert before.startswith('context">') and "According to the external affairs ministry, " in before
    assert cited.startswith('cited"><mark>126</mark> Indians were recruited')
    assert after.startswith('context">') and "12 were killed" in after
    assert len(after) < render.DEFAULT_CONTEXT_CHARS + 60


def test_passage_without_answer_span_has_no_mark(articles):
    c = cite(articles, RECRUITED_SOURCE, RECRUITED_SENTENCE)
    assert "<mark>" not in render.passage_html(c, None)


def test_passage_of_unknown_article_still_highlights_within_its_own_text(articles):
    c = cite(articles, RECRUITED_SOURCE, RECRUITED_SENTENCE, "126")
    html = render.passage_html(c, None)
    assert "ministry, <mark>126</mark> Indians" in html


def test_script_in_question_is_escaped_everywhere(articles):
    question = "<script>alert('x')</script> How many **Indians**?"
    answer = recruited_answer(articles, question)
    shown = render.user_message(question) + render.sources_html(answer, articles)
    assert "<script>" not in shown
    assert "&lt;script&gt;" in shown
    assert r"\*\*Indians\*\*" in render.user_message(question)  # Markdown shown, not applied


def test_markup_in_article_text_is_escaped():
    text = 'Intro. The <b onclick="x()">deal</b> was worth $5 [sic].'
    article = StubArticle("x.txt", None, "<i>Title</i>", text)
    start = text.index("The <b")
    c = Citation("x.txt", start, len(text), text[start:], 1.0)
    html = render.sources_html(Answer("q", "It was $5 [1].", "$5", [c], False), [article])
    assert "<b " not in html and "<i>" not in html
    assert "&lt;b onclick=&quot;x()&quot;&gt;deal&lt;/b&gt;" in html


def test_answer_message_bolds_short_answer_and_keeps_markers(articles):
    message = render.answer_message(recruited_answer(articles))
    assert message.startswith("**126** Indians were recruited")
    assert "<sup>[1]</sup>" in message


def test_answer_message_states_short_answer_missing_from_text():
    answer = Answer("q", "The deficit was large [1].", "$58.9 billion", [], False)
    assert render.answer_message(answer).startswith("**$58.9 billion**")


def test_answer_message_keeps_bullets_and_bolds_each_figure_once():
    text = "The articles give different figures:\n- $68 billion: about $68 billion [1]\n- $68.7 billion: a record [2]"
    answer = Answer("q", text, "$68 billion", [], False, alternatives=["$68.7 billion"])
    message = render.answer_message(answer)
    assert "\n- **$68 billion**: about $68 billion <sup>[1]</sup>" in message
    assert "\n- **$68.7 billion**: a record" in message
    assert "Other articles" not in message  # the text already names the alternative


def test_abstained_answer_says_articles_dont_say_and_shows_related_not_evidence(articles):
    related = cite(articles, RECRUITED_SOURCE, "two Indian consulates in Kazan and Yekaterinburg")
    answer = Answer("What is the population of Kazan?", "The articles don't say.", None, [], True, related=[related])
    message = render.answer_message(answer)
    panel = render.sources_html(answer, articles)
    assert "The articles don't say." in message
    assert "The articles don't say." in panel
    assert "Related passages (not evidence)" in panel
    assert "consulates in Kazan" in panel and "qa-related" in panel
    assert "<mark>" not in panel and "[1]" not in panel


def test_about_lists_every_article_and_the_passage_count(articles):
    html = render.about_html(articles, 57)
    assert "57 passages" in html
    for a in articles:
        assert a.source in html
    assert "2025-08-21" in html


# ---------------------------------------------------------------- one chat turn


def test_turn_passes_history_and_remembers_plain_answer_text(articles):
    answer = recruited_answer(articles)
    engine = ScriptedEngine(articles, answer)
    history = [{"role": "user", "content": "Who met Lavrov?"}, {"role": "assistant", "content": "Jaishankar [1]."}]
    reply = chat.ask(engine, "How many Indians were recruited?", history)
    assert engine.calls == [("How many Indians were recruited?", history)]
    assert "<mark>126</mark>" in reply.sources
    assert chat.remember(history, " How many Indians were recruited? ", reply)[-2:] == [
        {"role": "user", "content": "How many Indians were recruited?"},
        {"role": "assistant", "content": answer.text},
    ]


def test_known_error_becomes_its_message_and_is_not_remembered(articles):
    engine = ScriptedEngine(articles, BadQuestion("Please type a question <here>."))
    reply = chat.ask(engine, "   ", [])
    assert reply.failed
    assert "Please type a question &lt;here&gt;." in reply.message
    assert chat.remember([], "   ", reply) == []


def test_unexpected_error_is_logged_and_shown_as_something_went_wrong(articles, caplog):
    engine = ScriptedEngine(articles, RuntimeError("index on fire"))
    with caplog.at_level(logging.ERROR, logger="qa.ui.chat"):
        reply = chat.ask(engine, "How many Indians were recruited?")
    assert "Something went wrong" in reply.message
    assert "index on fire" not in reply.message and "Traceback" not in reply.message
    assert "index on fire" in caplog.text  # the traceback stays on the server


def test_api_history_may_be_json_text_and_is_checked():
    msgs = [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]
    assert chat.clean_history('[{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}]') == msgs
    assert chat.clean_history(None) == []
    with pytest.raises(BadQuestion, match="history"):
        chat.clean_history([{"role": "robot", "content": "x"}])
    with pytest.raises(BadQuestion, match="JSON"):
        chat.clean_history("[{")


def test_empty_question_yields_a_friendly_message_from_the_real_engine(engine):
    reply = chat.ask(engine, "   ")
    assert reply.failed
    assert reply.message and "Traceback" not in reply.message


def test_overlong_question_yields_a_friendly_message_from_the_real_engine(engine):
    reply = chat.ask(engine, "Why? " * 1000)
    assert reply.failed
    assert "Something went wrong" not in reply.message


# ---------------------------------------------------------------- the running app


@pytest.fixture(scope="module")
def app_url(engine, serve_app):
    return serve_app(engine, host="127.0.0.1")


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False)


def test_api_answers_a_fact_with_its_citation(client):
    result = client.predict("How many Indians were recruited?", api_name="/ask")
    assert isinstance(result, dict)
    assert "126" in (result["short"] or "") and "126" in result["text"]
    assert not result["abstained"]
    assert RECRUITED_SOURCE in [c["source"] for c in result["citations"]]


def test_api_abstains_on_a_question_the_articles_cannot_answer(client):
    result = client.predict("Who won the 2022 World Cup?", api_name="/ask")
    assert result["abstained"]
    assert result["citations"] == []


def test_api_follow_up_reads_the_history(client):
    first = client.predict("How many Indians were recruited?", api_name="/ask")
    history = [
        {"role": "user", "content": "How many Indians were recruited?"},
        {"role": "assistant", "content": first["text"]},
    ]
    result = client.predict("How many of them were killed?", history, api_name="/ask")
    assert "12" in (result["short"] or "") or "12" in result["text"]
    assert not result["abstained"]


def test_api_empty_question_is_an_error_with_a_message(client):
    from gradio_client.exceptions import AppError

    with pytest.raises(AppError) as err:
        client.predict("  ", api_name="/ask")
    assert str(err.value) and "Traceback" not in str(err.value)


def test_only_the_ask_endpoint_is_public(client):
    endpoints = client.view_api(return_format="dict", print_info=False)["named_endpoints"]
    assert list(endpoints) == ["/ask"]


def test_create_app_builds_the_page_without_serving(engine):
    from qa.app import create_app

    demo = create_app(engine)
    assert demo.title and not demo.is_running


# ---------------------------------------------------------------- the CLI hook


def test_cli_arguments_default_to_loopback_7860():
    from qa.app import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args([])
    assert (args.host, args.port) == ("127.0.0.1", 7860)
    assert parser.parse_args(["--port", "7999"]).port == 7999


def test_run_loads_the_engine_serves_and_prints_ready(engine, monkeypatch, capsys, free_port):
    import gradio as gr

    import qa.engine
    from qa.app import run

    monkeypatch.setattr(qa.engine.QAEngine, "from_settings", classmethod(lambda cls, s: _Loaded(engine)))
    monkeypatch.setattr(gr.Blocks, "block_thread", lambda self: None)  # return instead of serving forever
    assert run(argparse.Namespace(host="127.0.0.1", port=free_port)) == 0
    out = capsys.readouterr().out
    assert f"Ready: http://127.0.0.1:{free_port}" in out
    assert "passages" in out


class _Loaded:
    def __init__(self, engine):
        self.engine = engine

    def load(self):
        return self.engine


def test_sentence_answer_reads_as_one_paragraph_with_its_markers():
    a = Citation("a.txt", 0, 40, "The talks came at a time of\ngrowing strain.", 1.0, 27, 41)
    b = Citation("b.txt", 0, 30, "Tariffs were doubled in August.", 1.0)
    answer = Answer("Why?", f"{a.text} [1] {b.text} [2]", "growing strain", [a, b], False, kind="sentences")
    message = re.sub(r'<a class="qa-marker"[^>]*>(.*?)</a>', r"\1", render.answer_message(answer))  # links: test_viewer.py
    assert "\n" not in message  # the article's line break is for the citation, not the reading
    assert "**growing strain**. <sup>[1]</sup> Tariffs were doubled in August. <sup>[2]</sup>" in message


def test_summary_says_how_many_documents_and_keeps_every_marker():
    cites = [Citation(f"{n}.txt", 0, 10, f"Point {n} was made.", 0.0) for n in range(3)]
    text = "Point 0 was made. [1] [2] Point 2 was made. [3]"
    message = render.answer_message(Answer("Summarize", text, None, cites, False, kind="summary"))
    assert message.startswith("_The main points of 3 documents:_")
    assert message.count("<sup>") == 3


def test_about_shows_the_furniture_left_out_of_each_document(articles):
    html = render.about_html(articles, 57, furniture={articles[0].source: (3, 120)})
    assert "3 pieces of page furniture (120 characters)" in html
