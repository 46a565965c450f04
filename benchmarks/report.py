"""The benchmark's output: a terminal table, ``results.md`` and a PNG plot."""

from __future__ import annotations

from pathlib import Path

from measure import Row


def _fmt(value: float | None, unit: str = "") -> str:
    if value is None:
        return ""
    text = f"{value:.3f}" if abs(value) < 1 else f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"
    return f"{text} {unit}".strip()


def table(rows: list[Row]) -> list[list[str]]:
    header = ["section", "figure", "value", "reference", "ref. value", "ratio", "target", "met"]
    body = [
        [r.section, r.figure, _fmt(r.value, r.unit), r.reference,
         _fmt(r.reference_value, r.unit if r.reference_value is not None and "(ms)" not in r.reference else ""),
         f"{r.ratio:.2f}x" if r.ratio is not None else "", r.target,
         {True: "yes", False: "NO", None: ""}[r.met]]
        for r in rows
    ]
    return [header, *body]


def print_table(rows: list[Row]) -> None:
    cells = table(rows)
    widths = [min(max(len(row[i]) for row in cells), 60) for i in range(len(cells[0]))]
    for n, row in enumerate(cells):
        print("  ".join(c[:60].ljust(w) for c, w in zip(row, widths)))
        if n == 0:
            print("  ".join("-" * w for w in widths))


def write_markdown(path: Path, rows: list[Row], machine: dict, notes: list[str]) -> None:
    cells = table(rows)
    lines = [
        "# Benchmark results",
        "",
        f"Measured {machine['date']} on {machine['cpu']}, {machine['cores']} cores, {machine['memory']}, "
        f"Python {machine['python']}, {machine['system']}.",
        "Versions: " + ", ".join(f"{k} {v}" for k, v in machine["versions"].items()) + ".",
        "",
        "Every figure is measured in the same run as its reference; `ratio` = value / reference.",
        "Produced by `make bench` (`python benchmarks/run.py`); see `benchmarks/README.md`.",
        "",
        "| " + " | ".join(cells[0]) + " |",
        "|" + "---|" * len(cells[0]),
        *("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in cells[1:]),
        "",
        "![latency and recall against corpus size](results.png)",
        "",
        *(f"- {note}" for note in notes),
        "",
    ]
    path.write_text("\n".join(lines), encoding="utf-8")


def plot(path: Path, scale: list[dict]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = [s["n"] for s in scale]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    left.plot(sizes, [s["exact_p50_ms"] for s in scale], "o-", label="vector search, exact (flat)")
    left.plot(sizes, [s["hnsw_p50_ms"] for s in scale], "s-", label="vector search, HNSW")
    left.plot(sizes, [s["ask_p50_ms"] for s in scale], "^-", label="whole ask()")
    left.set_xscale("log")
    left.set_yscale("log")
    left.set_xlabel("chunks in the index")
    left.set_ylabel("p50 latency (ms)")
    left.set_title("Latency against corpus size")
    left.grid(True, which="both", alpha=0.3)
    left.legend()
    right.plot(sizes, [s["recall"] for s in scale], "s-", color="tab:orange", label="HNSW recall@10")
    right.axhline(0.95, color="grey", linestyle="--", label="target 0.95")
    right.set_xscale("log")
    right.set_ylim(0.8, 1.005)
    right.set_xlabel("chunks in the index")
    right.set_ylabel("recall@10 against exact search")
    right.set_title("HNSW recall against corpus size")
    right.grid(True, which="both", alpha=0.3)
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
