"""Text out of page images, by OCR: Tesseract (Debian's ``tesseract-ocr`` and
``tesseract-ocr-eng``, `make ocr`), run as a command with TSV output, which gives each
word with its line, paragraph and confidence.

A page image comes from a PDF page without a text layer (rendered by pypdfium2 at
`OCR_DPI`) or from an image file (.png, .jpg, .tif; each frame of a TIFF is a page). The
page's text is built from the words as Tesseract groups them: the words of a paragraph
joined by spaces (its line breaks are the page's layout), paragraphs by a blank line. That text is what the index
stores and what citations are cut from, so a citation is byte-exact against it like any
other document's.

Deterministic: the same image gives the same text on every machine with the same
Tesseract and language data (Debian bookworm's 5.3.0 and ``tesseract-ocr-eng`` 4.1.0):
the options are pinned (`TESSERACT_OPTIONS`), the page is rendered at a fixed DPI in
grayscale, and Tesseract runs one thread per page (OpenMP's thread scheduling is the one
thing that can vary its output between runs); pages are read in parallel processes instead.

Bounded: an image is refused before it is decoded when its declared size is over
`MAX_OCR_PIXELS` (a decompression bomb declares a huge size in a small file) or zero; a
document may have at most `MAX_OCR_PAGES` pages to read by OCR; each page gets
`OCR_PAGE_TIMEOUT_SECONDS`. Blank pages are not sent to Tesseract.

- `Tesseract`: reads pages and reports each one (`on_page(done, total)`).
- `PagesChecked`: checks pages as `Tesseract` would read them without reading them (a file
  added in the chat is checked this way; the build that follows reads it, with progress).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import statistics
import subprocess
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from dataclasses import dataclass
from typing import Callable, Iterable, Sequence

from qa.errors import DocumentError, OcrUnavailable

#: Paragraphs of a page are separated as a plain-text article's.
PARAGRAPH_BREAK = "\n\n"
#: A line starts a paragraph when the distance from the line above is over this many times
#: the page's usual line pitch (its median): paragraphs set apart by space; lines of one
#: paragraph are 1.0 apart, the space between paragraphs is usually half a line or more.
PARAGRAPH_GAP = 1.3
#: ... or when the line above ends a sentence (`SENTENCE_ENDS`) and stops short of its
#: block's right edge by more than this share of the block's width: a paragraph's last line.
#: Lines inside a paragraph end within a long word's width of the edge (under 15 %).
SHORT_LINE = 0.25
SENTENCE_ENDS = frozenset(".!?:”\")'")
#: Resolution pages are rendered at, and told to Tesseract: 300 DPI is what Tesseract's
#: models are trained for (text 10-12 pt high is 40-50 px); lower loses small print,
#: higher costs time without better words.
OCR_DPI = 300
#: ``--oem 1``: the LSTM engine only (the legacy engine's data differ between packagings);
#: ``--psm 3``: automatic page segmentation (columns and paragraphs found by Tesseract, as
#: a scanned article needs; ``--psm 6`` ran paragraphs together); English.
TESSERACT_OPTIONS = ("--oem", "1", "--psm", "3", "-l", "eng", "--dpi", str(OCR_DPI))
#: One OpenMP thread per Tesseract process: deterministic, and two single-threaded
#: processes read two pages faster than one process with two threads.
TESSERACT_ENV = {"OMP_THREAD_LIMIT": "1"}
#: Tesseract processes at once (one page each): one per core.
OCR_PROCESSES = max(1, os.cpu_count() or 1)
#: The command, found on PATH.
TESSERACT_COMMAND = "tesseract"
#: How to install it, for the message when it is missing.
INSTALL_HINT = "install Tesseract (`make ocr`, or `apt-get install tesseract-ocr tesseract-ocr-eng`)"

#: Pixels of one page image: an A4 page at 300 DPI is 8.7 million, A3 17.4 million. Past
#: this an image is a poster or a decompression bomb; Tesseract needs about 8 bytes a
#: pixel, so this bounds one page's memory near 200 MB.
MAX_OCR_PIXELS = 25_000_000
#: Pixels an image drawn inside a PDF page may declare: a scan at 600 DPI of an A4 page is
#: 35 million; pdfium decodes the whole image to draw it.
MAX_PDF_IMAGE_PIXELS = 80_000_000
#: Pages one document may have read by OCR: Tesseract takes seconds a page, so 300 pages
#: (the length of the longest document accepted, `formats.MAX_TEXT_CHARS`) are minutes;
#: more is a book to split.
MAX_OCR_PAGES = 300
#: Seconds Tesseract may spend on one page: a dense A4 page takes 2-8 s on one core of a
#: busy machine; a page that takes this long is noise, not text.
OCR_PAGE_TIMEOUT_SECONDS = 120
#: A page whose darkest pixel is at least this light (0 black, 255 white) is blank.
BLANK_PAGE_MIN_LEVEL = 200

#: Mean word confidence (0-100) under which a document's OCR text is said to be unreliable
#: (`qa index --status`, the chat's documents panel). Clean 300-DPI pages read at 92-96;
#: shrunk, blurred, noisy copies of the same page read at 80-82 with a misread word in most
#: lines, and at 60-70 with several (``tests/test_ocr.py`` makes such copies).
LOW_OCR_CONFIDENCE = 85
#: Under this mean confidence the words are mostly noise (a photograph, a page too damaged
#: to read: such copies read at 25-35), and the document is left out.
MIN_OCR_CONFIDENCE = 50


@dataclass(frozen=True)
class OcrPage:
    """One page read by OCR: its text and its words' mean confidence (None: no word)."""

    text: str
    words: int
    confidence: float | None


