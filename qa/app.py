"""The web chat: ``qa chat`` serves it, `create_app` builds it for tests and embedding.

    >>> from qa.app import launch                          # doctest: +SKIP
    >>> demo = launch(engine, port=7861, prevent_thread_lock=True)
    >>> demo.close()

The page lives in `qa.ui` (rendering, chat turns, the Gradio layout); this
module is the entry point the CLI calls. gradio is imported lazily, so
``import qa`` stays light.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import TYPE_CHECKING

from qa.errors import ConfigError, QAError

if TYPE_CHECKING:
    import gradio as gr

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860

#: Settings a CLI parser may carry; unset ones fall back to QA_* variables and defaults.
_SETTINGS_ARGS = ("seeds_dir", "index_dir", "model", "retrieval", "store")


def create_app(engine, **kw) -> "gr.Blocks":
    """The Gradio page for a loaded ``engine`` (not started); ``kw``: ``allow_changes``, ``watching``."""
    from qa.ui.app import create_app as _create_app

    return _create_app(engine, **kw)


def launch(engine, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, **kw) -> "gr.Blocks":
    """Serve the page on ``host:port``; with ``prevent_thread_lock=True`` returns at once."""
    from qa.ui.app import launch as _launch

    return _launch(engine, host=host, port=port, **kw)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``qa chat`` options."""
    parser.add_argument(
        "--host",
        default=DEFAULT_HOST,
        help=f"address to serve on (default {DEFAULT_HOST}; 0.0.0.0 to let other machines in)",
    )
    parser.add_argument(
        "--port", type=int, default=DEFAULT_PORT, help=f"port to serve on (default {DEFAULT_PORT})"
    )
    parser.add_argument(
        "--watch", action="store_true",
        help="index documents added, changed or removed in the corpus folder within seconds, "
        "without a restart (questions are answered meanwhile)",
    )
    parser.add_argument(
        "--read-only", action="store_true",
        help="hide \"Add documents\" and \"Remove\": visitors can only ask (for a page shared with others)",
    )


def run(args: argparse.Namespace) -> int:
    """``qa chat``: load (or build) the index, serve the page until Ctrl+C.

    Example: ``qa chat --port 7861``, then open http://127.0.0.1:7861
    """
    from qa.config import Settings
    from qa.engine import QAEngine

    started = time.perf_counter()
    try:
        settings = Settings.from_env(**{k: getattr(args, k, None) for k in _SETTINGS_ARGS})
        if settings.store:
            from qa.stores.postgres import describe_uri

            print(f"Loading the index from the database {describe_uri(settings.store)}...", flush=True)
        else:
            print(f"Loading the index from {settings.index_dir} (built from {settings.seeds_dir} if missing)...", flush=True)
        if getattr(args, "watch", False) and settings.store:
            raise ConfigError(
                "qa chat --watch watches a corpus folder, and a server of a database only reads it; "
                "run `qa index --watch --store ...` where the documents are."
            )
        engine = QAEngine.from_settings(settings).load()
        watcher = start_watching(engine) if getattr(args, "watch", False) else None
    except QAError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    count = len(engine.articles)
    print(f"Index ready: {engine.passage_count} passages from {count} document{'s' if count != 1 else ''}.", flush=True)
    for message in engine.skipped:
        print(f"warning: left out {message}", file=sys.stderr)
    print("Starting the web app...", flush=True)
    try:
        demo = launch(
            engine, host=args.host, port=args.port, prevent_thread_lock=True, quiet=True,
            # A server of a shared database only reads: `qa index --store` changes the corpus.
            allow_changes=not getattr(args, "read_only", False) and not settings.store,
            watching=watcher is not None,
        )
    except OSError:  # port taken, address not available
        print(
            f"error: cannot serve on {args.host}:{args.port}: the port is taken or the address "
            f"is not available here; pick another, e.g. --port {args.port + 1}",
            file=sys.stderr,
        )
        return 1
    shown_host = "127.0.0.1" if args.host in ("0.0.0.0", "::") else args.host
    print(f"Ready: http://{shown_host}:{args.port} (in {time.perf_counter() - started:.1f}s; Ctrl+C to stop)", flush=True)
    try:
        demo.block_thread()
    except KeyboardInterrupt:
        pass
    finally:
        demo.close()
        if watcher is not None:
            watcher.stop()
    return 0


def start_watching(engine):
    """A `qa.watch.FolderWatcher` refreshing ``engine`` when its corpus folder changes."""
    from qa.corpus.formats import kind_of
    from qa.watch import FolderWatcher

    settings = engine.settings
    engine.embedder  # loaded now (seconds), so that the first change is indexed in a second

    def refresh(changed: list[str]) -> None:
        status = engine.refresh()
        print(f"{len(changed)} change(s) in {settings.seeds_dir}: {status}; {engine.passage_count} passages "
              f"from {len(engine.articles)} documents.", flush=True)

    watcher = FolderWatcher(
        settings.seeds_dir, refresh, ignore=[settings.index_dir],
        wanted=lambda name: kind_of(name) is not None,
    ).start()
    print(f"Watching {settings.seeds_dir} for added, changed and removed documents.", flush=True)
    return watcher
