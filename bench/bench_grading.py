"""Benchmark ``kit grade`` against serial ``nbgrader autograde`` on the same 40 submissions.

Builds a temporary copy of the course with one assignment (default ``ch08_metrics``; any
assignment of the course or ``fx01_rounds`` of the fixture course with ``--assignment``),
writes 40 seeded submissions (model answers, the crafted partial answer of
``tests/data/partial/``, and answers left blank, mixed per student), and copies the course
twice. Then, measured in this run:

- ``nbgrader autograde ASSIGNMENT`` (the peer: serial, one kernel after another) in copy A;
- ``kit grade ASSIGNMENT --workers 2`` (integrity checks, contained kernels, 2 workers) in
  copy B;

and checks that both gradebooks hold the same score for every student and every graded
cell. Prints wall times, seconds per submission and the speed-up.
Target from the issue: speed-up >= 1.6 on 2 cores, identical scores.

Run: ``.venv/bin/python bench/bench_grading.py [--assignment fx01_rounds] [--workers 2]``
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _util import table  # noqa: E402

from kit import grading  # noqa: E402

STUDENTS = 40
SEED = 8


def course_for(assignment: str) -> Path:
    for root in (ROOT, ROOT / "tests" / "data" / "course"):
        if assignment in grading.load_course(root).assignments():
            return root
    raise SystemExit(f"no assignment {assignment} in the course or the fixture course")


def build(assignment: str, folder: Path) -> None:
    """A course copy with the assignment released and 40 seeded submissions."""
    import nbformat

    source = course_for(assignment)
    shutil.copy2(source / grading.CONFIG_FILE, folder / grading.CONFIG_FILE)
    shutil.copytree(source / "solutions" / assignment, folder / "solutions" / assignment)
    grading.release([assignment], course_root=folder)
    partial_file = ROOT / "tests" / "data" / "partial" / f"{assignment}.json"
    partial = json.loads(partial_file.read_text(encoding="utf-8"))
    wrong = {key: "\n".join(lines) for key, lines in partial.get("answers", {}).items()}
    rng = random.Random(SEED)
    for path in sorted((folder / "exercises" / assignment).glob("*.ipynb")):
        released = nbformat.read(path, as_version=4)
        solution = nbformat.read(folder / "solutions" / assignment / path.name, as_version=4)
        model = {
            c.metadata["nbgrader"]["grade_id"]: "\n".join(
                line for line in c.source.split("\n") if "SOLUTION" not in line
            )
            for c in solution.cells
            if c.metadata.get("nbgrader", {}).get("solution")
        }
        for number in range(STUDENTS):
            nb = nbformat.from_dict(json.loads(json.dumps(released)))
            for cell in nb.cells:
                grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
                if not cell.metadata.get("nbgrader", {}).get("solution"):
                    continue
                roll = rng.random()
                if grade_id in wrong and roll < 0.3:
                    cell.source = wrong[grade_id]
                elif roll < 0.85:
                    cell.source = model[grade_id]
            target = folder / "submitted" / f"t{number:02d}" / assignment
            target.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, target / path.name)


def gradebook(folder: Path, assignment: str) -> dict[tuple[str, str], float]:
    return {
        (student, item.grade_id): item.score
        for student, result in grading.scores(assignment, course_root=folder).items()
        for item in result.items
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--assignment", default="ch08_metrics")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    scripts = str(Path(sys.executable).parent)
    env = {**os.environ, "PATH": scripts + os.pathsep + os.environ.get("PATH", "")}
    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        base = Path(tmp) / "base"
        base.mkdir()
        build(args.assignment, base)
        serial, parallel = Path(tmp) / "serial", Path(tmp) / "parallel"
        shutil.copytree(base, serial)
        shutil.copytree(base, parallel)

        started = time.perf_counter()
        subprocess.run(
            [str(Path(scripts) / "nbgrader"), "autograde", args.assignment],
            cwd=serial, env=env, check=True, capture_output=True,
        )  # fmt: skip
        serial_s = time.perf_counter() - started

        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "kit", "grade", args.assignment, "--workers",
             str(args.workers), "--course-root", str(parallel)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        parallel_s = time.perf_counter() - started

        expected, got = gradebook(serial, args.assignment), gradebook(parallel, args.assignment)
        keys = expected.keys() | got.keys()
        differ = sorted(key for key in keys if expected.get(key) != got.get(key))
        totals = sorted({round(sum(v for (s, _), v in got.items() if s == st), 1) for st, _ in got})
        print(f"{STUDENTS} submissions of {args.assignment}, {os.cpu_count()} cores, "
              f"student totals seen: {totals}")  # fmt: skip
        print(table(
            ["command", "wall s", "s/submission", "speed-up"],
            [["nbgrader autograde (serial)", f"{serial_s:.1f}", f"{serial_s / STUDENTS:.2f}",
              "1.00"],
             [f"kit grade --workers {args.workers}", f"{parallel_s:.1f}",
              f"{parallel_s / STUDENTS:.2f}", f"{serial_s / parallel_s:.2f}"]],
        ))  # fmt: skip
        print(f"graded cells compared: {len(expected)}; scores identical: {not differ}")
        if differ:
            for key in differ[:10]:
                print(f"  {key}: nbgrader {expected.get(key)} kit {got.get(key)}")
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
