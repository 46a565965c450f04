"""Answers, sources and corpus facts as text a browser can show.

Pure functions, no gradio: chat messages are Markdown (the Chatbot renders
it), panels are HTML (a ``gr.HTML``). Every piece of corpus or user text is
escaped here, so nothing in an article or a question can inject markup.
"""

from __future__ import annotations

import html
import re
from typing import Iterable, Protocol

from qa.results import Answer, Citation
from qa.ui.viewer import view_link

#: Characters of article text shown (dimmed) on each side of a cited passage.
DEFAULT_CONTEXT_CHARS = 200

ABSTAIN_HEADLINE = "The articles don't say."
EMPTY_SOURCES_HINT = "Ask a question: the passages that support the answer appear here."

_MARKER = re.compile(r"\[(\d+)\]")
_SUP_MARKER = re.compile(r"<sup>\[(\d+)\]</sup>")
#: Markdown punctuation that could turn corpus text into formatting or links.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]#+\-!|~>])")
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_ESCAPED_BULLET = re.compile(r"^\\- ", re.MULTILINE)
_SPACES = re.compile(r"\s+")


class ArticleLike(Protocol):
    source: str
    date: str | None
    title: str
    text: str


# ---------------------------------------------------------------- escaping


def escape_html(text: str) -> str:
    return html.escape(text, quote=True)


def escape_markdown(text: str) -> str:
    """Text shown literally by a Markdown renderer that also passes HTML through."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


# ---------------------------------------------------------------- chat messages


def user_message(question: str) -> str:
    """The user's question as the chat shows it (escaped, never markup)."""
    return escape_markdown(question.strip())


def _escape_with_markers(text: str) -> str:
    """Escaped text whose ``[n]`` citation markers stay visible as superscripts."""
    parts = []
    last = 0
    for match in _MARKER.finditer(text):
        parts.append(escape_markdown(text[last : match.start()]))
        parts.append(f"<sup>[{match.group(1)}]</sup>")
        last = match.end()
    parts.append(escape_markdown(text[last:]))
    return "".join(parts)


def _find(text: str, term: str) -> int:
    at = text.find(term)
    return at if at >= 0 else text.casefold().find(term.casefold())


def _emphasise(text: str, terms: list[str]) -> str:
    """``text`` as Markdown with the first occurrence of each term in bold.

    Lines starting with "- " stay a bulleted list. A term the text lacks
    (the first one, the short answer) is put in bold above it.
    """
    spans: list[tuple[int, int]] = []
    missing = []
    terms = [t.strip() for t in terms]
    for term in terms:
        at = _find(text, term) if term else -1
        if at < 0:
            missing.append(term)
        elif all(at >= e or at + len(term) <= s for s, e in spans):
            spans.append((at, at + len(term)))
    parts, last = [], 0
    for s, e in sorted(spans):
        parts += [_escape_with_markers(text[last:s]), f"**{escape_markdown(text[s:e])}**"]
        last = e
    parts.append(_escape_with_markers(text[last:]))
    body = _ESCAPED_BULLET.sub("- ", "".join(parts))
    if terms and terms[0] and terms[0] in missing:
        return f"**{escape_markdown(terms[0])}**\n\n{body}"
    return body


def answer_message(answer: Answer) -> str:
    """The assistant's chat message for ``answer``: short answer in bold, ``[n]`` markers kept."""
    if answer.abstained:
        lines = [f'<span class="qa-abstain">{ABSTAIN_HEADLINE}</span>']
        detail = answer.text.strip()
        if detail and not detail.lower().startswith(ABSTAIN_HEADLINE.lower().rstrip(".")):
            lines.append(_emphasise(detail, []))
        if answer.related:
            lines.append("_The closest passages are listed under Sources, as related passages, not evidence._")
        return "\n\n".join(lines)
    return _link_markers(_answer_markdown(answer), answer.citations)


def _link_markers(message: str, citations: list[Citation]) -> str:
    """Each ``[n]`` marker of ``message`` a link that opens citation n at its source (a
    marker is the only ``<sup>`` a message holds: the text around it is escaped)."""

    def link(match: re.Match) -> str:
        n = int(match.group(1))
        if not 1 <= n <= len(citations):
            return match.group(0)
        c = citations[n - 1]
        return (f'<a class="qa-marker" href="{escape_html(view_link(c))}" target="_blank" rel="noopener" '
                f'title="{escape_html(open_hint(c))}">{match.group(0)}</a>')

    return _SUP_MARKER.sub(link, message)


def _answer_markdown(answer: Answer) -> str:
    kind = getattr(answer, "kind", "span")
    if kind in ("sentences", "summary"):
        return _paragraph_message(answer, kind)
    message = _emphasise(answer.text.strip(), [answer.short or "", *answer.alternatives])
    unmentioned = [a for a in answer.alternatives if _find(answer.text, a) < 0]
    if unmentioned:
        others = ", ".join(f"**{escape_markdown(a)}**" for a in unmentioned)
        message += f"\n\n_Other articles give a different figure: {others}._"
    return message


