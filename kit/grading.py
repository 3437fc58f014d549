"""nbgrader helpers: generate the student versions, validate notebooks, autograde.

The repository root is an nbgrader course directory (see ``nbgrader_config.py``):
``solutions/<assignment>/`` holds the instructor versions, ``exercises/<assignment>/``
the student versions generated from them. Every function here reads the course's own
``nbgrader_config.py`` (and no other nbgrader configuration, so that the same solutions
always generate the same exercises) and runs nbgrader in this process.

>>> course = load_course()
>>> course.source_dir.name, course.release_dir.name
('solutions', 'exercises')
"""

from __future__ import annotations

import os
import sys
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kit.datasets import REPO_ROOT

CONFIG_FILE = "nbgrader_config.py"

# Cell metadata that editors record when the instructor runs a solution notebook: run
# timestamps change on every run, and saved widget state may show values computed by the
# solution. Neither belongs in a student version.
_VOLATILE_CELL_METADATA = ("execution", "ExecuteTime")
_VOLATILE_NOTEBOOK_METADATA = ("widgets",)


class GradingError(RuntimeError):
    """nbgrader failed; the message carries its log."""


@dataclass(frozen=True)
class Course:
    """An nbgrader course directory and its configuration.

    Attributes:
        root: the course folder (where ``nbgrader_config.py`` is).
        course_id: nbgrader's course id.
        source_dir: the instructor versions (``solutions/``).
        release_dir: the student versions (``exercises/``).
        db_url: the gradebook database URL.
        config: the traitlets configuration read from ``nbgrader_config.py``.
    """

    root: Path
    course_id: str
    source_dir: Path
    release_dir: Path
    db_url: str
    config: Any = field(repr=False, compare=False)

    def assignments(self) -> list[str]:
        """Names of the assignments: folders of the source directory holding a notebook."""
        if not self.source_dir.is_dir():
            return []
        return sorted(
            p.name
            for p in self.source_dir.iterdir()
            if p.is_dir() and not p.name.startswith(".") and any(p.glob("*.ipynb"))
        )

    def _coursedir(self, **traits: str) -> Any:
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=self.config)
        for name, value in traits.items():
            setattr(coursedir, name, value)
        return coursedir


@dataclass(frozen=True)
class CellProblem:
    """One finding of :func:`validate`.

    ``kind`` is ``"failed"`` (a test failed), ``"passed"`` (a test passed although it
    should fail, with ``invert=True``), ``"changed"`` (a read-only cell was edited) or
    ``"type_changed"`` (a cell's type was changed).
    """

    kind: str
    source: str
    error: str = ""


@dataclass(frozen=True)
class ItemScore:
    """The score of one graded cell of a submission, as recorded in the gradebook."""

    notebook: str
    grade_id: str
    cell_type: str
    score: float
    max_score: float
    needs_manual_grade: bool


@dataclass(frozen=True)
class SubmissionScore:
    """A student's autograded submission of one assignment."""

    student: str
    assignment: str
    score: float
    max_score: float
    items: tuple[ItemScore, ...]

    @property
    def failed(self) -> list[str]:
        """grade ids of the autograded (code) cells that did not get full marks."""
        return [i.grade_id for i in self.items if i.cell_type == "code" and i.score < i.max_score]


def load_course(course_root: str | os.PathLike[str] | None = None) -> Course:
    """Read the course at ``course_root`` (default: the repository root).

    Raises:
        ValueError: if the folder has no ``nbgrader_config.py``.
    """
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(course_root).resolve() if course_root is not None else REPO_ROOT
    if not (root / CONFIG_FILE).is_file():
        raise ValueError(f"{root}: not an nbgrader course ({CONFIG_FILE} not found)")
    config = PyFileConfigLoader(CONFIG_FILE, path=str(root)).load_config()
    with _nbgrader_runtime():
        from nbgrader.coursedir import CourseDirectory

        coursedir = CourseDirectory(config=config)
    return Course(
        root=Path(coursedir.root),
        course_id=coursedir.course_id,
        source_dir=Path(coursedir.root) / coursedir.source_directory,
        release_dir=Path(coursedir.root) / coursedir.release_directory,
        db_url=coursedir.db_url,
        config=config,
    )


def release(
    assignments: Iterable[str] | None = None,
    *,
    course_root: str | os.PathLike[str] | None = None,
) -> list[Path]:
    """Regenerate ``exercises/<assignment>/`` from ``solutions/<assignment>/``.

    Runs nbgrader's ``generate_assignment --force`` (solutions and hidden tests removed,
    outputs cleared, the assignment recorded in the gradebook), then drops editor run
    timestamps and saved widget state, so the same solutions always give byte-identical
    exercises. Everything previously in ``exercises/<assignment>/`` is replaced.

    Args:
        assignments: assignment names; default every assignment of the course.
        course_root: the course folder; default the repository root.

    Returns:
        The generated student notebooks, ``exercises/<assignment>/<name>.ipynb``.

    Raises:
        ValueError: for an assignment that is not in ``solutions/``.
        GradingError: if nbgrader fails (its log is in the message).
    """
    from nbgrader.converters import GenerateAssignment

    course = load_course(course_root)
    names = _known(course, assignments)
    written: list[Path] = []
    for name in names:
        app = GenerateAssignment(
            coursedir=course._coursedir(assignment_id=name), config=course.config
        )
        app.force = True
        _run(app, f"generate_assignment {name}")
        for notebook in sorted((course.release_dir / name).glob("*.ipynb")):
            _normalise(notebook)
            written.append(notebook)
    return written


