"""What a loaded or freshly built index holds in memory: the documents, their chunks and
sentences, and the two search indexes."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from qa.corpus import Article
from qa.corpus.chunking import Span


@dataclass(frozen=True)
class Chunk:
    """A retrievable passage: ``articles[source].text[start:end]``."""

    node_id: str
    source: str
    start: int
    end: int


@dataclass
class CorpusIndex:
    """The articles, their chunks and sentences, and the search indexes, loaded in memory."""

    articles: dict[str, Article]
    #: One per FAISS row and bm25s document, in corpus order.
    chunks: list[Chunk]
    faiss_index: object
    bm25: object  # bm25s.BM25
    #: Every sentence of the corpus (`qa.corpus.chunking.sentence_spans`), by article then position.
    sentences: list[Span]
    manifest: dict
    #: The ONNX export for questions, or None when questions need the model itself.
    encoder_dir: Path | None
    #: One message per document of the folder that could not be indexed (naming it and the fix).
    skipped: list[str] = dataclasses.field(default_factory=list)

    def chunk_text(self, chunk: Chunk) -> str:
        return self.articles[chunk.source].text[chunk.start : chunk.end]


def articles_by_name(articles: list[Article]) -> dict[str, Article]:
    return {a.source: a for a in articles}
