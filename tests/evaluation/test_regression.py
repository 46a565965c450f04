"""The real engine on both graded suites must stay above measured floors.

Runs every question of the own set (``evals/``, on the seeds) and of the external NYT
suite (``evals/external/``, on its 80 New York Times articles) through the real engine
(packaged embedding model, shipped reader, temporary indexes) and the real harness.
The runs are deterministic on one machine, so a drop below a floor there is a regression,
not noise; an index built on another machine can move a figure by a question
(`evals/README.md`), so the floors sit about 0.03 under the measurement. Raise the
floors when the engine improves.
"""

from __future__ import annotations

import pytest

from qa.evaluation.dataset import load_questions
from qa.evaluation.harness import run_eval
from qa.evaluation.suites import NYT, SEEDS

# Floors under the figures measured on 2026-12-06 with the reader's exact integer arithmetic,
# windows read one at a time (issue 19) and page furniture out of the index (evals/README.md):
# HasAns F1 / NoAns seeds dev 0.629 / 0.36, heldout 0.603 / 0.58; NYT calibration 0.638 / 0.82,
# report 0.656 / 0.96; contains and citation support 0.688 / 0.791 (seeds), 0.820 / 0.857 (NYT). The integer arithmetic is now the same on
# every processor, but an index embedded on another machine, or another processor's float
# kernels, can still move a figure by a question: each floor sits about 0.03 under its figure
# (one NoAns question is 0.05 of seeds dev, 0.1 of heldout, 0.02 of an NYT split), so a drop
# below one is a regression, not noise.
#: suite -> split -> (HasAns F1, NoAns accuracy)
MIN_SPLIT = {
    "seeds": {"dev": (0.60, 0.30), "heldout": (0.56, 0.40)},
    "nyt": {"calibration": (0.61, 0.78), "report": (0.63, 0.90)},
}
#: suite -> (contains, citation support) over all its answerable questions
MIN_OVERALL = {"seeds": (0.64, 0.76), "nyt": (0.79, 0.82)}
#: Citation offsets must always reproduce the source text.
REQUIRED_CITATION_VALIDITY = 1.0


@pytest.fixture(scope="module")
def runs(engine, nyt_engine, settings):
    return {
        "seeds": run_eval(engine, load_questions(suite=SEEDS), seeds_dir=settings.seeds_dir, label="seeds"),
        "nyt": run_eval(nyt_engine, load_questions(suite=NYT), seeds_dir=NYT.corpus_dir, label="nyt"),
    }


@pytest.mark.parametrize("suite", ["seeds", "nyt"])
def test_no_question_raises(runs, suite):
    assert [r.error for r in runs[suite].results if r.error] == []


@pytest.mark.parametrize("suite", ["seeds", "nyt"])
def test_citations_reproduce_their_source(runs, suite):
    assert runs[suite].overall.citation_validity == REQUIRED_CITATION_VALIDITY


@pytest.mark.parametrize("suite", ["seeds", "nyt"])
def test_answers_contain_the_gold_and_citations_support_it_above_floor(runs, suite):
    contains, support = MIN_OVERALL[suite]
    assert runs[suite].overall.contains >= contains
    assert runs[suite].overall.citation_support >= support


@pytest.mark.parametrize(
    "suite, split", [(suite, split) for suite, splits in MIN_SPLIT.items() for split in splits]
)
def test_each_split_stays_above_its_floors(runs, suite, split):
    has_ans_f1, no_ans = MIN_SPLIT[suite][split]
    summary = runs[suite].by_split[split]
    assert summary.count > 0
    assert summary.has_ans_f1 >= has_ans_f1
    assert summary.no_ans_accuracy >= no_ans


# Explain and summary questions (measured 2026-12-06 with the reader's exact integer arithmetic:
# summary key points dev 0.50 / heldout 0.38 against the documents' first sentences' 0.18 / 0.14;
# explain, a gold evidence sentence cited, dev 0.89 (8 of 9) / heldout 0.62 (5 of 8), and on
# 2026-12-07, with a sentence answer widened to the neighbour the reader nearly chose and a
# second reading within 10, dev 0.89 (8 of 9) / heldout 1.00 (8 of 8)). Each floor is one
# question under its figure; heldout's two (6 of 8), since explain questions are being added to
# both splits (12 each) and the new ones were not measured here.
#: split -> the share of explain questions citing a whole gold evidence sentence, at least
MIN_EXPLAIN_EVIDENCE = {"dev": 0.77, "heldout": 0.75}


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_explanations_cite_a_gold_evidence_sentence(runs, split):
    assert runs["seeds"].by_split[split].evidence_cited >= MIN_EXPLAIN_EVIDENCE[split]


@pytest.mark.parametrize("split", ["dev", "heldout"])
def test_summaries_cover_more_key_points_than_the_first_sentences(runs, split):
    summary = runs["seeds"].by_split[split]
    assert summary.key_coverage > summary.baseline_coverage
    [whole] = [r for r in runs["seeds"].results if r.question == "Summarize the documents"]
    assert whole.documents_cited >= 3


@pytest.mark.parametrize("suite", ["seeds", "nyt"])
def test_no_answer_cites_page_furniture(runs, suite):
    assert runs[suite].overall.furniture_citations == 0
