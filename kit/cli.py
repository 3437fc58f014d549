"""The ``kit`` command: one entry point for learners, instructors and graders.

>>> build_parser().prog
'kit'
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from typing import Any

Handler = Callable[[argparse.Namespace], int]


def _doctor(args: argparse.Namespace) -> int:
    from kit.doctor import main

    return main(fix=args.fix)


def _fonts(args: argparse.Namespace) -> int:
    from kit.fonts import prepare_fonts

    for path in prepare_fonts():
        print(path)
    return 0


def _html(args: argparse.Namespace) -> int:
    from kit.publish import render_html, render_slides

    render = render_slides if args.command == "slides" else render_html
    for path in render():
        print(path)
    return 0


def _course_files(args: argparse.Namespace, write: Callable[..., list]) -> int:
    """Run ``write(course_root=…)`` for the course of ``args``; print the files it wrote."""
    import sys

    from kit.grading import GradingError, load_course

    try:
        root = load_course(args.course_root).root
        paths = write(course_root=root)
    except (ValueError, GradingError) as exc:
        print(f"kit {args.command}: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path.relative_to(root))
    return 0


def _release(args: argparse.Namespace) -> int:
    from kit.grading import release

    return _course_files(args, lambda **kw: release(args.assignments or None, **kw))


def _grade(args: argparse.Namespace) -> int:
    import sys

    from kit.grading import GradingError, grade

    try:
        report = grade(
            args.assignment,
            course_root=args.course_root,
            students=args.students or None,
            workers=args.workers,
            timeout=args.timeout,
            memory_limit_mb=args.memory_limit or None,
            progress=True,
        )
    except (ValueError, GradingError) as exc:
        print(f"kit grade: {exc}", file=sys.stderr)
        return 1
    counts = ", ".join(f"{status} {n}" for status, n in report.counts().items() if n)
    findings = sum(len(r.findings) for r in report.results)
    print(
        f"已评分 {len(report.results)} 份提交（{report.workers} 个进程，{report.seconds:.1f} 秒）；"
        f"各题状态：{counts}；完整性问题 {findings} 条"
    )
    print(report.csv_path)
    return 0


def _feedback(args: argparse.Namespace) -> int:
    from kit.grading import feedback

    return _course_files(
        args, lambda **kw: feedback(args.assignment, students=args.students or None, **kw)
    )


def _check(args: argparse.Namespace) -> int:
    import sys

    from kit.grading import GradingError, check

    try:
        report = check(args.notebook, course_root=args.course_root, timeout=args.timeout)
    except (ValueError, GradingError) as exc:
        print(f"kit check: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    return 0 if report.passed else 1


def _class_command(sub: Any, name: str, handler: Handler, help: str) -> argparse.ArgumentParser:
    """A subcommand over one assignment's submissions: ASSIGNMENT, --student, --course-root."""
    p = sub.add_parser(name, help=help)
    p.add_argument("assignment", metavar="ASSIGNMENT")
    p.add_argument("--student", dest="students", action="append", metavar="STUDENT",
                   help="only this student (repeatable; default: every submission)")  # fmt: skip
    p.add_argument("--course-root", help="the nbgrader course folder (default: the repository)")
    p.set_defaults(handler=handler)
    return p


def build_parser() -> argparse.ArgumentParser:
    """Build the argument parser with every subcommand."""
    parser = argparse.ArgumentParser(prog="kit", description="电商客服培训工具包 / CS training kit")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("doctor", help="check the environment and say how to fix each problem")
    p.add_argument("--fix", action="store_true", help="apply the fixes that are safe to apply")
    p.set_defaults(handler=_doctor)

    p = sub.add_parser("fonts", help="prepare the bundled Chinese fonts for matplotlib (once)")
    p.set_defaults(handler=_fonts)

    p = sub.add_parser("html", help="render the executed course to static HTML in build/html")
    p.set_defaults(handler=_html)

    p = sub.add_parser("slides", help="write offline reveal.js decks of the course to build/slides")
    p.set_defaults(handler=_html)

    p = sub.add_parser(
        "release", help="regenerate exercises/ (student versions) from solutions/ with nbgrader"
    )
    p.add_argument("assignments", nargs="*", metavar="ASSIGNMENT", help="default: all of them")
    p.add_argument("--course-root", help="the nbgrader course folder (default: the repository)")
    p.set_defaults(handler=_release)

    p = _class_command(
        sub, "grade", _grade,
        "grade every submitted/<student>/ASSIGNMENT in parallel, with integrity checks; "
        "writes the gradebook and grades/ASSIGNMENT.csv",
    )  # fmt: skip
    p.add_argument("--workers", type=int, help="worker processes (default: number of cores)")
    p.add_argument("--timeout", type=int, help="seconds per cell (default: the course's)")
    p.add_argument("--memory-limit", type=int, default=2048, metavar="MB",
                   help="memory cap of each grading kernel (0: none; default 2048)")  # fmt: skip

    _class_command(
        sub, "feedback", _feedback, "write per-student HTML feedback (no hidden tests) to feedback/"
    )

    p = sub.add_parser(
        "check", help="自查：用可见和隐藏的检查给自己的练习打分（不修改你的文件）"
    )
    p.add_argument("notebook", metavar="NOTEBOOK")
    p.add_argument("--timeout", type=int, help="seconds per cell (default: the course's)")
    p.add_argument("--course-root", help="the nbgrader course folder (default: the repository)")
    p.set_defaults(handler=_check)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kit`` command and return its exit status."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)
