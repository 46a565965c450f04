"""Tables as documents: ``.csv`` (the standard library's reader) and ``.xlsx`` (openpyxl),
read as rows a reader can read and a citation can quote.

Each sheet (a CSV file is one) becomes a heading line, then one line per spreadsheet row,
each cell with its column's header::

    Exports: rows 2 to 41 under the header of row 1 (Country, Exports 2024–25).
    Country: India; Exports 2024–25: $4.88 billion
    Country: Japan; Exports 2024–25: $3.1 billion

A line is one sentence (cells are written on one line, and "; " never ends a sentence),
so an answer from a table cites exactly one row. Line ``k`` after a sheet's heading is
the sheet's row ``header + k`` (an empty row is an empty line), so the sheet and row of a
citation follow from the stored text alone (`locate`): nothing beyond the text and its
format has to be stored with the index. Formulas are read as their last computed values.
Questions that need arithmetic over the rows (sums, averages, rankings) are out of scope:
the reader quotes cells, it does not compute.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import re

from qa.corpus.bounds import check_xlsx_archive
from qa.corpus.documents import Article
from qa.errors import DocumentError

#: The formats this module reads.
TABLE_KINDS = ("csv", "xlsx")
#: Formats whose text may hold tables among other text: a .docx's tables are written as
#: sheets named "Table 1", "Table 2"... (`docx_table_blocks`), its paragraphs around them.
KINDS_WITH_TABLES = (*TABLE_KINDS, "docx")
#: What a .docx table's rows are under: its number in the document ("Table 2").
DOCX_TABLE_LABEL = "Table {number}"
#: Between the cells of a .docx table that is no grid of headers and rows (one row or one
#: column: a layout box, a list), written as before tables were read as rows.
LAYOUT_CELL_SEPARATOR = " | "
#: Between cells of a row; a semicolon never ends a sentence (`qa.corpus.chunking`).
CELL_SEPARATOR = "; "
#: Largest text a table becomes (characters), as for every format (`qa.corpus.formats`):
#: reading stops there rather than building a larger text first.
MAX_TABLE_CHARS = 1_000_000
#: CSV delimiters recognised (the sniffer picks one from the first lines).
CSV_DELIMITERS = ",;\t|"
#: Bytes the CSV sniffer looks at.
_SNIFF_BYTES = 20_000

_HEADING = re.compile(
    r"^(?P<sheet>.*): rows \d+ to (?P<last>\d+) under the header of row (?P<header>\d+) \(", re.MULTILINE
)
_WHITESPACE = re.compile(r"\s+")


def read_csv(source: str, data: bytes, name: str) -> Article:
    """A ``.csv`` file (UTF-8, with or without a byte-order mark; comma, semicolon, tab or
    bar separated) as one sheet named after the file."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise DocumentError(
            f"{name!r} is not UTF-8 text (byte {err.start}); save the CSV as UTF-8 and add it again."
        ) from None
    try:
        dialect = csv.Sniffer().sniff(text[:_SNIFF_BYTES], delimiters=CSV_DELIMITERS)
    except csv.Error:
        dialect = csv.excel
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""), dialect))
    except csv.Error as err:
        raise DocumentError(f"{name!r} is not a readable CSV file ({err}); check the file.") from None
    stem = source.rsplit("/", 1)[-1].rsplit(".", 1)[0]
    body = _sheet_text(stem, rows, name)
    if not body:
        raise DocumentError(f"{name!r} holds no table rows to answer from; check the file or remove it.")
    return Article(source=source, text=body, date=None, body_start=0, kind="csv", sha256=_sha(data))


def read_xlsx(source: str, data: bytes, name: str) -> Article:
    """An ``.xlsx`` workbook: every visible sheet, in order, each as its heading and rows."""
    import openpyxl

    check_xlsx_archive(name, data)
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as err:  # zipfile.BadZipFile, KeyError, lxml and openpyxl's own errors
        raise DocumentError(f"{name!r} is not a readable .xlsx file ({type(err).__name__}); check the file.") from None
    try:
        sheets, size = [], 0
        for sheet in book.worksheets:
            if getattr(sheet, "sheet_state", "visible") != "visible":
                continue
            text = _sheet_text(sheet.title, ([_cell(v) for v in row] for row in sheet.iter_rows(values_only=True)), name, size)
            if text:
                sheets.append(text)
                size += len(text) + 2
        title = book.properties.title or None
    except DocumentError:
        raise
    except Exception as err:
        raise DocumentError(f"{name!r} is not a readable .xlsx file ({type(err).__name__}); check the file.") from None
    finally:
        book.close()
    if not sheets:
        raise DocumentError(f"{name!r} holds no table rows to answer from; check the file or remove it.")
    return Article(
        source=source, text="\n\n".join(sheets), date=None, body_start=0, kind="xlsx", sha256=_sha(data),
        stated_title=title,
    )


