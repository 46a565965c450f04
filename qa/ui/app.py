"""The Gradio page: a chat, the sources of the latest answer, and the corpus.

`create_app(engine)` builds the Blocks without starting anything;
`launch(engine, ...)` serves it. The page only adapts the engine: every
answer comes from ``engine.ask``, the same call the CLI makes.
"""

from __future__ import annotations

import logging

import gradio as gr

from qa.errors import QAError
from qa.ui import chat as chat_turn
from qa.ui import render

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860

TITLE = "Jaishankar in Moscow: ask the news"
SUBTITLE = (
    "Questions about India's External Affairs Minister's August 2025 visit to Moscow, "
    "answered from five news articles, with the exact passages that support each answer."
)

#: Shown on the first screen: a fact, a list, a sum of money, and one the articles can't answer.
EXAMPLE_QUESTIONS = [
    "How many Indians were recruited?",
    "Which sectors could boost Indian exports to Russia?",
    "What was the bilateral trade in 2024-25?",
    "What is the population of Kazan?",
]

#: The empty chat's greeting, above the example questions.
CHAT_PLACEHOLDER = (
    "### Ask about the visit\n\nWho met whom, what was agreed, the numbers. "
    "Every answer cites the passages it comes from. Try one of these:"
)

#: Engine calls from the chat and from the API share one queue.
ENGINE_CONCURRENCY_ID = "engine"
#: Questions answered at once. Two lets the server's own work on one request (~20 ms)
#: overlap with answering another; more only contend for the CPU (500 requests from 20
#: clients on 2 cores: 25 s with one at a time, 18 s with two, 20 s with four).
#: ``engine.ask`` is thread-safe (tests/reliability/test_concurrent_ask.py).
ENGINE_CONCURRENCY = 2
#: Requests that may wait for their turn. A burst of users queues rather than fails
#: (100 waiting questions clear in a few seconds); past that a request is told at once
#: that the queue is full, instead of memory and waiting time growing without bound.
QUEUE_MAX_SIZE = 100

CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto; }
#qa-header h1 { font-size: 1.6rem; margin: 0.2rem 0 0.1rem; }
#qa-header p { margin: 0 0 0.4rem; color: var(--body-text-color-subdued); }
.qa-status { display: inline-flex; align-items: center; gap: 0.45rem; font-size: 0.85rem;
  color: var(--body-text-color-subdued); }
.qa-dot { width: 0.55rem; height: 0.55rem; border-radius: 50%; background: #22a06b;
  box-shadow: 0 0 0 3px rgba(34, 160, 107, 0.18); }
#qa-sources { height: 560px; overflow-y: auto !important; padding: 0.8rem 0.9rem;
  background: var(--block-background-fill); border: 1px solid var(--block-border-color);
  border-radius: var(--block-radius); }
.qa-sources { display: flex; flex-direction: column; gap: 0.7rem; font-size: 0.92rem; }
.qa-question { font-weight: 600; font-size: 0.95rem; }
.qa-heading { margin: 0.2rem 0 0; font-size: 0.8rem; font-weight: 600; text-transform: uppercase;
  letter-spacing: 0.04em; color: var(--body-text-color-subdued); }
.qa-empty { color: var(--body-text-color-subdued); font-style: italic; margin: 0.5rem 0; }
.qa-card { border: 1px solid var(--border-color-primary); border-left: 4px solid #3b82f6;
  border-radius: 8px; padding: 0.6rem 0.8rem; background: var(--background-fill-primary); }
