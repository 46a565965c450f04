"""Hostile files, made on the spot (never committed as binaries): decompression bombs,
encrypted and degenerate PDFs, nested and entity-laden XML and HTML, and the shapes a
folder can take between a scan and a read (vanishing files, links out of it, loops).

`HOSTILE_FILES` maps a file name to how to make it and what its refusal must say; the
tests write them with `write_hostile` and assert the message, the time and the memory.
"""

from __future__ import annotations

import io
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

MB = 1_000_000

#: A sentence that deflates well but is not a single repeated byte, like the text of a real bomb.
FILLER = b"The committee met again on Tuesday and adjourned without a vote. "


# ------------------------------------------------------------------ building blocks


def _repeated_deflate(block: bytes, total: int, prefix: bytes = b"", suffix: bytes = b"") -> tuple[bytes, int, int]:
    """Raw deflate of ``block`` repeated to ``total`` bytes, its CRC-32 and its Adler-32, made in
    a second: one 1 MB piece is deflated with a full flush (which makes it independent of what
    came before) and the compressed piece is repeated; only the checksums see every byte.
    ``prefix`` and ``suffix`` (an XML head and tail) come before and after the repeats."""
    piece = block * max(1, (1 << 20) // len(block))
    whole, rest = divmod(total, len(piece))

    def packed(data: bytes, mode: int) -> bytes:
        packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
        return packer.compress(data) + packer.flush(mode)

    crc, adler = zlib.crc32(prefix), zlib.adler32(prefix)
    for _ in range(whole):
        crc, adler = zlib.crc32(piece, crc), zlib.adler32(piece, adler)
    end = piece[:rest] + suffix
    crc, adler = zlib.crc32(end, crc), zlib.adler32(end, adler)
    raw = packed(prefix, zlib.Z_FULL_FLUSH) + packed(piece, zlib.Z_FULL_FLUSH) * whole + packed(end, zlib.Z_FINISH)
    return raw, crc, adler


def deflate_repeated(block: bytes, total: int) -> bytes:
    """``block`` repeated up to ``total`` bytes, as a zlib stream (a PDF's /FlateDecode)."""
    raw, _crc, adler = _repeated_deflate(block, total)
    return b"\x78\xda" + raw + adler.to_bytes(4, "big")


def raw_pdf(objects: list[bytes], *, root: int = 1, trailer_extra: bytes = b"") -> bytes:
    """A PDF of ``objects`` (object 1, 2, ... in order), with a correct cross-reference table."""
    out = io.BytesIO()
    out.write(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root %d 0 R %s>>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, root, trailer_extra, xref))
    return out.getvalue()


def stream(data: bytes, extra: bytes = b"") -> bytes:
    return b"<< /Length %d %s>>\nstream\n" % (len(data), extra) + data + b"\nendstream"


_FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"


def pdf_pages(contents: list[int | None], streams: list[bytes], *, count: int | None = None) -> bytes:
    """A PDF whose pages draw content stream ``contents[i]`` (an index into ``streams``, or None
    for an empty page); streams are shared when pages name the same one."""
    first_page = 4
    first_stream = first_page + len(contents)
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(len(contents)))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(contents) if count is None else count),
        _FONT,
    ]
    for content in contents:
        drawn = b"" if content is None else b" /Contents %d 0 R" % (first_stream + content)
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 3 0 R >> >>%s >>" % drawn
        )
    objects += streams
    return raw_pdf(objects)


def text_operators(text: str) -> bytes:
    return b"BT /F1 12 Tf 72 720 Td (" + text.encode("latin-1") + b") Tj ET"


def flate_bomb_pdf(inflated: int, pages: int = 1) -> bytes:
    """One content stream of ``inflated`` bytes once inflated (spaces, then one line of text),
    drawn by each of ``pages`` pages."""
    data = deflate_repeated(b" ", inflated)
    return pdf_pages([0] * pages, [stream(data, b"/Filter /FlateDecode ")])


def operator_flood_pdf(operators: int, pages: int = 1) -> bytes:
    """A content stream of ``operators`` save/restore pairs (no text), drawn by each page."""
    return pdf_pages([0] * pages, [stream(deflate_repeated(b"q Q ", 4 * operators), b"/Filter /FlateDecode ")])


def short_lines_pdf(pages: int) -> bytes:
    """``pages`` pages, each drawing its own five characters."""
    return pdf_pages(list(range(pages)), [stream(text_operators("p%04d" % i)) for i in range(pages)])


