"""Seconds per page of reading a scanned PDF by OCR (`qa.corpus.ocr`), beside reading the same
pages from a PDF with a text layer in the same run.

    python benchmarks/ocr.py [--rounds 2]

The scan is the longest seed article drawn onto A4 pages at 300 DPI and saved without a text
layer (``tests/scanned_files.py``, as ``tests/test_ocr.py`` makes it). Prints, per round:
rendering alone (pypdfium2, 300 DPI grayscale), the whole read with one Tesseract process
and with one per core (the default), and the text PDF's read, each in seconds per page,
plus the load average, since other jobs on the machine slow every figure alike.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from document_files import write_pdf  # noqa: E402
from scanned_files import write_scanned_pdf  # noqa: E402

from qa.corpus import parse_article  # noqa: E402
from qa.corpus.formats import read_document  # noqa: E402
from qa.corpus.ocr import OCR_DPI, OCR_PROCESSES, TESSERACT_OPTIONS, Tesseract, pdf_page_images  # noqa: E402

SEEDS = Path(__file__).resolve().parents[1] / "seeds"


def timed(work) -> tuple[float, object]:
    started = time.perf_counter()
    result = work()
    return time.perf_counter() - started, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    seed = max(sorted(SEEDS.glob("*.txt")), key=lambda p: len(p.read_text(encoding="utf-8")))
    text = seed.read_text(encoding="utf-8")
    body = text[parse_article(seed.name, text).body_start :]
    work = Path(tempfile.mkdtemp())
    lines = write_scanned_pdf(work / "scan.pdf", body)
    pages = max(line.page for line in lines)
    scan = (work / "scan.pdf").read_bytes()
    # The same text with a text layer, on as many pages, for the reference.
    per_page = [" ".join(body[l.start : l.end] for l in lines if l.page == p) for p in range(1, pages + 1)]
    latin = [page.encode("latin-1", "replace").decode("latin-1") for page in per_page]  # fpdf2's core font
    text_pdf = write_pdf(work / "text.pdf", latin).read_bytes()

    print(f"{seed.name}: {pages} A4 pages at {OCR_DPI} DPI; tesseract {' '.join(TESSERACT_OPTIONS)}; "
          f"{os.cpu_count()} cores, {OCR_PROCESSES} Tesseract processes by default")
    for round_ in range(1, args.rounds + 1):
        load = os.getloadavg()[0]
        images, close = pdf_page_images("scan.pdf", scan, range(1, pages + 1))
        render, _ = timed(lambda: [make() for make in images])
        close()
        one, article = timed(lambda: read_document("scan.pdf", scan, ocr=Tesseract(processes=1)))
        every, again = timed(lambda: read_document("scan.pdf", scan, ocr=Tesseract()))
        plain, _ = timed(lambda: read_document("text.pdf", text_pdf))
        assert again.text == article.text  # the same text whatever the processes
        print(
            f"round {round_} (load {load:.1f}): render {render / pages:.2f} s/page; OCR read, 1 process "
            f"{one / pages:.2f} s/page, {OCR_PROCESSES} processes {every / pages:.2f} s/page; text-layer PDF "
            f"{plain / pages * 1000:.1f} ms/page (OCR {every / plain:.0f}x); mean word confidence "
            f"{article.ocr_confidence}, {len(article.text):,} characters"
        )


if __name__ == "__main__":
    main()
