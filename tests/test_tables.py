"""Tables as documents (`qa.corpus.tables`): ``.csv`` and ``.xlsx`` read as one line per row,
each cell with its header, citations naming the sheet and row; and the table suite: lookup
questions on CSV and XLSX files generated here, beside the seeds, answered with the cell
and cited to its row. Tables inside a ``.docx`` read the same way, cited to table and row."""

from __future__ import annotations

import io
import random
import shutil
from pathlib import Path

import pytest

from qa.cli import main
from qa.corpus.formats import read_document
from qa.corpus.tables import locate
from qa.engine import QAEngine
from qa.errors import DocumentError
from qa.evaluation.metrics import exact_match

#: The issue's bar for the table suite: exact answers, each cited to its row.
EXACT_AT_LEAST = 0.90
QUESTIONS_AT_LEAST = 20

COUNTRIES = ["India", "Brazil", "Japan", "Kenya", "Norway", "Chile", "Vietnam", "Egypt", "Canada", "Poland", "Peru", "Ghana"]
CITIES = [
    ("Pune", "Asha Kulkarni"), ("Recife", "Joao Campos"), ("Sendai", "Kazuko Kori"), ("Mombasa", "Abdullswamad Nassir"),
    ("Bergen", "Marte Mjos Persen"), ("Valparaiso", "Camila Nieto"), ("Hue", "Nguyen Van Phuong"), ("Aswan", "Ismail Kamal"),
]


def _tables(seed: int = 7):
    """The generated tables and their lookup questions: (question, answers, file, location)."""
    rng = random.Random(seed)
    exports = [(c, f"${rng.randint(100, 990) / 100:.2f} billion", f"${rng.randint(100, 990) / 100:.2f} billion") for c in COUNTRIES]
    population = [(city, rng.randint(300_000, 4_000_000), mayor) for city, mayor in CITIES]
    budgets = [(city, f"{rng.randint(20, 900)} million euros", rng.choice(["January", "April", "July", "October"])) for city, _ in CITIES]
    csv_text = "Country,Exports 2024–25,Imports 2024–25\n" + "".join(f'{c},{e},{i}\n' for c, e, i in exports)

    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Population"
    sheet.append(["City", "Population 2025", "Mayor"])
    for row in population:
        sheet.append(list(row))
    second = book.create_sheet("Budgets")
    second.append(["City", "Budget 2026", "Fiscal year starts in"])
    for row in budgets:
        second.append(list(row))
    data = io.BytesIO()
    book.save(data)

    questions = []
    for n, (country, exported, imported) in enumerate(exports):
        questions.append((f"What were {country}'s exports in 2024–25?", [exported], "trade.csv", f"row {n + 2}"))
        if n % 2:
            questions.append((f"What were {country}'s imports in 2024–25?", [imported], "trade.csv", f"row {n + 2}"))
    for n, (city, people, mayor) in enumerate(population):
        questions.append((f"What was the population of {city} in 2025?", [str(people)], "cities.xlsx", f"sheet Population, row {n + 2}"))
        questions.append((f"Who is the mayor of {city}?", [mayor], "cities.xlsx", f"sheet Population, row {n + 2}"))
    for n, (city, budget, month) in enumerate(budgets):
        questions.append((f"What is {city}'s budget for 2026?", [budget], "cities.xlsx", f"sheet Budgets, row {n + 2}"))
    return csv_text.encode("utf-8"), data.getvalue(), questions


@pytest.fixture(scope="module")
def table_engine(settings, engine, tmp_path_factory):
    """The seeds plus the generated CSV and XLSX files, indexed."""
    root = tmp_path_factory.mktemp("tables")
    corpus = root / "corpus"
    shutil.copytree(settings.seeds_dir, corpus)
    csv_bytes, xlsx_bytes, questions = _tables()
    (corpus / "trade.csv").write_bytes(csv_bytes)
    (corpus / "cities.xlsx").write_bytes(xlsx_bytes)
    ours = QAEngine(settings.with_(seeds_dir=corpus, index_dir=root / "index"), embedder=engine.embedder).load(progress=False)
    return ours, questions


