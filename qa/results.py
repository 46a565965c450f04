"""The typed results of a question: `Answer` and the `Citation`s that support it.

Every offset is a character offset into the document's text: for a plain-text file
as ``Path(seeds_dir, source).read_text(encoding="utf-8")`` returns it, for other
formats the text extracted from it and stored with the index (``engine.text_of``), so
``text_of(c.source)[c.start:c.end] == c.text`` holds for every citation.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Citation:
    """A verbatim passage of one article.

    ``answer_start``/``answer_end`` locate the short answer inside the source
    (absolute offsets, within ``start..end``) when this passage contains it,
    so a UI can highlight it.
    """

    source: str
    start: int
    end: int
    text: str
    score: float
    answer_start: int | None = None
    answer_end: int | None = None
    #: The pages (from 1) the passage lies on, for paged documents (PDF); else empty.
    pages: tuple[int, ...] = ()
    #: Where in a table the passage lies, for tables (CSV, XLSX): "row 5", "sheet Exports,
    #: rows 5–6" (`qa.corpus.tables.locate`); else "".
    location: str = ""

    @property
    def page_label(self) -> str:
        """"p. 3", "pp. 3–4", or "" for an unpaged document."""
        if not self.pages:
            return ""
        return f"p. {self.pages[0]}" if len(self.pages) == 1 else f"pp. {self.pages[0]}–{self.pages[-1]}"

    @property
    def place(self) -> str:
        """Where in its document the passage lies, for people: its pages or its table rows ("" if neither)."""
        return ", ".join(part for part in (self.page_label, self.location) if part)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Answer:
    """The reply to one question.

    >>> from qa import ask
    >>> a = ask("How many Indians were recruited?")  # doctest: +SKIP
    >>> a.short, a.citations[0].source                # doctest: +SKIP
    ('126', '002_626d0c358e0fb90a.txt')
    """

    question: str
    #: The reply shown to a person, with ``[1]``-style markers into ``citations``.
    text: str
    #: The short answer (a number, a name, a date, a list) when the question asks for one.
    short: str | None
    #: The passages that support ``text``, numbered from 1 in the order of the markers.
    citations: list[Citation]
    #: True when the articles do not answer the question; ``citations`` is then empty.
    abstained: bool
    #: Closest passages, offered as context (not evidence), e.g. when abstaining.
    related: list[Citation] = field(default_factory=list)
    #: Every passage the retriever returned, best first (for evaluation and debugging).
    passages: list[Citation] = field(default_factory=list)
    #: The standalone query the engine searched for (differs from ``question`` for follow-ups).
    query: str = ""
    #: Other short answers that other articles give for the same question, when they differ.
    alternatives: list[str] = field(default_factory=list)
    #: How sure the reader is of its best span: its score over the no-answer score (the
    #: answer is given when this clears the calibrated threshold). None when nothing was read.
    confidence: float | None = None
    #: The kind of answer the question asked for (`qa.answering.kinds`): "span" (a figure, a
    #: name), "list", "sentences" (an explanation, what someone said: ``text`` is the cited
    #: sentences) or "summary" (the central sentences of the matching documents, each cited).
    kind: str = "span"

    def to_dict(self) -> dict:
        return asdict(self)