def docx_table_blocks(number: int, table, name: str) -> list[str]:
    """A python-docx ``table`` (the ``number``-th of its document) as text blocks: a grid of a
    header row and rows under it as one sheet named "Table N" (a heading line, then a line per
    row, each cell with its column's header, as a CSV's); a table of one row or one column (a
    layout box, a list) as one block per row, its cells joined by " | ". A cell merged across
    columns is read once, under its first column."""
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:  # a merged cell is the same element in each column it spans
            cells.append("" if cell._tc is previous else cell.text)
            previous = cell._tc
        rows.append(cells)
    columns = {i for row in rows for i, cell in enumerate(row) if cell.strip()}
    filled = [row for row in rows if any(c.strip() for c in row)]
    if len(filled) >= 2 and len(columns) >= 2:
        text = _sheet_text(DOCX_TABLE_LABEL.format(number=number), rows, name)
        if text:
            return [text]
    blocks = []
    for row in filled:
        cells = [_flat(c) for c in row if c.strip()]
        blocks.append(LAYOUT_CELL_SEPARATOR.join(dict.fromkeys(cells)))
    return blocks


def locate(article: Article, start: int, end: int) -> str:
    """Where ``article.text[start:end]`` lies in its table: "row 5", "rows 5–6", for a
    workbook "sheet Exports, row 5", for a .docx "table 2, row 3"; "" for other formats and
    outside the rows (a heading, a .docx's paragraphs)."""
    if article.kind not in KINDS_WITH_TABLES:
        return ""
    text = article.text
    heading = None
    for match in _HEADING.finditer(text, 0, start + 1):
        heading = match
    if heading is None:
        return ""
    heading_line_end = text.find("\n", heading.start())
    if heading_line_end < 0 or start <= heading_line_end:
        return ""
    header = int(heading.group("header"))
    first = header + text.count("\n", heading_line_end, start)
    if first > int(heading.group("last")):  # past the table's rows: text after it
        return ""
    last = min(header + text.count("\n", heading_line_end, max(start, end - 1)), int(heading.group("last")))
    rows = f"row {first}" if first == last else f"rows {first}–{last}"
    if article.kind == "csv":
        return rows
    if article.kind == "docx":
        return f"{heading.group('sheet').lower()}, {rows}"
    return f"sheet {heading.group('sheet')}, {rows}"


def table_spans(text: str) -> list[tuple[int, int]]:
    """Where each table lies in ``text``: from its heading line to the end of its last row."""
    spans = []
    for heading in _HEADING.finditer(text):
        end = heading.start()
        for _line in range(int(heading.group("last")) - int(heading.group("header")) + 1):  # the heading, the rows
            stop = text.find("\n", end)
            end = len(text) if stop < 0 else stop + 1
        spans.append((heading.start(), end))
    return spans


def in_rows(article: Article, start: int, end: int) -> bool:
    """Whether ``[start, end)`` starts in a table's rows: any line of a table format, a row
    of one of a .docx's tables."""
    if article.kind in TABLE_KINDS:
        return True
    return article.kind in KINDS_WITH_TABLES and bool(locate(article, start, end))


def _sheet_text(sheet: str, rows, name: str, size_before: int = 0) -> str:
    """A sheet's heading and row lines ("" when it has no row under a header)."""
    header_row, headers, lines, last_filled = None, [], [], 0
    size = size_before
    for number, row in enumerate(rows, 1):
        cells = [_flat(c) for c in row]
        if header_row is None:
            if not any(cells):
                continue
            header_row = number
            headers = _headers(cells)
            continue
        filled = [(i, c) for i, c in enumerate(cells) if c]
        line = CELL_SEPARATOR.join(f"{_header(headers, i)}: {c}" for i, c in filled)
        lines.append(line)
        size += len(line) + 1
        if size > MAX_TABLE_CHARS:
            raise DocumentError(
                f"{name!r} holds over {MAX_TABLE_CHARS:,} characters of table text; split it into smaller files."
            )
        if line:
            last_filled = len(lines)
    lines = lines[:last_filled]  # trailing empty rows
    if header_row is None or not lines:
        return ""
    columns = ", ".join(h for h in headers if h)
    heading = f"{sheet}: rows {header_row + 1} to {header_row + len(lines)} under the header of row {header_row} ({columns})."
    return "\n".join([heading, *lines])


def _headers(cells: list[str]) -> list[str]:
    return [c or f"Column {i + 1}" for i, c in enumerate(cells)]


def _header(headers: list[str], i: int) -> str:
    return headers[i] if i < len(headers) else f"Column {i + 1}"


def _flat(value) -> str:
    """A cell's text on one line (a line is a row)."""
    return _WHITESPACE.sub(" ", value if isinstance(value, str) else _cell(value)).strip()


def _cell(value) -> str:
    """A spreadsheet value as text: whole numbers without ".0", dates as YYYY-MM-DD."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