def nested_array_pdf(depth: int) -> bytes:
    """A page whose /MediaBox is an array nested ``depth`` deep."""
    box = b"[" * depth + b"0" + b"]" * depth
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox %s /Contents 4 0 R >>" % box,
        stream(text_operators("A page inside a deep array.")),
    ]
    return raw_pdf(objects)


def page_tree_loop_pdf() -> bytes:
    """A page tree whose /Pages node lists itself as a kid."""
    return raw_pdf([b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>"])


def encrypted_pdf() -> bytes:
    """RC4-128, made by pypdf with a user password."""
    import pypdf

    writer = pypdf.PdfWriter()
    writer.add_blank_page(612, 792)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def aes256_encrypted_pdf() -> bytes:
    """An AES-256 (revision 6) encryption dictionary with random keys: opening it needs the
    password and an AES implementation, which pypdf lacks without the `cryptography` package."""
    noise = bytes(range(7, 7 + 48))
    encrypt = (b"<< /Filter /Standard /V 5 /R 6 /Length 256 /P -4 /O <%s> /U <%s> /OE <%s> /UE <%s> /Perms <%s> "
               b"/CF << /StdCF << /CFM /AESV3 /AuthEvent /DocOpen /Length 32 >> >> /StmF /StdCF /StrF /StdCF >>") % (
        noise.hex().encode(), noise[::-1].hex().encode(), noise[:32].hex().encode(), noise[16:].hex().encode(),
        noise[:16].hex().encode())
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
        stream(noise),
        encrypt,
    ]
    return raw_pdf(objects, trailer_extra=b"/Encrypt 5 0 R /ID [<%s> <%s>] " % ((noise[:16].hex().encode(),) * 2))


def zip_of(entries: dict[str, bytes | Callable[[zipfile.ZipFile, str], None]], **kw) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, **kw) as archive:
        for name, body in entries.items():
            if callable(body):
                body(archive, name)
            else:
                archive.writestr(name, body)
    return out.getvalue()


_W = b'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
_CONTENT_TYPES = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
_RELS = (
    b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    b'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    b'Target="word/document.xml"/></Relationships>'
)


def docx_of(document_xml: bytes | Callable[[zipfile.ZipFile, str], None], **extra) -> bytes:
    """A minimal .docx (content types, package relationships, ``word/document.xml``)."""
    return zip_of({"[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": _RELS, "word/document.xml": document_xml, **extra})


_SHEET_HEAD = b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
_SHEET_TAIL = b"</sheetData></worksheet>"


def bomb_xlsx(inflated: int) -> bytes:
    """An .xlsx whose first sheet holds rows of text inflating to ``inflated`` bytes, declared truthfully."""
    row = b'<row><c t="inlineStr"><is><t>' + FILLER * 15 + b"</t></is></c></row>"
    body = inflated // len(row) * len(row)
    raw, crc, _adler = _repeated_deflate(row, body, _SHEET_HEAD, _SHEET_TAIL)
    entries = [("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS)]
    return _zip_with_deflated(entries, "xl/worksheets/sheet1.xml", raw, crc, len(_SHEET_HEAD) + body + len(_SHEET_TAIL))


def many_cells_xlsx(cells: int) -> bytes:
    """An .xlsx whose first sheet holds ``cells`` empty cells, each named differently (deflating 4 to 1)."""
    return zip_of({"[Content_Types].xml": _CONTENT_TYPES, "_rels/.rels": _RELS,
                   "xl/worksheets/sheet1.xml": _SHEET_HEAD + b"<row>" + varied(cells, b'<c r="A%d"/>') + b"</row>" + _SHEET_TAIL})


def body_xml(paragraphs: bytes) -> bytes:
    return b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:document %s><w:body>%s</w:body></w:document>' % (
        _W, paragraphs
    )


def bomb_docx(inflated: int) -> bytes:
    """A .docx whose ``word/document.xml`` holds paragraphs of text inflating to ``inflated``
    bytes, declared truthfully, as the issue's 4.7 MB .docx that inflates to 2 GB."""
    paragraph = b"<w:p><w:r><w:t>" + FILLER * 15 + b"</w:t></w:r></w:p>"
    head, tail = body_xml(b"").split(b"</w:body>")
    tail = b"</w:body>" + tail
    body = inflated // len(paragraph) * len(paragraph)  # whole paragraphs
    raw, crc, _adler = _repeated_deflate(paragraph, body, head, tail)
    entries = [("[Content_Types].xml", _CONTENT_TYPES), ("_rels/.rels", _RELS)]
    return _zip_with_deflated(entries, "word/document.xml", raw, crc, len(head) + body + len(tail))


def _zip_with_deflated(entries, name: str, raw: bytes, crc: int, size: int) -> bytes:
    """A zip of ``entries`` (deflated by zipfile) plus ``name`` given as raw deflate data."""
    import struct

    base = zip_of(dict(entries))
    archive = zipfile.ZipFile(io.BytesIO(base))
    end = base.rindex(b"PK\x05\x06")
    directory_at = struct.unpack("<I", base[end + 16 : end + 20])[0]
    files, directory = base[:directory_at], base[directory_at:end]
    encoded = name.encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(raw), size, len(encoded), 0)
    central = struct.pack("<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(raw), size,
                          len(encoded), 0, 0, 0, 0, 0, len(files))
    body = files + local + encoded + raw
    directory = directory + central + encoded
    count = len(archive.infolist()) + 1
    return body + directory + struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, count, count, len(directory), len(body), 0)


