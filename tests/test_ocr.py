"""Scanned PDFs and images, read by OCR (`qa.corpus.ocr`): a seed article drawn onto A4 pages
and saved as an image-only PDF answers its eval questions as the article's .txt does, with
citations byte-exact against the OCR text and on the pages the sentences were drawn on; an
image file, a PDF of a text page and a scanned page, a low-confidence copy, progress per
page, hostile images and a machine without Tesseract. The scans are made here
(`scanned_files`), never committed."""

from __future__ import annotations

import io
import json
import re
import shutil
import struct
import time
import zlib
from pathlib import Path

import pytest
from document_files import write_pdf
from scanned_files import degraded, pages_of, render_pages, save_pdf, write_scanned_pdf

from qa.config import Settings
from qa.corpus import CorpusFolder, parse_article, read_document
from qa.corpus.ocr import LOW_OCR_CONFIDENCE, MIN_OCR_CONFIDENCE, OcrPage, Tesseract, is_low_confidence, page_text
from qa.engine import QAEngine
from qa.errors import ConfigError, DocumentError, OcrUnavailable
from qa.evaluation.metrics import normalize_answer

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
EVAL_FILES = (ROOT / "evals" / "questions.jsonl", ROOT / "evals" / "heldout.jsonl")
#: The issue's bar: the scanned copy answers at least this share of its article's eval
#: questions as the .txt does.
SAME_ANSWER_SHARE = 0.90
#: A hostile or broken image is refused within this many seconds (it is never decoded).
REFUSAL_SECONDS = 2.0

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="Tesseract is not installed: run `make ocr`")


def longest_seed() -> Path:
    """The seed article with the most text: it fills the most pages (three), so citations on
    every page are checked. (A general choice, not one made for its results: README gives the
    figure for another article too.)"""
    return max(sorted(SEEDS.glob("*.txt")), key=lambda p: len(p.read_text(encoding="utf-8")))


def questions_about(source: str) -> list[dict]:
    """The answerable eval questions (both splits) whose gold evidence lies in ``source``."""
    rows = [json.loads(line) for path in EVAL_FILES for line in path.read_text(encoding="utf-8").splitlines() if line]
    return [q for q in rows if q["answerable"] and any(e["source"] == source for e in q["evidence"])]


def answer_key(answer) -> str:
    """What must agree between the two copies: the abstention, else the short answer
    (normalised as the eval grades it), else the cited sentences' words."""
    if answer.abstained:
        return "(abstained)"
    if answer.short:
        return normalize_answer(answer.short)
    return " ".join(" ".join(re.sub(r"[^0-9a-z]+", " ", c.text.lower()).split()) for c in answer.citations)


def where_in(source_text: str, ocr_text: str) -> tuple[int, int] | None:
    """The span of ``source_text`` that ``ocr_text`` reads, comparing letters and digits only
    (OCR reads an en dash as a hyphen and a paragraph's line ends as spaces)."""
    kept = [(i, ch.lower()) for i, ch in enumerate(source_text) if ch.isalnum()]
    haystack = "".join(ch for _, ch in kept)
    needle = "".join(ch.lower() for ch in ocr_text if ch.isalnum())
    at = haystack.find(needle) if needle else -1
    return (kept[at][0], kept[at + len(needle) - 1][0] + 1) if at >= 0 else None


def engine_over(folder: Path, index: Path, engine) -> QAEngine:
    settings = Settings(seeds_dir=folder, index_dir=index, reader_dir=engine.settings.reader_dir)
    return QAEngine(settings, embedder=engine.embedder).load(progress=False)


# -- the scanned article against its text -------------------------------------------------


