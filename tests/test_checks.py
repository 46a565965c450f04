"""The names-and-figures check (`qa.answering.checks`): what a question needs its article to say."""

from __future__ import annotations

import pytest

from qa.answering.checks import ArticleTerms, missing_terms, shares_no_word

ARTICLE = ArticleTerms.of(
    "India-Russia trade reached $68.7 billion in 2024\u201325, officials said in Moscow. "
    "Ukraine's talks with Indian diplomats continued; 1,200 workers were hired."
)


@pytest.mark.parametrize(
    "question, missing",
    [
        ("How much was India-Russia trade worth in 2024-25?", set()),  # a hyphenated name is two names
        ("What did the Ukrainian minister say in Moscow?", set()),  # "Ukrainian" finds "Ukraine"
        ("How many Indians were hired?", set()),
        ("How many workers were hired? Who hired them?", set()),  # "Who" opens a sentence: no name
        ("How much was trade worth in 2019?", {"2019"}),
        ("What did Obama say in Moscow?", {"obam"}),
        ("How many workers, 1,200 or more?", set()),  # figures compare without their commas
    ],
)
def test_missing_terms_are_the_names_and_figures_the_article_never_states(question, missing):
    assert missing_terms(question, ARTICLE) == missing


@pytest.mark.parametrize(
    "query, nothing_in_common",
    [("the of and to", True), ("\U0001f914\U0001f914", True), ("x" * 300, True), ("wich yeer was trade hi", False)],
)
def test_a_query_with_nothing_to_look_for_in_the_article_shares_no_word(query, nothing_in_common):
    assert shares_no_word(query, ARTICLE) is nothing_in_common
