"""The ``k`` largest of many scores, ties broken by position: the same rows on every processor.

numpy's partition and sort pick their kernels by CPU (AVX-512 or AVX2 sorting networks), and
those order equal values differently; search results and reader spans must not change with the
processor, so ties are resolved here by index, explicitly.
"""

from __future__ import annotations

import numpy as np


def top_indices(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the ``k`` highest ``scores`` (1-D), highest first, equal scores by index.

    Partitions the negated scores: introselect degrades on long runs of equal values (a BM25
    row of a large corpus is mostly zeros), and negating avoids it.
    """
    k = min(k, scores.size)
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    rows = np.argpartition(-scores, k - 1)[:k]
    kth = scores[rows].min()
    # Which of several rows equal to the k-th score the partition kept is up to its kernel:
    # keep the lowest indices of them instead.
    above = np.flatnonzero(scores > kth)
    tied = np.flatnonzero(scores == kth)[: k - above.size]
    rows = np.concatenate([above, tied])
    return rows[np.lexsort((rows, -scores[rows]))]