@pytest.fixture(scope="module")
def scanned(tmp_path_factory, engine):
    """Two corpora: the longest seed article as an image-only PDF, and the same article's .txt."""
    seed = longest_seed()
    text = seed.read_text(encoding="utf-8")
    article = parse_article(seed.name, text)
    root = tmp_path_factory.mktemp("ocr")
    (root / "scan").mkdir()
    (root / "text").mkdir()
    shutil.copy(seed, root / "text" / seed.name)
    pdf = root / "scan" / f"{seed.stem}.pdf"
    # The article's body, as it would be printed (its ``date`` line is metadata).
    lines = write_scanned_pdf(pdf, text[article.body_start :], offset=article.body_start)
    started = time.perf_counter()
    scan_engine = engine_over(root / "scan", root / "scan-index", engine)
    built = time.perf_counter() - started
    return {
        "seed": seed, "text": text, "lines": lines, "pdf": pdf.name, "pages": max(l.page for l in lines),
        "scan": scan_engine, "txt": engine_over(root / "text", root / "text-index", engine), "seconds": built,
    }


def test_scanned_pdf_is_read_by_ocr_page_by_page(scanned):
    engine = scanned["scan"]
    assert engine.skipped == []
    [article] = engine.articles
    assert article.kind == "pdf" and len(article.page_starts) == scanned["pages"] >= 2
    assert article.ocr_pages == tuple(range(1, scanned["pages"] + 1))
    assert article.ocr_confidence >= LOW_OCR_CONFIDENCE and not is_low_confidence(article)
    # Every page's text is the page's own: its first words are the first words drawn on it.
    for page, start in enumerate(article.page_starts, 1):
        first = next(line for line in scanned["lines"] if line.page == page)
        drawn = scanned["text"][first.start : first.end]
        assert where_in(drawn, " ".join(article.text[start:].split()[:5])) is not None, (page, drawn)


def test_scanned_copy_answers_as_the_text_does_with_citations_on_their_pages(scanned):
    scan, txt, text, lines = scanned["scan"], scanned["txt"], scanned["text"], scanned["lines"]
    questions = questions_about(scanned["seed"].name)
    assert len(questions) >= 30
    same, on_their_pages, cited, differ = 0, 0, 0, []
    for q in questions:
        history = q["history"] or None
        from_scan, from_text = scan.ask(q["question"], history=history), txt.ask(q["question"], history=history)
        agree = answer_key(from_scan) == answer_key(from_text)
        same += agree
        if not agree:
            differ.append(f"{q['id']}: {answer_key(from_text)[:50]!r} / scan {answer_key(from_scan)[:50]!r}")
        for c in from_scan.citations:
            assert scan.text_of(c.source)[c.start : c.end] == c.text  # byte-exact against the OCR text
            span = where_in(text, c.text)
            cited += 1
            on_their_pages += span is not None and set(c.pages) == pages_of(lines, *span)
    share = same / len(questions)
    print(f"\nscanned {scanned['seed'].name} ({scanned['pages']} pages, read and indexed in {scanned['seconds']:.0f} s): "
          f"{same}/{len(questions)} answers as the .txt's ({share:.0%}); {on_their_pages}/{cited} citations on "
          f"the pages their text was drawn on" + "".join(f"\n  differs {d}" for d in differ))
    assert share >= SAME_ANSWER_SHARE, differ
    # A citation the scan cannot place in the article would be OCR noise; allow one.
    assert on_their_pages >= cited - 1


# -- an image file, a mixed PDF, progress and the documents panel -----------------------

#: (file, facts as a short article, question, a word of the answer): each fact is in that file only.
IMAGE_ARTICLE = (
    "Ferry traffic grew in the Gulf of Finland\n"
    "The Tallinn harbour authority said its ferries carried 9,300 passengers on Sunday, a record for a winter day.\n"
    "The new terminal opened in March and has twelve berths."
)
TEXT_PAGE = ("The Porto water company reported its annual figures on Monday. The company replaced 48 kilometres "
             "of old pipes last year, it said, and leaks fell by a fifth.")
SCANNED_PAGE = ("The Porto water company opened a new treatment plant in Gaia.\n"
                "The plant filters 120,000 cubic metres of water a day, enough for the whole city.")