def lying_zip_docx(declared: int, inflated: int) -> bytes:
    """A .docx whose ``word/document.xml`` declares ``declared`` bytes but inflates to ``inflated``."""
    honest = bomb_docx(inflated)
    archive = zipfile.ZipFile(io.BytesIO(honest))
    info = archive.getinfo("word/document.xml")
    data = bytearray(honest)
    true_size = info.file_size
    # Patch the size in the local header and the central directory (32-bit fields, no zip64 extra).
    for at in _find_all(data, true_size.to_bytes(4, "little")):
        data[at : at + 4] = declared.to_bytes(4, "little")
    return bytes(data)


def _find_all(data: bytearray, needle: bytes) -> list[int]:
    found, at = [], data.find(needle)
    while at >= 0:
        found.append(at)
        at = data.find(needle, at + 1)
    return found


def many_entries_docx(entries: int) -> bytes:
    return docx_of(body_xml(b"<w:p><w:r><w:t>One short paragraph about the committee's vote.</w:t></w:r></w:p>"),
                   **{f"word/media/part{i}.xml": b"<a/>" for i in range(entries)})


def billion_laughs(root: bytes, levels: int = 10) -> bytes:
    """An internal DTD whose entity ``lol{levels-1}`` expands to 10**levels copies of "lol"."""
    entities = [b'<!ENTITY lol0 "lol">'] + [
        b'<!ENTITY lol%d "%s">' % (i, b"".join(b"&lol%d;" % (i - 1) for _ in range(10))) for i in range(1, levels)
    ]
    return b'<?xml version="1.0"?><!DOCTYPE %s [%s]>' % (root, b"".join(entities))


def billion_laughs_docx() -> bytes:
    xml = billion_laughs(b"w:document") + b"<w:document %s><w:body><w:p><w:r><w:t>&lol9;</w:t></w:r></w:p></w:body></w:document>" % _W
    return docx_of(xml)


def external_entity_docx() -> bytes:
    xml = (b'<?xml version="1.0"?><!DOCTYPE w:document [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'
           b"<w:document %s><w:body><w:p><w:r><w:t>&secret;</w:t></w:r></w:p></w:body></w:document>" % _W)
    return docx_of(xml)


def nested_docx(depth: int) -> bytes:
    return docx_of(body_xml(b"<w:p>" + b"<w:r>" * depth + b"</w:r>" * depth + b"</w:p>"))


def empty_paragraphs_docx(count: int) -> bytes:
    return docx_of(body_xml(b"<w:p/>" * count))


def tiny_runs_docx(count: int) -> bytes:
    """One paragraph made of ``count`` one-letter runs: text python-docx must join piece by piece."""
    return docx_of(body_xml(b"<w:p>" + b"<w:r><w:t>a</w:t></w:r>" * count + b"</w:p>"))


def varied(count: int, unit: bytes) -> bytes:
    """``unit`` (with one ``%d``) ``count`` times, numbered by a scrambled counter: markup that
    deflates only 3-5 to 1, so the archive's ratio check lets it through."""
    return b"".join(unit % ((i * 2654435761) % 4294967296) for i in range(count))


def nested_html(depth: int, tag: bytes = b"div") -> bytes:
    return b"<html><body>" + b"<%s>" % tag * depth + b"Deep text." + b"</%s>" % tag * depth + b"</body></html>"


def billion_laughs_html() -> bytes:
    return billion_laughs(b"html") + b"<html><body><p>&lol9;</p></body></html>"