def _paragraph_message(answer: Answer, kind: str) -> str:
    """Sentence answers and summaries as one readable paragraph: the quoted sentences run on
    (the line breaks of their articles dropped, for reading only: the citations keep them),
    each followed by its markers; a sentence answer's span in bold."""
    text = _SPACES.sub(" ", answer.text.strip())
    if kind == "summary":
        documents = len({c.source for c in answer.citations})
        lead = f"_The main points of {documents} document{'s' if documents != 1 else ''}:_"
        return f"{lead}\n\n{_escape_with_markers(text)}"
    return _emphasise(text, [answer.short] if answer.short and answer.short in text else [])


def error_message(text: str) -> str:
    """A friendly error for the chat (the text is escaped: it may quote the question)."""
    return f'<span class="qa-error">{escape_markdown(text)}</span>'


# ---------------------------------------------------------------- sources panel


def _context_before(article_text: str, start: int, floor: int, chars: int) -> str:
    window_start = max(floor, start - chars)
    before = article_text[window_start:start]
    breaks = list(_PARAGRAPH_BREAK.finditer(before))
    if breaks:  # stay inside the passage's paragraph
        return before[breaks[-1].end() :]
    if window_start > floor:  # cut mid-paragraph: start on a word
        space = before.find(" ")
        before = "…" + before[space + 1 :] if space >= 0 else before
    return before


def _context_after(article_text: str, end: int, chars: int) -> str:
    window_end = min(len(article_text), end + chars)
    after = article_text[end:window_end]
    brk = _PARAGRAPH_BREAK.search(after)
    if brk:
        return after[: brk.start()]
    if window_end < len(article_text):
        space = after.rfind(" ")
        after = after[:space] + "…" if space >= 0 else after
    return after


def passage_html(
    citation: Citation,
    article: ArticleLike | None,
    *,
    context_chars: int = DEFAULT_CONTEXT_CHARS,
    highlight: bool = True,
) -> str:
    """The cited passage, its answer span in ``<mark>``, between dimmed context.

    Offsets index ``article.text``; without the article the citation's own
    text is shown (no context).
    """
    if article is None:
        text, start, end, shift = citation.text, 0, len(citation.text), citation.start
        before = after = ""
    else:
        text, start, end, shift = article.text, citation.start, citation.end, 0
        before = _context_before(text, start, getattr(article, "body_start", 0), context_chars)
        after = _context_after(text, end, context_chars)

    mark = None
    if highlight and citation.answer_start is not None and citation.answer_end is not None:
        mark = (citation.answer_start - shift, citation.answer_end - shift)
    if mark and start <= mark[0] < mark[1] <= end:
        cited = (
            escape_html(text[start : mark[0]])
            + f"<mark>{escape_html(text[mark[0] : mark[1]])}</mark>"
            + escape_html(text[mark[1] : end])
        )
    else:
        cited = escape_html(text[start:end])
    return (
        '<p class="qa-passage">'
        f'<span class="qa-context">{escape_html(before)}</span>'
        f'<span class="qa-cited">{cited}</span>'
        f'<span class="qa-context">{escape_html(after)}</span>'
        "</p>"
    )


def _card(citation: Citation, articles: dict[str, ArticleLike], label: str, *, related: bool) -> str:
    article = articles.get(citation.source)
    date = article.date if article is not None else None
    title = article.title if article is not None else ""
    meta = (
        f'<a class="qa-file qa-open" href="{escape_html(view_link(citation))}" target="_blank" rel="noopener" '
        f'title="{escape_html(open_hint(citation))}">{escape_html(citation.source)}</a>'
    )
    if citation.pages:
        meta += f' <span class="qa-pages">{escape_html(citation.page_label)}</span>'
    if citation.location:  # a table's sheet and row
        meta += f' <span class="qa-rows">{escape_html(citation.location)}</span>'
    if date:
        meta += f' <span class="qa-date">{escape_html(date)}</span>'
    title_html = f'<div class="qa-title">{escape_html(title)}</div>' if title else ""
    kind = "qa-card qa-related" if related else "qa-card"
    return (
        f'<article class="{kind}">'
        f'<div class="qa-meta"><span class="qa-num">{escape_html(label)}</span>{meta}</div>'
        f"{title_html}"
        f"{passage_html(citation, article, highlight=not related)}"
        "</article>"
    )


def open_hint(citation: Citation) -> str:
    """What following a citation's link shows (the link's tooltip)."""
    if citation.pages:
        return f"Open the document at {citation.page_label}, the passage highlighted"
    return "Open the document's text at the passage, highlighted"