def mixed_pdf(path: Path, tmp: Path) -> Path:
    """Page 1 with a text layer (fpdf2), page 2 a scan of a page (no text layer)."""
    import pypdf

    text_pdf = write_pdf(tmp / "text-page.pdf", [TEXT_PAGE])
    pages, _ = render_pages(SCANNED_PAGE)
    scan_pdf = save_pdf(tmp / "scan-page.pdf", pages)
    writer = pypdf.PdfWriter()
    writer.append(str(text_pdf))
    writer.append(str(scan_pdf))
    with open(path, "wb") as handle:
        writer.write(handle)
    return path


@pytest.fixture(scope="module")
def small_scans(tmp_path_factory, engine):
    """A corpus of a PNG article and a mixed PDF, built with the progress reported."""
    from qa.index import IndexStore

    root = tmp_path_factory.mktemp("ocr-small")
    folder = root / "corpus"
    folder.mkdir()
    pages, _ = render_pages(IMAGE_ARTICLE)
    pages[0].save(folder / "ferries.png")
    mixed_pdf(folder / "water.pdf", root)
    settings = Settings(seeds_dir=folder, index_dir=root / "index", reader_dir=engine.settings.reader_dir)
    events: list = []
    IndexStore(settings.index_dir, settings).build(
        CorpusFolder(folder).scan().files, engine.embedder, progress=False, report=events.append
    )
    return {"folder": folder, "settings": settings, "events": events,
            "engine": QAEngine(settings, embedder=engine.embedder).load(progress=False)}


def test_an_image_file_is_read_and_answers_with_an_exact_citation(small_scans):
    engine = small_scans["engine"]
    image = next(a for a in engine.articles if a.source == "ferries.png")
    assert image.kind == "image" and image.ocr_pages == (1,) and image.page_starts == ()
    answer = engine.ask("How many passengers did the Tallinn ferries carry on Sunday?")
    assert not answer.abstained and "9,300" in answer.short
    [citation] = [c for c in answer.citations if c.source == "ferries.png"]
    assert engine.text_of("ferries.png")[citation.start : citation.end] == citation.text
    assert "9,300 passengers" in citation.text and citation.pages == ()


def test_a_pdf_of_a_text_page_and_a_scanned_page_cites_each_page(small_scans):
    engine = small_scans["engine"]
    pdf = next(a for a in engine.articles if a.source == "water.pdf")
    assert pdf.ocr_pages == (2,) and len(pdf.page_starts) == 2
    assert "old pipes" in pdf.text[: pdf.page_starts[1]]  # page 1: its text layer
    for question, expected, page in (
        ("How many kilometres of old pipes did the Porto water company replace?", "48", 1),
        ("How much water does the Gaia treatment plant filter a day?", "120,000", 2),
    ):
        answer = engine.ask(question)
        assert not answer.abstained and expected in answer.short, (question, answer.text)
        citation = next(c for c in answer.citations if c.source == "water.pdf")
        assert engine.text_of("water.pdf")[citation.start : citation.end] == citation.text
        assert citation.pages == (page,), (question, citation)


def test_ocr_reports_each_page_with_a_rate(small_scans):
    from qa.index.progress import EmbeddingProgress

    ocr = [e for e in small_scans["events"] if isinstance(e, EmbeddingProgress) and e.unit == "pages"]
    for source in ("ferries.png", "water.pdf"):
        events = [e for e in ocr if source in e.task]
        assert events[0].done == 0 and events[-1].done == events[-1].total == 1, events
        assert events[-1].rate > 0 and " a page, about " in str(events[-1]), str(events[-1])
    assert str(ocr[-1]).startswith("OCR of ")


def test_status_and_documents_panel_say_which_pages_ocr_read(small_scans, capsys):
    from qa.cli import main
    from qa.ui import render

    settings = small_scans["settings"]
    code = main(["index", "--status", "--corpus", str(settings.seeds_dir), "--index", str(settings.index_dir)])
    out = capsys.readouterr().out
    assert code == 0
    assert "Read by OCR: 2 documents." in out
    assert re.search(r"  water\.pdf: page 2 read by OCR \(mean word confidence \d+ of 100\)", out), out
    assert re.search(r"  ferries\.png: the image read by OCR", out), out
    engine = small_scans["engine"]
    panel = render.about_html(engine.articles, engine.passage_count, engine.skipped)
    assert "Page 2 read by OCR" in panel and "low confidence" not in panel


