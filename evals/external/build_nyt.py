"""Build the ``nyt`` evaluation suite from SQuADShifts-NYT (see ``evals/external/README.md``).

    python evals/external/build_nyt.py --sdist bigbench-1.0.0.tar.gz

reads ``nyt_v1.0.json`` straight out of the BIG-bench 1.0.0 sdist (fetched once,
by hand, with ``pip download --no-deps bigbench==1.0.0``; never in CI) and writes
``evals/external/nyt/``:

* ``corpus/nyt_<nnn>_<slug>.txt``: 80 articles, each its paragraphs joined by a
  blank line, exactly as the dataset gives them;
* ``calibration.jsonl`` / ``report.jsonl``: about 3.75 sampled questions per
  article (the first 40 articles are calibration, the other 40 report), plus 50
  unanswerable questions each, asked of other NYT articles that are not in
  the corpus (nor, by their URLs, about the same story), that name something
  (a capitalised word or a number) and whose answers occur nowhere in it;
* ``manifest.json``: source and checksums, seed, the articles chosen and where
  each unanswerable question came from, counts.

The same sdist and seed give byte-identical output. The suite is written to a
temporary folder, validated with `qa.evaluation.dataset.validate`, then
swapped in.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import re
import shutil
import sys
import tarfile
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from qa.evaluation.dataset import EvalQuestion, Evidence, dump_questions, load_questions, validate
from qa.evaluation.suites import NYT

MEMBER = "bigbench-1.0.0/bigbench/benchmark_tasks/squad_shifts/nyt_v1.0.json"
DEFAULT_OUT = NYT.dataset_dir
SEED = 2020

N_ARTICLES = 80
#: Articles per split: the first half of the chosen articles calibrate, the second report.
N_CALIBRATION_ARTICLES = N_ARTICLES // 2
#: Questions sampled per article, cycled over the articles: 3.75 on average, 300 in all.
QUESTIONS_PER_ARTICLE = (4, 4, 4, 3)
N_UNANSWERABLE = 100
#: An article of ordinary length, in characters (the dataset's median is about 1,600).
MIN_ARTICLE_CHARS = 1_200
MAX_ARTICLE_CHARS = 4_000
MIN_QUESTIONS = 3
#: An unanswerable question's article is skipped when its URL slug shares this
#: share of its words with a corpus article's slug (likely the same story).
MAX_SLUG_OVERLAP = 0.5
SLUG_MAX_CHARS = 48
CATEGORY_ANSWERABLE = "news"
CATEGORY_UNANSWERABLE = "unanswerable"
DIFFICULTY = "medium"
MANIFEST_FORMAT = "qa-external-suite/1"

#: Bullets and rating stars mark listings (restaurant guides, event calendars), not prose.
_LISTING_MARKS = frozenset("•★■⬥")
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Zl", "Zp"})
#: Words that end with a dot without ending a sentence.
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof st jr sr gov sen rep gen col lt capt sgt rev inc corp co ltd vs no "
    "jan feb mar apr aug sept oct nov dec mt ft".split()
)
# Sentence-final punctuation, closing quotes or brackets, whitespace, then a capital or digit.
_BOUNDARY = re.compile(r"[.!?]+[\"'”’)\]]*(\s+)(?=[\"'“‘(\[]?[A-Z0-9])")
_WORD_BEFORE = re.compile(r"([A-Za-z.]+)[.!?]+[\"'”’)\]]*$")


# --- reading the source ----------------------------------------------------------


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_member(sdist: Path) -> bytes:
    """The bytes of ``nyt_v1.0.json`` inside the sdist (read in one streaming pass)."""
    with tarfile.open(sdist, "r|gz") as tar:
        for info in tar:
            if info.name == MEMBER and info.isfile():
                return tar.extractfile(info).read()
    raise SystemExit(f"error: {sdist} has no file {MEMBER}; is it bigbench-1.0.0.tar.gz?")


# --- what an article and a question must look like ------------------------------------


def clean_text(text: str) -> bool:
    """One line of plain prose: no control, format or odd space characters, no listing marks."""
    if not text or text != text.strip():
        return False
    for ch in text:
        cat = unicodedata.category(ch)
        if cat in _BAD_CATEGORIES or (cat == "Zs" and ch != " ") or ch in _LISTING_MARKS:
            return False
    return True


@dataclass
class Question:
    squad_id: str
    question: str
    #: Distinct gold answer texts, whitespace trimmed, first gold answer first.
    answers: list[str]
    #: The first gold answer's span in the article text (trimmed).
    start: int
    end: int


@dataclass
class Article:
    url: str
    text: str
    questions: list[Question]

    @property
    def slug(self) -> str:
        name = self.url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".html").lower()
        name = re.sub(r"[^a-z0-9]+", "-", name).strip("-") or "article"
        if len(name) > SLUG_MAX_CHARS:
            name = name[:SLUG_MAX_CHARS].rsplit("-", 1)[0]
        return name


def parse_article(record: dict) -> Article | None:
    """The article as the corpus file will hold it, with its usable questions; None if unusable."""
    paragraphs = [p["context"] for p in record["paragraphs"]]
    if not all(clean_text(p) for p in paragraphs):
        return None
    text, offset, questions, seen = "", 0, [], set()
    for n, para in enumerate(record["paragraphs"]):
        if n:
            text += "\n\n"
        offset = len(text)
        text += para["context"]
        for qa in para["qas"]:
            q = _parse_question(qa, para["context"], offset)
            if q is not None and q.question.lower() not in seen:
                seen.add(q.question.lower())
                questions.append(q)
    return Article(url=record["title"], text=text, questions=questions)


def _parse_question(qa: dict, context: str, offset: int) -> Question | None:
    question = qa["question"].strip()
    if not clean_text(question) or not qa["answers"]:
        return None
    first = qa["answers"][0]
    start = first["answer_start"]
    raw = first["text"]
    if context[start : start + len(raw)] != raw or not raw.strip():
        return None  # the dataset's offset does not reproduce the answer
    start += len(raw) - len(raw.lstrip())
    answers: list[str] = []
    for a in qa["answers"]:
        text = a["text"].strip()
        if text and clean_text(text) and text not in answers:
            answers.append(text)
    if not answers or answers[0] != raw.strip():
        return None
    return Question(qa["id"], question, answers, offset + start, offset + start + len(answers[0]))


# --- sentences and evidence ------------------------------------------------------------


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of every sentence; paragraphs (blank-line separated) never share one."""
    spans = []
    for para in re.finditer(r"[^\n]+", text):
        start = para.start()
        for m in _BOUNDARY.finditer(text, para.start(), para.end()):
            word = _WORD_BEFORE.search(text, start, m.start(1))
            if word and _not_a_sentence_end(word.group(1)):
                continue
            spans.append((start, m.start(1)))
            start = m.end(1)
        spans.append((start, para.end()))
    return spans


