"""The ``qa`` command: ask, index, chat, eval.

Every error the package raises on purpose becomes one line on stderr and exit
status 1; usage errors exit with 2 (argparse).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import textwrap
from pathlib import Path
from typing import Sequence

from qa.errors import QAError

EXIT_OK = 0
EXIT_ERROR = 1
#: Width citations are wrapped to in the terminal.
WRAP_WIDTH = 100


def _common_options() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", "--seeds", dest="seeds_dir", type=Path, metavar="DIR",
                        help="corpus folder: .txt .md .html .pdf .docx .csv .xlsx documents, nested folders "
                        "included (default: $QA_SEEDS_DIR or seeds/)")
    common.add_argument("--index", dest="index_dir", type=Path, metavar="DIR",
                        help="index directory (default: $QA_INDEX_DIR; index/ for the seeds, "
                        "index/corpora/<folder>-<hash>/ for another folder)")
    common.add_argument("--model", metavar="PATH_OR_NAME",
                        help="sentence-transformers model: a local directory or a name "
                        "(default: $QA_MODEL or the packaged all-MiniLM-L6-v2)")
    common.add_argument("--store", metavar="URI",
                        help="serve the index from a PostgreSQL database that many servers share: "
                        "postgresql://user@host:5432/db or postgresql://user@/db?host=/socket/dir "
                        "(default: $QA_STORE; unset: the index directory's files). "
                        "`qa index --store URI` builds it")
    return common


def build_parser() -> argparse.ArgumentParser:
    from qa import app
    from qa.evaluation import cli as eval_cli

    parser = argparse.ArgumentParser(
        prog="qa",
        description="Questions answered from a folder of documents (the news articles in seeds/ "
        "by default), with exact citations.",
        epilog='example: qa ask "How many Indians were recruited?"',
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the engine does")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    common = _common_options()

    ask = sub.add_parser(
        "ask", parents=[common], help="answer one question",
        description="Answer a question from the articles and list the passages that support it.",
        epilog='examples:\n  qa ask "How many Indians were recruited?"\n'
        '  qa ask --json "Which sectors could boost Indian exports?"\n'
        '  qa ask "How many of them were killed?" --after "How many Indians were recruited?"\n'
        '  qa ask --source report.pdf --source notes/memo.docx --since 2025-08-01 "What was agreed?"',
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ask.add_argument("question", help="the question, in quotes")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON (text, short, citations, ...)")
    ask.add_argument("--after", action="append", metavar="QUESTION", default=[],
                     help="an earlier question of the conversation, for follow-ups (repeatable, oldest first)")
    ask.add_argument("--source", action="append", metavar="NAME", default=[], dest="sources",
                     help="answer only from this document, named as citations name it (repeatable)")
    ask.add_argument("--since", metavar="YYYY-MM-DD", help="answer only from documents dated on or after this day")
    ask.add_argument("--until", metavar="YYYY-MM-DD", help="answer only from documents dated on or before this day")

    index = sub.add_parser(
        "index", parents=[common], help="bring the index up to date",
        description="Read, chunk and embed the corpus folder's documents into its index. Only new "
        "and changed documents are embedded; removed ones leave the index. With --status only "
        "report whether the index is up to date.",
        epilog="examples:\n  qa index\n  qa index ~/reports\n  qa index --status\n  qa index --full\n  qa index --watch\n"
        "  qa index ~/archive --ray auto --store postgresql://qa@db/news",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    index.add_argument("path", nargs="?", type=Path, metavar="PATH",
                       help="the corpus folder (same as --corpus)")
    index.add_argument("--status", action="store_true", help="report the index's state without building")
    index.add_argument("--full", action="store_true", help="embed every document anew, reusing nothing")
    index.add_argument("--watch", action="store_true",
                       help="then keep watching the folder: index documents added, changed or removed "
                       "within seconds (and publish them, with --store), until Ctrl+C")
    index.add_argument("--ray", metavar="ADDRESS",
                       help="read and embed the new documents on a Ray cluster (auto, ray://HOST:10001, "
                       "local); needs pip install 'qa-news[cluster]'")
    index.add_argument("--ray-workers", type=int, metavar="N",
                       help="workers on the cluster (default: one per CPU)")

    chat = sub.add_parser(
        "chat", parents=[common], help="start the web chat",
        description="Serve the chat page (default http://127.0.0.1:7860).",
        epilog="example:\n  qa chat --port 7861",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    app.add_arguments(chat)

    evaluate = sub.add_parser(
        "eval", help="run the graded evaluation",
        description=eval_cli.DESCRIPTION, epilog=eval_cli.EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    eval_cli.add_arguments(evaluate)
    return parser


def _settings(args: argparse.Namespace):
    from qa.config import Settings

    return Settings.from_env(
        seeds_dir=getattr(args, "path", None) or getattr(args, "seeds_dir", None),
        index_dir=getattr(args, "index_dir", None),
        model=getattr(args, "model", None),
        store=getattr(args, "store", None),
    )


def cmd_ask(args: argparse.Namespace) -> int:
    from qa.engine import QAEngine

    from qa.scope import Scope

    Scope.of(args.sources, args.since, args.until)  # a bad date is told before the index loads
    engine = QAEngine.from_settings(_settings(args)).load(progress=sys.stderr.isatty())
    answer = engine.ask(args.question, history=list(args.after), sources=args.sources, since=args.since, until=args.until)
    if args.json:
        print(json.dumps(answer.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(format_answer(answer))
    return EXIT_OK


def format_answer(answer) -> str:
    """The answer and its numbered citations, for a terminal."""
    lines = [answer.text, ""]
    if answer.abstained:
        if answer.related:
            lines.append("Related passages (not evidence):")
            lines += _format_citations(answer.related, numbered=False)
        return "\n".join(lines).rstrip()
    lines += _format_citations(answer.citations, numbered=True)
    return "\n".join(lines).rstrip()


def _format_citations(citations, numbered: bool) -> list[str]:
    out = []
    for n, c in enumerate(citations, 1):
        label = f"[{n}]" if numbered else "-"
        place = f" {c.place}" if c.place else ""
        out.append(f"{label} {c.source}{place} chars {c.start}-{c.end} (score {c.score:.2f})")
        out += textwrap.wrap(c.text, WRAP_WIDTH, initial_indent="    ", subsequent_indent="    ")
    return out


def cmd_index(args: argparse.Namespace) -> int:
    from qa.corpus import CorpusFolder
    from qa.errors import IndexCorrupt, IndexMissing
    from qa.index import IndexStore

    settings = _settings(args)
    scan = CorpusFolder(settings.seeds_dir).scan(required=not args.status)
    store = IndexStore(settings.index_dir, settings)
    if args.status:
        try:
            reason = store.stale_reason(scan.files)
        except (IndexMissing, IndexCorrupt) as err:
            print(f"error: {err}", file=sys.stderr)
            return EXIT_ERROR
        manifest = store.read_manifest()
        if reason:
            print(f"error: index in {settings.index_dir} is stale: {reason}. Run `qa index` to update it.", file=sys.stderr)
            return EXIT_ERROR
        print(
            f"Index in {settings.index_dir} is up to date: {manifest['counts']['chunks']} passages "
            f"from {_documents(len(manifest['articles']))}, built {manifest['built_at']}; "
            f"{manifest['vector_index']['type']} vector search, questions embedded by "
            f"{manifest['query_encoder']['kind']}."
        )
        _print_skipped(list(scan.skipped) + manifest.get("skipped", []))
        index = store.load()
        _print_furniture(index)
        _print_ocr(index)
        return EXIT_OK
    from qa.index.embedding import load_embedder

    remote = None
    if args.ray_workers is not None and args.ray_workers < 1:
        print(f"error: --ray-workers must be at least 1; got {args.ray_workers}", file=sys.stderr)
        return EXIT_ERROR
    if args.ray:
        from qa.index.ray_build import RayEmbedding

        remote = RayEmbedding(args.ray, workers=args.ray_workers, progress=sys.stderr.isatty())

    def embedder():
        """Loaded only when the index has no ONNX export of the model yet (the first build)."""
        return load_embedder(settings.model)

    _build(settings, store, scan, embedder, reuse=not args.full, remote=remote)
    if args.watch:
        _watch(settings, store, embedder, remote)
    return EXIT_OK


def _build(settings, store, scan, embedder, reuse: bool = True, remote=None) -> None:
    """Build (incrementally unless ``reuse`` is False), report, and publish with --store."""
    index = store.build(scan.files, embedder, progress=sys.stderr.isatty(), reuse=reuse, remote=remote)
    m = index.manifest
    counts = m["counts"]
    print(
        f"Indexed {settings.seeds_dir} into {settings.index_dir}: {counts['chunks']} passages from "
        f"{_documents(len(m['articles']))} ({counts['documents_embedded']} embedded, "
        f"{counts['documents_reused']} unchanged) with {settings.model} in {m['build_seconds']}s."
    )
    _print_skipped(list(scan.skipped) + index.skipped)
    _print_furniture(index)
    _print_ocr(index)
    if settings.store:
        _publish(index, settings.store)


def _watch(settings, store, embedder, remote=None) -> None:
    """``qa index --watch``: index the folder again after each burst of changes, until Ctrl+C."""
    from qa.corpus import CorpusFolder
    from qa.corpus.formats import kind_of
    from qa.watch import FolderWatcher

    def rebuild(changed: list[str]) -> None:
        print(f"{len(changed)} change(s): {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''}", flush=True)
        scan = CorpusFolder(settings.seeds_dir).scan(required=True)
        _build(settings, store, scan, embedder, remote=remote)
        sys.stdout.flush()

    def ready() -> None:
        print(f"Watching {settings.seeds_dir} for added, changed and removed documents (Ctrl+C to stop).", flush=True)

    watcher = FolderWatcher(settings.seeds_dir, rebuild, ignore=[settings.index_dir],
                            wanted=lambda name: kind_of(name) is not None)
    try:
        watcher.run(on_ready=ready)
    except KeyboardInterrupt:
        pass


def _publish(index, uri: str) -> None:
    """Copy the built index into the database, as its new current build."""
    import time

    from qa.stores.postgres import PostgresStore, describe_uri
    from qa.stores.published import publish

    started = time.perf_counter()
    with PostgresStore(uri) as database:
        report = (lambda line: print(f"  {line}", file=sys.stderr)) if sys.stderr.isatty() else None
        build = publish(index, database, report=report)
    print(f"Published it to {describe_uri(uri)} as {build} in {time.perf_counter() - started:.1f}s.")


def _documents(n: int) -> str:
    return f"{n} document{'s' if n != 1 else ''}"


def _print_furniture(index) -> None:
    """Per document, the page furniture (ads, link teasers, embedded posts...) left out of
    what is indexed and cited."""
    from qa.corpus.furniture import dropped_by_document

    dropped = dropped_by_document(index.articles, index.sentences)
    total = sum(chars for _, chars in dropped.values())
    print(f"Page furniture left out: {total:,} characters in {sum(1 for p, _ in dropped.values() if p)} of {_documents(len(dropped))}.")
    for source, (pieces, chars) in dropped.items():
        if pieces:
            print(f"  {source}: {pieces} piece{'s' if pieces != 1 else ''}, {chars:,} characters")


def _print_ocr(index) -> None:
    """Per document read by OCR, its pages and mean word confidence; a low one is flagged."""
    from qa.corpus.ocr import is_low_confidence, ocr_note

    scanned = [a for a in sorted(index.articles.values(), key=lambda a: a.source) if a.ocr_pages]
    if not scanned:
        return
    low = sum(1 for a in scanned if is_low_confidence(a))
    print(f"Read by OCR: {_documents(len(scanned))}" + (f", {low} with low confidence." if low else "."))
    for article in scanned:
        print(f"  {article.source}: {'LOW CONFIDENCE: ' if is_low_confidence(article) else ''}{ocr_note(article)}")


def _print_skipped(messages: list[str]) -> None:
    for message in messages:
        print(f"warning: left out {message}", file=sys.stderr)


def cmd_chat(args: argparse.Namespace) -> int:
    from qa import app

    return app.run(args)


def cmd_eval(args: argparse.Namespace) -> int:
    from qa.evaluation import cli as eval_cli

    return eval_cli.run(args)


COMMANDS = {"ask": cmd_ask, "index": cmd_index, "chat": cmd_chat, "eval": cmd_eval}


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        return COMMANDS[args.command](args)
    except QAError as err:
        print(f"error: {err}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
