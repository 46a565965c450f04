"""Reading an `EvalRun`: a compact terminal table, a JSON file with every
figure and per-question result, and a Markdown report of each failure.

With ``--compare`` the runs of several retrieval modes are shown side by side
in an ablation table (terminal and Markdown) and under ``"ablation"`` in JSON.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Sequence

from qa.evaluation.harness import EvalRun, QuestionResult, Summary

#: Written into report.json; bump when its layout changes.
REPORT_FORMAT = "qa-eval/1"
JSON_NAME = "report.json"
MARKDOWN_NAME = "report.md"
MISSING = "-"
GROUP_WIDTH = 16
#: Cited and evidence passages are shown up to this many characters in report.md.
SNIPPET_CHARS = 240


@dataclass(frozen=True)
class Column:
    header: str
    value: Callable[[Summary], float | int | None]
    #: A fraction (printed as 0.00) or a count / milliseconds (printed as an integer).
    fraction: bool = True

    def format(self, summary: Summary) -> str:
        v = self.value(summary)
        if v is None:
            return MISSING
        return f"{v:.2f}" if self.fraction else f"{v:.0f}"


def _hit(k: int) -> Callable[[Summary], float | None]:
    return lambda s: s.retrieval.hit_at.get(k) if s.retrieval else None


def _latency_ms(name: str) -> Callable[[Summary], float | None]:
    return lambda s: getattr(s.latency, name) * 1000 if s.latency else None


#: The columns of the per-group table, each defined in evals/README.md.
COLUMNS = (
    Column("n", lambda s: s.count, fraction=False),
    Column("pass", lambda s: s.passed, fraction=False),
    Column("EM", lambda s: s.has_ans_em),
    Column("F1", lambda s: s.has_ans_f1),
    Column("cont", lambda s: s.contains),
    Column("NoAns", lambda s: s.no_ans_accuracy),
    Column("valid", lambda s: s.citation_validity),
    Column("supp", lambda s: s.citation_support),
    Column("prec", lambda s: s.citation_precision),
    Column("h@1", _hit(1)),
    Column("h@5", _hit(5)),
    Column("MRR", lambda s: s.retrieval.mrr if s.retrieval else None),
    Column("p50ms", _latency_ms("p50"), fraction=False),
)

#: The rows of the ablation table (one column per retrieval mode).
ABLATION_ROWS = (
    Column("HasAns F1", lambda s: s.has_ans_f1),
    Column("HasAns EM", lambda s: s.has_ans_em),
    Column("contains", lambda s: s.contains),
    Column("NoAns acc", lambda s: s.no_ans_accuracy),
    Column("overall F1", lambda s: s.f1),
    Column("cite support", lambda s: s.citation_support),
    Column("cite precision", lambda s: s.citation_precision),
    Column("hit@1", _hit(1)),
    Column("hit@3", _hit(3)),
    Column("hit@5", _hit(5)),
    Column("MRR", lambda s: s.retrieval.mrr if s.retrieval else None),
    Column("p50 ms", _latency_ms("p50"), fraction=False),
    Column("p95 ms", _latency_ms("p95"), fraction=False),
)


def _groups(run: EvalRun) -> list[tuple[str, Summary]]:
    rows = [("overall", run.overall)]
    rows += [(f"  {name}", s) for name, s in run.by_split.items()]
    rows += [(f"  {name}", s) for name, s in run.by_category.items()]
    rows += [(f"  kind {name}", s) for name, s in run.by_kind.items()]
    return rows


def open_lines(run: EvalRun) -> list[str]:
    """The explain and summary figures (overall and per split), and the furniture count."""
    fmt = lambda v: MISSING if v is None else f"{v:.2f}"  # noqa: E731
    lines = []
    for name, s in [("overall", run.overall), *run.by_split.items()]:
        parts = []
        if s.evidence_cited is not None:
            parts.append(f"explain: gold evidence cited {fmt(s.evidence_cited)}")
        if s.key_coverage is not None:
            parts.append(
                f"summary: key points {fmt(s.key_coverage)} (first sentences {fmt(s.baseline_coverage)}),"
                f" documents cited {fmt(s.documents_cited)}"
            )
        if parts:
            lines.append(f"{name}: " + "; ".join(parts))
    lines.append(f"citations of page furniture: {run.overall.furniture_citations}")
    return lines


def headline(run: EvalRun) -> str:
    """One line of the figures that matter most."""
    s = run.overall
    fmt = lambda v: MISSING if v is None else f"{v:.2f}"  # noqa: E731
    lat = s.latency
    latency = f"p50 {lat.p50 * 1000:.0f} ms, p95 {lat.p95 * 1000:.0f} ms" if lat else "no timings"
    return (
        f"HasAns F1 {fmt(s.has_ans_f1)} · contains {fmt(s.contains)} · NoAns {fmt(s.no_ans_accuracy)}"
        f" · citation support {fmt(s.citation_support)} · validity {fmt(s.citation_validity)}"
        f" · {latency}"
    )


def format_table(run: EvalRun) -> str:
    """Overall, per split and per category, one row each, plus a line of abstention and latency figures."""
    widths = [max(len(c.header), 5) for c in COLUMNS]
    lines = [f"{'[' + run.label + ']':<{GROUP_WIDTH}}" + " ".join(
        f"{c.header:>{w}}" for c, w in zip(COLUMNS, widths)
    )]
    for i, (name, summary) in enumerate(_groups(run)):
        if i == 1 + len(run.by_split):
            lines.append("  by category")
        if i == 1 + len(run.by_split) + len(run.by_category):
            lines.append("  by answer kind")
        lines.append(f"{name:<{GROUP_WIDTH}}" + " ".join(
            f"{c.format(summary):>{w}}" for c, w in zip(COLUMNS, widths)
        ))
    s = run.overall
    lat = s.latency
    fmt = lambda v: MISSING if v is None else f"{v:.2f}"  # noqa: E731
    lines.append(
        f"abstention precision {fmt(s.abstention_precision)}, recall {fmt(s.abstention_recall)},"
        f" false abstentions {s.false_abstentions}; overall (SQuAD 2.0) EM {s.em:.2f} F1 {s.f1:.2f};"
        f" errors {s.errors}"
    )
    if lat:
        lines.append(
            f"latency over {lat.count} calls: p50 {lat.p50 * 1000:.0f} ms, p95 {lat.p95 * 1000:.0f} ms,"
            f" mean {lat.mean * 1000:.0f} ms, max {lat.max * 1000:.0f} ms"
        )
    lines += open_lines(run)
    return "\n".join(lines)


def format_ablation(runs: Sequence[EvalRun]) -> str:
    """Retrieval modes side by side: one row per figure, one column per run."""
    width = max(8, *(len(r.label) for r in runs))
    lines = [f"{'retrieval ablation':<{GROUP_WIDTH}}" + " ".join(f"{r.label:>{width}}" for r in runs)]
    for row in ABLATION_ROWS:
        lines.append(f"{row.header:<{GROUP_WIDTH}}" + " ".join(
            f"{row.format(r.overall):>{width}}" for r in runs
        ))
    return "\n".join(lines)


# ---------------------------------------------------------------- files


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def to_json(run: EvalRun, ablation: Sequence[EvalRun] = ()) -> dict:
    """Every figure of ``run`` and its per-question results; other runs' figures under "ablation"."""
    out = {
        "format": REPORT_FORMAT,
        "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "questions": len(run.results),
        **run.to_dict(with_results=True),
    }
    if ablation:
        out["ablation"] = {r.label: r.to_dict(with_results=False) for r in ablation}
    return out