def _not_a_sentence_end(word: str) -> bool:
    """Whether a dot after ``word`` is an abbreviation's: "Mr.", "U.S.", an initial "J."."""
    return "." in word or (len(word) == 1 and word.isupper()) or word.lower() in _ABBREVIATIONS


def evidence_span(sentences: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    """The sentence(s) holding ``[start, end)``, as one span."""
    hit = [(s, e) for s, e in sentences if s < end and e > start]
    return hit[0][0], hit[-1][1]


# --- choosing ----------------------------------------------------------------------------


def _slug_words(article: Article) -> set[str]:
    return {w for w in article.slug.split("-") if len(w) > 3}


def _same_story(article: Article, corpus: list[Article]) -> bool:
    words = _slug_words(article)
    for other in corpus:
        theirs = _slug_words(other)
        if words and theirs and len(words & theirs) / min(len(words), len(theirs)) >= MAX_SLUG_OVERLAP:
            return True
    return False


def has_anchor(question: str) -> bool:
    """Whether the question names something (a capitalised word after the first, or a number).

    "How long is the film?" would be fair to answer from any film review in the
    corpus; "How long is Mr. Turner?" is about one film only.
    """
    words = question.split()[1:]
    return any(w[0].isdigit() or (w[0].isupper() and w != "I") for w in words)


def _occurs_in(answer: str, corpus_lower: str) -> bool:
    """Whether ``answer`` occurs in the corpus as whole words, ignoring case."""
    if answer.lower() not in corpus_lower:  # the quick test first
        return False
    return re.search(r"(?<!\w)" + re.escape(answer.lower()) + r"(?!\w)", corpus_lower) is not None


def choose(articles: list[Article], rng: random.Random):
    """The corpus articles with their sampled questions, and the unanswerable questions."""
    eligible = [
        a for a in articles
        if MIN_ARTICLE_CHARS <= len(a.text) <= MAX_ARTICLE_CHARS and len(a.questions) >= MIN_QUESTIONS
    ]
    corpus = rng.sample(eligible, N_ARTICLES)
    sampled = []
    for n, article in enumerate(corpus):
        k = min(QUESTIONS_PER_ARTICLE[n % len(QUESTIONS_PER_ARTICLE)], len(article.questions))
        sampled.append(sorted(rng.sample(article.questions, k), key=lambda q: q.start))

    chosen_urls = {a.url for a in corpus}
    corpus_lower = "\n".join(a.text for a in corpus).lower()
    pool = []
    for article in articles:
        if article.url in chosen_urls or _same_story(article, corpus):
            continue
        candidates = [
            q for q in article.questions
            if has_anchor(q.question) and not any(_occurs_in(a, corpus_lower) for a in q.answers)
        ]
        if candidates:
            pool.append((article, candidates))
    unanswerable = [(a, rng.choice(qs)) for a, qs in rng.sample(pool, N_UNANSWERABLE)]
    return corpus, sampled, unanswerable


# --- writing -------------------------------------------------------------------------------


def build(data: dict, seed: int, out: Path, source: dict) -> dict:
    """Write the suite under ``out`` (which must not exist); return the manifest."""
    rng = random.Random(seed)
    articles = [a for a in map(parse_article, data["data"]) if a is not None]
    corpus, sampled, unanswerable = choose(articles, rng)

    corpus_dir = out / "corpus"
    corpus_dir.mkdir(parents=True)
    calibration, report = NYT.splits
    split_of_article = [calibration] * N_CALIBRATION_ARTICLES + [report] * (N_ARTICLES - N_CALIBRATION_ARTICLES)
    # (file, url, split, records) per article; ids are given once the splits are ordered.
    by_article = []
    for n, (article, questions, split) in enumerate(zip(corpus, sampled, split_of_article), start=1):
        name = f"nyt_{n:03d}_{article.slug}.txt"
        (corpus_dir / name).write_text(article.text + "\n", encoding="utf-8")
        sentences = sentence_spans(article.text)
        records = []
        for q in questions:
            start, end = evidence_span(sentences, q.start, q.end)
            records.append(EvalQuestion(
                id="", split=split, category=CATEGORY_ANSWERABLE, difficulty=DIFFICULTY,
                question=q.question, history=[], answerable=True, answers=q.answers,
                evidence=[Evidence(name, start, end, article.text[start:end])],
                notes=f"SQuADShifts-NYT {q.squad_id}; {article.url}",
            ))
        by_article.append((name, article.url, split, records))

    # (record, url, SQuADShifts id) per unanswerable question.
    not_in_corpus = []
    for n, (article, q) in enumerate(unanswerable):
        split = calibration if n < N_UNANSWERABLE // 2 else report
        record = EvalQuestion(
            id="", split=split, category=CATEGORY_UNANSWERABLE, difficulty=DIFFICULTY,
            question=q.question, history=[], answerable=False, answers=[], evidence=[],
            notes=f"Asked of {article.url} (SQuADShifts-NYT {q.squad_id}), which is not in the "
            f"corpus; its answer \u201c{q.answers[0]}\u201d occurs in no corpus file.",
        )
        not_in_corpus.append((record, article.url, q.squad_id))

    records = {}
    for split in NYT.splits:
        records[split] = interleave(
            [r for _, _, s, rs in by_article if s == split for r in rs],
            [r for r, _, _ in not_in_corpus if r.split == split],
        )
        for n, record in enumerate(records[split], start=1):
            record.id = f"{NYT.id_prefixes[split]}{n:03d}"
        dump_questions(records[split], out / NYT.split_files[split])
    manifest_corpus = [
        {"file": name, "url": url, "split": split, "questions": [r.id for r in rs]}
        for name, url, split, rs in by_article
    ]
    manifest_unanswerable = [
        {"id": r.id, "url": url, "squad_id": squad_id} for r, url, squad_id in not_in_corpus
    ]
    manifest = {
        "format": MANIFEST_FORMAT,
        "suite": NYT.name,
        "source": source,
        "seed": seed,
        "selection": {
            "article_chars": [MIN_ARTICLE_CHARS, MAX_ARTICLE_CHARS],
            "min_questions": MIN_QUESTIONS,
            "questions_per_article": list(QUESTIONS_PER_ARTICLE),
        },
        "counts": {
            split: {
                "articles": sum(1 for a in manifest_corpus if a["split"] == split),
                "answerable": sum(q.answerable for q in qs),
                "unanswerable": sum(not q.answerable for q in qs),
            }
            for split, qs in records.items()
        },
        "corpus": manifest_corpus,
        "unanswerable": manifest_unanswerable,
    }
    (out / "manifest.json").write_text(
        json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return manifest


def interleave(answerable: list, unanswerable: list) -> list:
    """The answerable questions with the unanswerable ones spread evenly among them,
    so that any ``--limit`` asks both kinds."""
    out, every = [], max(1, len(answerable) // max(1, len(unanswerable)))
    rest = list(unanswerable)
    for n, record in enumerate(answerable, start=1):
        out.append(record)
        if n % every == 0 and rest:
            out.append(rest.pop(0))
    return out + rest


def check(out: Path) -> list[str]:
    """The suite's problems: `validate`'s, and first answers outside their evidence."""
    questions = load_questions(out, suite=NYT)
    problems = validate(questions, out / "corpus", suite=NYT)
    for q in questions:
        if q.answerable and q.answers[0] not in q.evidence[0].text:
            problems.append(f"{q.id}: answer {q.answers[0]!r} is not inside its evidence")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sdist", type=Path, required=True, help="bigbench-1.0.0.tar.gz")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"default: {DEFAULT_OUT}")
    parser.add_argument("--seed", type=int, default=SEED, help=f"default: {SEED}")
    args = parser.parse_args(argv)

    raw = read_member(args.sdist)
    data = json.loads(raw)
    source = {
        "dataset": "SQuADShifts, New York Times test set, v" + str(data["version"]),
        "sdist": args.sdist.name,
        "sdist_sha256": sha256_of(args.sdist),
        "member": MEMBER,
        "member_sha256": hashlib.sha256(raw).hexdigest(),
        "canary": data.get("canary", ""),
    }
    tmp = args.out.with_name(args.out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    manifest = build(data, args.seed, tmp, source)
    problems = check(tmp)
    if problems:
        for p in problems:
            print(f"problem: {p}", file=sys.stderr)
        print(f"error: {len(problems)} problem(s); left the draft in {tmp}", file=sys.stderr)
        return 1
    old = args.out.with_name(args.out.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if args.out.exists():
        args.out.rename(old)
    tmp.rename(args.out)
    shutil.rmtree(old, ignore_errors=True)
    counts = ", ".join(
        f"{split}: {c['articles']} articles, {c['answerable']} answerable + {c['unanswerable']} unanswerable"
        for split, c in manifest["counts"].items()
    )
    print(f"wrote {args.out}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
