"""The package's errors. Library code raises these; only the edges (CLI, UI)
turn them into messages for people."""


class QAError(Exception):
    """Base class of every error this package raises on purpose."""


class BadQuestion(QAError, ValueError):
    """The question cannot be asked (empty, or not text)."""


class ConfigError(QAError, ValueError):
    """A setting (an option or a QA_* variable) has a value that cannot work; the message
    names it and what it may be."""


class CorpusError(QAError):
    """The corpus folder is missing, or holds no readable document."""


class DocumentError(CorpusError):
    """One document cannot be read (unsupported, too large, broken, encrypted, a copy):
    the message names the file and what to do; the rest of the corpus still loads."""


class OcrUnavailable(DocumentError, ConfigError):
    """A document needs OCR (a scan, an image) and Tesseract or its English data is not
    installed: the message says how to install it. That document is left out; the rest of
    the corpus, text PDFs included, is read without it."""


class IndexUnavailable(QAError):
    """Base class of problems with the persisted index."""


class IndexMissing(IndexUnavailable):
    """No index has been built in the index directory."""


class IndexCorrupt(IndexUnavailable):
    """The index directory exists but cannot be read back."""


class ModelError(QAError):
    """The embedding model cannot be loaded."""


class StoreUnavailable(IndexUnavailable):
    """The database holding the index cannot be reached (down, restarting, unreachable, or
    too busy) or a statement took too long; try again in a moment. Nothing is wrong with
    the index."""


class IndexChanged(IndexUnavailable):
    """A newer build replaced the one being served (a database store): load it again."""


class LocalServerError(QAError):
    """The throw-away local PostgreSQL (``make chat-postgres``, the store tests and benchmarks;
    `qa.stores.local_postgres`) cannot start or stop here: the message says what is in the
    way (a folder its server user cannot enter, a missing package) and what to do."""


class BadScope(QAError, ValueError):
    """A question's scope cannot be used: a document the corpus lacks, a date that is not
    YYYY-MM-DD, or a scope that leaves no document; the message names the value and the fix."""
