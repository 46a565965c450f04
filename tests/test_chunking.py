"""Sentences and chunks: exact spans into the article text, whatever the text looks like."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa.corpus.chunking import chunk_spans, sentence_spans
from qa.config import DEFAULT_CHUNK_MAX_CHARS, DEFAULT_CHUNK_OVERLAP_SENTENCES
from qa.corpus import load_corpus, parse_article
from qa.corpus.furniture import find as find_furniture

SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"
HEADER = " date 2025-08-21 "

# Sentences written to trip a naive splitter: abbreviations, initials, quotes,
# non-breaking hyphens (U+2011), dashes, figures with dots and ellipses.
SENTENCES = [
    "Dr. Rao met the minister in Moscow.",
    "The U.S. imposed tariffs on Indian goods.",
    "External Affairs Minister S. Jaishankar met Sergey Lavrov.",
    "Mr. Putin is expected in India later this year.",
    "“We are glad to see you,” Lavrov said.",
    "He called the criticism “perplexing.” Nobody replied.",
    "India\u2011Russia trade touched $68.7 billion in 2024\u201325.",
    "Russia provides almost 40% of India’s energy needs!",
    "Is the relationship steady?",
    "We are not the biggest purchasers… pic.twitter.com/abc",
    "The Chennai\u2013Vladivostok corridor (and the INSTC) came up.",
    "No. 7 on the list was the Northern Sea Route.",
    "Push for balanced trade",
    "'Make in India' goals, he said.",
    "Ninety-six of them were discharged, while another 16 were listed as missing.",
]
SEPARATORS = [" ", "  ", "\n", "\n\n", " \n\n\n ", "\t", "\u00a0"]
# Random runs over an alphabet dense in sentence punctuation, quotes and whitespace.
NOISE = st.text(
    alphabet=st.sampled_from(list("aZ7 .!?\n“”‘’\"'()[]\u2011\u2014Sr.U")),
    min_size=1,
    max_size=40,
)


@st.composite
def article_texts(draw) -> str:
    parts = draw(st.lists(st.one_of(st.sampled_from(SENTENCES), NOISE), min_size=0, max_size=12))
    text = ""
    for part in parts:
        text += part + draw(st.sampled_from(SEPARATORS))
    if draw(st.booleans()):
        text = HEADER + draw(st.sampled_from(["", "\n", "\n\n\n"])) + text
    return text


def check_sentences(text: str):
    article = parse_article("t.txt", text)
    spans = sentence_spans(article)
    for span in spans:
        piece = text[span.start : span.end]
        assert span.source == "t.txt"
        assert 0 <= article.body_start <= span.start < span.end <= len(text)
        assert piece == piece.strip(), "a sentence keeps no surrounding whitespace"
        assert "\n" not in piece, "lines are never joined"
    for before, after in zip(spans, spans[1:]):
        assert before.end <= after.start, "sentences are in order and do not overlap"
    covered = set()
    for span in spans:
        covered.update(range(span.start, span.end))
    furniture = set()
    for start, end, _kind in find_furniture(text, article.body_start):
        furniture.update(range(start, end))
    assert not covered & furniture, "no sentence holds page furniture"
    dropped = [
        i for i, ch in enumerate(text)
        if i >= article.body_start and not ch.isspace() and i not in covered and i not in furniture
    ]
    assert not dropped, f"characters of the body outside every sentence: {[text[i] for i in dropped]}"
    return article, spans


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=article_texts())
def test_sentence_spans_are_exact_ordered_trimmed_and_cover_the_body(text):
    article, _ = check_sentences(text)
    if text.startswith(HEADER):
        assert article.date == "2025-08-21"
        assert text[: article.body_start].split() == ["date", "2025-08-21"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=article_texts(), max_chars=st.integers(20, 400), overlap=st.integers(0, 3))
def test_chunks_are_runs_of_whole_sentences_within_max_chars(text, max_chars, overlap):
    article, sentences = check_sentences(text)
    chunks = chunk_spans(sentences, max_chars, overlap)
    if not sentences:
        assert chunks == []
        return
    seen: set[int] = set()
    previous = None
    for span, members in chunks:
        assert members == list(range(members[0], members[-1] + 1)), "consecutive sentences"
        first, last = sentences[members[0]], sentences[members[-1]]
        assert (span.start, span.end) == (first.start, last.end), "a chunk starts and ends on sentence edges"
        assert span.start >= article.body_start
        chunk_text = text[span.start : span.end]
        assert chunk_text == chunk_text.strip()
        assert len(chunk_text) <= max_chars or len(members) == 1, "only a lone long sentence may exceed max_chars"
        nxt = members[-1] + 1
        if nxt < len(sentences) and sentences[nxt].block == first.block:
            assert sentences[nxt].end - span.start > max_chars, "chunks are filled greedily"
        assert not any(
            s < span.end and span.start < e for s, e, _ in find_furniture(text, article.body_start)
        ), "no chunk runs across page furniture"
        if previous is not None:
            assert members[0] > previous[0], "every chunk moves forward"
            assert members[0] <= previous[-1] + 1, "no sentence is skipped between chunks"
            assert len(set(previous) & set(members)) <= overlap
        seen.update(members)
        previous = members
    assert seen == set(range(len(sentences))), "every sentence is in some chunk"


def test_chunks_of_no_sentences_are_none():
    assert chunk_spans([], 600, 1) == []


def test_a_sentence_longer_than_max_chars_is_a_chunk_of_its_own():
    long = "Long " + "word " * 60 + "end."
    article = parse_article("t.txt", f"Short one. {long} Short two.")
    sentences = sentence_spans(article)
    chunks = chunk_spans(sentences, 100, 1)
    lone = [members for span, members in chunks if span.end - span.start > 100]
    assert lone == [[1]]


def test_overlap_repeats_the_last_sentence_at_the_start_of_the_next_chunk():
    text = " ".join(f"Sentence number {n} is here." for n in range(12))
    sentences = sentence_spans(parse_article("t.txt", text))
    chunks = [members for _span, members in chunk_spans(sentences, 100, 1)]
    for before, after in zip(chunks, chunks[1:]):
        assert after[0] == before[-1]


# -- concrete cases ------------------------------------------------------------


def sentence_texts(text: str) -> list[str]:
    return [text[s.start : s.end] for s in sentence_spans(parse_article("t.txt", text))]


def test_abbreviations_initials_and_quotes_do_not_end_sentences():
    text = "Dr. Rao met the U.S. Ambassador and S. Jaishankar. “We are glad,” he said. “Thank you.” Lavrov replied!"
    assert sentence_texts(text) == [
        "Dr. Rao met the U.S. Ambassador and S. Jaishankar.",
        "“We are glad,” he said.",
        "“Thank you.”",
        "Lavrov replied!",
    ]


def test_a_line_without_final_punctuation_is_a_sentence_of_its_own():
    assert sentence_texts("Push for balanced trade\nJaishankar underlined the need.") == [
        "Push for balanced trade",
        "Jaishankar underlined the need.",
    ]


@pytest.fixture(scope="module")
def corpus():
    return {a.source: a for a in load_corpus(SEEDS_DIR)}


@pytest.fixture(scope="module")
def corpus_sentences(corpus):
    return {name: sentence_spans(article) for name, article in corpus.items()}


@pytest.mark.parametrize("needle", ["S. Jaishankar", "U.S.", "North\u2011South"])
def test_abbreviations_in_the_corpus_sit_inside_one_sentence(corpus, corpus_sentences, needle):
    hits = 0
    for name, article in corpus.items():
        furniture = find_furniture(article.text, article.body_start)
        for at in (m.start() for m in re.finditer(re.escape(needle), article.text)):
            if any(s <= at < e for s, e, _ in furniture):
                continue  # page furniture is in no sentence
            hits += 1
            assert any(s.start <= at and at + len(needle) <= s.end for s in corpus_sentences[name]), (
                f"{needle!r} at {name}:{at} is split across sentences"
            )
    assert hits, f"{needle!r} should occur in the corpus"


def test_the_recruitment_sentence_is_one_sentence(corpus, corpus_sentences):
    article = corpus["002_626d0c358e0fb90a.txt"]
    [sentence] = [
        article.text[s.start : s.end]
        for s in corpus_sentences["002_626d0c358e0fb90a.txt"]
        if "126 Indians were recruited" in article.text[s.start : s.end]
    ]
    assert sentence == (
        "According to the external affairs ministry, 126 Indians were recruited by the Russian military, "
        "and 12 were killed while fighting on the frontlines of the conflict in Ukraine."
    )


@pytest.mark.parametrize("furniture", ["pic.twitter.com", "Advertisement", "Also Read:", "(@ANI)", "(AP)"])
def test_no_corpus_sentence_holds_page_furniture(corpus, corpus_sentences, furniture):
    hits = 0
    for name, article in corpus.items():
        hits += article.text.count(furniture)
        for s in corpus_sentences[name]:
            assert furniture not in article.text[s.start : s.end], f"{name}: {article.text[s.start : s.end]!r}"
    assert hits, f"{furniture!r} should occur in the corpus"


def test_no_corpus_sentence_covers_a_date_header(corpus, corpus_sentences):
    for name, article in corpus.items():
        for s in corpus_sentences[name]:
            assert s.start >= article.body_start
            assert not article.text[s.start : s.end].startswith("date ")
    first = corpus_sentences["002_626d0c358e0fb90a.txt"][0]
    assert corpus["002_626d0c358e0fb90a.txt"].text[first.start : first.end].startswith("New Delhi: India and Russia")


def test_corpus_chunks_with_default_settings_hold_whole_sentences(corpus, corpus_sentences):
    for name, article in corpus.items():
        sentences = corpus_sentences[name]
        starts, ends = {s.start for s in sentences}, {s.end for s in sentences}
        for span, members in chunk_spans(sentences, DEFAULT_CHUNK_MAX_CHARS, DEFAULT_CHUNK_OVERLAP_SENTENCES):
            assert span.start in starts and span.end in ends
            assert span.end - span.start <= DEFAULT_CHUNK_MAX_CHARS or len(members) == 1
