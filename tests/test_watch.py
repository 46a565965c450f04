"""A watched corpus folder (`qa.watch`, ``qa chat --watch``, ``qa index --watch``): a file
copied in is answered from within seconds of the copy, a removed one leaves as fast, a
burst of copies is one rebuild, a file still being written is never indexed half-written,
and questions are answered throughout."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from qa.corpus.formats import kind_of
from qa.engine import QAEngine
from qa.watch import FolderWatcher

#: The issue's bound for a one-page article, from the end of the copy to the first answer
#: citing it (and to the last passage of a removed one). Measured and printed; asserted with
#: room for this shared 2-core machine (the figure stated in the README is the printed one).
TARGET_S = 5.0
ASSERTED_S = 3 * TARGET_S
POLL_S = 0.05

#: A one-page article nobody else has: a made-up place and figures.
ARTICLE = (
    " date 2026-11-02 The Vellamar observatory in the Atacama desert recorded {count} meteors during "
    "this year's Leonid shower, its director Ana Quispe said on Monday. She said clear skies on "
    "four nights in a row made the count the highest since the observatory opened in 1998.\n\n"
    "The observatory's twelve cameras photograph the whole sky every second, and volunteers from "
    "{town} check each image for trails.\n"
)
QUESTION = "How many meteors did the Vellamar observatory record during the Leonid shower?"


@pytest.fixture
def watched(settings, engine, tmp_path):
    """A copy of the seeds with a copy of the session's index, its engine, and a watcher
    refreshing it (``refreshes`` counts the rebuilds)."""
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(settings.seeds_dir, corpus)
    shutil.copytree(settings.index_dir, index)
    ours = QAEngine(settings.with_(seeds_dir=corpus, index_dir=index), embedder=engine.embedder).load(progress=False)
    refreshes: list[str] = []

    def refresh(changed):
        refreshes.append(ours.refresh())

    watcher = FolderWatcher(corpus, refresh, ignore=[index], wanted=lambda n: kind_of(n) is not None).start()
    time.sleep(0.5)  # the watcher is listening
    yield corpus, ours, refreshes
    watcher.stop()


def _until(condition, limit: float, shown=lambda: "") -> float:
    """Seconds until ``condition()`` held (asking meanwhile), or fail after ``limit`` with ``shown()``."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > limit:
            pytest.fail(f"not within {limit} s{shown()}")
        time.sleep(POLL_S)
    return time.perf_counter() - started


def test_a_copied_article_is_answered_within_seconds_and_a_removed_one_leaves(watched, tmp_path):
    corpus, engine, refreshes = watched
    draft = tmp_path / "meteors.txt"
    draft.write_text(ARTICLE.format(count="4,317", town="Copiapó"), encoding="utf-8")
    shutil.copy(draft, corpus / "meteors.txt")  # the copy has finished when this returns
    added = _until(lambda: any(c.source == "meteors.txt" for c in engine.ask(QUESTION).citations), ASSERTED_S)
    answer = engine.ask(QUESTION)
    assert answer.short and "4,317" in answer.short
    (corpus / "meteors.txt").unlink()
    removed = _until(lambda: all(p.source != "meteors.txt" for p in engine.ask(QUESTION).passages), ASSERTED_S)
    print(f"\nwatched folder: answerable {added:.2f} s after the copy, gone {removed:.2f} s after the removal "
          f"(target {TARGET_S} s; {len(refreshes)} rebuilds; shared 2-core machine)")
    assert len(refreshes) == 2


def test_a_burst_of_copies_is_one_rebuild(watched, tmp_path):
    corpus, engine, refreshes = watched
    towns = ["Arica", "Iquique", "Calama", "Tocopilla", "Taltal"]
    for n, town in enumerate(towns):
        (corpus / f"burst_{n}.txt").write_text(ARTICLE.format(count=f"{n + 1},000", town=town), encoding="utf-8")
    _until(lambda: len(engine.articles) == 5 + len(towns), ASSERTED_S)
    time.sleep(1.0)  # nothing else is on its way
    assert len(refreshes) == 1, refreshes