def many_elements_html(total: int) -> bytes:
    unit = b"<p><a href='/x'>A link</a> and a short line of text beside it.</p>\n"
    return b"<html><body><article>" + unit * (total // len(unit)) + b"</article></body></html>"


def paragraphs_html(count: int) -> bytes:
    unit = b"<p>Paragraph %d: the council met again on Monday and approved the budget for the new library, officials said, and the vote was close.</p>"
    return b"<html><body><article>" + varied(count, unit) + b"</article></body></html>"


def table_html(total: int) -> bytes:
    unit = b"<tr><td>cell</td><td>another cell</td></tr>"
    return b"<html><body><table>" + unit * (total // len(unit)) + b"</table></body></html>"


# ------------------------------------------------------------------ the corpus


@dataclass(frozen=True)
class Hostile:
    make: Callable[[], bytes]
    #: A fragment the refusal must contain.
    says: str
    #: What makes it hostile, for the figures.
    what: str


#: Every hostile file, by name; the suffix picks the reader, as in a corpus folder.
HOSTILE_FILES: dict[str, Hostile] = {
    # The two files.
    "flate-800mb.pdf": Hostile(lambda: flate_bomb_pdf(800 * MB), "decompression bomb",
                               "a content stream that inflates to 800 MB"),
    "docx-bomb-2gb.docx": Hostile(lambda: bomb_docx(2_000 * MB), "inflate",
                                  "word/document.xml that inflates to 2 GB"),
    # Zip bombs of several ratios and sizes.
    "docx-bomb-100mb.docx": Hostile(lambda: bomb_docx(100 * MB), "inflate",
                                    "word/document.xml that inflates to 100 MB"),
    "docx-bomb-ratio-20.docx": Hostile(
        lambda: docx_of(lambda a, n: a.writestr(n, body_xml(b"<w:p><w:r><w:t>%s</w:t></w:r></w:p>" % _varied(60 * MB)))),
        "inflate", "60 MB of varied text (ratio about 20)"),
    "docx-lying-sizes.docx": Hostile(lambda: lying_zip_docx(2_000, 50 * MB), "not a readable .docx",
                                     "declares 2 kB, inflates to 50 MB"),
    "docx-many-entries.docx": Hostile(lambda: many_entries_docx(20_000), "parts", "20,000 zip entries"),
    "docx-billion-laughs.docx": Hostile(billion_laughs_docx, "entity amplification", "entities expanding to 10**9 copies"),
    "docx-external-entity.docx": Hostile(external_entity_docx, "no text", "an entity naming /etc/passwd"),
    "docx-nested.docx": Hostile(lambda: nested_docx(100_000), "decompression bomb", "100,000 nested runs"),
    "docx-empty-paragraphs.docx": Hostile(lambda: empty_paragraphs_docx(3_000_000), "inflate",
                                          "3,000,000 empty paragraphs"),
    "docx-tiny-runs.docx": Hostile(lambda: tiny_runs_docx(1_500_000), "inflate", "1,500,000 one-letter runs"),
    "docx-varied-paragraphs.docx": Hostile(lambda: docx_of(body_xml(varied(800_000, b'<w:p w:rsidR="%08X"/>'))),
                                           "paragraphs, runs and table cells", "800,000 paragraphs that deflate 4 to 1"),
    "docx-empty-cells.docx": Hostile(
        lambda: docx_of(body_xml(b"<w:tbl>" + b"".join(b"<w:tr>" + varied(100, b'<w:tc><w:p w:rsidR="%08X"/></w:tc>')
                                                        + b"</w:tr>" for _ in range(99)) + b"</w:tbl>")),
        "no text", "99 rows of 100 empty cells: the slowest table the bounds let python-docx read"),
    "docx-table-cells.docx": Hostile(
        lambda: docx_of(body_xml(b"<w:tbl><w:tr>" + varied(80_000, b'<w:tc><w:p w:rsidR="%08X"/></w:tc>') + b"</w:tr></w:tbl>")),
        "paragraphs, runs and table cells", "a table row of 80,000 cells"),
    "docx-bookmarks.docx": Hostile(
        lambda: docx_of(body_xml(b"<w:p>" + varied(700_000, b'<w:bookmarkStart w:id="%d"/>') + b"</w:p>")),
        "XML tags", "700,000 bookmarks in one paragraph"),
    "docx-not-a-zip.docx": Hostile(lambda: b"PK\x03\x04" + bytes(range(256)) * 40, "not a readable .docx",
                                   "a zip header and noise"),
    # Workbooks (zips of XML, as .docx).
    "xlsx-bomb-2gb.xlsx": Hostile(lambda: bomb_xlsx(2_000 * MB), "inflate", "a sheet that inflates to 2 GB"),
    "xlsx-many-cells.xlsx": Hostile(lambda: many_cells_xlsx(400_000), "XML tags", "400,000 empty cells"),
    # PDF bombs of several ratios, and degenerate PDFs.
    "flate-100mb.pdf": Hostile(lambda: flate_bomb_pdf(100 * MB), "decompression bomb",
                               "a content stream that inflates to 100 MB"),
    "flate-15mb.pdf": Hostile(lambda: flate_bomb_pdf(15 * MB), "decompression bomb",
                              "a content stream that inflates to 15 MB"),
    "flate-shared-by-1000-pages.pdf": Hostile(lambda: flate_bomb_pdf(4 * MB, pages=1000), "content",
                                              "one 4 MB content stream drawn by 1,000 pages"),
    "operators-flood.pdf": Hostile(lambda: operator_flood_pdf(2_000_000), "a drawing or a scan",
                                   "2,000,000 operators on one page"),
    "operators-shared.pdf": Hostile(lambda: operator_flood_pdf(150_000, pages=400), "content",
                                    "150,000 operators drawn by 400 pages"),
    "empty-pages-5000.pdf": Hostile(lambda: pdf_pages([None] * 5_000, []), "pages",
                                    "5,000 empty pages"),
    "empty-pages-990.pdf": Hostile(lambda: pdf_pages([None] * 990, []), "no text layer", "990 empty pages"),
    "short-lines-990-pages.pdf": Hostile(lambda: short_lines_pdf(990), "no text layer",
                                         "990 pages of 5 characters each: the slowest PDF the bounds let pypdf read"),
    "pages-count-lies.pdf": Hostile(lambda: pdf_pages([None], [], count=2_000_000_000), "pages",
                                    "one page, /Count 2,000,000,000"),
    "nested-arrays.pdf": Hostile(lambda: nested_array_pdf(50_000), "not a readable PDF",
                                 "an array nested 50,000 deep"),
    "page-tree-loop.pdf": Hostile(page_tree_loop_pdf, "not a readable PDF", "a page tree that contains itself"),
    "encrypted-rc4.pdf": Hostile(encrypted_pdf, "password-protected", "RC4 encryption"),
    "encrypted-aes256.pdf": Hostile(aes256_encrypted_pdf, "password-protected", "AES-256 encryption"),
    "truncated.pdf": Hostile(lambda: flate_bomb_pdf(1 * MB)[:300], "not a readable PDF", "cut off after 300 bytes"),
    # HTML.
    "nested-1m.html": Hostile(lambda: nested_html(450_000), "HTML elements", "450,000 nested <div>s"),
    "nested-tables.html": Hostile(lambda: nested_html(300_000, b"table"), "HTML elements",
                                  "300,000 nested <table>s"),
    "billion-laughs.html": Hostile(billion_laughs_html, "no article text", "entities expanding to 10**9 copies"),
    "many-links.html": Hostile(lambda: many_elements_html(4_900_000), "HTML elements", "4.9 MB of linked paragraphs"),
    "table-cells.html": Hostile(lambda: table_html(4_900_000), "HTML elements", "4.9 MB of table cells"),
    "paragraph-flood.html": Hostile(lambda: paragraphs_html(7_950), "characters of text",
                                    "7,950 paragraphs, 1.2 million characters: the slowest page the bounds let trafilatura read"),
    "one-paragraph.html": Hostile(lambda: b"<html><body><p>" + FILLER * 73_000 + b"</p></body></html>",
                                  "characters of text", "one paragraph of 4.8 MB"),
    # Text.
    "random.txt": Hostile(lambda: bytes((i * 7919 + 13) % 256 for i in range(200_000)), "NUL bytes",
                          "200 kB of random bytes"),
    "single-line.md": Hostile(lambda: b"word" * 1_000_001, "over the 1,000,000-byte limit", "one 4 MB line"),
}


def _varied(size: int) -> bytes:
    """``size`` bytes of text that deflates about 20 to 1 (numbered sentences)."""
    out, n = [], 0
    total = 0
    while total < size:
        line = b"Item %d of the list was approved by %d votes to %d. " % (n, n % 97, n % 89)
        out.append(line)
        total += len(line)
        n += 1
    return b"".join(out)[:size]


def write_hostile(folder: Path, names=None) -> dict[str, Path]:
    """Write ``names`` (default: all) of `HOSTILE_FILES` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in names or HOSTILE_FILES:
        path = folder / name
        path.write_bytes(HOSTILE_FILES[name].make())
        written[name] = path
    return written
