"""The ``kit`` command: one entry point for learners, instructors and graders.

>>> build_parser().prog
'kit'
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence

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


def _release(args: argparse.Namespace) -> int:
    import sys

    from kit.grading import GradingError, load_course, release

    try:
        root = load_course(args.course_root).root
        paths = release(args.assignments or None, course_root=root)
    except (ValueError, GradingError) as exc:
        print(f"kit release: {exc}", file=sys.stderr)
        return 1
    for path in paths:
        print(path.relative_to(root))
    return 0


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
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``kit`` command and return its exit status."""
    args = build_parser().parse_args(argv)
    handler: Handler = args.handler
    return handler(args)
