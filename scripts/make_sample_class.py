"""Build the sample class the instructor dashboard shows when there is no real class.

Simulated trainees of varied (seeded) quality answer the course's assignments; every
submission is graded by ``kit grade``'s machinery into a gradebook, and each trainee's
practice rewrites are scored by the reply rubric. The result is an nbgrader course folder
(default ``build/sample_class/``, git-ignored), rebuilt only when its inputs changed.

Run: ``.venv/bin/python scripts/make_sample_class.py [--trainees 32] [--seed 2026]
[--assignment ch01_basics --assignment ch02_wording] [--out build/sample_class] [--force]``
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kit import dashboard


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(dashboard.SAMPLE_DIR), help="the class folder")
    parser.add_argument("--trainees", type=int, default=dashboard.SAMPLE_TRAINEES)
    parser.add_argument("--seed", type=int, default=dashboard.SAMPLE_SEED)
    parser.add_argument("--assignment", dest="assignments", action="append",
                        help="assignment to take (repeatable; default: the first two)")  # fmt: skip
    parser.add_argument("--course-root", help="the course to copy (default: the repository)")
    parser.add_argument("--workers", type=int, help="grading processes (default: cores)")
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    if args.trainees < 1:
        parser.error("--trainees must be at least 1")
    options = {"course_root": args.course_root, "assignments": args.assignments,
               "trainees": args.trainees, "seed": args.seed}  # fmt: skip
    if not args.force and dashboard.sample_is_current(args.out, **options):
        print(f"{args.out}: up to date")
        return 0
    started = time.perf_counter()
    folder = dashboard.build_sample_class(args.out, workers=args.workers, progress=True, **options)
    print(f"{folder}: {args.trainees} trainees, {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