.qa-card.qa-related { border-left-color: #9ca3af; background: var(--background-fill-secondary); }
.qa-meta { display: flex; flex-wrap: wrap; align-items: baseline; gap: 0.5rem; font-size: 0.8rem;
  color: var(--body-text-color-subdued); }
.qa-num { font-weight: 700; color: #2563eb; }
.qa-related .qa-num { color: #6b7280; font-weight: 600; font-style: italic; }
.qa-file { font-family: var(--font-mono); font-size: 0.78rem; }
.qa-title { font-weight: 600; margin: 0.25rem 0; line-height: 1.3; }
.qa-passage { margin: 0.3rem 0 0; line-height: 1.5; white-space: pre-line; }
.qa-context { color: var(--body-text-color-subdued); opacity: 0.7; }
.qa-passage mark { background: #fde68a; color: inherit; padding: 0 0.15em; border-radius: 3px;
  font-weight: 600; }
.qa-banner { border-radius: 8px; padding: 0.55rem 0.8rem; }
.qa-banner-abstain { background: #fef3c7; border: 1px solid #f59e0b; color: #78350f; }
#qa-chat .qa-abstain { display: inline-block; font-weight: 700; color: #92400e; background: #fef3c7;
  border: 1px solid #f59e0b; border-radius: 6px; padding: 0.1em 0.55em; }
#qa-chat .qa-error { color: #b91c1c; }
.qa-about table { width: 100%; border-collapse: collapse; font-size: 0.88rem; border: 0 !important; }
.qa-about th, .qa-about td { text-align: left; padding: 0.3rem 0.5rem; vertical-align: top;
  border: 0 !important; border-bottom: 1px solid var(--border-color-primary) !important; }
.qa-about th { font-weight: 600; color: var(--body-text-color-subdued); }
"""

THEME = gr.themes.Soft(primary_hue="blue", neutral_hue="slate")


def create_app(engine) -> gr.Blocks:
    """The page for ``engine`` (already loaded). Start it with `launch`, or ``.launch(css=CSS, theme=THEME)``."""
    articles = list(engine.articles)

    def ask_api(question: str, history: list[dict] | str | None = None) -> dict:
        """Answer ``question`` from the articles; ``history`` holds earlier turns as
        [{"role": "user" | "assistant", "content": str}, ...] (a list or its JSON) for follow-ups.
        Returns the answer as a dict: text, short, citations, abstained, related, ..."""
        try:
            answer = engine.ask(question, history=chat_turn.clean_history(history) or None)
        except QAError as err:
            raise gr.Error(str(err)) from None
        except Exception:
            log.exception("API ask %r failed", question)
            raise gr.Error(chat_turn.UNEXPECTED_ERROR) from None
        return answer.to_dict()

    def show_question(question: str, chat: list):
        """Put the question in the chat right away and clear the box."""
        if question.strip():
            chat = [*chat, {"role": "user", "content": render.user_message(question)}]
        return "", chat, question

    def show_example(evt: gr.SelectData, chat: list):
        return show_question(evt.value["text"], chat)

    def answer(question: str, chat: list, history: list):
        reply = chat_turn.ask(engine, question, history)
        chat = [*chat, {"role": "assistant", "content": reply.message}]
        sources_panel = gr.skip() if reply.sources is None else reply.sources
        return chat, chat_turn.remember(history, question, reply), sources_panel

    def new_chat():
        return [], [], render.empty_sources_html()

    with gr.Blocks(title=TITLE, analytics_enabled=False) as demo:
        history = gr.State([])  # the engine's view of the conversation (plain text)
        pending = gr.State("")  # the question being answered

        with gr.Column(elem_id="qa-header"):
            gr.HTML(
                f"<h1>{render.escape_html(TITLE)}</h1><p>{render.escape_html(SUBTITLE)}</p>"
                + render.status_html(len(articles), engine.passage_count)
            )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Chat",
                    elem_id="qa-chat",
                    height=560,
                    placeholder=CHAT_PLACEHOLDER,
                    examples=[{"text": q, "display_text": q} for q in EXAMPLE_QUESTIONS],
                    feedback_options=None,
                    group_consecutive_messages=False,  # an error reply stays its own bubble
                    buttons=["copy"],
                    latex_delimiters=[],  # no LaTeX: "$" in news text is money
                )
                with gr.Row():
                    question_box = gr.Textbox(
                        placeholder="Ask a question about the visit...",
                        show_label=False,
                        elem_id="qa-question",
                        submit_btn="Ask",
                        scale=5,
                        autofocus=True,
                    )
                    clear = gr.Button("New chat", variant="secondary", scale=1, min_width=100)
            with gr.Column(scale=2, min_width=320):
                sources = gr.HTML(render.empty_sources_html(), label="Sources", elem_id="qa-sources")
        with gr.Accordion("About this corpus", open=False):
            gr.HTML(render.about_html(articles, engine.passage_count))

        private = {"api_visibility": "private"}
        answering = {"concurrency_id": ENGINE_CONCURRENCY_ID, "show_progress_on": [chatbot]}
        question_box.submit(
            show_question, [question_box, chatbot], [question_box, chatbot, pending], queue=False, **private
        ).then(answer, [pending, chatbot, history], [chatbot, history, sources], **private, **answering)
        chatbot.example_select(
            show_example, [chatbot], [question_box, chatbot, pending], queue=False, **private
        ).then(answer, [pending, chatbot, history], [chatbot, history, sources], **private, **answering)
        clear.click(new_chat, None, [chatbot, history, sources], queue=False, **private)
        chatbot.clear(new_chat, None, [chatbot, history, sources], queue=False, **private)

        gr.api(ask_api, api_name="ask", concurrency_id=ENGINE_CONCURRENCY_ID)
    return demo


def launch(engine, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, **kw) -> gr.Blocks:
    """Serve the page for ``engine`` on ``host:port`` and return the running Blocks.

    Blocks the caller unless ``prevent_thread_lock=True``; then close it with
    ``.close()``. Extra keywords go to ``gr.Blocks.launch``.
    """
    demo = create_app(engine)
    kw.setdefault("css", CSS)
    kw.setdefault("theme", THEME)
    kw.setdefault("footer_links", ["api"])
    kw.setdefault("ssr_mode", False)
    kw.setdefault("run_history", False)
    demo.queue(default_concurrency_limit=ENGINE_CONCURRENCY, max_size=QUEUE_MAX_SIZE).launch(
        server_name=host, server_port=port, share=False, **kw
    )
    return demo
