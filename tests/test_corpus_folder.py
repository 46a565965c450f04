"""Bad files get one clear line naming the file and what to do, the rest of the corpus
keeps working; adding and removing documents never loses a user's file; the corpus
describes itself from ``corpus.toml``."""

from __future__ import annotations

import pytest
from document_files import write_encrypted_pdf, write_image_only_pdf, write_pdf

from qa.corpus import CorpusFolder, load_corpus, read_document
from qa.corpus.description import describe
from qa.corpus.folder import REMOVED_DIR
from qa.errors import CorpusError, DocumentError, QAError

GOOD = "Officials met in Lisbon on Monday. The council approved a budget of 4 million euros for the library.\n"


def one_line(message: str) -> bool:
    return "\n" not in message and len(message) < 400


@pytest.mark.parametrize(
    ("name", "make", "says"),
    [
        ("locked.pdf", lambda p: write_encrypted_pdf(p, "Secret figures for 2025."), "password-protected"),
        ("scan.pdf", write_image_only_pdf, "no text layer"),
        ("broken.pdf", lambda p: p.write_bytes(b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage"), "not a readable PDF"),
        ("broken.docx", lambda p: p.write_bytes(b"PK\x03\x04 not really a zip"), "not a readable .docx"),
        ("empty.html", lambda p: p.write_text("<html><body><nav>Home</nav><script>x()</script></body></html>"),
         "no article text"),
        ("huge.md", lambda p: p.write_bytes(b"Officials met. " * 70_000), "over the 1,000,000-byte limit"),
        ("latin1.txt", lambda p: p.write_bytes("Caf\u00e9 talks.".encode("latin-1")), "not UTF-8"),
    ],
)
def test_bad_file_gets_one_clear_line_naming_it_and_the_fix(tmp_path, name, make, says):
    make(tmp_path / name)
    with pytest.raises(DocumentError) as err:
        read_document(name, (tmp_path / name).read_bytes())
    message = str(err.value)
    assert says in message and name in message and one_line(message), message
    assert isinstance(err.value, QAError)


def test_malformed_html_with_an_article_is_still_read(tmp_path):
    html = b"<html><body><div><p>The council met on Monday and approved a budget of 4 million dollars for the new library.<div></p></span><p>Work starts in June"
    article = read_document("page.html", html)
    assert "approved a budget of 4 million dollars" in article.text


def test_folder_with_bad_files_loads_the_good_ones_and_names_each_bad_one(tmp_path, caplog):
    (tmp_path / "good.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "copy of good.txt").write_text(GOOD, encoding="utf-8")
    write_image_only_pdf(tmp_path / "scan.pdf")
    (tmp_path / "slides.pptx").write_bytes(b"PK\x03\x04")
    with caplog.at_level("INFO", logger="qa.corpus"):
        articles = load_corpus(tmp_path)
    assert [a.source for a in articles] == ["copy of good.txt"]
    for name, says in (("good.txt", "an exact copy of copy of good.txt"), ("scan.pdf", "no text layer"),
                       ("slides.pptx", "not a supported document type")):
        assert any(name in r.getMessage() and says in r.getMessage() for r in caplog.records), (name, caplog.text)


def test_scan_reads_no_text_and_lists_files_by_relative_path(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "deep.txt").write_text(GOOD, encoding="utf-8")
    write_pdf(tmp_path / "top.pdf", ["A page of text about the harbour and its cranes."])
    scan = CorpusFolder(tmp_path).scan()
    assert [(f.source, f.kind) for f in scan.files] == [("a/b/deep.txt", "txt"), ("top.pdf", "pdf")]
    assert all(len(f.sha256) == 64 for f in scan.files)


# -- adding and removing ---------------------------------------------------------------


def test_add_saves_a_readable_document_and_refuses_what_cannot_be_indexed(tmp_path):
    folder = CorpusFolder(tmp_path)
    assert folder.add("../../etc/report.txt", GOOD.encode()) == "report.txt"  # no way out of the folder
    assert (tmp_path / "report.txt").read_text(encoding="utf-8") == GOOD
    with pytest.raises(DocumentError, match="already in the corpus as report.txt"):
        folder.add("again.txt", GOOD.encode())
    with pytest.raises(DocumentError, match="not a supported document type"):
        folder.add("slides.pptx", b"PK\x03\x04")
    with pytest.raises(DocumentError, match="not a readable PNG, JPEG or TIFF image"):
        folder.add("photo.jpg", b"\xff\xd8\xff")  # images are read by OCR (tests/test_ocr.py)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.txt"]  # nothing half-written


def test_add_never_overwrites_a_different_file_of_the_same_name(tmp_path):
    folder = CorpusFolder(tmp_path)
    folder.add("report.txt", GOOD.encode())
    other = GOOD.replace("4 million", "5 million").encode()
    assert folder.add("report.txt", other) == "report-2.txt"
    assert (tmp_path / "report.txt").read_text(encoding="utf-8") == GOOD


def test_remove_moves_the_file_aside_instead_of_deleting_it(tmp_path):
    folder = CorpusFolder(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "old.txt").write_text(GOOD, encoding="utf-8")
    moved = folder.remove("sub/old.txt")
    assert not (tmp_path / "sub" / "old.txt").exists()
    assert moved.read_text(encoding="utf-8") == GOOD and REMOVED_DIR in moved.parts
    assert CorpusFolder(tmp_path).scan().files == []  # removed files are not documents
    with pytest.raises(DocumentError, match="not in the corpus"):
        folder.remove("sub/old.txt")
    with pytest.raises(DocumentError, match="not a document of this corpus"):
        folder.remove("../outside.txt")


def test_missing_folder_is_a_corpus_error_naming_it(tmp_path):
    with pytest.raises(CorpusError, match="does not exist"):
        CorpusFolder(tmp_path / "nowhere").scan()


# -- what the corpus says about itself ----------------------------------------------------


def test_description_comes_from_corpus_toml(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "corpus.toml").write_text(
        'title = "Library budget"\ndescription = "Council papers."\nexamples = ["What was approved?", 3]\n',
        encoding="utf-8",
    )
    about = describe(tmp_path, load_corpus(tmp_path))
    assert (about.title, about.description, about.examples) == ("Library budget", "Council papers.", ["What was approved?"])
    assert [f.source for f in CorpusFolder(tmp_path).scan().files] == ["a.txt"]  # not a document


def test_description_defaults_name_the_folder_count_and_date_range(tmp_path):
    folder = tmp_path / "council_papers"
    folder.mkdir()
    (folder / "a.txt").write_text("date 2025-01-05\n" + GOOD, encoding="utf-8")
    (folder / "b.txt").write_text("date 2025-02-10\nThe mayor spoke. " + GOOD, encoding="utf-8")
    about = describe(folder, load_corpus(folder))
    assert about.title == "Ask Council papers"
    assert "2 documents dated 2025-01-05 to 2025-02-10" in about.description
    assert about.examples == []


def test_broken_corpus_toml_falls_back_to_defaults_and_says_why(tmp_path):
    (tmp_path / "a.txt").write_text(GOOD, encoding="utf-8")
    (tmp_path / "corpus.toml").write_text('title = "unterminated\n', encoding="utf-8")
    about = describe(tmp_path, load_corpus(tmp_path))
    assert about.title.startswith("Ask ") and "not valid TOML" in about.problem


def test_no_corpus_words_left_in_the_chat_code():
    from pathlib import Path

    import qa.ui.app as app_module

    code = Path(app_module.__file__).read_text(encoding="utf-8")
    for word in ("Jaishankar", "Moscow", "Kazan", "Indian"):
        assert word not in code
