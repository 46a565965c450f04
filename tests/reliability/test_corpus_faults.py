"""Corpus faults: files in ``seeds/`` that are not articles (empty, not UTF-8, binary,
2 MB) are skipped with a warning naming each one, and the real articles still answer.

Runs on the session's `hostile_corpus`: the two short real articles of
`SMALL_CORPUS`, an article with CRLF line endings, and the four bad files.
"""

from __future__ import annotations

import pytest
from reliability_support import (
    INSTRUCTIONS_SOURCE,
    NOT_ARTICLES,
    RECRUITED_QUESTION,
    RECRUITED_SOURCE,
    TARIFF_QUESTION,
    TARIFF_SOURCE,
    AnswerChecker,
)


@pytest.mark.parametrize("name", list(NOT_ARTICLES))
def test_file_that_is_not_an_article_is_skipped_with_a_warning_naming_it(hostile_corpus, name, figures):
    _data, reason = NOT_ARTICLES[name]
    said = [w for w in hostile_corpus.warnings if name in w]
    assert said, f"no warning names {name}; warnings: {hostile_corpus.warnings}"
    assert reason in said[0], said[0]
    assert name not in [a.source for a in hostile_corpus.engine.articles]
    figures.setdefault("corpus faults", {})[name] = said[0].split(": ", 1)[-1][:140]


def test_the_articles_beside_the_bad_files_still_answer(hostile_corpus):
    check = AnswerChecker(hostile_corpus.seeds)
    assert sorted(a.source for a in hostile_corpus.engine.articles) == sorted(
        [RECRUITED_SOURCE, TARIFF_SOURCE, INSTRUCTIONS_SOURCE]
    )
    recruited = check(hostile_corpus.engine.ask(RECRUITED_QUESTION))
    assert recruited.short == "126" and recruited.citations[0].source == RECRUITED_SOURCE
    tariff = check(hostile_corpus.engine.ask(TARIFF_QUESTION))
    assert tariff.short == "50 per cent" and tariff.citations[0].source == TARIFF_SOURCE


def test_article_with_crlf_line_endings_is_cited_at_the_offsets_read_text_gives(hostile_corpus):
    raw = (hostile_corpus.seeds / INSTRUCTIONS_SOURCE).read_bytes()
    assert b"\r\n" in raw
    article = next(a for a in hostile_corpus.engine.articles if a.source == INSTRUCTIONS_SOURCE)
    assert article.text == (hostile_corpus.seeds / INSTRUCTIONS_SOURCE).read_text(encoding="utf-8")
    assert article.date == "2025-08-23"
