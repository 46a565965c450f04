"""Small measuring tools shared by the benchmark sections: percentiles, timed child
processes with their peak memory, a description of the machine, and result rows."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Row:
    """One figure, measured in the same run as its reference."""

    section: str
    figure: str
    value: float
    unit: str
    reference: str = ""
    reference_value: float | None = None
    target: str = ""
    met: bool | None = None

    @property
    def ratio(self) -> float | None:
        if self.reference_value in (None, 0):
            return None
        return self.value / self.reference_value

    def to_dict(self) -> dict:
        return {**asdict(self), "ratio": self.ratio}


def percentile(samples: list[float], q: float) -> float:
    return float(np.percentile(np.asarray(samples), q))


def ms(seconds: list[float]) -> list[float]:
    return [s * 1000 for s in seconds]


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - started, result


def run_child(argv: list[str], env: dict | None = None, until_output: bool = True) -> dict:
    """Run ``argv``; return seconds to its first line of output (or to its exit), its exit
    status and its output."""
    started = time.perf_counter()
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env={**os.environ, **(env or {})}, cwd=ROOT
    )
    first = child.stdout.readline()
    seconds = time.perf_counter() - started
    rest = child.stdout.read()
    status = child.wait()
    child.stdout.close()
    if not until_output:
        seconds = time.perf_counter() - started
    return {"seconds": seconds, "status": status, "output": (first + rest).decode("utf-8", "replace")}


#: Appended to a child's code: its peak resident memory. VmHWM belongs to the address space
#: that exec created; getrusage's ru_maxrss would include the parent's pages at fork time.
_REPORT_PEAK = """
for _line in open("/proc/self/status"):
    if _line.startswith("VmHWM:"):
        print("peak_rss_kib", _line.split()[1], flush=True)
"""


def peak_rss_mib(code: str, env: dict | None = None) -> float:
    """Peak resident memory (MiB) of a new Python process running ``code``."""
    child = run_child(python_child(code + "\n" + _REPORT_PEAK), env, until_output=False)
    if child["status"] != 0:
        raise RuntimeError(f"child failed ({child['status']}): {child['output'][-500:]!r}")
    for line in child["output"].splitlines():
        if line.startswith("peak_rss_kib"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"child printed no peak memory: {child['output'][-500:]!r}")


def python_child(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def machine() -> dict:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        pages = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        memory = f"{pages / 2**30:.0f} GiB"
    except (ValueError, OSError):
        memory = "unknown"
    versions = {}
    for name in ("onnxruntime", "faiss", "torch", "sentence_transformers", "llama_index.core", "bm25s"):
        try:
            module = __import__(name, fromlist=["__version__"])
            versions[name] = getattr(module, "__version__", "?")
        except ImportError:
            versions[name] = "not installed"
    return {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "versions": versions,
    }
