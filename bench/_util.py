"""Small helpers shared by the benchmarks: timing, peak memory, a plain-text table.

>>> result, seconds = timed(sum, [1, 2, 3])
>>> result, seconds >= 0
(6, True)
>>> traced_peak_mb(lambda: [0] * 1_000_000)[1] > 7
True
>>> print(table(["size", "s"], [["10k", "0.01"], ["100k", "0.1"]]))
size     s
 10k  0.01
100k   0.1
"""

from __future__ import annotations

import gc
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from typing import Any


def timed(fn: Callable[..., Any], *args: Any, repeat: int = 1) -> tuple[Any, float]:
    """Call ``fn(*args)`` ``repeat`` times; return the last result and the best wall time (s)."""
    best = float("inf")
    result = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = fn(*args)
        best = min(best, time.perf_counter() - start)
    return result, best


def traced_peak_mb(fn: Callable[..., Any], *args: Any) -> tuple[Any, float]:
    """Call ``fn(*args)`` under tracemalloc; return its result and the peak allocated MiB.

    tracemalloc sees Python objects and numpy/pandas buffers (numpy reports its
    allocations to it), so this is the peak the call itself adds, not the process RSS.
    """
    gc.collect()
    tracemalloc.start()
    try:
        result = fn(*args)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return result, peak / 2**20


def max_rss_mb() -> float | None:
    """Peak resident memory of this process so far in MiB (None where unsupported)."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """Format rows as a right-aligned plain-text table."""
    cells = [list(map(str, headers))] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    return "\n".join("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
                     for row in cells)
