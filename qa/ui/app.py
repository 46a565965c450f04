"""The Gradio page: a chat, the sources of the latest answer, and the corpus's documents
(with "Add documents" and "Remove").

`create_app(engine)` builds the Blocks without starting anything;
`launch(engine, ...)` serves it. The page only adapts the engine: every
answer comes from ``engine.ask``, the same call the CLI makes. What the page says
about the corpus (title, description, example questions) comes from the corpus
folder (`qa.corpus.description`), never from code.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import gradio as gr

from qa.errors import QAError
from qa.index.progress import EmbeddingProgress
from qa.ui import chat as chat_turn
from qa.ui import render
from qa.ui.viewer import SourceViewer

log = logging.getLogger(__name__)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860

#: The empty chat's greeting, above the example questions (if the corpus gives any).
CHAT_GREETING = "### Ask about these documents\n\nEvery answer cites the passages it comes from."
EXAMPLES_INVITATION = " Try one of these:"

#: Uploads (the "Add documents" control): types, and the largest file Gradio accepts (the
#: PDF limit; each format's own limit is checked when the file is read).
UPLOAD_TYPES = [".txt", ".md", ".html", ".htm", ".pdf", ".docx", ".csv", ".xlsx"]
UPLOAD_MAX_BYTES = 20_000_000
#: Changes to the corpus run one at a time, in their own queue: questions keep flowing.
CORPUS_CONCURRENCY_ID = "corpus"
#: How often the progress line is refreshed while indexing runs.
REINDEX_POLL_SECONDS = 0.25

#: How often a page of ``qa chat --watch`` looks whether the watched folder's documents changed.
WATCH_POLL_SECONDS = 2.0

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
a.qa-open { color: inherit; text-decoration: underline dotted; text-underline-offset: 2px; }
a.qa-open:hover { color: #2563eb; text-decoration-style: solid; }
#qa-chat a.qa-marker { text-decoration: none; }
.qa-ocr { font-family: var(--font); font-size: 0.75rem; opacity: 0.8; }
.qa-ocr-low { color: #b45309; opacity: 1; font-weight: 600; }
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


def create_app(engine, *, allow_changes: bool = True, watching: bool = False) -> gr.Blocks:
    """The page for ``engine`` (already loaded). Start it with `launch`, or ``.launch(css=CSS, theme=THEME)``.

    ``allow_changes`` shows the "Add documents" and "Remove" controls, which write into
    the corpus folder (removed files are moved to its ``.removed/`` folder, never deleted).
    ``watching`` (``qa chat --watch``): the corpus changes by itself, so the page checks every
    `WATCH_POLL_SECONDS` and shows the documents anew when they changed.
    """
    from qa.corpus import CorpusFolder
    from qa.corpus.description import describe
    from qa.corpus.formats import MAX_BYTES

    folder = CorpusFolder(engine.settings.seeds_dir)
    about = describe(folder.root, engine.articles)
    greeting = CHAT_GREETING + (EXAMPLES_INVITATION if about.examples else "")

    def header_html() -> str:
        about = describe(folder.root, engine.articles)  # the defaults count the documents
        return (
            f"<h1>{render.escape_html(about.title)}</h1><p>{render.escape_html(about.description)}</p>"
            + render.status_html(len(engine.articles), engine.passage_count)
        )

    def documents_html() -> str:
        return render.about_html(engine.articles, engine.passage_count, engine.skipped, engine.furniture_dropped)

    def document_choices() -> list[str]:
        return [a.source for a in engine.articles]

    def ask_api(
        question: str, history: list[dict] | str | None = None, sources: list[str] | str | None = None,
        since: str | None = None, until: str | None = None,
    ) -> dict:
        """Answer ``question`` from the documents; ``history`` holds earlier turns as
        [{"role": "user" | "assistant", "content": str}, ...] (a list or its JSON) for follow-ups.
        ``sources`` (document names, as citations give them), ``since`` and ``until``
        (YYYY-MM-DD, inclusive) answer from those documents only.
        Returns the answer as a dict: text, short, citations, abstained, related, ..."""
        try:
            answer = engine.ask(
                question, history=chat_turn.clean_history(history) or None,
                sources=chat_turn.clean_sources(sources), since=since or None, until=until or None,
            )
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

    def answer(question: str, chat: list, history: list, sources=None, since: str = "", until: str = ""):
        reply = chat_turn.ask(engine, question, history, sources=sources or None, since=since or None, until=until or None)
        chat = [*chat, {"role": "assistant", "content": reply.message}]
        sources_panel = gr.skip() if reply.sources is None else reply.sources
        return chat, chat_turn.remember(history, question, reply), sources_panel

    def new_chat():
        return [], [], render.empty_sources_html()

    def corpus_views(status: str):
        return (
            status, header_html(), documents_html(),
            gr.update(choices=document_choices(), value=None),
            gr.update(choices=document_choices()),  # the scope picker keeps what was chosen
        )

    def corpus_state() -> tuple:
        return (tuple(a.sha256 for a in engine.articles), engine.passage_count)

    def corpus_changed(shown: tuple):
        """The documents shown anew when the watched folder's index changed, else nothing."""
        now = corpus_state()
        if now == shown:
            return (gr.skip(),) * (4 + allow_changes)
        picker = [gr.update(choices=document_choices(), value=None)] if allow_changes else []
        return (now, header_html(), documents_html(), gr.update(choices=document_choices()), *picker)

    def reindex(lines: list[str], progress: gr.Progress | None = None):
        """Bring the index up to date, yielding each step for the progress line; while passages
        are embedded (and pages read by OCR), ``progress`` shows a bar with the rate and an estimate
        (`EmbeddingProgress`)."""
        steps: list[str] = []
        done = threading.Event()
        outcome: dict = {}

        def work():
            try:
                outcome["status"] = engine.refresh(report=steps.append)
            except QAError as err:
                outcome["error"] = str(err)
            except Exception:
                log.exception("Re-indexing failed")
                outcome["error"] = chat_turn.UNEXPECTED_ERROR
            finally:
                done.set()

        threading.Thread(target=work, name="qa-reindex", daemon=True).start()
        shown = 0
        while not done.wait(REINDEX_POLL_SECONDS):
            if len(steps) > shown:
                shown = len(steps)
                step = steps[-1]
                if isinstance(step, EmbeddingProgress) and progress is not None:
                    progress((step.done, step.total), desc=f"{step.task} {step.unit}", unit=step.unit)
                yield corpus_views(render.progress_markdown([*lines, f"{step}..."]))
        if "error" in outcome:
            lines = [*lines, f"Indexing failed: {outcome['error']}"]
        else:
            lines = [*lines, f"Done: {engine.passage_count} passages from {len(engine.articles)} documents; "
                     "the new documents answer questions now."]
        yield corpus_views(render.progress_markdown(lines))

    def add_documents(paths, progress=gr.Progress()):
        paths = [paths] if isinstance(paths, str) else list(paths or [])
        lines, added = [], 0
        for path in paths:
            name = Path(path).name
            try:
                data = Path(path).read_bytes()
                source = folder.add(name, data)
                lines.append(f"Added {source}.")
                added += 1
            except QAError as err:
                lines.append(f"Not added: {err}")
            except OSError as err:
                lines.append(f"Not added: {name!r} could not be read ({err.strerror}).")
        if not added:
            yield corpus_views(render.progress_markdown(lines or ["No file received."]))
            return
        yield corpus_views(render.progress_markdown([*lines, "Indexing..."]))
        yield from reindex(lines, progress)

    def remove_document(source: str | None):
        if not source:
            yield corpus_views(render.progress_markdown(["Choose a document to remove first."]))
            return
        try:
            moved = folder.remove(source)
        except QAError as err:
            yield corpus_views(render.progress_markdown([f"Not removed: {err}"]))
            return
        lines = [f"Removed {source} (moved to {moved.relative_to(folder.root).as_posix()})."]
        yield corpus_views(render.progress_markdown([*lines, "Indexing..."]))
        yield from reindex(lines)

    with gr.Blocks(title=about.title, analytics_enabled=False) as demo:
        history = gr.State([])  # the engine's view of the conversation (plain text)
        pending = gr.State("")  # the question being answered

        with gr.Column(elem_id="qa-header"):
            header = gr.HTML(header_html())
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=420):
                chatbot = gr.Chatbot(
                    label="Chat",
                    elem_id="qa-chat",
                    height=560,
                    placeholder=greeting,
                    examples=[{"text": q, "display_text": q} for q in about.examples] or None,
                    feedback_options=None,
                    group_consecutive_messages=False,  # an error reply stays its own bubble
                    buttons=["copy"],
                    latex_delimiters=[],  # no LaTeX: "$" in news text is money
                )
                with gr.Row():
                    question_box = gr.Textbox(
                        placeholder=about.placeholder,
                        show_label=False,
                        elem_id="qa-question",
                        submit_btn="Ask",
                        scale=5,
                        autofocus=True,
                    )
                    clear = gr.Button("New chat", variant="secondary", scale=1, min_width=100)
                with gr.Accordion("Scope: answer from chosen documents or dates", open=False, elem_id="qa-scope"):
                    with gr.Row():
                        scope_sources = gr.Dropdown(
                            choices=document_choices(), value=[], multiselect=True, label="Only these documents",
                            info="empty: all documents", elem_id="qa-scope-sources", scale=3,
                            # a chosen document that was removed since is named by the engine's message
                            allow_custom_value=True,
                        )
                        scope_since = gr.Textbox(label="Since", placeholder="YYYY-MM-DD", elem_id="qa-scope-since", scale=1)
                        scope_until = gr.Textbox(label="Until", placeholder="YYYY-MM-DD", elem_id="qa-scope-until", scale=1)
            with gr.Column(scale=2, min_width=320):
                sources = gr.HTML(render.empty_sources_html(), label="Sources", elem_id="qa-sources")
        with gr.Accordion("Documents", open=False, elem_id="qa-documents"):
            documents = gr.HTML(documents_html())
            if allow_changes:
                gr.Markdown(render.upload_limits_markdown(UPLOAD_TYPES, MAX_BYTES))
                with gr.Row():
                    upload = gr.UploadButton(
                        "Add documents", file_types=UPLOAD_TYPES, file_count="multiple",
                        type="filepath", variant="primary", elem_id="qa-add", scale=1,
                    )
                    chosen = gr.Dropdown(
                        choices=document_choices(), value=None, label="Document to remove",
                        elem_id="qa-remove-choice", scale=3,
                    )
                    remove = gr.Button("Remove", variant="secondary", elem_id="qa-remove", scale=1)
                progress = gr.Markdown("", elem_id="qa-progress")
            else:
                chosen = progress = None

        private = {"api_visibility": "private"}
        answering = {"concurrency_id": ENGINE_CONCURRENCY_ID, "show_progress_on": [chatbot]}
        asking = [pending, chatbot, history, scope_sources, scope_since, scope_until]
        question_box.submit(
            show_question, [question_box, chatbot], [question_box, chatbot, pending], queue=False, **private
        ).then(answer, asking, [chatbot, history, sources], **private, **answering)
        chatbot.example_select(
            show_example, [chatbot], [question_box, chatbot, pending], queue=False, **private
        ).then(answer, asking, [chatbot, history, sources], **private, **answering)
        clear.click(new_chat, None, [chatbot, history, sources], queue=False, **private)
        chatbot.clear(new_chat, None, [chatbot, history, sources], queue=False, **private)
        if allow_changes:
            changing = {"concurrency_id": CORPUS_CONCURRENCY_ID, "concurrency_limit": 1, **private}
            views = [progress, header, documents, chosen, scope_sources]
            upload.upload(add_documents, [upload], views, show_progress_on=[progress], **changing)
            remove.click(remove_document, [chosen], views, show_progress_on=[progress], **changing)

        if watching:
            shown = gr.State(corpus_state())
            timer = gr.Timer(WATCH_POLL_SECONDS)
            watched = [header, documents, scope_sources] + ([chosen] if allow_changes else [])
            timer.tick(corpus_changed, [shown], [shown, *watched], queue=False, show_progress="hidden", **private)

        gr.api(ask_api, api_name="ask", concurrency_id=ENGINE_CONCURRENCY_ID)
    return demo


def launch(engine, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, **kw) -> gr.Blocks:
    """Serve the page for ``engine`` on ``host:port`` and return the running Blocks.

    Blocks the caller unless ``prevent_thread_lock=True``; then close it with
    ``.close()``. Extra keywords go to ``gr.Blocks.launch``.
    """
    demo = create_app(engine, allow_changes=kw.pop("allow_changes", True), watching=kw.pop("watching", False))
    kw.setdefault("max_file_size", UPLOAD_MAX_BYTES)
    kw.setdefault("css", CSS)
    kw.setdefault("theme", THEME)
    kw.setdefault("footer_links", ["api"])
    kw.setdefault("ssr_mode", False)
    kw.setdefault("run_history", False)
    # The pages that open a citation at its source (qa/ui/viewer.py), ahead of Gradio's own routes.
    app_kwargs = dict(kw.pop("app_kwargs", None) or {})
    app_kwargs["routes"] = [*SourceViewer(engine).routes(), *app_kwargs.get("routes", [])]
    demo.queue(default_concurrency_limit=ENGINE_CONCURRENCY, max_size=QUEUE_MAX_SIZE).launch(
        server_name=host, server_port=port, share=False, app_kwargs=app_kwargs, **kw
    )
    return demo
