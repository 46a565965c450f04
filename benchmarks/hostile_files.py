"""Time and memory of reading hostile files, and of the largest documents the bounds let
through, beside an ordinary document of the same format read in the same run.

    python benchmarks/hostile_files.py

Prints, per file: the reading thread's CPU seconds, wall seconds and the peak RSS above the
RSS before the read (the kernel's high-water mark, reset through /proc/self/clear_refs), and
the outcome. The hostile files are those of ``tests/hostile_files.py``; nothing is asserted
here (``tests/reliability/test_hostile_files.py`` asserts the bounds).
"""

from __future__ import annotations

import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

import hostile_files as hostile  # noqa: E402
from document_files import write_docx, write_html, write_pdf  # noqa: E402

from qa.corpus.formats import read_document  # noqa: E402

PROSE = " ".join(f"Sentence {i} tells of the council's vote on the budget of the city library." for i in range(40))


def _status(field: str) -> int:
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) * 1024 for line in status if line.startswith(field + ":"))


def measure(name: str, data: bytes) -> str:
    gc.collect()
    with open("/proc/self/clear_refs", "w") as handle:
        handle.write("5")
    baseline, cpu, wall = _status("VmRSS"), time.thread_time(), time.perf_counter()
    try:
        outcome = f"read, {len(read_document(name, data).text):,} characters"
    except Exception as err:  # noqa: BLE001 - the outcome is what is reported
        outcome = f"{type(err).__name__}: {str(err)[:90]}"
    cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
    grew = max(0, _status("VmHWM") - baseline) / 1e6
    return f"{name:34s} {len(data):>12,} B  cpu {cpu:5.2f} s  wall {wall:5.2f} s  +{grew:6.1f} MB  {outcome}"


def main() -> None:
    import docx  # noqa: F401 - imported before measuring, as in a running server
    import pypdf  # noqa: F401
    import trafilatura  # noqa: F401

    work = Path(tempfile.mkdtemp())
    print("References (ordinary documents):")
    print(measure("article.pdf", write_pdf(work / "a.pdf", [PROSE] * 3).read_bytes()))
    print(measure("article.docx", write_docx(work / "a.docx", "Budget", [PROSE] * 3).read_bytes()))
    print(measure("article.html", write_html(work / "a.html", "Budget", [PROSE] * 3).read_bytes()))
    print("Largest documents the bounds let through:")
    print(measure("300-pages.pdf", write_pdf(work / "b.pdf", [PROSE] * 300).read_bytes()))
    print(measure("59000-runs.docx", hostile.docx_of(hostile.body_xml(
        b"<w:p>" + hostile.varied(59_000, b"<w:r><w:t>w%d </w:t></w:r>") + b"</w:p>"))))
    print(measure("7000-paragraphs.html", hostile.paragraphs_html(7_000)))
    print("Hostile files (refused):")
    for name, spec in hostile.HOSTILE_FILES.items():
        print(measure(name, spec.make()))


if __name__ == "__main__":
    main()