# ------------------------------------------------------------------ reading


def test_a_csv_becomes_one_line_per_row_with_its_headers():
    article = read_document("trade.csv", "Country;Exports 2024–25\nIndia;$4.88 billion\n\nJapan;$3.1 billion\n".encode())
    lines = article.text.split("\n")
    assert lines[1] == "Country: India; Exports 2024–25: $4.88 billion"
    assert lines[2] == "" and lines[3] == "Country: Japan; Exports 2024–25: $3.1 billion"
    start = article.text.index("Country: Japan")
    assert locate(article, start, start + 20) == "row 4"
    first = article.text.index("Country: India")
    assert locate(article, first, start + 5) == "rows 2–4"
    assert locate(article, 0, 5) == ""  # the heading is no row


def test_an_xlsx_names_each_sheet_and_keeps_row_numbers():
    _csv, xlsx, _questions = _tables()
    article = read_document("cities.xlsx", xlsx)
    assert article.kind == "xlsx"
    for sheet, key in (("Population", "City: Sendai; Population 2025:"), ("Budgets", "City: Sendai; Budget 2026:")):
        start = article.text.index(key)
        assert locate(article, start, start + len(key)) == f"sheet {sheet}, row 4"
    assert "Population 2025: " in article.text and ".0;" not in article.text  # whole numbers as written


def test_every_row_is_read_even_a_short_last_row_before_the_next_sheet():
    """A sheet's last row is followed by the next sheet's heading, a sentence: a short line
    before a sentence is what a section heading looks like, and page furniture is never read.
    A table's lines are data, never furniture (`qa.corpus.furniture.find`)."""
    from qa.corpus import furniture
    from qa.corpus.chunking import sentence_spans

    _csv, xlsx, _questions = _tables()
    article = furniture.marked(read_document("cities.xlsx", xlsx))
    assert article.furniture == ()
    sentences = {article.text[s.start : s.end] for s in sentence_spans(article)}
    last = article.text.split("\n\n")[0].splitlines()[-1]
    assert last.startswith(f"City: {CITIES[-1][0]}; ") and last in sentences


def test_broken_tables_are_refused_in_one_line():
    for name, data, expected in (
        ("bad.csv", "Country,Value\nIndia,\xff\n".encode("latin-1"), "is not UTF-8 text"),
        ("bad.xlsx", b"PK\x03\x04 not really a workbook", "is not a readable .xlsx file"),
        ("empty.csv", b"Country,Value\n", "holds no table rows"),
    ):
        with pytest.raises(DocumentError) as err:
            read_document(name, data)
        assert expected in str(err.value) and name in str(err.value) and "\n" not in str(err.value)


# ------------------------------------------------------------------ the table suite


def test_table_lookups_are_answered_with_the_cell_and_cited_to_its_row(table_engine):
    engine, questions = table_engine
    assert len(questions) >= QUESTIONS_AT_LEAST
    exact, wrong = 0, []
    for question, answers, source, location in questions:
        answer = engine.ask(question)
        first = answer.citations[0] if answer.citations else None
        right = exact_match(answer.short, answers) == 1.0
        cited = first is not None and first.source == source and first.location == location
        for c in answer.citations:
            assert engine.text_of(c.source)[c.start : c.end] == c.text
        if right and cited:
            exact += 1
            assert "\n" not in first.text  # one row
        else:
            wrong.append((question, answers, answer.short, first and (first.source, first.location)))
    share = exact / len(questions)
    print(f"\ntable suite: {exact}/{len(questions)} exact answers cited to their row ({share:.0%}); misses: {wrong}")
    assert share >= EXACT_AT_LEAST, wrong


def test_the_cli_names_the_sheet_and_row(table_engine, capsys):
    engine, questions = table_engine
    question, answers, source, location = next(q for q in questions if q[2] == "cities.xlsx")
    settings = engine.settings
    assert main(["ask", "--corpus", str(settings.seeds_dir), "--index", str(settings.index_dir), question]) == 0
    out = capsys.readouterr().out
    assert f"{source} {location} chars" in out


