"""The picture of an `EvalRun`: accuracy by category as bars, and the latency
distribution as a histogram with its p50 and p95 marked.

matplotlib is imported inside `write_chart` (Agg backend, no display needed),
so importing this module costs nothing.
"""

from __future__ import annotations

from pathlib import Path

from qa.evaluation.harness import EvalRun

CHART_NAME = "report.png"
FIGURE_SIZE = (14, 5.5)
DPI = 120
LATENCY_BINS = 30
#: (label, Summary attribute, colour) of the bars drawn for each category.
ACCURACY_BARS = (
    ("HasAns F1", "has_ans_f1", "#4C72B0"),
    ("contains answer", "contains", "#55A868"),
    ("abstention correct", "abstention_accuracy", "#C44E52"),
)
BAR_GROUP_WIDTH = 0.8
#: The bar chart's y axis runs past 1.0 so the legend sits above the bars.
LEGEND_HEADROOM = 1.15


def _title(run: EvalRun) -> str:
    s = run.overall
    fmt = lambda v: "-" if v is None else f"{v:.2f}"  # noqa: E731
    latency = f", p50 {_ms(s.latency.p50)} ms" if s.latency else ""
    return (
        f"QA evaluation ({run.label}, {s.count} questions): HasAns F1 {fmt(s.has_ans_f1)}, "
        f"contains {fmt(s.contains)}, NoAns {fmt(s.no_ans_accuracy)}, "
        f"citation support {fmt(s.citation_support)}{latency}"
    )


def _ms(seconds: float) -> str:
    ms = seconds * 1000
    return f"{ms:.0f}" if ms >= 10 else f"{ms:.1f}"


def write_chart(path: Path, run: EvalRun) -> Path:
    """Save the chart as a PNG at ``path`` and return it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (bars_ax, latency_ax) = plt.subplots(
        1, 2, figsize=FIGURE_SIZE, gridspec_kw={"width_ratios": [2.4, 1]}
    )
    try:
        _draw_accuracy(bars_ax, run)
        _draw_latency(latency_ax, run)
        fig.suptitle(_title(run), fontsize=12)
        fig.tight_layout()
        tmp = path.with_name(path.stem + ".tmp.png")
        fig.savefig(tmp, dpi=DPI)
        tmp.replace(path)
    finally:
        plt.close(fig)
    return path


def _draw_accuracy(ax, run: EvalRun) -> None:
    categories = list(run.by_category)
    width = BAR_GROUP_WIDTH / len(ACCURACY_BARS)
    for i, (label, attr, colour) in enumerate(ACCURACY_BARS):
        xs, heights = [], []
        for j, name in enumerate(categories):
            value = getattr(run.by_category[name], attr)
            if value is not None:
                xs.append(j - BAR_GROUP_WIDTH / 2 + (i + 0.5) * width)
                heights.append(value)
        ax.bar(xs, heights, width=width, label=label, color=colour)
    ax.set_xticks(range(len(categories)))
    ax.set_xticklabels(
        [f"{c}\n(n={run.by_category[c].count})" for c in categories], rotation=45, ha="right", fontsize=9
    )
    ax.set_ylim(0, LEGEND_HEADROOM)
    ax.set_yticks([i / 5 for i in range(6)])
    ax.set_ylabel("share of questions (F1: mean)")
    ax.set_title("Accuracy by category")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper center", ncol=len(ACCURACY_BARS), fontsize=9, frameon=False)


def _draw_latency(ax, run: EvalRun) -> None:
    ms = [r.latency_s * 1000 for r in run.results if r.latency_s is not None]
    lat = run.overall.latency
    ax.set_title("Latency per question")
    ax.set_xlabel("milliseconds")
    ax.set_ylabel("questions")
    if not ms or lat is None:
        ax.text(0.5, 0.5, "no timed calls", ha="center", va="center", transform=ax.transAxes)
        return
    from matplotlib.ticker import MaxNLocator

    ax.hist(ms, bins=LATENCY_BINS, color="#8172B2", alpha=0.8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.axvline(lat.p50 * 1000, color="black", linestyle="--", label=f"p50 {_ms(lat.p50)} ms")
    ax.axvline(lat.p95 * 1000, color="#C44E52", linestyle=":", label=f"p95 {_ms(lat.p95)} ms")
    ax.legend(fontsize=9)