def write_json(path: Path, run: EvalRun, ablation: Sequence[EvalRun] = ()) -> Path:
    _write_atomic(path, json.dumps(to_json(run, ablation), indent=1, ensure_ascii=False) + "\n")
    return path


def _md_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cells) + " |" for cells in rows]
    return lines


def _span(span) -> str:
    return f"`{span.source}` {span.start}–{span.end}"


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return f"“{flat if len(flat) <= SNIPPET_CHARS else flat[:SNIPPET_CHARS] + '…'}”"


def _quote(text: str) -> str:
    return "\n".join("> " + line for line in (text.strip() or "(empty)").splitlines())


def _failure_md(r: QuestionResult) -> list[str]:
    expected = " · ".join(f"“{a}”" for a in r.expected) if r.answerable else "abstain (unanswerable)"
    lines = [f"### `{r.id}` — {r.category} · {r.difficulty} · {r.split}", ""]
    lines.append(f"- **Why:** {'; '.join(r.failures)}")
    lines.append(f"- **Question:** {r.question}")
    for turn in r.history:
        lines.append(f"  - earlier {turn.get('role', '?')}: {turn.get('content', '')}")
    lines.append(f"- **Expected:** {expected}")
    if r.error is not None:
        lines.append(f"- **Returned:** nothing (`{r.error}`)")
        return lines + [""]
    short = MISSING if r.short is None else f"“{r.short}”"
    lines.append(f"- **Returned:** short {short}, abstained: {'yes' if r.abstained else 'no'}")
    if r.query and r.query != r.question:
        lines.append(f"- **Searched for:** {r.query}")
    if r.answerable:
        lines.append(f"- **Scores:** EM {r.em:.2f}, F1 {r.f1:.2f}, contains {r.contains:.0f}")
    lines += [f"- **Gold evidence:** {_span(e)}: {_snippet(e.text)}" for e in r.evidence]
    lines += [f"- **Cited [{i}]:** {_span(c)}: {_snippet(c.text)}" for i, c in enumerate(r.citations, 1)]
    if r.retrieval_applicable and r.retrieval_rank:
        lines.append(f"- **Retrieval:** first relevant passage at rank {r.retrieval_rank}")
    elif r.retrieval_applicable:
        lines.append(f"- **Retrieval:** no relevant passage among the {len(r.passages)} retrieved")
    return lines + ["", _quote(r.reply), ""]


def to_markdown(run: EvalRun, ablation: Sequence[EvalRun] = ()) -> str:
    """Headline, tables by split and category, the ablation (if any), then each failure."""
    lines = [
        f"# Evaluation report ({run.label})",
        "",
        f"{len(run.results)} questions, {run.overall.passed} passed, in {run.duration_s:.1f} s. "
        "Metrics are defined in `evals/README.md`.",
        "",
        f"**{headline(run)}**",
        "",
        "## By split and category",
        "",
    ]
    rows = [[name.strip()] + [c.format(s) for c in COLUMNS] for name, s in _groups(run)]
    lines += _md_table(["group"] + [c.header for c in COLUMNS], rows)
    if ablation:
        lines += ["", "## Retrieval ablation", ""]
        rows = [[row.header] + [row.format(r.overall) for r in ablation] for row in ABLATION_ROWS]
        lines += _md_table(["figure"] + [r.label for r in ablation], rows)
    if run.warmup_errors:
        lines += ["", "## Warm-up errors", ""] + [f"- {e}" for e in run.warmup_errors]
    failures = run.failures
    lines += ["", f"## Failures ({len(failures)} of {len(run.results)})", ""]
    if not failures:
        lines.append("None.")
    for r in failures:
        lines += _failure_md(r)
    return "\n".join(lines).rstrip() + "\n"


def write_markdown(path: Path, run: EvalRun, ablation: Sequence[EvalRun] = ()) -> Path:
    _write_atomic(path, to_markdown(run, ablation))
    return path
