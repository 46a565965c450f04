"""The metrics contract: normalisation, answer scores, citations, retrieval,
abstention and latency, each against hand-computed values."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from qa.evaluation.metrics import (
    ScoredAnswer,
    abstention_figures,
    citation_is_valid,
    citation_precision,
    citation_support,
    contains_answer,
    exact_match,
    first_relevant_rank,
    latency_figures,
    normalize_answer,
    percentile,
    retrieval_figures,
    supports,
    token_f1,
)


@dataclass(frozen=True)
class S:
    source: str
    start: int
    end: int


EVIDENCE = S("a.txt", 100, 200)


# ---------------------------------------------------------------- normalisation


def test_normalize_follows_squad_lowercase_punctuation_articles_whitespace():
    assert normalize_answer("The  Quick, brown fox!") == "quick brown fox"
    assert normalize_answer("An apple and a pear.") == "apple and pear"


def test_normalize_folds_curly_quotes_and_dashes():
    assert normalize_answer("India’s “balanced” trade") == "indias balanced trade"
    assert normalize_answer("India–Russia") == normalize_answer("India-Russia") == "india russia"
    assert normalize_answer("North\u2011South corridor") == "north south corridor"
    assert normalize_answer("trade—and energy") == "trade and energy"


@pytest.mark.parametrize(
    "written, digits",
    [
        ("ninety-six", "96"),
        ("Ninety six", "96"),
        ("twelve", "12"),
        ("one hundred and twenty-six", "126"),
        ("one hundred twenty six", "126"),
        ("two thousand and five", "2005"),
        ("one thousand two hundred", "1,200"),
        ("nineteen hundred", "1900"),
        ("a hundred", "100"),
        ("12 per cent", "12%"),
        ("12 percent", "12 %"),
        ("$68.7 billion", "68.7 billion dollars"),
        ("five million", "5 million"),
        ("21st August", "21 August"),
    ],
)
def test_normalize_writes_numbers_alike(written, digits):
    assert normalize_answer(written) == normalize_answer(digits)


def test_normalize_keeps_separate_numbers_and_decimals():
    assert normalize_answer("twenty twenty") == "20 20"
    assert normalize_answer("one and two") == "1 and 2"
    assert normalize_answer("It was 68.7.") == "it was 68.7"
    assert normalize_answer("fivefold") == "fivefold"


# ---------------------------------------------------------------- answers


def test_exact_match_after_normalisation():
    assert exact_match("The 126", ["126"]) == 1.0
    assert exact_match("ninety-six", ["96"]) == 1.0
    assert exact_match("one hundred and twenty-six", ["126"]) == 1.0
    assert exact_match("126 Indians", ["126"]) == 0.0
    assert exact_match(None, ["126"]) == 0.0


def test_token_f1_is_squad_f1_max_over_golds():
    # [126, indians] vs [126]: precision 1/2, recall 1 -> 2/3
    assert token_f1("126 Indians", ["126"]) == pytest.approx(2 / 3)
    assert token_f1("one hundred and twenty-six recruits", ["126"]) == pytest.approx(2 / 3)
    # [jaishankar, met, lavrov] vs [sergey, lavrov]: precision 1/3, recall 1/2 -> 0.4
    assert token_f1("Jaishankar met Lavrov", ["Sergey Lavrov"]) == pytest.approx(0.4)
    assert token_f1("Sergey Lavrov", ["Lavrov", "Sergey Lavrov"]) == 1.0
    assert token_f1("Moscow", ["New Delhi"]) == 0.0
    assert token_f1(None, ["x"]) == 0.0


def test_contains_answer_matches_whole_normalised_words():
    assert contains_answer("About 126 Indians were recruited [1].", ["one hundred and twenty-six"]) == 1.0
    assert contains_answer("It cost $5 billion.", ["5 billion dollars"]) == 1.0
    assert contains_answer("About 1126 were recruited.", ["126"]) == 0.0
    assert contains_answer("", ["126"]) == 0.0


# ---------------------------------------------------------------- citations


def test_supports_needs_half_the_evidence_in_the_same_article():
    assert supports(S("a.txt", 50, 250), EVIDENCE)  # contains it
    assert supports(S("a.txt", 150, 400), EVIDENCE)  # 50 of 100 characters
    assert not supports(S("a.txt", 151, 400), EVIDENCE)  # 49 of 100
    assert not supports(S("b.txt", 100, 200), EVIDENCE)  # other article


def test_citation_support_is_any_citation_on_any_evidence():
    assert citation_support([S("a.txt", 0, 50), S("a.txt", 120, 400)], [EVIDENCE])
    assert not citation_support([S("a.txt", 0, 120)], [EVIDENCE])  # 20 of 100
    assert not citation_support([], [EVIDENCE])


def test_citation_precision_is_share_of_citations_overlapping_evidence():
    cited = [S("a.txt", 0, 50), S("a.txt", 190, 300), S("b.txt", 100, 200)]
    assert citation_precision(cited, [EVIDENCE]) == pytest.approx(1 / 3)
    assert citation_precision([S("a.txt", 0, 100)], [EVIDENCE]) == 0.0  # touching is not overlapping
    assert citation_precision([], [EVIDENCE]) is None


def test_citation_is_valid_when_offsets_reproduce_the_text():
    source = "hello world"
    assert citation_is_valid("world", 6, 11, source)
    assert not citation_is_valid("world", 5, 10, source)
    assert not citation_is_valid("world", 6, 20, source)
    assert not citation_is_valid("", 6, 6, source)


# ---------------------------------------------------------------- retrieval


def test_first_relevant_rank_is_one_based():
    passages = [S("b.txt", 100, 200), S("a.txt", 0, 90), S("a.txt", 100, 300)]
    assert first_relevant_rank(passages, [EVIDENCE]) == 3
    assert first_relevant_rank(passages[:2], [EVIDENCE]) is None


def test_retrieval_hits_and_mrr():
    figures = retrieval_figures([1, 3, None, 2])
    assert figures.count == 4
    assert figures.hit_at == {1: 0.25, 3: 0.75, 5: 0.75}
    assert figures.mrr == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)  # 11/24
    assert retrieval_figures([]) is None


# ---------------------------------------------------------------- abstention


def test_abstention_figures_follow_squad2():
    scored = [
        ScoredAnswer(answerable=True, abstained=False, em=1.0, f1=1.0),
        ScoredAnswer(answerable=True, abstained=False, em=0.0, f1=0.5),
        ScoredAnswer(answerable=True, abstained=True, em=1.0, f1=1.0),  # abstaining scores 0
        ScoredAnswer(answerable=False, abstained=True, em=0.0, f1=0.0),
        ScoredAnswer(answerable=False, abstained=False, em=0.0, f1=0.0),
        ScoredAnswer(answerable=False, abstained=True, em=0.0, f1=0.0),
    ]
    f = abstention_figures(scored)
    assert (f.has_ans_count, f.no_ans_count) == (3, 3)
    assert f.has_ans_em == pytest.approx(1 / 3)
    assert f.has_ans_f1 == pytest.approx(0.5)
    assert f.no_ans_accuracy == pytest.approx(2 / 3)
    # overall EM: answerable 1, 0, 0; unanswerable 1, 0, 1
    assert f.overall_em == pytest.approx(3 / 6)
    assert f.overall_f1 == pytest.approx((1 + 0.5 + 0 + 1 + 0 + 1) / 6)
    assert f.abstention_precision == pytest.approx(2 / 3)  # 2 of 3 abstentions were right
    assert f.abstention_recall == pytest.approx(2 / 3)  # 2 of 3 unanswerables abstained
    assert f.false_abstentions == 1


def test_abstention_figures_without_unanswerables_or_abstentions():
    f = abstention_figures([ScoredAnswer(True, False, 1.0, 1.0)])
    assert f.no_ans_accuracy is None
    assert f.abstention_precision is None
    assert f.abstention_recall is None
    assert f.overall_f1 == 1.0


# ---------------------------------------------------------------- latency


def test_percentile_interpolates_linearly():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([3, 1, 2], 50) == 2
    # position 9 * 0.95 = 8.55 -> 9 + 0.55 * (10 - 9)
    assert percentile(list(range(1, 11)), 95) == pytest.approx(9.55)
    assert percentile([5.0], 95) == 5.0
    with pytest.raises(ValueError):
        percentile([], 50)


def test_latency_figures():
    f = latency_figures([0.4, 0.1, 0.3, 0.2])
    assert f.count == 4
    assert f.p50 == pytest.approx(0.25)
    assert f.p95 == pytest.approx(0.3 + 0.85 * 0.1)  # position 3 * 0.95 = 2.85
    assert f.mean == pytest.approx(0.25)
    assert f.max == 0.4
    assert latency_figures([]) is None


# ---------------------------------------------------------------- explain and summary


def _ev(source, start, end, key=""):
    from qa.evaluation.dataset import Evidence

    return Evidence(source, start, end, "x" * (end - start), key)


def test_evidence_cited_needs_a_whole_gold_sentence_inside_a_citation():
    from types import SimpleNamespace as C

    from qa.evaluation.metrics import evidence_cited

    gold = [_ev("a.txt", 10, 50), _ev("b.txt", 0, 20)]
    assert evidence_cited([C(source="a.txt", start=0, end=60)], gold)
    assert not evidence_cited([C(source="a.txt", start=20, end=60)], gold)  # half of it is not enough
    assert not evidence_cited([C(source="c.txt", start=0, end=100)], gold)
    assert not evidence_cited([], gold)


def test_key_coverage_counts_each_key_point_once_whichever_article_states_it():
    from types import SimpleNamespace as C

    from qa.evaluation.metrics import documents_cited, key_coverage

    gold = [_ev("a.txt", 0, 10, "trade"), _ev("b.txt", 0, 10, "trade"), _ev("a.txt", 20, 30, "oil"),
            _ev("c.txt", 0, 10, "army"), _ev("d.txt", 0, 10, "summit")]
    one_article = [C(source="b.txt", start=0, end=10)]
    assert key_coverage(one_article, gold) == 1 / 4
    both = one_article + [C(source="a.txt", start=0, end=10)]
    assert key_coverage(both, gold) == 1 / 4  # the same point twice
    assert key_coverage(both + [C(source="a.txt", start=18, end=40)], gold) == 2 / 4
    assert key_coverage([], gold) == 0.0
    assert key_coverage([], []) is None
    assert documents_cited(both) == 2
