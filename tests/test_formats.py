"""Each supported format end to end: a question whose answer is only in one file is
answered from it, with a citation that is byte-exact against the text stored with the
index (and the page, for a PDF). The files are real, made by `document_files`."""

from __future__ import annotations

import pytest
from document_files import PAGE_CHROME, write_docx, write_html, write_pdf

from qa.config import Settings
from qa.corpus import CorpusFolder, load_corpus
from qa.engine import QAEngine


#: (file, question, a word the short answer holds): each fact is in that file only.
CASES = {
    "trams.txt": ("How many passengers did tram line 28 carry in 2024?", "2.1 million"),
    "notes/harbour.md": ("Which company installed the Tromso harbour crane?", "Kalmar"),
    "water.html": ("What tariff did the Nairobi water board approve?", "75 shillings"),
    "reports/ports.pdf": ("How many containers did the Valparaiso port authority handle in 2023?", "1.4 million"),
    "cycling.docx": ("How many bicycles did the Dublin cycling survey count on the quays?", "11,432"),
}
PDF_PAGE_OF_ANSWER = 2


def make_corpus(root):
    (root / "notes").mkdir(parents=True)
    (root / "reports").mkdir()
    (root / "trams.txt").write_text(
        "Lisbon trams carried more riders last year\n\n"
        "The Lisbon tram line 28 carried 2.1 million passengers in 2024, the city transport company said. "
        "It runs through the Alfama district.\n",
        encoding="utf-8",
    )
    (root / "notes" / "harbour.md").write_text(
        "# Harbour notes\n\nThe Tromso harbour crane was installed by **Kalmar** in 2019. "
        "It lifts 40 tonnes.\n\n- Operator: the port of Tromso\n",
        encoding="utf-8",
    )
    write_html(
        root / "water.html", "Nairobi raises water prices",
        ["The Nairobi water board approved a tariff of 75 shillings per cubic metre on Tuesday.",
         "Residents had protested against the increase for weeks, the board's chairman said."],
    )
    write_pdf(
        root / "reports" / "ports.pdf",
        ["Annual report of the Chilean ports. The ports authority met in Santiago in March.",
         "The Valparaiso port authority handled 1.4 million containers in 2023, a record for the port.",
         "Outlook: dredging of the outer basin starts next year."],
        title="Chilean ports annual report",
    )
    write_docx(
        root / "cycling.docx", "Dublin cycling survey",
        ["The Dublin cycling survey counted 11,432 bicycles on the quays in May.",
         "Cars on the same roads fell by a tenth."],
        table=[["Route", "Bicycles"], ["Quays", "11,432"]],
    )
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    return make_corpus(tmp_path_factory.mktemp("formats"))


@pytest.fixture(scope="module")
def format_engine(corpus, tmp_path_factory, engine):
    settings = Settings(seeds_dir=corpus, index_dir=tmp_path_factory.mktemp("formats-index"), reader_dir=engine.settings.reader_dir)
    return QAEngine(settings, embedder=engine.embedder).load(progress=False)


def test_every_format_is_read_with_its_kind(format_engine):
    kinds = {a.source: a.kind for a in format_engine.articles}
    assert kinds == {
        "trams.txt": "txt", "notes/harbour.md": "md", "water.html": "html",
        "reports/ports.pdf": "pdf", "cycling.docx": "docx",
    }
    assert format_engine.skipped == []


@pytest.mark.parametrize("source", list(CASES))
def test_question_answered_from_the_one_file_that_holds_it(format_engine, source):
    question, expected = CASES[source]
    answer = format_engine.ask(question)
    assert not answer.abstained, answer.text
    assert expected in (answer.short or ""), (answer.short, answer.text)
    assert answer.citations[0].source == source
    for c in answer.citations + answer.related + answer.passages:
        assert format_engine.text_of(c.source)[c.start : c.end] == c.text


def test_pdf_citation_names_its_page(format_engine):
    question, _ = CASES["reports/ports.pdf"]
    citation = format_engine.ask(question).citations[0]
    assert citation.pages == (PDF_PAGE_OF_ANSWER,)
    article = next(a for a in format_engine.articles if a.source == "reports/ports.pdf")
    assert len(article.page_starts) == 3 and article.stated_title == "Chilean ports annual report"


def test_txt_and_md_text_is_the_file_as_read_text_gives_it(format_engine, corpus):
    for source in ("trams.txt", "notes/harbour.md"):
        assert format_engine.text_of(source) == (corpus / source).read_text(encoding="utf-8")


def test_html_keeps_the_article_and_drops_menus_scripts_and_footer(format_engine):
    text = format_engine.text_of("water.html")
    assert "75 shillings per cubic metre" in text
    for chrome in PAGE_CHROME:
        assert chrome not in text
    article = next(a for a in format_engine.articles if a.source == "water.html")
    assert article.date == "2025-03-14" and article.title == "Nairobi raises water prices"


def test_docx_keeps_paragraphs_and_table_rows(format_engine):
    text = format_engine.text_of("cycling.docx")
    assert "The Dublin cycling survey counted 11,432 bicycles on the quays in May." in text
    assert "Route: Quays; Bicycles: 11,432" in text  # a table's row, each cell with its header (test_tables.py)


def test_extracted_texts_are_stored_with_the_index_and_match_a_fresh_extraction(format_engine, corpus):
    fresh = {a.source: a.text for a in load_corpus(corpus)}
    assert {a.source: format_engine.text_of(a.source) for a in format_engine.articles} == fresh
    assert [f.source for f in CorpusFolder(corpus).scan().files] == sorted(CASES)
