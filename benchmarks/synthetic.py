"""Deterministic synthetic news corpora of a chosen size, for the scale benchmarks.

Articles look like the seeds (a `` date YYYY-MM-DD`` header, a title line,
one- or two-sentence paragraphs) and are made of facts drawn from fixed
word lists: people with titles, countries, cities, sectors, sums, counts and
dates. The same ``seed`` and size always give the same files.

    python benchmarks/synthetic.py /tmp/corpus-10k --chunks 10000
"""

from __future__ import annotations

import argparse
import random
import sys
from pathlib import Path

PEOPLE = [
    "Anita Rao", "Boris Kuznetsov", "Chen Wei", "Daniela Costa", "Emeka Obi", "Farah Haddad",
    "Gustav Lindqvist", "Hiro Tanaka", "Ingrid Berg", "Jorge Salas", "Kavya Menon", "Lukas Novak",
    "Maria Petrova", "Nikhil Bose", "Olga Ivanova", "Pedro Alves", "Qadir Shah", "Rina Sato",
    "Samuel Mensah", "Tara Singh", "Umar Farooq", "Vera Sokolova", "Wang Lei", "Yusuf Demir",
]
TITLES = [
    "Foreign Minister", "Trade Minister", "Finance Minister", "Prime Minister", "President",
    "Energy Minister", "Defence Minister", "Ambassador", "Central Bank Governor", "Deputy Prime Minister",
]
COUNTRIES = [
    "India", "Russia", "China", "Brazil", "Egypt", "Germany", "Japan", "Kenya", "Mexico", "Norway",
    "Peru", "Qatar", "Spain", "Turkey", "Vietnam", "Indonesia", "Nigeria", "Argentina", "Canada", "Chile",
]
CITIES = [
    "Moscow", "New Delhi", "Beijing", "Brasilia", "Cairo", "Berlin", "Tokyo", "Nairobi", "Mexico City",
    "Oslo", "Lima", "Doha", "Madrid", "Ankara", "Hanoi", "Jakarta", "Abuja", "Buenos Aires", "Ottawa",
]
SECTORS = [
    "fertilisers", "pharmaceuticals", "textiles", "crude oil", "liquefied natural gas", "coal", "steel",
    "semiconductors", "wheat", "rice", "machinery", "aircraft parts", "rare earths", "software services",
    "shipbuilding", "nuclear fuel", "diamonds", "tea", "automobiles", "solar panels",
]
VERBS = [
    "expand", "review", "double", "secure", "diversify", "protect", "cap", "restore", "boost", "audit",
]
EVENTS = [
    "a joint commission", "an investment forum", "a security dialogue", "a trade summit",
    "a climate conference", "a ministerial meeting", "a business council", "a naval exercise",
]
MONTHS = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
    "November", "December",
]


def _sentence(rng: random.Random, a: str, b: str) -> str:
    person, title = rng.choice(PEOPLE), rng.choice(TITLES)
    sector, verb = rng.choice(SECTORS), rng.choice(VERBS)
    amount = f"${rng.randint(1, 99)}.{rng.randint(0, 9)} billion"
    when = f"{rng.choice(MONTHS)} {rng.randint(1, 28)}, {rng.randint(2019, 2026)}"
    count = rng.randint(2, 900)
    templates = [
        f"{a}'s {title} {person} said on {when} that {a} would {verb} its trade in {sector} with {b}.",
        f"Bilateral trade in {sector} between {a} and {b} reached {amount} in {rng.randint(2019, 2026)}, officials said.",
        f"{person}, the {title} of {a}, met counterparts from {b} in {rng.choice(CITIES)} for {rng.choice(EVENTS)}.",
        f"According to the ministry, {count} workers from {a} were employed in the {sector} sector of {b}.",
        f"{a} and {b} agreed to {verb} cooperation on {sector} and to hold {rng.choice(EVENTS)} in {rng.choice(CITIES)}.",
        f"Analysts expect exports of {sector} from {a} to {b} to grow by {rng.randint(2, 40)} per cent next year.",
        f"The {title} warned that tariffs on {sector} could cost {a} about {amount} a year.",
        f"Talks in {rng.choice(CITIES)} on {when} covered {sector}, {rng.choice(SECTORS)} and {rng.choice(SECTORS)}.",
    ]
    return rng.choice(templates)


def article(rng: random.Random, paragraphs: int) -> str:
    a, b = rng.sample(COUNTRIES, 2)
    date = f"{rng.randint(2019, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    title = f"{a} and {b} discuss {rng.choice(SECTORS)} and {rng.choice(SECTORS)}"
    body = [
        " ".join(_sentence(rng, a, b) for _ in range(rng.randint(1, 2)))
        for _ in range(paragraphs)
    ]
    return f" date {date} \n\n\n\n{title}\n\n\n\n" + "\n\n\n\n".join(body) + "\n"


def write_corpus(directory: Path, chunks: int, seed: int = 0) -> dict:
    """Write articles into ``directory`` until they make about ``chunks`` chunks
    (as `qa.corpus.chunking` cuts them with default settings). Returns counts."""
    from qa.corpus.chunking import chunk_spans, sentence_spans
    from qa.config import DEFAULT_CHUNK_MAX_CHARS, DEFAULT_CHUNK_OVERLAP_SENTENCES
    from qa.corpus import parse_article

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    total_chunks = total_sentences = n = 0
    while total_chunks < chunks:
        name = f"syn_{n:06d}.txt"
        text = article(rng, paragraphs=rng.randint(8, 16))
        sentences = sentence_spans(parse_article(name, text))
        total_chunks += len(chunk_spans(sentences, DEFAULT_CHUNK_MAX_CHARS, DEFAULT_CHUNK_OVERLAP_SENTENCES))
        total_sentences += len(sentences)
        (directory / name).write_text(text, encoding="utf-8")
        n += 1
    return {"articles": n, "chunks": total_chunks, "sentences": total_sentences}


def vocabulary() -> list[str]:
    """Every word the generator can write (for a stand-in encoder's word vectors)."""
    words = set()
    for group in (PEOPLE, TITLES, COUNTRIES, CITIES, SECTORS, VERBS, EVENTS, MONTHS):
        for phrase in group:
            words.update(phrase.lower().split())
    return sorted(words)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("directory", type=Path)
    parser.add_argument("--chunks", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(write_corpus(args.directory, args.chunks, args.seed))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    sys.exit(main())