#: A page to read: a function returning its image (a PIL image), called when it is read.
PageImage = Callable[[], "object"]


def tesseract_installed() -> bool:
    return shutil.which(TESSERACT_COMMAND) is not None


def check_pixels(name: str, width: float, height: float, where: str, limit: int = MAX_OCR_PIXELS) -> None:
    """Refuse a page or image whose size is zero or over ``limit`` pixels, before it is decoded."""
    if width < 1 or height < 1:
        raise DocumentError(f"{name!r}: {where} is {width:.0f} x {height:.0f} pixels, an empty image; check the file.")
    if width * height > limit:
        raise DocumentError(
            f"{name!r}: {where} is {width:,.0f} x {height:,.0f} pixels, over the {limit:,}-pixel limit for "
            "reading by OCR (a decompression bomb, or a poster rather than a page); scan it at 300 DPI "
            "or export its text."
        )


def check_page_count(name: str, pages: int, what: str) -> None:
    """Refuse a document with more than `MAX_OCR_PAGES` pages to read; ``what`` says them
    ("{:,} pages")."""
    if pages > MAX_OCR_PAGES:
        raise DocumentError(
            f"{name!r} has {what.format(pages)}, over the {MAX_OCR_PAGES:,} pages OCR reads in one document; "
            "split it into smaller documents."
        )


class Tesseract:
    """Reads page images with the ``tesseract`` command (cheap to make; the command is
    looked for when pages are read). ``on_page(done, total)`` is told after each page."""

    reads_text = True

    def __init__(self, on_page: Callable[[int, int], None] | None = None, processes: int = OCR_PROCESSES) -> None:
        self.on_page = on_page
        self.processes = processes

    def command(self, name: str, pages: Sequence[int]) -> str:
        found = shutil.which(TESSERACT_COMMAND)
        if found is None:
            raise OcrUnavailable(
                f"{name!r} has no text layer on {_pages_label(pages)} and needs OCR, but Tesseract is not "
                f"installed; {INSTALL_HINT}, then index again."
            )
        return found

    def read(self, name: str, images: Sequence[PageImage], labels: Sequence[int]) -> list[OcrPage]:
        """The pages' texts, in order. ``labels``: their page numbers, for messages. Images
        are made here one at a time, and at most `processes` wait or are read at once."""
        command = self.command(name, labels)
        total, done = len(images), 0
        results: list[OcrPage] = [OcrPage("", 0, None)] * total
        self._tell(0, total)
        with ThreadPoolExecutor(max_workers=self.processes, thread_name_prefix="qa-ocr") as pool:
            running: dict = {}
            for i, make in enumerate(images):
                image = _grayscale(name, make, labels[i])
                if _is_blank(image):
                    done += 1
                    self._tell(done, total)
                else:
                    running[pool.submit(_tesseract, command, _pgm(image), name, labels[i])] = i
                del image
                while running and (len(running) >= self.processes or i == total - 1):
                    finished, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in finished:
                        results[running.pop(future)] = future.result()
                        done += 1
                        self._tell(done, total)
        return results

    def _tell(self, done: int, total: int) -> None:
        if self.on_page is not None:
            self.on_page(done, total)


class PagesChecked:
    """Makes every page image (so a broken or hostile one is refused) and checks that
    Tesseract is installed, without reading any text: ``reads_text`` is False and each page
    comes back empty. For a file added in the chat, which the build then reads with progress."""

    reads_text = False

    def read(self, name: str, images: Sequence[PageImage], labels: Sequence[int]) -> list[OcrPage]:
        Tesseract().command(name, labels)
        for make, label in zip(images, labels):
            _grayscale(name, make, label)
        return [OcrPage("", 0, None) for _ in images]


def is_low_confidence(article) -> bool:
    """Whether OCR read ``article`` (an `Article`) with a mean word confidence under `LOW_OCR_CONFIDENCE`."""
    confidence = getattr(article, "ocr_confidence", None)
    return confidence is not None and confidence < LOW_OCR_CONFIDENCE