# -- confidence, determinism ------------------------------------------------------------


def test_a_poor_copy_is_read_but_flagged_as_low_confidence(tmp_path):
    from qa.ui import render

    pages, _ = render_pages(longest_seed().read_text(encoding="utf-8")[:1800])
    degraded(pages[0]).save(tmp_path / "poor.png")
    pages[0].save(tmp_path / "clean.png")
    poor = read_document("poor.png", (tmp_path / "poor.png").read_bytes())
    clean = read_document("clean.png", (tmp_path / "clean.png").read_bytes())
    print(f"\nmean word confidence: clean copy {clean.ocr_confidence}, poor copy {poor.ocr_confidence}")
    # Both well inside their bands (measured: clean 95.6, poor 70.3; a copy shrunk to 0.25
    # rather than 0.22 of its size read at 80, one at 0.20 at 66).
    assert clean.ocr_confidence >= LOW_OCR_CONFIDENCE + 5
    assert MIN_OCR_CONFIDENCE + 5 <= poor.ocr_confidence <= LOW_OCR_CONFIDENCE - 5
    assert is_low_confidence(poor) and not is_low_confidence(clean)
    panel = render.about_html([poor, clean], 10)
    assert panel.count("qa-ocr-low") == 1 and "read by OCR with low confidence" in panel


def test_the_same_page_reads_the_same_every_time(tmp_path):
    pages, _ = render_pages(IMAGE_ARTICLE)
    pages[0].save(tmp_path / "page.png")
    data = (tmp_path / "page.png").read_bytes()
    first, second = (read_document("page.png", data) for _ in range(2))
    assert first.text == second.text and first.ocr_confidence == second.ocr_confidence
    assert "9,300 passengers" in first.text


def test_page_text_joins_a_paragraphs_lines_and_splits_paragraphs():
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext"

    def word(par, line, n, left, top, text, width=100):
        return f"5\t1\t1\t{par}\t{line}\t{n}\t{left}\t{top}\t{width}\t40\t90\t{text}"

    rows = [
        word(1, 1, 1, 100, 100, "Marie"), word(1, 1, 2, 900, 100, "Curie", 1000),  # a full line
        word(1, 2, 1, 100, 160, "was"), word(1, 2, 2, 300, 160, "born."),          # short, ends a sentence
        word(1, 3, 1, 100, 220, "In"), word(1, 3, 2, 900, 220, "Warsaw", 1000),
        word(1, 4, 1, 100, 280, "she"), word(1, 4, 2, 900, 280, "studied", 1000),
        word(1, 5, 1, 100, 400, "Heading"),                                          # set apart by space
    ]
    page = page_text("\n".join([header, *rows]) + "\n")
    assert page.text == "Marie Curie was born.\n\nIn Warsaw she studied\n\nHeading"
    assert page.words == 9 and page.confidence == 90
    assert page_text("") == OcrPage("", 0, None)


# -- bad input --------------------------------------------------------------------------


