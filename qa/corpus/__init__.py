"""Documents from files: finding them in a folder, extracting their text (txt, md, html,
pdf, docx), and what the corpus says about itself.

- `documents`: the `Article` (text exactly as cited, date, pages, content hash).
- `formats`: text out of each file format.
- `bounds`: the limits that keep the work on one file bounded (bombs, floods, deep nesting).
- `ocr`: scanned PDF pages and images read by Tesseract (rendering, options, confidence).
- `folder`: a corpus folder: scanning, reading, adding and removing documents.
- `description`: the chat's title, description and examples (``corpus.toml``).
- `chunking`: sentences and chunks of a document, as character spans into its text.
- `furniture`: page furniture (ads, link teasers, embedded posts, headings...) that no
  sentence or chunk holds, found by rules kept as data (`furniture_rules.json`).
"""

from qa.corpus.documents import TITLE_MAX_CHARS, Article, corpus_hash, parse_article
from qa.corpus.folder import CorpusFolder, Scan, SourceFile, load_corpus
from qa.corpus.formats import kind_of, read_document, supported_suffixes

__all__ = [
    "TITLE_MAX_CHARS",
    "Article",
    "CorpusFolder",
    "Scan",
    "SourceFile",
    "corpus_hash",
    "kind_of",
    "load_corpus",
    "parse_article",
    "read_document",
    "supported_suffixes",
]