def ocr_note(article) -> str:
    """What ``qa index --status`` and the documents panel say of a document read by OCR
    ("" for one that was not)."""
    pages = getattr(article, "ocr_pages", ())
    if not pages:
        return ""
    where = _pages_label(pages) if article.page_starts else "the image"
    confidence = article.ocr_confidence
    if is_low_confidence(article):
        return (f"{where} read by OCR with low confidence (mean {confidence:.0f} of 100, under {LOW_OCR_CONFIDENCE}): "
                "words may be misread; check its citations against the page, or scan it again at 300 DPI")
    return f"{where} read by OCR (mean word confidence {confidence:.0f} of 100)"


def pdf_page_images(name: str, data: bytes, numbers: Sequence[int]) -> tuple[list[PageImage], Callable[[], None]]:
    """Functions rendering the PDF's pages ``numbers`` (from 1) at `OCR_DPI` in grayscale,
    each refusing a page over `MAX_OCR_PIXELS` before rendering it, and the function that
    closes the document."""
    import pypdfium2

    from qa.corpus.bounds import parser_errors

    with parser_errors(name, "PDF"):
        document = pypdfium2.PdfDocument(data)
    scale = OCR_DPI / 72  # PDF sizes are in points, 72 to the inch

    def render(number: int):
        page = document[number - 1]
        try:
            width, height = page.get_size()
            check_pixels(name, width * scale, height * scale, f"page {number} at {OCR_DPI} DPI")
            return page.render(scale=scale, grayscale=True).to_pil()
        finally:
            page.close()

    return [lambda n=n: render(n) for n in numbers], document.close


def check_pdf_images(name: str, page, number: int) -> None:
    """Refuse a page drawing an image (in its resources or a form's) that declares more than
    `MAX_PDF_IMAGE_PIXELS`: rendering it would decode all of it."""
    for xobject in _xobjects(page, depth=2):
        if xobject.get("/Subtype") == "/Image":
            width, height = xobject.get("/Width", 0), xobject.get("/Height", 0)
            if isinstance(width, int) and isinstance(height, int) and width * height > MAX_PDF_IMAGE_PIXELS:
                raise DocumentError(
                    f"{name!r}: page {number} draws an image of {width:,} x {height:,} pixels, over the "
                    f"{MAX_PDF_IMAGE_PIXELS:,}-pixel limit (a decompression bomb, or a scan at far more "
                    "than 600 DPI); scan it at 300 DPI or export its text."
                )


def _xobjects(owner, depth: int):
    resources = owner.get("/Resources")
    resources = resources.get_object() if resources is not None else None
    xobjects = resources.get("/XObject") if hasattr(resources, "get") else None
    xobjects = xobjects.get_object() if xobjects is not None else None
    for xobject in (xobjects.values() if hasattr(xobjects, "values") else ()):
        xobject = xobject.get_object()
        if hasattr(xobject, "get"):
            yield xobject
            if depth > 1 and xobject.get("/Subtype") == "/Form":
                yield from _xobjects(xobject, depth - 1)


def image_frames(name: str, data: bytes) -> list[PageImage]:
    """Functions giving each frame of an image file (one for PNG and JPEG, one per page of a
    TIFF), after checking the sizes the file declares; nothing is decoded yet."""
    from PIL import Image

    from qa.corpus.bounds import parser_errors

    with parser_errors(name, "PNG, JPEG or TIFF image", "check the file, or save it again as PNG"):
        image = Image.open(io.BytesIO(data))  # reads the header only
        check_pixels(name, image.width, image.height, "the image")
        frames = 1
        while frames <= MAX_OCR_PAGES and getattr(image, "is_animated", False):
            try:
                image.seek(frames)
            except EOFError:
                break
            check_pixels(name, image.width, image.height, f"page {frames + 1}")
            frames += 1
    check_page_count(name, frames, "{:,} pages")

    def frame(i: int):
        image.seek(i)
        return image

    return [lambda i=i: frame(i) for i in range(frames)]


def mean_confidence(pages: Iterable[OcrPage]) -> float | None:
    """The mean confidence of all words of ``pages`` (each page weighted by its words)."""
    pages = [p for p in pages if p.words]
    words = sum(p.words for p in pages)
    return sum(p.confidence * p.words for p in pages) / words if words else None


