"""One chat turn: ask the engine, and turn its answer (or its error) into what
the page shows. No gradio here, so the turn can be tested without a server.

The chat keeps two histories: what the page shows (escaped Markdown) and what
the engine reads for follow-ups (the questions and the answers' plain text).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from qa.errors import BadQuestion, BadScope, QAError
from qa.results import Answer
from qa.ui import render

log = logging.getLogger(__name__)

#: Longest history message accepted from API callers. Questions are capped at 1,000
#: characters and answers quote a few sentences; anything longer is a paste that only costs
#: the server time (reading a 1 MB one takes ~2 s).
MAX_HISTORY_MESSAGE_CHARS = 10_000

UNEXPECTED_ERROR = (
    "Something went wrong while answering. The error has been logged; "
    "please try again or rephrase the question."
)

Message = dict[str, str]


@dataclass(frozen=True)
class Reply:
    """What one turn adds to the page and to the engine's history."""

    #: The assistant's chat message (Markdown, escaped).
    message: str
    #: The sources panel (HTML, escaped); None when asking failed (keep the last answer's).
    sources: str | None
    #: The engine's answer; None when asking failed.
    answer: Answer | None = None

    @property
    def failed(self) -> bool:
        return self.answer is None


def ask(engine, question: str, history: list[Message] | None = None, **scope) -> Reply:
    """Ask ``engine`` and render the result; errors become friendly replies, never raise.
    ``scope``: ``sources``, ``since``, ``until`` as `qa.engine.QAEngine.ask` takes them."""
    try:
        answer = engine.ask(question, history=history or None, **scope)
    except QAError as err:  # known problems: the message is written for people
        return Reply(render.error_message(str(err)), None)
    except Exception:  # the edge of the app: log the traceback, keep serving
        log.exception("answering %r failed", question)
        return Reply(render.error_message(UNEXPECTED_ERROR), None)
    return Reply(render.answer_message(answer), render.sources_html(answer, engine.articles), answer)


def remember(history: list[Message], question: str, reply: Reply) -> list[Message]:
    """The engine's history after this turn: failed turns are left out."""
    if reply.failed:
        return list(history)
    return [
        *history,
        {"role": "user", "content": question.strip()},
        {"role": "assistant", "content": reply.answer.text},
    ]


def clean_history(history) -> list[Message]:
    """History as the engine expects it: user/assistant turns with text content.

    Accepts the gradio "messages" shape from API callers, as a list or as its
    JSON text; anything else, or a message over `MAX_HISTORY_MESSAGE_CHARS`, is a
    `BadQuestion` that says what is wrong.
    """
    if history is None or history == "":
        return []
    if isinstance(history, str):
        try:
            history = json.loads(history)
        except json.JSONDecodeError as err:
            raise BadQuestion(f"history is not valid JSON ({err.msg}); send a list of messages") from None
    if not isinstance(history, list):
        raise BadQuestion(f"history must be a list of messages; got {type(history).__name__}")
    cleaned = []
    for i, message in enumerate(history):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise BadQuestion(
                f'history[{i}] must be {{"role": "user" | "assistant", "content": str}}; got {message!r:.80}'
            )
        content = message.get("content")
        if not isinstance(content, str):
            raise BadQuestion(f"history[{i}]['content'] must be text; got {type(content).__name__}")
        if len(content) > MAX_HISTORY_MESSAGE_CHARS:
            raise BadQuestion(
                f"history[{i}]['content'] is {len(content):,} characters long; the limit is "
                f"{MAX_HISTORY_MESSAGE_CHARS:,}. Send the earlier questions and answers themselves."
            )
        cleaned.append({"role": message["role"], "content": content})
    return cleaned



def clean_sources(sources) -> list[str] | None:
    """Document names from an API caller: a list of names, one name, or a list's JSON text;
    None for none (no restriction). Anything else is a `BadScope` that says what to send."""
    if sources is None or sources == "" or sources == []:
        return None
    if isinstance(sources, str):
        text = sources.strip()
        if text.startswith("["):
            try:
                sources = json.loads(text)
            except json.JSONDecodeError as err:
                raise BadScope(f"sources is not valid JSON ({err.msg}); send a list of document names") from None
        else:
            return [text]
    if not isinstance(sources, list) or not all(isinstance(s, str) for s in sources):
        raise BadScope(f"sources must be a list of document names; got {sources!r:.80}")
    return sources or None
