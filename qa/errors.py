"""The package's errors. Library code raises these; only the edges (CLI, UI)
turn them into messages for people."""


class QAError(Exception):
    """Base class of every error this package raises on purpose."""


class BadQuestion(QAError, ValueError):
    """The question cannot be asked (empty, or not text)."""


class CorpusError(QAError):
    """The seeds directory is missing, empty or unreadable."""


class IndexUnavailable(QAError):
    """Base class of problems with the persisted index."""


class IndexMissing(IndexUnavailable):
    """No index has been built in the index directory."""


class IndexCorrupt(IndexUnavailable):
    """The index directory exists but cannot be read back."""


class ModelError(QAError):
    """The embedding model cannot be loaded."""