def png_declaring(width: int, height: int) -> bytes:
    """A PNG whose header declares ``width`` x ``height`` grey pixels, with a few bytes of data:
    what a decompression bomb looks like before it is inflated."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


def pdf_with_page(width_points: float, height_points: float, image: tuple[int, int] = (10, 10)) -> bytes:
    """A one-page PDF (no text) of the given page size drawing an image that declares ``image`` pixels."""
    import pypdf
    from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    writer = pypdf.PdfWriter()
    page = writer.add_blank_page(width_points, height_points)
    picture = DecodedStreamObject()
    picture.set_data(b"\0" * 100)
    picture.update({NameObject("/Type"): NameObject("/XObject"), NameObject("/Subtype"): NameObject("/Image"),
                    NameObject("/Width"): NumberObject(image[0]), NameObject("/Height"): NumberObject(image[1]),
                    NameObject("/ColorSpace"): NameObject("/DeviceGray"), NameObject("/BitsPerComponent"): NumberObject(8)})
    page[NameObject("/Resources")] = DictionaryObject(
        {NameObject("/XObject"): DictionaryObject({NameObject("/Im0"): writer._add_object(picture)})})
    contents = DecodedStreamObject()
    contents.set_data(b"q 100 0 0 100 0 0 cm /Im0 Do Q")
    page[NameObject("/Contents")] = writer._add_object(contents)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


HOSTILE = {
    "bomb.png": (lambda: png_declaring(100_000, 100_000), "decompression bomb"),  # Pillow's own check, first
    "wide.png": (lambda: png_declaring(1_000_000, 30), "pixel limit"),
    "zero-size.png": (lambda: png_declaring(0, 0), "not a readable PNG, JPEG or TIFF image"),
    "truncated.jpg": (lambda: b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20, "not a readable PNG, JPEG or TIFF image"),
    "noise.tif": (lambda: b"II*\x00" + bytes(range(256)) * 4, "not a readable PNG, JPEG or TIFF image"),
    "huge-page.pdf": (lambda: pdf_with_page(14_400, 14_400), "pixel limit"),
    "image-bomb.pdf": (lambda: pdf_with_page(595, 842, image=(200_000, 200_000)), "decompression bomb"),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_broken_images_are_refused_in_one_line_quickly(tmp_path, name):
    make, says = HOSTILE[name]
    data = make()
    for read in (lambda: read_document(name, data), lambda: CorpusFolder(tmp_path).add(name, data)):
        started = time.perf_counter()
        with pytest.raises(DocumentError) as err:
            read()
        message = str(err.value)
        assert time.perf_counter() - started < REFUSAL_SECONDS
        assert name in message and says in message, message
        assert "\n" not in message and "Traceback" not in message
    assert list(tmp_path.iterdir()) == []  # nothing refused enters the folder


def test_without_tesseract_a_scan_is_left_out_saying_how_to_install_it_and_text_pdfs_still_work(
    tmp_path, monkeypatch, engine
):
    folder = tmp_path / "corpus"
    folder.mkdir()
    write_pdf(folder / "report.pdf", [TEXT_PAGE])
    pages, _ = render_pages(SCANNED_PAGE)
    save_pdf(folder / "scan.pdf", pages)
    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))
    with pytest.raises(OcrUnavailable) as err:
        read_document("scan.pdf", (folder / "scan.pdf").read_bytes())
    assert isinstance(err.value, ConfigError)
    assert "Tesseract is not installed" in str(err.value) and "apt-get install tesseract-ocr" in str(err.value)
    assert "old pipes" in read_document("report.pdf", (folder / "report.pdf").read_bytes()).text
    with pytest.raises(OcrUnavailable):  # an upload is told at once
        CorpusFolder(tmp_path / "corpus").add("scan-2.pdf", (folder / "scan.pdf").read_bytes())
    built = engine_over(folder, tmp_path / "index", engine)
    assert [a.source for a in built.articles] == ["report.pdf"]
    assert len(built.skipped) == 1 and "scan.pdf" in built.skipped[0] and "make ocr" in built.skipped[0]
    monkeypatch.undo()  # Tesseract installed: the next start reads the scan, the folder unchanged
    again = engine_over(folder, tmp_path / "index", engine)
    assert [a.source for a in again.articles] == ["report.pdf", "scan.pdf"] and again.skipped == []


def test_a_drawing_without_text_is_left_out_after_ocr(tmp_path):
    from document_files import write_image_only_pdf

    data = write_image_only_pdf(tmp_path / "bars.pdf").read_bytes()
    with pytest.raises(DocumentError, match="no text layer, and OCR found no legible text"):
        read_document("bars.pdf", data)
    Tesseract()  # cheap: nothing is run until pages are read
