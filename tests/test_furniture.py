"""Page furniture (`qa.corpus.furniture`): found by general rules in every format, left out
of every sentence and chunk, while citations stay byte-exact against the stored text."""

from __future__ import annotations

from pathlib import Path

import pytest

from document_files import write_docx, write_html, write_pdf
from qa.corpus import CorpusFolder, parse_article
from qa.corpus.chunking import chunk_spans, sentence_spans
from qa.corpus.furniture import default_rules, dropped, find, rules_for

PROSE = [
    "The council approved the new budget on Tuesday after a long debate.",
    "Members said the plan would fund two new schools and a clinic.",
    "The mayor called the vote a turning point for the city.",
]

# One sample of each kind of furniture, written the way news sites write them.
FURNITURE = {
    "link teaser": "Also Read: Ten things to know about the budget",
    "advertisement": "Advertisement",
    "social post": "The vote passed 7-2 tonight pic.twitter.com/abc123XYZ— City News (@citynews) March 4, 2025",
    "share or subscribe": "Subscribe to our daily newsletter and download the CityNews app to stay updated!",
    "dateline": "Updated: March 4, 2025 10:45 IST",
    "photo credit": "Photo: Jane Smith",
    "section heading": "What happens next",
}


def text_with_furniture() -> str:
    lines = [PROSE[0]]
    for sample in FURNITURE.values():
        lines += [sample, PROSE[1]]
    lines.append(PROSE[2])
    return "\n\n".join(lines)


def test_each_kind_of_furniture_is_found_and_prose_is_not():
    text = text_with_furniture()
    found = {text[s:e]: kind for s, e, kind in find(text)}
    assert found == {sample: kind for kind, sample in FURNITURE.items()}


def test_a_caption_run_into_a_paragraph_is_cut_after_the_last_sentence():
    text = f"{PROSE[0]} The mayor, S. Rao, with council members in the chamber (Reuters)\n\n{PROSE[1]}"
    [(start, end, kind)] = find(text)
    assert kind == "photo caption"
    assert text[start:end] == "The mayor, S. Rao, with council members in the chamber (Reuters)"


def test_a_headline_and_short_prose_lines_are_kept():
    text = "Council approves the budget\n\nThe council approved it.\n\nIt was close.\n\nShare prices rose sharply after the vote on Tuesday."
    assert find(text) == []


def test_no_sentence_or_chunk_holds_furniture_and_offsets_stay_exact():
    text = text_with_furniture()
    article = parse_article("t.txt", text)
    sentences = sentence_spans(article)
    assert [text[s.start : s.end] for s in sentences] == [PROSE[0]] + [PROSE[1]] * len(FURNITURE) + [PROSE[2]]
    for span, _members in chunk_spans(sentences, 10_000, 1):
        chunk = text[span.start : span.end]
        assert not any(sample in chunk for sample in FURNITURE.values())
    pieces, chars = dropped(text, 0, sentences)
    assert pieces == len(FURNITURE)
    assert chars == sum(len(sample) for sample in FURNITURE.values())


def test_a_corpus_adds_its_own_patterns_in_corpus_toml(tmp_path: Path):
    (tmp_path / "corpus.toml").write_text(
        '[furniture]\npatterns = ["Read the full story at .*", "(unbalanced"]\n', encoding="utf-8"
    )
    text = f"{PROSE[0]}\n\nRead the full story at example.com\n\n{PROSE[1]}"
    (tmp_path / "a.txt").write_text(text, encoding="utf-8")
    [file] = CorpusFolder(tmp_path).scan().files
    article = file.read()
    assert [text[s:e] for s, e, _ in article.furniture] == ["Read the full story at example.com"]
    assert [text[s.start : s.end] for s in sentence_spans(article)] == PROSE[:2]
    assert rules_for(tmp_path).extra == ("Read the full story at .*",)  # the broken pattern left out
    assert rules_for(tmp_path / "missing") is default_rules()


def test_pdf_running_headers_footers_and_page_numbers(tmp_path: Path):
    pages = [f"Annual Report 2024\n{PROSE[n % 3]} This is section {n} of the report.\n{n + 1}" for n in range(4)]
    [file] = CorpusFolder(_folder_with(tmp_path, write_pdf, "r.pdf", pages)).scan().files
    article = file.read()
    kept = " ".join(article.text[s.start : s.end] for s in sentence_spans(article))
    assert "Annual Report" not in kept
    assert PROSE[0] in kept and PROSE[1] in kept
    assert {kind for _, _, kind in article.furniture} == {"page header or footer", "dateline"}


@pytest.mark.parametrize("fmt", ["html", "docx"])
def test_furniture_is_left_out_of_html_and_docx_too(tmp_path: Path, fmt: str):
    paragraphs = [PROSE[0], FURNITURE["link teaser"], PROSE[1], FURNITURE["advertisement"], PROSE[2]]
    if fmt == "html":
        path = write_html(tmp_path / "a.html", "Budget", paragraphs)
    else:
        path = write_docx(tmp_path / "a.docx", "Budget passes", paragraphs)
    [file] = CorpusFolder(path.parent).scan().files
    article = file.read()
    texts = [article.text[s.start : s.end] for s in sentence_spans(article)]
    assert FURNITURE["link teaser"] not in texts and FURNITURE["advertisement"] not in texts
    assert all(p in texts for p in PROSE)


def _folder_with(tmp_path: Path, writer, name: str, pages) -> Path:
    writer(tmp_path / name, pages)
    return tmp_path
