"""What a corpus says about itself: the title, description and example questions the chat
shows, read from an optional ``corpus.toml`` in the corpus folder::

    title = "Jaishankar in Moscow: ask the news"
    description = "Five reports on India's External Affairs Minister's visit to Moscow."
    examples = ["How many Indians were recruited?", "What is the population of Kazan?"]
    placeholder = "Ask a question about the visit..."

Every key is optional. Without the file, the title is the folder's name, the description
counts the documents and gives their date range, and there are no example questions
(made-up examples that the documents cannot answer would mislead). A broken file is
reported and the defaults are used: the corpus keeps working.
"""

from __future__ import annotations

import logging
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from qa.corpus.folder import DESCRIPTION_FILE

log = logging.getLogger("qa.corpus")

#: Example questions shown at most (more crowd the empty chat).
MAX_EXAMPLES = 6
#: Longest title and description kept from the file, in characters.
MAX_TITLE_CHARS = 120
MAX_DESCRIPTION_CHARS = 600


@dataclass(frozen=True)
class CorpusDescription:
    title: str
    description: str
    examples: list[str] = field(default_factory=list)
    placeholder: str = "Ask a question about these documents..."
    #: Why corpus.toml was not used, when it exists but could not be read.
    problem: str | None = None


def describe(root: Path, articles) -> CorpusDescription:
    """The description of the corpus in ``root`` whose documents are ``articles``."""
    defaults = _defaults(Path(root), articles)
    path = Path(root) / DESCRIPTION_FILE
    if not path.is_file():
        return defaults
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        problem = f"{path}: not valid TOML ({err}); showing the default title and description."
        log.warning("%s", problem)
        return CorpusDescription(defaults.title, defaults.description, problem=problem)
    examples = data.get("examples", [])
    if not isinstance(examples, list):
        examples = []
    return CorpusDescription(
        title=_text(data.get("title"), MAX_TITLE_CHARS) or defaults.title,
        description=_text(data.get("description"), MAX_DESCRIPTION_CHARS) or defaults.description,
        examples=[q.strip() for q in examples if isinstance(q, str) and q.strip()][:MAX_EXAMPLES],
        placeholder=_text(data.get("placeholder"), MAX_TITLE_CHARS) or defaults.placeholder,
    )


def _text(value, limit: int) -> str:
    return value.strip()[:limit] if isinstance(value, str) else ""


def _defaults(root: Path, articles) -> CorpusDescription:
    name = root.resolve().name.replace("_", " ").replace("-", " ").strip() or "Documents"
    count = len(articles)
    dates = sorted(a.date for a in articles if a.date)
    description = f"Questions answered from {count} document{'s' if count != 1 else ''}"
    if dates:
        description += f" dated {dates[0]}" + (f" to {dates[-1]}" if dates[-1] != dates[0] else "")
    description += ", with the exact passages that support each answer."
    return CorpusDescription(title=f"Ask {name[:1].upper()}{name[1:]}", description=description)
