"""Headless execution time of every course notebook (targets: < 20 s each, < 2 min in all).

Each notebook runs top to bottom in a fresh kernel, as nbval runs it in ``make test``,
from an in-memory copy (the files are not modified). Kernel start-up is included. The
course total counts the chapters (``notebooks/*.ipynb``); instructor notebooks are listed
after it (the class dashboard reads the sample class that ``make sample-class`` caches).
"""

from __future__ import annotations

import time
from pathlib import Path

import nbformat
from _util import table
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
EACH_S, TOTAL_S = 20.0, 120.0


def _run(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    started = time.perf_counter()
    NotebookClient(nb, kernel_name="python3", timeout=300,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    seconds = time.perf_counter() - started
    return [str(path.relative_to(ROOT)), f"{seconds:.1f}",
            "met" if seconds < EACH_S else "MISSED"]


def main() -> None:
    chapters = [_run(p) for p in sorted((ROOT / "notebooks").glob("*.ipynb"))]
    total = sum(float(row[1]) for row in chapters)
    instructor = [_run(p) for p in sorted((ROOT / "notebooks" / "instructor").glob("*.ipynb"))]
    print(table(["notebook", "seconds", f"< {EACH_S:.0f} s"], chapters + instructor))
    print(f"whole course (chapters 00-08): {total:.1f} s (target < {TOTAL_S:.0f} s: "
          f"{'met' if total < TOTAL_S else 'MISSED'})")


if __name__ == "__main__":
    main()