def page_text(tsv: str) -> OcrPage:
    """A page's text and mean word confidence from Tesseract's TSV: the words of a paragraph
    joined by a space, paragraphs by a blank line. Tesseract finds paragraphs by their
    indentation; a line is also taken to start one when the space above it is wider than
    the block's usual line spacing (`PARAGRAPH_GAP`), or when the line before it ends a
    sentence well short of the block's right edge (`SHORT_LINE`): headings, captions and
    paragraphs set apart by space rather than indentation."""
    rows = csv.reader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
    header = next(rows, None)
    if header is None:
        return OcrPage("", 0, None)
    col = {h: i for i, h in enumerate(header)}
    lines: dict[tuple, dict] = {}  # (block, paragraph, line) -> words, confidences and box
    for row in rows:
        if len(row) < len(header) or row[col["level"]] != "5" or not row[col["text"]].strip():
            continue
        key = tuple(int(row[col[k]]) for k in ("block_num", "par_num", "line_num"))
        left, top, width, height = (int(row[col[k]]) for k in ("left", "top", "width", "height"))
        line = lines.setdefault(key, {"words": [], "conf": [], "top": top, "left": left, "right": 0})
        line["words"].append(row[col["text"]].strip())
        line["conf"].append(float(row[col["conf"]]))
        line["top"], line["left"] = min(line["top"], top), min(line["left"], left)
        line["right"] = max(line["right"], left + width)
    ordered = list(lines.items())
    pitches = [b["top"] - a["top"] for (ka, a), (kb, b) in zip(ordered, ordered[1:]) if ka[0] == kb[0]]
    pitch = statistics.median(pitches) if pitches else 0
    left: dict[int, int] = {}
    right: dict[int, int] = {}
    for (block, _, _), line in ordered:
        left[block] = min(left.get(block, line["left"]), line["left"])
        right[block] = max(right.get(block, 0), line["right"])
    out: list[str] = []
    previous = None
    for key, line in ordered:
        if previous is not None:
            (last_key, last) = previous
            new_paragraph = (
                key[:2] != last_key[:2]
                or (pitch > 0 and line["top"] - last["top"] > PARAGRAPH_GAP * pitch)
                or (last["words"][-1][-1] in SENTENCE_ENDS
                    and right[key[0]] - last["right"] > SHORT_LINE * (right[key[0]] - left[key[0]]))
            )
            # A line break inside a paragraph is the page's layout, not the text's: a space,
            # as in the document that was printed (and a sentence never breaks at a line end).
            out.append(PARAGRAPH_BREAK if new_paragraph else " ")
        out.append(" ".join(line["words"]))
        previous = (key, line)
    confidences = [c for line in lines.values() for c in line["conf"]]
    return OcrPage("".join(out), len(confidences), statistics.fmean(confidences) if confidences else None)


def _tesseract(command: str, image: bytes, name: str, page: int) -> OcrPage:
    env = {**os.environ, **TESSERACT_ENV}
    try:
        done = subprocess.run(
            [command, "stdin", "stdout", *TESSERACT_OPTIONS, "tsv"], input=image, capture_output=True,
            timeout=OCR_PAGE_TIMEOUT_SECONDS, env=env, check=False,
        )
    except subprocess.TimeoutExpired as err:
        raise DocumentError(
            f"{name!r}: OCR of page {page} took over {OCR_PAGE_TIMEOUT_SECONDS} s (noise rather than text?); "
            "check the scan or export its text."
        ) from err
    except OSError as err:
        raise OcrUnavailable(f"{name!r} needs OCR, but Tesseract could not be run ({err.strerror}); {INSTALL_HINT}.") from err
    if done.returncode != 0:
        reason = " ".join(done.stderr.decode("utf-8", "replace").split())[-160:]
        if "traineddata" in reason or "language" in reason.lower():
            raise OcrUnavailable(f"{name!r} needs OCR, but Tesseract's English data is missing ({reason}); {INSTALL_HINT}.")
        raise DocumentError(f"{name!r}: OCR of page {page} failed ({reason or f'exit status {done.returncode}'}); check the file.")
    return page_text(done.stdout.decode("utf-8", "replace"))


def _grayscale(name: str, make: PageImage, page: int):
    """The page's image in 8-bit grayscale, with every library error as one line."""
    from qa.corpus.bounds import parser_errors

    with parser_errors(name, f"page image (page {page})"):
        image = make()
        check_pixels(name, image.width, image.height, f"page {page}")
        return image if image.mode == "L" else image.convert("L")


def _is_blank(image) -> bool:
    darkest, _ = image.getextrema()
    return darkest >= BLANK_PAGE_MIN_LEVEL


def _pgm(image) -> bytes:
    """The image as binary PGM: no compression to spend time on, and Tesseract reads it from stdin."""
    return b"P5\n%d %d\n255\n" % image.size + image.tobytes()


def _pages_label(pages: Sequence[int]) -> str:
    pages = list(pages)
    if len(pages) == 1:
        return f"page {pages[0]}"
    if pages == list(range(pages[0], pages[-1] + 1)):
        return f"pages {pages[0]}-{pages[-1]}"
    return f"{len(pages)} pages"