# ------------------------------------------------------------------ tables inside a .docx


def _docx_with_tables(path: Path, seed: int = 11):
    """A report: a paragraph, a table of cities (header row, a row per city), a paragraph after
    it, a one-row layout table and a table with a cell merged across two columns; and its
    lookup questions: (question, answers, location)."""
    import docx

    rng = random.Random(seed)
    rows = [(city, str(rng.randint(300_000, 4_000_000)), mayor) for city, mayor in CITIES]
    document = docx.Document()
    document.add_heading("Cities of the ports network", level=1)
    document.add_paragraph("The network's members reported their figures for the year in March.")
    grid = document.add_table(rows=len(rows) + 1, cols=3)
    for r, row in enumerate([("City", "Population 2025", "Mayor"), *rows]):
        for c, value in enumerate(row):
            grid.cell(r, c).text = value
    document.add_paragraph("The secretariat will publish the next figures in the autumn.")
    layout = document.add_table(rows=1, cols=2)
    layout.cell(0, 0).text, layout.cell(0, 1).text = "Prepared by the secretariat", "Page 1"
    merged = document.add_table(rows=3, cols=3)
    for r, row in enumerate([("Port", "Berths", "Cranes"), ("Bergen", "12", "9"), ("Closed for works", "", "")]):
        for c, value in enumerate(row):
            merged.cell(r, c).text = value
    merged.cell(2, 0).merge(merged.cell(2, 1))
    document.save(str(path))
    questions = []
    for n, (city, people, mayor) in enumerate(rows):
        questions.append((f"What was the population of {city} in 2025?", [people], f"table 1, row {n + 2}"))
        questions.append((f"Who is the mayor of {city}?", [mayor], f"table 1, row {n + 2}"))
    return path, questions


def test_a_docx_table_becomes_rows_with_headers_cited_to_table_and_row(tmp_path):
    path, _questions = _docx_with_tables(tmp_path / "network.docx")
    article = read_document("network.docx", path.read_bytes())
    text = article.text
    assert "Table 1: rows 2 to 9 under the header of row 1 (City, Population 2025, Mayor)." in text
    row = f"City: {CITIES[2][0]}; Population 2025: "
    start = text.index(row)
    assert locate(article, start, text.index("\n", start)) == "table 1, row 4"
    # The paragraphs around it are no row, nor is the table's heading.
    for words in ("The network's members", "The secretariat will publish", "Table 1: rows"):
        at = text.index(words)
        assert locate(article, at, at + len(words)) == ""
    # A one-row layout table stays its cells on one line; a merged cell is read once.
    assert "\n\nPrepared by the secretariat | Page 1\n\n" in text
    assert "Port: Bergen; Berths: 12; Cranes: 9\nPort: Closed for works" in text
    at = text.index("Port: Closed for works")
    assert locate(article, at, at + 10) == "table 3, row 3" and "Berths: Closed" not in text


def test_lookups_in_a_docx_table_are_answered_with_the_cell_and_cited_to_its_row(settings, engine, tmp_path_factory):
    root = tmp_path_factory.mktemp("docx-tables")
    corpus = root / "corpus"
    corpus.mkdir()
    shutil.copy(settings.seeds_dir / "002_626d0c358e0fb90a.txt", corpus)
    _path, questions = _docx_with_tables(corpus / "network.docx")
    ours = QAEngine(settings.with_(seeds_dir=corpus, index_dir=root / "index"), embedder=engine.embedder).load(progress=False)
    exact, wrong = 0, []
    for question, answers, location in questions:
        answer = ours.ask(question)
        first = answer.citations[0] if answer.citations else None
        for c in answer.citations:
            assert ours.text_of(c.source)[c.start : c.end] == c.text
        if exact_match(answer.short, answers) == 1.0 and first.source == "network.docx" and first.location == location:
            exact += 1
        else:
            wrong.append((question, answers, answer.short, first and first.location))
    print(f"\ndocx table: {exact}/{len(questions)} exact answers cited to their row; misses: {wrong}")
    assert exact / len(questions) >= EXACT_AT_LEAST, wrong