def _by_source(articles: Iterable[ArticleLike]) -> dict[str, ArticleLike]:
    return {a.source: a for a in articles}


def sources_html(answer: Answer, articles: Iterable[ArticleLike]) -> str:
    """The sources panel for one answer: cited passages, or related ones when abstaining."""
    by_source = _by_source(articles)
    question = f'<div class="qa-question">{escape_html(answer.question)}</div>'
    if answer.abstained:
        head = (
            '<div class="qa-banner qa-banner-abstain">'
            f"<strong>{ABSTAIN_HEADLINE}</strong> No passage answers this question.</div>"
        )
        if not answer.related:
            return f'<div class="qa-sources">{question}{head}</div>'
        cards = "".join(
            _card(c, by_source, "related", related=True) for c in answer.related
        )
        return (
            f'<div class="qa-sources">{question}{head}'
            '<h4 class="qa-heading">Related passages (not evidence)</h4>'
            f"{cards}</div>"
        )
    if not answer.citations:
        return f'<div class="qa-sources">{question}<p class="qa-empty">No passages cited.</p></div>'
    cards = "".join(
        _card(c, by_source, f"[{i}]", related=False) for i, c in enumerate(answer.citations, 1)
    )
    return f'<div class="qa-sources">{question}<h4 class="qa-heading">Sources</h4>{cards}</div>'


def empty_sources_html(hint: str = EMPTY_SOURCES_HINT) -> str:
    return f'<div class="qa-sources"><p class="qa-empty">{escape_html(hint)}</p></div>'


# ---------------------------------------------------------------- page furniture


def status_html(article_count: int, passage_count: int) -> str:
    return (
        '<div class="qa-status" role="status">'
        '<span class="qa-dot"></span>'
        f"Ready: index loaded, {passage_count} passages from {article_count} "
        f"document{'s' if article_count != 1 else ''}"
        "</div>"
    )


def about_html(
    articles: Iterable[ArticleLike], passage_count: int, skipped: Iterable[str] = (),
    furniture: dict[str, tuple[int, int]] | None = None,
) -> str:
    """The corpus: one row per document (file, date, title, the page furniture left out of
    it), the passage count, and the files left out with the reason."""
    articles = list(articles)
    furniture = furniture or {}
    skipped = list(skipped)
    left_out = (
        '<p class="qa-skipped"><strong>Left out:</strong></p><ul class="qa-skipped">'
        + "".join(f"<li>{escape_html(m)}</li>" for m in skipped)
        + "</ul>"
        if skipped else ""
    )
    rows = "".join(
        "<tr>"
        f'<td class="qa-file">{escape_html(a.source)}{_ocr_label(a)}</td>'
        f"<td>{escape_html(a.date or '—')}</td>"
        f"<td>{escape_html(a.title)}</td>"
        f'<td class="qa-furniture">{escape_html(_furniture_label(furniture.get(a.source)))}</td>'
        "</tr>"
        for a in articles
    )
    return (
        '<div class="qa-about">'
        f"<p>{len(articles)} document{'s' if len(articles) != 1 else ''}, split into {passage_count} "
        "passages for search. Answers quote these documents only; when they don't say, the chat says so. "
        "Page furniture (ads, link teasers, embedded posts, headings) is neither searched nor quoted.</p>"
        '<table><thead><tr><th>File</th><th>Date</th><th>Title</th><th>Left out</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>{left_out}</div>"
    )


def _ocr_label(article) -> str:
    """Under a file's name, when OCR read it: which pages, and a warning when its confidence is low."""
    from qa.corpus.ocr import is_low_confidence, ocr_note

    note = ocr_note(article)
    if not note:
        return ""
    low = " qa-ocr-low" if is_low_confidence(article) else ""
    return f'<br><span class="qa-ocr{low}">{escape_html(note[0].upper() + note[1:])}</span>'


def _furniture_label(dropped: tuple[int, int] | None) -> str:
    if not dropped or not dropped[0]:
        return "—"
    pieces, chars = dropped
    return f"{pieces} piece{'s' if pieces != 1 else ''} of page furniture ({chars:,} characters)"


def progress_markdown(lines: list[str]) -> str:
    """The add/remove progress: one line per step, newest last."""
    return "\n".join(f"- {escape_markdown(line)}" for line in lines)


def upload_limits_markdown(types: list[str], max_bytes: dict[str, int]) -> str:
    """The rules for added documents, stated before anyone uploads."""
    limits = ", ".join(f".{kind} {size / 1_000_000:g} MB" for kind, size in max_bytes.items())
    return (
        f"Add {' '.join(types)} files (text PDFs: scans need OCR first). Largest file: {limits}. "
        "Added files are saved into the corpus folder and indexed at once; removed ones are moved "
        "to its `.removed` folder."
    )
