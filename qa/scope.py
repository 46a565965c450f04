"""Questions scoped to chosen documents and dates: which documents a question may be
answered from, checked against the corpus, and the chunk rows they own.

The restriction is applied inside retrieval, before ranking (`qa.retrieve.Retriever`
hands the allowed rows to the store, which scores only those), so a scoped question
gets the best passages of its documents, not what is left of a global top-k.

>>> scope = Scope.of(sources=["002_626d0c358e0fb90a.txt"], since="2025-08-01")
>>> scope.since.isoformat()
'2025-08-01'
>>> Scope.of() is None
True
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Iterable, Mapping

from qa.errors import BadScope

if TYPE_CHECKING:
    import numpy as np

#: Unknown names listed in an error message at most (the rest are counted).
_NAMES_SHOWN = 3


@dataclass(frozen=True)
class Scope:
    """Documents named by ``sources`` (their names as citations give them; all when empty),
    dated ``since``..``until`` inclusive (a document's date is the one it states: a
    `` date YYYY-MM-DD`` header, HTML metadata, ...; an undated document is outside any
    date range)."""

    sources: tuple[str, ...] = ()
    since: dt.date | None = None
    until: dt.date | None = None

    @classmethod
    def of(cls, sources: Iterable[str] | str | None = None, since=None, until=None) -> "Scope | None":
        """The scope these arguments describe, None when they restrict nothing. Dates are
        ``datetime.date`` or ``YYYY-MM-DD`` text; `BadScope` for anything else."""
        if isinstance(sources, str):
            sources = [sources]
        names = tuple(dict.fromkeys(s.strip() for s in (sources or ()) if s and s.strip()))
        since, until = _date("since", since), _date("until", until)
        if since and until and since > until:
            raise BadScope(f"since {since.isoformat()} is after until {until.isoformat()}; swap them.")
        if not names and since is None and until is None:
            return None
        return cls(names, since, until)

    def documents(self, articles: Mapping[str, object]) -> frozenset[str]:
        """The documents of ``articles`` (source -> `qa.corpus.Article`) in this scope.
        `BadScope` when a named document is not in the corpus, or when none is left."""
        unknown = [name for name in self.sources if name not in articles]
        if unknown:
            shown = ", ".join(repr(n) for n in unknown[:_NAMES_SHOWN])
            more = f" and {len(unknown) - _NAMES_SHOWN} more" if len(unknown) > _NAMES_SHOWN else ""
            raise BadScope(
                f"{shown}{more} {'is' if len(unknown) == 1 else 'are'} not a document of this corpus; "
                "name documents as citations do (the path inside the corpus folder, e.g. the list in "
                "the chat's Documents panel)."
            )
        chosen = self.sources or tuple(articles)
        kept = frozenset(name for name in chosen if self._dated_within(getattr(articles[name], "date", None)))
        if not kept:
            raise BadScope(f"No document is in scope ({self.describe()}); widen the dates or choose other documents.")
        return kept

    def describe(self) -> str:
        """The scope in words, for messages."""
        parts = []
        if self.sources:
            parts.append(f"{len(self.sources)} chosen document{'s' if len(self.sources) != 1 else ''}")
        if self.since or self.until:
            low = self.since.isoformat() if self.since else "any date"
            high = self.until.isoformat() if self.until else "any date"
            parts.append(f"dated {low} to {high}; undated documents are left out")
        return ", ".join(parts)

    def _dated_within(self, date: str | None) -> bool:
        if self.since is None and self.until is None:
            return True
        if not date:
            return False
        try:
            day = dt.date.fromisoformat(date[:10])
        except ValueError:
            return False
        return (self.since is None or day >= self.since) and (self.until is None or day <= self.until)


@dataclass(frozen=True)
class Allowed:
    """What a store may return for a scoped question: the documents, and their chunk rows
    (sorted, so that ties between equal scores keep row order as unscoped search does)."""

    sources: frozenset[str]
    rows: np.ndarray


class RowsBySource:
    """Each document's chunk rows in one index, computed once (the retriever holds one)."""

    def __init__(self, chunks) -> None:
        self._chunks = chunks
        self._rows: dict[str, np.ndarray] | None = None

    def allowed(self, sources: frozenset[str]) -> Allowed:
        import numpy as np  # not at import: `import qa` stays light

        if self._rows is None:
            grouped: dict[str, list[int]] = {}
            for row, chunk in enumerate(self._chunks):
                grouped.setdefault(chunk.source, []).append(row)
            self._rows = {source: np.asarray(rows, dtype=np.int64) for source, rows in grouped.items()}
        parts = [self._rows[s] for s in sources if s in self._rows]
        rows = np.sort(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)
        return Allowed(frozenset(sources), rows)


def _date(name: str, value) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise BadScope(f"{name} {value!r} is not a date; write it as YYYY-MM-DD, e.g. 2025-08-21.")