def test_a_file_being_written_is_not_read_half_written(watched):
    corpus, engine, refreshes = watched
    full = ARTICLE.format(count="8,902", town="Vallenar") * 3
    seen: list[bool] = []
    asked = []
    stop = threading.Event()

    def ask_meanwhile():  # questions keep being answered while the folder changes
        while not stop.is_set():
            asked.append(engine.ask(QUESTION))
            if "slow.txt" in {a.source for a in engine.articles}:
                seen.append(engine.text_of("slow.txt") == full)

    asker = threading.Thread(target=ask_meanwhile)
    asker.start()
    try:
        with open(corpus / "slow.txt", "w", encoding="utf-8") as out:
            for i in range(0, len(full), len(full) // 10 + 1):  # ten pieces, 0.15 s apart
                out.write(full[i : i + len(full) // 10 + 1])
                out.flush()
                time.sleep(0.15)
        _until(lambda: "slow.txt" in {a.source for a in engine.articles}, ASSERTED_S)
        time.sleep(0.5)
    finally:
        stop.set()
        asker.join()
    assert seen and all(seen), "the index held a half-written file"
    assert len(asked) > 5 and all(a.text for a in asked)


def test_hidden_files_and_other_types_are_not_changes(watched):
    corpus, _engine, refreshes = watched
    (corpus / ".draft.txt").write_text("hidden", encoding="utf-8")
    (corpus / "photo.bmp").write_bytes(b"BM" + bytes(64))
    time.sleep(1.5)
    assert refreshes == []


def test_qa_index_watch_indexes_a_copied_file_and_stops_on_ctrl_c(settings, tmp_path):
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(settings.seeds_dir, corpus)
    shutil.copytree(settings.index_dir, index)
    process = subprocess.Popen(
        [sys.executable, "-m", "qa.cli", "index", "--watch", "--corpus", str(corpus), "--index", str(index)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=Path(__file__).parent.parent,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(iter(process.stdout.readline, "")), daemon=True)
    reader.start()
    try:
        output = lambda: ": the process printed\n" + "".join(lines)  # noqa: E731
        _until(lambda: any(line.startswith("Watching") for line in lines), 120, output)
        (corpus / "meteors.txt").write_text(ARTICLE.format(count="4,317", town="Ovalle"), encoding="utf-8")
        # Not a speed check (the watched engine's test is): a bound for a loaded machine.
        _until(lambda: any(line.startswith("Indexed") and "1 embedded" in line for line in lines), 120, output)
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(30) == 0, "".join(lines)
    assert any("meteors.txt" in line for line in lines if "change" in line), "".join(lines)


def test_qa_chat_watch_refreshes_the_engine_and_its_page_shows_it(settings, engine, tmp_path, capsys):
    from qa.app import create_app, start_watching

    corpus, index = tmp_path / "corpus", tmp_path / "index"
    shutil.copytree(settings.seeds_dir, corpus)
    shutil.copytree(settings.index_dir, index)
    ours = QAEngine(settings.with_(seeds_dir=corpus, index_dir=index), embedder=engine.embedder).load(progress=False)
    demo = create_app(ours, watching=True)  # the page polls the documents; building it is enough here
    assert demo is not None
    watcher = start_watching(ours)
    try:
        time.sleep(0.5)
        (corpus / "meteors.txt").write_text(ARTICLE.format(count="4,317", town="Ovalle"), encoding="utf-8")
        _until(lambda: "meteors.txt" in {a.source for a in ours.articles}, ASSERTED_S)
    finally:
        watcher.stop()
    assert "1 change(s) in" in capsys.readouterr().out


def test_qa_chat_watch_with_a_database_is_refused_in_one_line(capsys):
    from qa.cli import main

    assert main(["chat", "--watch", "--store", "postgresql://nobody@127.0.0.1:1/none"]) == 1
    err = capsys.readouterr().err
    assert "qa chat --watch watches a corpus folder" in err and err.count("\n") == 1


def test_a_change_made_while_the_watch_was_being_set_up_is_not_missed(tmp_path):
    """`run` compares the folder as it found it with the folder once the operating system's
    watch is in place; here the file is made to look as if it arrived in between."""
    (tmp_path / "late.txt").write_text("Arrived before the watch was in place.\n", encoding="utf-8")
    calls: list[list[str]] = []
    watcher = FolderWatcher(tmp_path, calls.append)
    real_listing, first = watcher._listing, [True]

    def listing():
        if first:
            first.pop()
            return {}  # the folder as `run` first saw it: before the file came
        return real_listing()

    watcher._listing = listing
    watcher.start()
    try:
        assert watcher.ready.is_set()
        _until(lambda: calls, 30)
    finally:
        watcher.stop()
    assert calls == [["late.txt"]]