def validate(
    notebook: str | os.PathLike[str],
    *,
    invert: bool = False,
    course_root: str | os.PathLike[str] | None = None,
) -> list[CellProblem]:
    """Run ``notebook`` as ``nbgrader validate`` does and return what went wrong.

    With ``invert=False`` every test cell must pass; with ``invert=True`` (nbgrader's
    ``--invert``, for an unanswered student version) every test cell must fail. An empty
    list means success. The notebook file is read, never written; it runs in its own
    folder.
    """
    from nbconvert.filters import strip_ansi
    from nbgrader.validator import Validator

    course = load_course(course_root)
    validator = Validator(config=course.config, invert=invert)
    with _nbgrader_runtime():
        results = validator.validate(os.fspath(Path(notebook).resolve()))
    return [
        CellProblem(
            kind=kind, source=cell.get("source", ""), error=strip_ansi(cell.get("raw_error", ""))
        )
        for kind in ("type_changed", "changed", "passed", "failed")
        for cell in results.get(kind, [])
    ]


def autograde(
    assignment: str, *, course_root: str | os.PathLike[str] | None = None
) -> dict[str, SubmissionScore]:
    """Autograde every submission in ``submitted/<student>/<assignment>/`` in one run.

    Submissions are re-graded if they were graded before, and students missing from the
    gradebook are added. The assignment must have been released (:func:`release`) so that
    the gradebook knows its test cells.

    Returns:
        The scores of every student of the assignment, by student id.
    """
    from nbgrader.converters import Autograde

    course = load_course(course_root)
    _known(course, [assignment])
    app = Autograde(
        coursedir=course._coursedir(assignment_id=assignment, student_id="*"), config=course.config
    )
    app.force = True
    _run(app, f"autograde {assignment}")
    return scores(assignment, course_root=course.root)


def scores(
    assignment: str, *, course_root: str | os.PathLike[str] | None = None
) -> dict[str, SubmissionScore]:
    """Read the gradebook's scores of every submission of ``assignment``, by student id."""
    from nbgrader.api import Gradebook, MissingEntry

    course = load_course(course_root)
    result: dict[str, SubmissionScore] = {}
    with _nbgrader_runtime(), Gradebook(course.db_url, course.course_id) as gb:
        try:
            submissions = gb.find_assignment(assignment).submissions
        except MissingEntry:
            raise ValueError(
                f"{course.db_url}: no assignment {assignment!r} in the gradebook"
            ) from None
        for submission in submissions:
            items = tuple(
                ItemScore(
                    notebook=nb.name,
                    grade_id=grade.name,
                    cell_type=grade.cell.cell_type,
                    score=float(grade.score),
                    max_score=float(grade.max_score),
                    needs_manual_grade=bool(grade.needs_manual_grade),
                )
                for nb in submission.notebooks
                for grade in nb.grades
            )
            result[submission.student.id] = SubmissionScore(
                student=submission.student.id,
                assignment=assignment,
                score=float(submission.score),
                max_score=float(submission.max_score),
                items=items,
            )
    return result


def _known(course: Course, assignments: Iterable[str] | None) -> list[str]:
    available = course.assignments()
    if assignments is None:
        return available
    names = list(assignments)
    unknown = [name for name in names if name not in available]
    if unknown:
        raise ValueError(
            f"{course.source_dir}: no assignment {', '.join(map(repr, unknown))} "
            f"(available: {', '.join(available) or 'none'})"
        )
    return names


def _run(app: Any, what: str) -> None:
    from nbgrader.utils import capture_log

    with _nbgrader_runtime():
        result = capture_log(app)
    if not result["success"]:
        raise GradingError(
            f"nbgrader {what} failed:\n{result.get('log', '')}\n{result.get('error', '')}"
        )


@contextmanager
def _nbgrader_runtime() -> Iterator[None]:
    """Let nbgrader run in this process.

    nbgrader's gradebook runs the ``alembic`` command when it creates a database, so this
    interpreter's scripts folder must be on ``PATH`` even when the virtual environment is
    not activated. The gradebook also emits SQLAlchemy warnings about its own session
    handling, which say nothing about the course.
    """
    from sqlalchemy.exc import SAWarning

    scripts = str(Path(sys.executable).parent)
    old_path = os.environ.get("PATH")
    if scripts not in (old_path or "").split(os.pathsep):
        os.environ["PATH"] = os.pathsep.join([scripts, old_path]) if old_path else scripts
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SAWarning)
            yield
    finally:
        if old_path is None:
            os.environ.pop("PATH", None)
        else:
            os.environ["PATH"] = old_path


def _normalise(notebook: Path) -> None:
    """Drop run timestamps and saved widget state from a generated notebook, in place."""
    import nbformat

    nb = nbformat.read(notebook, as_version=nbformat.NO_CONVERT)
    changed = False
    for key in _VOLATILE_NOTEBOOK_METADATA:
        changed |= nb.metadata.pop(key, None) is not None
    for cell in nb.cells:
        for key in _VOLATILE_CELL_METADATA:
            changed |= cell.metadata.pop(key, None) is not None
    if changed:
        nbformat.write(nb, notebook)
