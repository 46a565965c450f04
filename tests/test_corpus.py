"""Loading the articles: names, exact text, the optional date header, the corpus hash, errors."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from qa.corpus import TITLE_MAX_CHARS, corpus_hash, load_corpus, parse_article
from qa.errors import CorpusError, QAError

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

SEED_NAMES = [
    "000_ba0d99dbaf0691ae.txt",
    "001_bc0dbc065121babf.txt",
    "002_626d0c358e0fb90a.txt",
    "003_903cd1dc65ffebe3.txt",
    "004_13830333336bfa58.txt",
]
#: The files that open with a `` date YYYY-MM-DD`` header, and the date it states.
DATED = {
    "001_bc0dbc065121babf.txt": "2025-08-22",
    "002_626d0c358e0fb90a.txt": "2025-08-21",
    "004_13830333336bfa58.txt": "2025-08-21",
}


@pytest.fixture(scope="module")
def articles():
    return {a.source: a for a in load_corpus(SEEDS_DIR)}


@pytest.fixture
def seeds_copy(tmp_path) -> Path:
    target = tmp_path / "seeds"
    shutil.copytree(SEEDS_DIR, target)
    return target


# -- the real corpus -----------------------------------------------------------


def test_all_five_articles_load_sorted_with_file_names_unchanged():
    assert [a.source for a in load_corpus(SEEDS_DIR)] == SEED_NAMES


@pytest.mark.parametrize("name", SEED_NAMES)
def test_article_text_is_the_file_exactly_as_read_text_returns_it(articles, name):
    on_disk = (SEEDS_DIR / name).read_text(encoding="utf-8")
    assert articles[name].text == on_disk
    assert articles[name].text.encode("utf-8") == (SEEDS_DIR / name).read_bytes()


@pytest.mark.parametrize("name", SEED_NAMES)
def test_date_is_read_from_the_header_only_when_the_file_has_one(articles, name):
    assert articles[name].date == DATED.get(name)


@pytest.mark.parametrize("name", sorted(DATED))
def test_body_start_skips_the_date_header(articles, name):
    article = articles[name]
    header, body = article.text[: article.body_start], article.text[article.body_start :]
    assert header.split() == ["date", DATED[name]]
    assert not body.startswith((" ", "\t"))  # the header's trailing blanks belong to it
    assert DATED[name] not in body


def test_body_start_is_zero_without_a_header(articles):
    for name in set(SEED_NAMES) - set(DATED):
        assert articles[name].body_start == 0


def test_bodies_start_where_the_articles_do(articles):
    def body(name):
        a = articles[name]
        return a.text[a.body_start :].lstrip()

    assert body("002_626d0c358e0fb90a.txt").startswith("New Delhi: India and Russia on Thursday")
    assert body("004_13830333336bfa58.txt").startswith("Russia is supporting 'Make in India'")
    assert body("001_bc0dbc065121babf.txt").startswith("External Affairs Minister S Jaishankar met")


def test_titles_are_short_and_never_the_header(articles):
    for article in articles.values():
        assert 0 < len(article.title) <= TITLE_MAX_CHARS
        assert not article.title.startswith("date")
    assert articles["000_ba0d99dbaf0691ae.txt"].title.startswith("External Affairs Minister S Jaishankar")
    assert articles["000_ba0d99dbaf0691ae.txt"].title.endswith("…")


# -- parse_article ---------------------------------------------------------------


def test_header_is_only_recognised_at_the_start():
    assert parse_article("a.txt", "date 2025-01-02 Body.").date == "2025-01-02"
    assert parse_article("a.txt", "\n  date 2025-01-02\nBody.").date == "2025-01-02"
    later = parse_article("a.txt", "Published on date 2025-01-02 in Delhi.")
    assert (later.date, later.body_start) == (None, 0)


def test_text_with_windows_line_endings_matches_read_text(tmp_path):
    (tmp_path / "crlf.txt").write_bytes(" date 2025-08-21 First line.\r\nSecond line.\r\n".encode("utf-8"))
    [article] = load_corpus(tmp_path)
    assert article.text == (tmp_path / "crlf.txt").read_text(encoding="utf-8")
    assert article.date == "2025-08-21"


def test_nested_and_markdown_files_are_documents_hidden_and_unsupported_are_not(seeds_copy):
    (seeds_copy / "README.md").write_text("A note in Markdown.", encoding="utf-8")
    (seeds_copy / "notes" / "deeper").mkdir(parents=True)
    (seeds_copy / "notes" / "deeper" / "x.txt").write_text("Nested, read.", encoding="utf-8")
    (seeds_copy / ".hidden.txt").write_text("Hidden, ignored.", encoding="utf-8")
    (seeds_copy / ".removed").mkdir()
    (seeds_copy / ".removed" / "old.txt").write_text("Removed, ignored.", encoding="utf-8")
    (seeds_copy / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    sources = [a.source for a in load_corpus(seeds_copy)]
    assert sources == sorted(SEED_NAMES + ["README.md", "notes/deeper/x.txt"])


# -- corpus_hash -------------------------------------------------------------------


def test_corpus_hash_is_stable_and_ignores_order():
    articles = load_corpus(SEEDS_DIR)
    assert corpus_hash(articles) == corpus_hash(load_corpus(SEEDS_DIR))
    assert corpus_hash(list(reversed(articles))) == corpus_hash(articles)


def test_corpus_hash_changes_when_a_text_changes(seeds_copy):
    before = corpus_hash(load_corpus(seeds_copy))
    path = seeds_copy / "002_626d0c358e0fb90a.txt"
    path.write_text(path.read_text(encoding="utf-8").replace("126 Indians", "127 Indians"), encoding="utf-8")
    assert corpus_hash(load_corpus(seeds_copy)) != before


def test_corpus_hash_changes_when_whitespace_changes(seeds_copy):
    before = corpus_hash(load_corpus(seeds_copy))
    path = seeds_copy / "003_903cd1dc65ffebe3.txt"
    path.write_text(path.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert corpus_hash(load_corpus(seeds_copy)) != before  # offsets would move, so it must


def test_corpus_hash_changes_when_a_file_is_added_removed_or_renamed(seeds_copy):
    seen = {corpus_hash(load_corpus(seeds_copy))}
    (seeds_copy / "005_new.txt").write_text("A new article.", encoding="utf-8")
    seen.add(corpus_hash(load_corpus(seeds_copy)))
    (seeds_copy / "005_new.txt").rename(seeds_copy / "006_new.txt")
    seen.add(corpus_hash(load_corpus(seeds_copy)))
    (seeds_copy / "006_new.txt").unlink()
    (seeds_copy / "000_ba0d99dbaf0691ae.txt").unlink()
    seen.add(corpus_hash(load_corpus(seeds_copy)))
    assert len(seen) == 4


# -- errors ------------------------------------------------------------------------


def test_missing_seeds_dir_raises_corpus_error_naming_it_and_the_fix(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(CorpusError, match="does not exist") as err:
        load_corpus(missing)
    assert str(missing) in str(err.value)
    assert "QA_SEEDS_DIR" in str(err.value)
    assert isinstance(err.value, QAError)


def test_seeds_path_that_is_a_file_raises_corpus_error(tmp_path):
    path = tmp_path / "seeds.txt"
    path.write_text("x", encoding="utf-8")
    with pytest.raises(CorpusError, match="does not exist"):
        load_corpus(path)


def test_empty_seeds_dir_raises_corpus_error(tmp_path):
    with pytest.raises(CorpusError, match=r"holds no documents") as err:
        load_corpus(tmp_path)
    assert str(tmp_path) in str(err.value)


def test_seeds_dir_without_documents_raises_corpus_error(tmp_path):
    (tmp_path / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    with pytest.raises(CorpusError, match="holds no"):
        load_corpus(tmp_path)


def test_non_utf8_article_is_skipped_with_a_warning_naming_the_file(tmp_path, caplog):
    (tmp_path / "good.txt").write_text("Fine.", encoding="utf-8")
    (tmp_path / "bad.txt").write_bytes("Caf\u00e9 in Moscow.".encode("latin-1"))
    with caplog.at_level("WARNING", logger="qa.corpus"):
        assert [a.source for a in load_corpus(tmp_path)] == ["good.txt"]
    assert "bad.txt" in caplog.text and "not UTF-8" in caplog.text
    assert "re-save it as UTF-8" in caplog.text


def test_seeds_dir_of_unreadable_files_only_raises_corpus_error_naming_them(tmp_path):
    (tmp_path / "bad.txt").write_bytes("Caf\u00e9 in Moscow.".encode("latin-1"))
    (tmp_path / "empty.txt").write_bytes(b"")
    with pytest.raises(CorpusError, match="holds no readable document") as err:
        load_corpus(tmp_path)
    assert "bad.txt" in str(err.value) and "empty.txt" in str(err.value)
