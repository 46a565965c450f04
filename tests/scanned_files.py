"""Scanned documents for the OCR tests, made on the spot: a text drawn by Pillow onto A4
pages at 300 DPI (DejaVu Serif, 11 pt)
and saved as an image-only PDF (no text layer) or as image files. Each drawn line is
remembered with its character span in the source text and its page, so a test knows on
which page every sentence lies."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path

#: Scan resolution and page: A4 at 300 DPI, as an office scanner makes it.
DPI = 300
A4_INCHES = (8.27, 11.69)
#: Body text 11 pt with 1.45 line spacing and one-inch margins: a printed article's look.
FONT_POINTS = 11
LINE_SPACING = 1.45
MARGIN_INCHES = 1.0

#: A serif text face with every glyph a news article uses (dashes, curly quotes): Debian's
#: fonts-dejavu-core, which `make ocr` installs. (Pillow's own font draws a dash as a box.)
FONT_FILE = Path("/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf")

_WORD = re.compile(r"\S+")


def font_file() -> Path:
    if not FONT_FILE.is_file():
        raise FileNotFoundError(f"{FONT_FILE} is missing: run `make ocr` (Debian's fonts-dejavu-core)")
    return FONT_FILE


@dataclass(frozen=True)
class Line:
    start: int
    end: int
    page: int  # from 1


def render_pages(text: str, *, dpi: int = DPI, points: float = FONT_POINTS, offset: int = 0):
    """``text`` drawn line by line (each paragraph wrapped to the page's width, a half line
    between paragraphs) onto white A4 pages: the page images (mode "L") and the `Line`s
    (their spans counted from ``offset``: where ``text`` starts in its source)."""
    from PIL import Image, ImageDraw, ImageFont

    width, height = int(A4_INCHES[0] * dpi), int(A4_INCHES[1] * dpi)
    margin = int(MARGIN_INCHES * dpi)
    font = ImageFont.truetype(str(font_file()), round(points / 72 * dpi))
    step = int(points / 72 * dpi * LINE_SPACING)
    pages, lines = [], []
    draw = y = None

    def new_page():
        nonlocal draw, y
        pages.append(Image.new("L", (width, height), 255))
        draw, y = ImageDraw.Draw(pages[-1]), margin

    new_page()
    for paragraph in text.split("\n"):
        words = [(m.start() + offset, m.end() + offset, m.group()) for m in _WORD.finditer(paragraph)]
        offset += len(paragraph) + 1
        line: list = []
        wrapped = []
        for word in words:
            candidate = " ".join(w for _, _, w in [*line, word])
            if line and draw.textlength(candidate, font=font) > width - 2 * margin:
                wrapped.append(line)
                line = [word]
            else:
                line.append(word)
        if line:
            wrapped.append(line)
        for line in wrapped:
            if y + step > height - margin:
                new_page()
            draw.text((margin, y), " ".join(w for _, _, w in line), font=font, fill=0)
            lines.append(Line(line[0][0], line[-1][1], len(pages)))
            y += step
        if wrapped:
            y += step // 2
    return pages, lines


def save_pdf(path: Path, pages, dpi: int = DPI) -> Path:
    """The page images as a PDF without any text layer, as a scanner writes one."""
    pages[0].save(path, "PDF", resolution=dpi, save_all=True, append_images=pages[1:])
    return path


def write_scanned_pdf(path: Path, text: str, offset: int = 0) -> list[Line]:
    pages, lines = render_pages(text, offset=offset)
    save_pdf(path, pages)
    return lines


def degraded(image, scale: float = 0.22, blur: float = 0.5, noise: float = 0.01, seed: int = 0):
    """A bad copy of a page image: shrunk (a low-resolution scan), blurred, with salt and
    pepper noise, and enlarged back; deterministic (``seed``)."""
    from PIL import Image, ImageFilter

    small = image.resize((int(image.width * scale), int(image.height * scale)), Image.BILINEAR)
    small = small.filter(ImageFilter.GaussianBlur(blur))
    pixels, rng = small.load(), random.Random(seed)
    for _ in range(int(small.width * small.height * noise)):
        pixels[rng.randrange(small.width), rng.randrange(small.height)] = rng.choice((0, 255))
    return small.resize(image.size, Image.BILINEAR)


def pages_of(lines: list[Line], start: int, end: int) -> set[int]:
    """The pages on which the text ``[start, end)`` of the source was drawn."""
    return {line.page for line in lines if line.start < end and start < line.end}
