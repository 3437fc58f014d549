"""Import time of the kit (target: ``import kit`` under 0.3 s), beside named peers.

Each figure is the median wall time of a fresh ``python -c "import X"`` process, minus the
median of a bare ``python -c "pass"`` measured in the same run.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

from _util import table

RUNS = 7
MODULES = ["kit", "kit.dialogues", "kit.sentiment", "kit.rubric", "kit.widgets",
           "pandas", "matplotlib.pyplot", "snownlp"]


def _median_seconds(code: str) -> float:
    times = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, capture_output=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    bare = _median_seconds("pass")
    rows = []
    for module in MODULES:
        try:
            seconds = _median_seconds(f"import {module}") - bare
        except subprocess.CalledProcessError:
            rows.append([module, "not importable", ""])
            continue
        verdict = "target < 0.3 s: " + ("met" if seconds < 0.3 else "MISSED")
        rows.append([module, f"{seconds:.3f}", verdict if module.startswith("kit") else "peer"])
    print(f"bare interpreter start: {bare:.3f} s (subtracted); median of {RUNS} runs")
    print(table(["import", "seconds", "note"], rows))


if __name__ == "__main__":
    main()
