"""nbgrader helpers: release, validate, whole-class grading, feedback and self-check.

The repository root is an nbgrader course directory (see ``nbgrader_config.py``):
``solutions/<assignment>/`` holds the instructor versions, ``exercises/<assignment>/``
the student versions generated from them. Every function here reads the course's own
``nbgrader_config.py`` (and no other nbgrader configuration, so that the same solutions
always generate the same exercises) and runs nbgrader in this process.

Beyond nbgrader (see ``docs/grading.md``):

- :func:`grade` grades every submission of an assignment in parallel worker processes,
  each against a private copy of the gradebook, and records the results in the course
  gradebook from this process only. Before grading, :func:`reconcile` compares each
  submitted notebook with the released one: deleted, stripped, edited or duplicated
  graded cells are reported and the original tests are put back. Kernels run with a
  memory cap, per-cell time limit and output cap; a cell that crashes the kernel or
  times out is recorded and the notebook is run again without it.
- :func:`feedback` writes per-student HTML with scores, hints and answers, never the
  hidden tests.
- :func:`check` is a learner's self-grade (visible and hidden tests) on a copy.

>>> course = load_course()
>>> course.source_dir.name, course.release_dir.name
('solutions', 'exercises')
"""

from __future__ import annotations

import copy
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Callable, Iterable, Iterator
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


class KernelFailureError(RuntimeError):
    """The grading kernel failed for a reason that is not the notebook's: it did not
    start, or it died at a cell that runs fine in a fresh kernel, twice."""


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


# =============================================================================== notebooks
# Helpers over nbgrader's cell metadata, shared by integrity checks, grading, feedback and
# the learner's self-check.

HIDDEN_BEGIN = "BEGIN HIDDEN TESTS"
HIDDEN_END = "END HIDDEN TESTS"

# Lines too common to count as hidden-test content when searching a student-facing file.
_TRIVIAL_LINES = frozenset({"pass", "else:", "try:", "finally:", "return", "break", "continue"})


def _meta(cell: Any) -> dict[str, Any]:
    meta = cell.get("metadata", {}).get("nbgrader")
    return meta if isinstance(meta, dict) else {}


def _cell_kind(cell: Any) -> str:
    """``test`` (autograded), ``manual`` (graded answer), ``answer``, ``task``, ``locked``
    (read-only instructions or set-up code) or ``plain`` (no nbgrader role)."""
    meta = _meta(cell)
    if not meta.get("grade_id"):
        return "plain"
    if meta.get("grade") and meta.get("solution"):
        return "manual"
    if meta.get("grade"):
        return "test" if cell.get("cell_type") == "code" else "manual"
    if meta.get("solution"):
        return "answer"
    if meta.get("task"):
        return "task"
    return "locked" if meta.get("locked") else "plain"


def _read_notebook(path: Path) -> Any:
    """Read a notebook as nbformat 4 without failing on validation problems (students'
    files may have duplicated cell ids or odd metadata; :func:`reconcile` repairs them)."""
    import nbformat

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)


def split_hidden(source: str) -> tuple[str, str]:
    """Split a test cell's source into its visible part and its hidden-test lines.

    >>> split_hidden("assert f(1) == 1\\n### BEGIN HIDDEN TESTS\\nassert f(2) == 2\\n"
    ...              "### END HIDDEN TESTS")
    ('assert f(1) == 1', 'assert f(2) == 2')
    """
    visible: list[str] = []
    hidden: list[str] = []
    inside = False
    for line in source.split("\n"):
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        else:
            (hidden if inside else visible).append(line)
    return "\n".join(visible), "\n".join(hidden)


def _hidden_line_numbers(source: str) -> set[int]:
    """1-based numbers of the lines of ``source`` inside hidden-test regions (markers too)."""
    numbers: set[int] = set()
    inside = False
    for number, line in enumerate(source.split("\n"), start=1):
        if HIDDEN_BEGIN in line:
            inside = True
        if inside:
            numbers.add(number)
        if HIDDEN_END in line:
            inside = False
    return numbers


def hidden_test_lines(notebook: Any) -> list[str]:
    """The non-trivial lines of every hidden-test region of a source notebook, stripped.

    These must never appear in a student-facing file (feedback, self-check output).
    """
    lines = {
        line.strip()
        for cell in notebook.cells
        for line in split_hidden(cell.source)[1].split("\n")
    }
    return sorted(
        line
        for line in lines
        if re.search(r"[0-9A-Za-z\u4e00-\u9fff]", line) and line not in _TRIVIAL_LINES
    )


_ITEM_HEADING = re.compile(r"^#+\s*第\s*(\d+)\s*题")


def item_labels(notebook: Any) -> dict[str, str]:
    """Map each graded cell's grade id to the item heading before it (``第 2 题``).

    Course notebooks number their items with markdown headings (``## 第 2 题：…（3 分）``);
    a graded cell with no heading before it is labelled with its grade id.
    """
    labels: dict[str, str] = {}
    current = ""
    for cell in notebook.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.split("\n"):
                match = _ITEM_HEADING.match(line.strip())
                if match:
                    current = f"第 {match[1]} 题"
        meta = _meta(cell)
        if meta.get("grade") and meta.get("grade_id"):
            labels[meta["grade_id"]] = current or meta["grade_id"]
    return labels


# =============================================================================== integrity

# What a finding means, for the console and the feedback (instructor-facing, Chinese).
FINDING_KINDS: dict[str, str] = {
    "deleted": "格子被删除，已按原版补回",
    "stripped": "格子的 nbgrader 标记被删掉，已恢复",
    "edited": "只读格子的内容被改动，已换回原版",
    "duplicated": "同一个格子出现了不止一次，只保留最后一个",
    "metadata": "格子的 nbgrader 标记被改动（分值、类型或只读），已恢复",
    "unknown": "格子带有作业里不存在的 nbgrader 编号，已去掉标记",
    "unreadable": "笔记本文件无法读取（不是有效的 JSON 笔记本）",
}


@dataclass(frozen=True)
class Finding:
    """An integrity problem in a submitted notebook and what was done about it.

    ``cell`` is the grade id of the cell concerned; ``kind`` is a key of
    :data:`FINDING_KINDS`; ``item`` says whether the cell is a graded item (a row of the
    grades CSV) rather than instructions, set-up code or an ungraded answer.
    """

    notebook: str
    cell: str
    kind: str
    item: bool

    @property
    def message(self) -> str:
        """One line in Chinese, e.g. ``fx01_rounds / test_seconds_between：格子被删除…``."""
        return f"{self.notebook} / {self.cell}：{FINDING_KINDS[self.kind]}"


def _normalised(source: str) -> str:
    return "\n".join(line.rstrip() for line in source.strip().split("\n"))


def reconcile(submitted: Any, reference: Any, notebook: str = "") -> tuple[Any, list[Finding]]:
    """Compare a submitted notebook with the released one; return a repaired copy and findings.

    Every cell of the released notebook that carries nbgrader metadata is looked for in
    the submission: by its grade id, then (if the metadata was stripped) by its cell id,
    then by identical content, then, for answer cells, by position between the cells
    found around it. Then:

    - a graded cell whose grade id appears more than once is ``duplicated``: the last one
      is kept (as nbgrader does), the others lose their metadata;
    - a read-only cell (test, instructions, set-up) found with different content is
      ``edited`` and gets the released content back; changed points, type or read-only
      flag are ``metadata`` findings and are restored;
    - a cell found without its metadata is ``stripped`` and gets it back;
    - a read-only or graded cell not found is ``deleted`` and the released version is
      put back after the cell that precedes it in the released notebook (an ungraded
      answer cell is not put back: its code may live in another cell);
    - cells with a grade id the assignment does not have are ``unknown``: metadata removed.

    Nothing else in the submission changes: students' extra cells stay and still run.
    nbgrader then replaces each test cell with its full source (hidden tests included)
    from the gradebook, as it always does.

    >>> import nbformat
    >>> from nbformat.v4 import new_notebook, new_code_cell
    >>> test = new_code_cell("assert f() == 1", id="t1")
    >>> test.metadata.nbgrader = {"grade": True, "grade_id": "t1", "locked": True,
    ...     "points": 1, "solution": False, "task": False, "schema_version": 3}
    >>> answer = new_code_cell("def f(): return 1", id="a1")
    >>> answer.metadata.nbgrader = {"grade": False, "grade_id": "a1", "locked": False,
    ...     "solution": True, "task": False, "schema_version": 3}
    >>> released = new_notebook(cells=[answer, test])
    >>> tampered = new_notebook(cells=[nbformat.from_dict(answer)])   # test cell deleted
    >>> repaired, findings = reconcile(tampered, released, "nb")
    >>> [f.message for f in findings], [c.source for c in repaired.cells]
    (['nb / t1：格子被删除，已按原版补回'], ['def f(): return 1', 'assert f() == 1'])
    """
    import nbformat

    ref_cells = [c for c in reference.cells if _cell_kind(c) != "plain"]
    ref_by_id = {_meta(c)["grade_id"]: c for c in ref_cells}
    order = [_meta(c)["grade_id"] for c in ref_cells]
    nb = nbformat.from_dict(copy.deepcopy(dict(submitted)))
    cells = list(nb.cells)
    findings: list[Finding] = []

    def note(grade_id: str, kind: str) -> None:
        cell = ref_by_id.get(grade_id)
        item = bool(cell is not None and _meta(cell).get("grade"))
        finding = Finding(notebook, grade_id, kind, item)
        if finding not in findings:
            findings.append(finding)

    # 1. by grade id; duplicates keep the last occurrence, unknown ids lose their metadata
    claimed: dict[str, int] = {}
    for index, cell in enumerate(cells):
        grade_id = _meta(cell).get("grade_id")
        if not grade_id:
            if "nbgrader" in cell.get("metadata", {}):
                del cell.metadata["nbgrader"]
            continue
        if grade_id not in ref_by_id:
            if _meta(cell).get("grade") or _meta(cell).get("solution"):
                note(grade_id, "unknown")
            del cell.metadata["nbgrader"]
            continue
        if grade_id in claimed:
            note(grade_id, "duplicated")
            del cells[claimed[grade_id]].metadata["nbgrader"]
        claimed[grade_id] = index

    def free(index: int) -> bool:
        return index not in claimed.values()

    # 2. stripped metadata: by cell id, then by identical content (read-only cells)
    for grade_id in order:
        if grade_id in claimed:
            continue
        ref = ref_by_id[grade_id]
        ref_id = ref.get("id")
        match = next(
            (i for i, c in enumerate(cells) if free(i) and ref_id and c.get("id") == ref_id),
            None,
        )
        if match is None and _cell_kind(ref) not in ("answer", "manual"):
            match = next(
                (
                    i
                    for i, c in enumerate(cells)
                    if free(i)
                    and c.cell_type == ref.cell_type
                    and _normalised(c.source) == _normalised(ref.source)
                ),
                None,
            )
        if match is not None:
            claimed[grade_id] = match
            note(grade_id, "stripped")

    # 3. answers with stripped metadata: the first cell of the same type between the
    # cells found before and after it
    for position, grade_id in enumerate(order):
        ref = ref_by_id[grade_id]
        if grade_id in claimed or _cell_kind(ref) not in ("answer", "manual"):
            continue
        before = [claimed[g] for g in order[:position] if g in claimed]
        after = [claimed[g] for g in order[position + 1 :] if g in claimed]
        low = max(before, default=-1)
        high = min(after, default=len(cells))
        match = next(
            (
                i
                for i in range(low + 1, high)
                if free(i) and cells[i].cell_type == ref.cell_type and not _meta(cells[i])
            ),
            None,
        )
        if match is not None:
            claimed[grade_id] = match
            note(grade_id, "stripped")

    # 4. restore what was found, put back what was not
    for grade_id, index in claimed.items():
        ref = ref_by_id[grade_id]
        cell = cells[index]
        kind = _cell_kind(ref)
        old = _meta(cell)
        flags_changed = any(
            old.get(key) != _meta(ref).get(key) for key in ("grade", "solution", "locked", "task")
        )
        points_changed = bool(old.get("grade")) and _as_float(old.get("points")) != _as_float(
            _meta(ref).get("points")
        )
        if old and (flags_changed or points_changed):
            note(grade_id, "metadata")
        if cell.cell_type != ref.cell_type and kind in ("answer", "manual"):
            note(grade_id, "metadata")
            cell = _with_type(cell, ref.cell_type)
        if kind in ("test", "locked", "task"):
            if cell.cell_type != ref.cell_type:
                note(grade_id, "metadata")
            elif _normalised(cell.source) != _normalised(ref.source):
                note(grade_id, "edited")
            restored = copy.deepcopy(ref)
            if ref.cell_type == "code":
                restored.outputs, restored.execution_count = [], None
            if cell.get("id"):
                restored["id"] = cell["id"]
            cell = restored
        else:
            cell.metadata["nbgrader"] = copy.deepcopy(_meta(ref))
            for key in ("deletable", "editable"):
                if key in ref.metadata:
                    cell.metadata[key] = ref.metadata[key]
                else:
                    cell.metadata.pop(key, None)
        cells[index] = cell

    inserts: dict[int, list[Any]] = {}
    anchor = -1
    for grade_id in order:
        if grade_id in claimed:
            anchor = claimed[grade_id]
            continue
        ref = ref_by_id[grade_id]
        note(grade_id, "deleted")
        if _cell_kind(ref) == "answer":
            continue
        restored = copy.deepcopy(ref)
        if ref.cell_type == "code":
            restored.outputs, restored.execution_count = [], None
        inserts.setdefault(anchor, []).append(restored)

    rebuilt = list(inserts.get(-1, []))
    for index, cell in enumerate(cells):
        rebuilt.append(cell)
        rebuilt.extend(inserts.get(index, []))
    _unique_cell_ids(rebuilt, note)
    nb.cells = rebuilt
    findings.sort(key=lambda f: (order.index(f.cell) if f.cell in order else len(order), f.kind))
    return nb, findings


def _as_float(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _with_type(cell: Any, cell_type: str) -> Any:
    from nbformat.v4 import new_code_cell, new_markdown_cell

    new = new_code_cell if cell_type == "code" else new_markdown_cell
    converted = new(cell.source, metadata=copy.deepcopy(cell.metadata))
    if cell.get("id"):
        converted["id"] = cell["id"]
    return converted


def _unique_cell_ids(cells: list[Any], note: Callable[[str, str], None]) -> None:
    """Give every cell a unique nbformat id (a copied cell may share one); a graded or
    read-only cell whose id was shared is reported as duplicated."""
    from nbformat.v4.nbbase import random_cell_id

    seen: dict[str, Any] = {}
    for cell in cells:
        cell_id = cell.get("id")
        if cell_id and cell_id in seen:
            for shared in (seen[cell_id], cell):
                if _meta(shared).get("grade_id"):
                    note(_meta(shared)["grade_id"], "duplicated")
        if not cell_id or cell_id in seen:
            cell["id"] = random_cell_id()
        seen[cell["id"]] = cell


# =============================================================================== containment

DEFAULT_MEMORY_LIMIT_MB = 2048
"""Address-space cap of a grading kernel: a memory bomb raises MemoryError instead of
taking the machine down (Linux and macOS; the cap is not applied on Windows)."""

DEFAULT_OUTPUT_LIMIT = 20_000
"""Characters of output kept per cell; the rest is dropped as it arrives."""

MAX_INCIDENTS = 4
"""Cells of one notebook that may crash the kernel or time out before the rest of the
notebook is given up (each incident costs a kernel restart and a re-run)."""

INFRA_RETRIES = 1
"""Kernel failures per notebook that are not the notebook's doing (the kernel did not
start, or died at a cell that then ran fine) and are absorbed by running the notebook
again; one more fails the notebook with :class:`KernelFailureError`."""

CRASHED, TIMED_OUT, NOT_RUN = "DeadKernelError", "CellTimeoutError", "NotRunError"
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_TRUNCATED = "\n…（输出太长，后面的部分已省略）\n"


def _kernel_setup_line(memory_limit_mb: int | None) -> str:
    """A line the kernel runs at start-up, leaving no names in the user's namespace."""
    if not memory_limit_mb:
        return ""
    limit = int(memory_limit_mb) * 2**20
    return (
        "exec(\"try:\\n import resource\\n resource.setrlimit(resource.RLIMIT_AS, "
        f"({limit}, {limit}))\\nexcept (ImportError, ValueError, OSError):\\n pass\", {{}})"
    )


def _kernel_failure(index: int, exc: BaseException) -> str:
    where = "did not start" if index < 0 else f"died at cell {index} and again elsewhere"
    return (
        f"the grading kernel {where} ({type(exc).__name__}: {exc}); not the student's "
        "doing: grade this submission again"
    )


_EXECUTE_CLASS: Any = None


def contained_execute() -> Any:
    """nbgrader's ``Execute`` preprocessor, made safe for untrusted notebooks.

    Returns the class (built on first use, so that importing this module does not import
    nbgrader). On top of nbgrader's behaviour:

    - the kernel's address space is capped (``memory_limit_mb``), so a memory bomb fails
      with ``MemoryError`` in its cell;
    - each cell's output is capped at ``output_limit`` characters as it arrives;
    - a cell that kills the kernel (``os._exit``, a segfault) or exceeds the time limit
      gets an error output (``DeadKernelError`` / ``CellTimeoutError``) and is skipped
      when the notebook is run again in a fresh kernel, so every other cell still runs.
      After :data:`MAX_INCIDENTS` such cells the remaining cells are not run
      (``NotRunError``);
    - a kernel death is blamed on a cell only when the kernel dies at that cell again
      in a fresh kernel: a kernel killed from outside (the out-of-memory killer on a
      loaded machine) or one that does not start is not the student's doing. The
      notebook is run again (:data:`INFRA_RETRIES` times); after that
      :class:`KernelFailureError` is raised, and :func:`grade` marks the submission's
      items ``crashed`` with the reason on the console, never ``failed`` or ``error``.
    """
    global _EXECUTE_CLASS
    if _EXECUTE_CLASS is not None:
        return _EXECUTE_CLASS

    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbclient.util import run_sync
    from nbformat.v4 import new_output
    from nbgrader.preprocessors import Execute
    from traitlets import Integer

    class ContainedExecute(Execute):
        memory_limit_mb = Integer(
            DEFAULT_MEMORY_LIMIT_MB, allow_none=True, help="kernel address-space cap (MiB)"
        ).tag(config=True)
        output_limit = Integer(
            DEFAULT_OUTPUT_LIMIT, help="characters of output kept per cell"
        ).tag(config=True)

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            # A crashed or timed-out kernel is never reused: no need to wait for it.
            self.shutdown_kernel = "immediate"
            self.interrupt_on_timeout = False
            # A huge output can take a while to arrive after the cell finished.
            self.raise_on_iopub_timeout = False
            self.iopub_timeout = max(self.iopub_timeout, 10)
            setup = _kernel_setup_line(self.memory_limit_mb)
            if setup and sys.platform != "win32":
                self.extra_arguments = [*self.extra_arguments, f"--IPKernelApp.exec_lines={setup}"]

        async def async_start_new_kernel(self, **kwargs: Any) -> None:
            # The kernel's own console noise (transport warnings, crash messages) is not
            # the student's output, which arrives through the kernel's messages.
            kwargs.setdefault("stdout", subprocess.DEVNULL)
            kwargs.setdefault("stderr", subprocess.DEVNULL)
            # One math thread per kernel: parallel graders do not oversubscribe the cores,
            # and thread buffers on a many-core server stay far below the memory cap.
            kwargs.setdefault("env", {**os.environ, **dict.fromkeys(_THREAD_VARIABLES, "1")})
            await super().async_start_new_kernel(**kwargs)

        start_new_kernel = run_sync(async_start_new_kernel)

        def preprocess(self, nb: Any, resources: Any = None, km: Any = None) -> Any:
            self._skipped: dict[int, tuple[str, str]] = {}
            original = nb  # filled in place at the end, as nbclient does
            pristine = copy.deepcopy(nb)
            suspect: int | None = None  # a cell the kernel died at once, not yet blamed
            blips = 0  # kernel failures that were not the notebook's doing
            while True:
                self._current = -1
                self._printed: dict[int, int] = {}
                work = copy.deepcopy(pristine)
                try:
                    nb, resources = super().preprocess(work, resources, km)
                except (DeadKernelError, CellTimeoutError) as exc:
                    index = self._current
                    if index in self._skipped:
                        raise
                    if index < 0 or (isinstance(exc, DeadKernelError) and index != suspect):
                        # No cell ran yet (the kernel did not start), or a kernel death not
                        # yet seen at this cell: the machine (out-of-memory killer, a port
                        # taken by another kernel) rather than the student. Run again once.
                        blips += suspect is not None or index < 0
                        if blips > INFRA_RETRIES:
                            raise KernelFailureError(_kernel_failure(index, exc)) from exc
                        suspect = None if index < 0 else index
                        continue
                    suspect = None
                    self._skip(index, exc, len(pristine.cells))
                    continue
                except Exception as exc:
                    if self._current >= 0:
                        raise
                    blips += 1  # the kernel did not start or did not answer
                    if blips > INFRA_RETRIES:
                        raise KernelFailureError(_kernel_failure(-1, exc)) from exc
                    continue
                original.cells, original.metadata = nb.cells, nb.metadata
                return original, resources

        def _skip(self, index: int, exc: Exception, count: int) -> None:
            """Record ``exc`` as the outcome of cell ``index``, skipped from now on."""
            if isinstance(exc, DeadKernelError):
                cause = (CRASHED, "内核在运行这个格子时退出了（例如 os._exit 或崩溃）")
            else:
                cause = (TIMED_OUT, f"这个格子运行超过 {self.timeout} 秒，已被中止")
            self._skipped[index] = cause
            if len(self._skipped) >= MAX_INCIDENTS:
                for later in range(index + 1, count):
                    self._skipped.setdefault(
                        later, (NOT_RUN, "前面出问题的格子太多，这个格子没有运行")
                    )

        def preprocess_cell(self, cell: Any, resources: Any, index: int) -> Any:
            self._current = index
            skipped = self._skipped.get(index)
            if skipped is None:
                return super().preprocess_cell(cell, resources, index)
            if cell.cell_type == "code":
                ename, evalue = skipped
                note = new_output("error", ename=ename, evalue=evalue, traceback=[])
                note.traceback = [f"{ename}: {evalue}"]
                cell.outputs = [note]
                cell.execution_count = None
            return cell, resources

        def output(self, outs: Any, msg: Any, display_id: Any, cell_index: int) -> Any:
            content = msg.get("content", {})
            used = self._printed.get(cell_index, 0)
            if msg.get("msg_type") == "stream":
                size = len(content.get("text", ""))
            elif msg.get("msg_type") in ("display_data", "execute_result", "update_display_data"):
                size = sum(len(str(v)) for v in content.get("data", {}).values())
            else:
                return super().output(outs, msg, display_id, cell_index)
            self._printed[cell_index] = used + size
            if used >= self.output_limit:
                return None
            if used + size > self.output_limit:
                keep = self.output_limit - used
                msg = copy.deepcopy(msg)
                if msg["msg_type"] == "stream":
                    msg["content"]["text"] = msg["content"]["text"][:keep] + _TRUNCATED
                else:
                    msg["content"]["data"] = {"text/plain": _TRUNCATED.strip()}
                    msg["content"]["metadata"] = {}
            return super().output(outs, msg, display_id, cell_index)

    ContainedExecute.__module__ = __name__
    _EXECUTE_CLASS = ContainedExecute
    return ContainedExecute


# =============================================================================== grading

STATUSES = ("ok", "failed", "error", "timeout", "missing", "tampered", "crashed")
"""Status of one graded item in ``grades/<assignment>.csv`` (see ``docs/grading.md``)."""

STATUS_LABELS = {
    "ok": "通过",
    "failed": "未通过",
    "error": "报错",
    "timeout": "超时",
    "missing": "缺失",
    "tampered": "被改动",
    "crashed": "崩溃",
}
GRADE_COLUMNS = ("student_id", "assignment", "notebook", "item", "points", "max_points", "status")
REPLY_COLUMNS = (
    "student_id", "assignment", "notebook", "item", "total", "passed",
    "politeness", "empathy", "commitment", "solution", "positivity", "clarity", "rules",
    "reply", "customer", "scenario",
)  # fmt: skip

NO_RESPONSE = "No response."  # nbgrader's comment on an answer cell left as released


@dataclass(frozen=True)
class GradeRow:
    """One graded item of one submitted notebook: a row of ``grades/<assignment>.csv``.

    ``points`` is None for a written answer that awaits manual grading.
    """

    student_id: str
    assignment: str
    notebook: str
    item: str
    points: float | None
    max_points: float
    status: str


@dataclass
class SubmissionResult:
    """What grading one student's submission gave."""

    student: str
    rows: list[GradeRow]
    findings: list[Finding]
    seconds: float
    error: str = ""
    replies: list[dict[str, Any]] = field(default_factory=list)

    @property
    def score(self) -> float:
        return sum(row.points or 0.0 for row in self.rows)

    @property
    def max_score(self) -> float:
        return sum(row.max_points for row in self.rows)


@dataclass
class GradeReport:
    """The result of :func:`grade`: every submission, and where the grades table went."""

    assignment: str
    results: list[SubmissionResult]
    csv_path: Path
    seconds: float
    workers: int

    @property
    def rows(self) -> list[GradeRow]:
        return [row for result in self.results for row in result.rows]

    def counts(self) -> dict[str, int]:
        """How many items got each status."""
        counts = dict.fromkeys(STATUSES, 0)
        for row in self.rows:
            counts[row.status] += 1
        return counts


@dataclass(frozen=True)
class _Job:
    course_root: str
    assignment: str
    student: str
    workdir: str
    template_db: str
    timeout: int | None
    memory_limit_mb: int | None


@dataclass
class _Outcome:
    result: SubmissionResult
    timestamp: Any = None
    grades: dict[tuple[str, str], tuple[float | None, bool]] = field(default_factory=dict)
    comments: dict[tuple[str, str], str | None] = field(default_factory=dict)
    penalties: dict[str, float | None] = field(default_factory=dict)


def submissions(assignment: str, *, course_root: str | os.PathLike[str] | None = None) -> list[str]:
    """Student ids with a folder ``submitted/<student>/<assignment>/``, sorted."""
    course = load_course(course_root)
    folder = course.root / course._coursedir().submitted_directory
    if not folder.is_dir():
        return []
    return sorted(p.name for p in folder.iterdir() if (p / assignment).is_dir())


def grade(
    assignment: str,
    *,
    course_root: str | os.PathLike[str] | None = None,
    students: Iterable[str] | None = None,
    workers: int | None = None,
    timeout: int | None = None,
    memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB,
    progress: bool | Callable[[SubmissionResult, int, int], None] = False,
) -> GradeReport:
    """Grade every submission of ``assignment`` through nbgrader, in parallel.

    Each submission is checked by :func:`reconcile`, then autograded by nbgrader in a
    worker process against a private copy of the course gradebook (in a private course
    folder), with the kernel contained (:func:`contained_execute`). This process alone
    writes the results into the course gradebook, one submission at a time, exactly as
    ``nbgrader autograde`` records them; the executed notebooks go to
    ``autograded/<student>/<assignment>/``. The grades table is written to
    ``grades/<assignment>.csv`` (:data:`GRADE_COLUMNS`), and the rubric results of reply
    answers (cells flagged ``kit.reply`` in the source) to ``grades/<assignment>-replies.csv``.

    Args:
        assignment: the assignment; it must be released (in the gradebook).
        course_root: the course folder; default the repository root.
        students: grade only these students (default: every submission).
        workers: worker processes (default: the number of cores).
        timeout: seconds per cell (default: the course's ``Execute.timeout``).
        memory_limit_mb: the kernel's address-space cap; None for no cap.
        progress: True to print a progress line per submission (and every integrity
            finding) to stderr, or a callable ``(result, done, total)``.

    Raises:
        ValueError: unknown assignment, not released, or no submission.
    """
    import sqlite3
    import tempfile
    import time

    started = time.perf_counter()
    course = load_course(course_root)
    _known(course, [assignment])
    _references(course, assignment)
    available = submissions(assignment, course_root=course.root)
    chosen = available if students is None else list(students)
    unknown = sorted(set(chosen) - set(available))
    if unknown:
        raise ValueError(f"no submitted/<student>/{assignment}/ folder for {', '.join(unknown)}")
    if not chosen:
        raise ValueError(f"{course.root / 'submitted'}: no submission of {assignment!r}")
    db_path = _sqlite_path(course.db_url)
    _require_released(course, assignment)

    count = max(1, min(workers or os.cpu_count() or 1, len(chosen)))
    report = _Progress(progress, len(chosen))
    results: list[SubmissionResult] = []
    run_dir = Path(tempfile.mkdtemp(prefix="kit-grade-"))
    try:
        template = run_dir / "template.db"
        with sqlite3.connect(db_path) as source, sqlite3.connect(template) as copy_db:
            source.backup(copy_db)
        jobs = [
            _Job(
                course_root=str(course.root),
                assignment=assignment,
                student=student,
                workdir=str(run_dir / f"s{number:04d}"),
                template_db=str(template),
                timeout=timeout,
                memory_limit_mb=memory_limit_mb,
            )
            for number, student in enumerate(chosen)
        ]
        from nbgrader.api import Gradebook

        with _nbgrader_runtime(), Gradebook(course.db_url, course.course_id) as gb:
            for outcome in _run_jobs(jobs, count, run_dir / "workers.log"):
                _record(gb, assignment, outcome)
                results.append(outcome.result)
                report(outcome.result)
    finally:
        import shutil

        shutil.rmtree(run_dir, ignore_errors=True)
    results.sort(key=lambda r: r.student)
    csv_path = _write_tables(course, assignment, results)
    return GradeReport(assignment, results, csv_path, time.perf_counter() - started, count)


def _references(course: Course, assignment: str) -> dict[str, Any]:
    """The released notebooks of ``assignment`` by name (they define the graded items)."""
    folder = course.release_dir / assignment
    paths = sorted(folder.glob("*.ipynb"))
    if not paths:
        raise ValueError(f"{folder}: no released notebook; run `kit release {assignment}` first")
    return {path.stem: _read_notebook(path) for path in paths}


def _require_released(course: Course, assignment: str) -> None:
    from nbgrader.api import Gradebook, MissingEntry

    with _nbgrader_runtime(), Gradebook(course.db_url, course.course_id) as gb:
        try:
            gb.find_assignment(assignment)
        except MissingEntry:
            raise ValueError(
                f"{course.db_url}: the gradebook has no assignment {assignment!r}; "
                f"run `kit release {assignment}` first"
            ) from None


def _sqlite_path(db_url: str) -> Path:
    prefix = "sqlite:///"
    if not db_url.startswith(prefix):
        raise ValueError(f"{db_url}: kit grade needs an sqlite gradebook (sqlite:///path)")
    return Path(db_url[len(prefix) :])


def _run_jobs(jobs: list[_Job], workers: int, log_path: Path) -> Iterator[_Outcome]:
    """Run the jobs in ``workers`` processes; yield outcomes as they finish.

    A job whose worker process dies is reported as crashed; the pool is rebuilt for the
    jobs still waiting.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pending = list(jobs)
    context = _pool_context()
    while pending:
        with ProcessPoolExecutor(
            workers, mp_context=context, initializer=_worker_init, initargs=(str(log_path),)
        ) as pool:
            futures = {pool.submit(_grade_submission, job): job for job in pending}
            pending = []
            broken = False
            while futures:
                done, _ = wait(futures, return_when=FIRST_COMPLETED)
                for future in done:
                    job = futures.pop(future)
                    try:
                        yield future.result()
                    except BrokenProcessPool:
                        if broken:
                            pending.append(job)  # a casualty of another job's crash
                        else:
                            broken = True
                            yield _failed_outcome(job, "crashed", "the grading process died")
                    except Exception as exc:  # a bug or an unexpected nbgrader failure
                        yield _failed_outcome(job, "error", f"{type(exc).__name__}: {exc}")


def _pool_context() -> Any:
    """Where worker processes come from: a fork server that has imported nbgrader once
    (fast to start, and safe in a threaded parent such as a Jupyter kernel), or fresh
    interpreters where there is no fork server (Windows)."""
    import multiprocessing

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("spawn")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["kit.grading", "nbgrader.converters", "nbgrader.api"])
    return context


def _worker_init(log_path: str) -> None:
    """Send a worker's output (kernel warnings, nbgrader's log) to a file, and load
    nbgrader once per worker."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    with _nbgrader_runtime():
        import nbgrader.converters  # noqa: F401


def _failed_outcome(job: _Job, status: str, error: str) -> _Outcome:
    course = load_course(job.course_root)
    rows = [
        GradeRow(job.student, job.assignment, name, item, 0.0, points, status)
        for name, ref in _references(course, job.assignment).items()
        for item, points in _graded_items(ref)
    ]
    outcome = _Outcome(SubmissionResult(job.student, rows, [], 0.0, error))
    for row in rows:
        outcome.grades[(row.notebook, row.item)] = (0.0, status != "missing")
    return outcome


def _graded_items(reference: Any) -> list[tuple[str, float]]:
    return [
        (_meta(cell)["grade_id"], float(_meta(cell).get("points", 0)))
        for cell in reference.cells
        if _meta(cell).get("grade") and _meta(cell).get("grade_id")
    ]


def _grade_submission(job: _Job) -> _Outcome:
    """Worker: check, repair and autograde one submission in a private course folder."""
    import shutil
    import time

    import nbformat
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory
    from nbgrader.utils import capture_log

    started = time.perf_counter()
    course = load_course(job.course_root)
    names = course._coursedir()
    references = _references(course, job.assignment)
    private = Path(job.workdir)
    submitted = course.root / names.submitted_directory / job.student / job.assignment
    target = private / names.submitted_directory / job.student / job.assignment
    target.mkdir(parents=True)
    shutil.copytree(
        course.source_dir / job.assignment,
        private / names.source_directory / job.assignment,
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )
    findings: list[Finding] = []
    unreadable: set[str] = set()
    for path in sorted(submitted.iterdir()):
        if path.name in (".ipynb_checkpoints", "__pycache__"):
            continue
        if path.is_dir():
            shutil.copytree(path, target / path.name)
        elif path.suffix == ".ipynb" and path.stem in references:
            try:
                notebook = _read_notebook(path)
                repaired, found = reconcile(notebook, references[path.stem], path.stem)
            except Exception:  # not JSON, not a notebook: grade as absent
                unreadable.add(path.stem)
                findings.append(Finding(path.stem, "", "unreadable", False))
                continue
            findings.extend(found)
            nbformat.write(repaired, target / path.name)
        else:
            shutil.copy2(path, target / path.name)
    if not list(target.glob("*.ipynb")):
        shutil.rmtree(private, ignore_errors=True)
        status, error = ("error", "笔记本无法读取") if unreadable else ("missing", "没有提交笔记本")
        outcome = _failed_outcome(job, status, error)
        outcome.result.findings = findings
        outcome.result.seconds = time.perf_counter() - started
        return outcome
    shutil.copy2(job.template_db, private / "gradebook.db")

    config = _private_config(course, private, job)
    coursedir = CourseDirectory(config=config)
    coursedir.assignment_id, coursedir.student_id = job.assignment, job.student
    app = Autograde(coursedir=coursedir, config=config)
    app.force = True
    with _nbgrader_runtime():
        log = capture_log(app)
    graded_dir = private / names.autograded_directory / job.student / job.assignment
    outcome = _collect(config, job, references, findings, unreadable, graded_dir)
    if not log["success"]:
        outcome.result.error = _last_error(log)

    real = course.root / names.autograded_directory / job.student / job.assignment
    if real.exists():
        shutil.rmtree(real)
    if graded_dir.is_dir():
        real.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(graded_dir, real)
    shutil.rmtree(private, ignore_errors=True)
    outcome.result.seconds = time.perf_counter() - started
    return outcome


def _private_config(course: Course, root: Path, job: _Job) -> Any:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    config = copy.deepcopy(course.config)
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    contained = contained_execute()
    steps = config.Autograde.get("autograde_preprocessors") or (
        Autograde.class_traits()["autograde_preprocessors"].default()
    )
    config.Autograde.autograde_preprocessors = [
        contained if isinstance(step, type) and issubclass(step, Execute) else step
        for step in steps
    ]
    if job.timeout is not None:
        config.Execute.timeout = job.timeout
    config.ContainedExecute.memory_limit_mb = job.memory_limit_mb
    return config


def _last_error(log: dict[str, Any]) -> str:
    """The most telling line of a failed nbgrader run's log."""
    text = f"{log.get('log', '')}\n{log.get('error', '')}"
    lines = [re.sub(r"^\[[^]]*\]\s*", "", line).strip() for line in text.splitlines()]
    errors = [
        line
        for line in lines
        if re.match(r"^[A-Za-z_.]*(Error|Exception)\b", line) and "NbGraderException" not in line
    ]
    return errors[-1] if errors else "nbgrader autograde failed (see its log)"


def _collect(
    config: Any,
    job: _Job,
    references: dict[str, Any],
    findings: list[Finding],
    unreadable: set[str],
    graded_dir: Path,
) -> _Outcome:
    """Read what nbgrader recorded in the private gradebook, and classify every item."""
    from nbgrader.api import Gradebook, MissingEntry

    outcome = _Outcome(SubmissionResult(job.student, [], findings, 0.0))
    submitted_names = _submitted_names(job)
    recorded: dict[tuple[str, str], Any] = {}
    with _nbgrader_runtime(), Gradebook(config.CourseDirectory.db_url) as gb:
        try:
            submission = gb.find_submission(job.assignment, job.student)
        except MissingEntry:
            submission = None
        if submission is not None:
            outcome.timestamp = submission.timestamp
            for nb in submission.notebooks:
                outcome.penalties[nb.name] = nb.late_submission_penalty
                for grade in nb.grades:
                    recorded[(nb.name, grade.name)] = (
                        grade.auto_score, grade.manual_score, bool(grade.needs_manual_grade),
                        float(grade.score), float(grade.max_score),
                    )  # fmt: skip
                for comment in nb.comments:
                    outcome.comments[(nb.name, comment.name)] = comment.auto_comment

    for name, reference in references.items():
        path = graded_dir / f"{name}.ipynb"
        graded = _read_notebook(path) if path.is_file() else None
        present = name in submitted_names
        statuses = _statuses(reference, graded, findings, name, outcome.comments)
        for item, max_points in _graded_items(reference):
            auto, manual, needs_manual, score, _ = recorded.get(
                (name, item), (None, None, True, 0.0, max_points)
            )
            if graded is None:
                status = "error" if name in unreadable else "missing" if not present else "crashed"
                auto, needs_manual = 0.0, status != "missing"  # as nbgrader does for a missing file
                points: float | None = score if manual is not None else 0.0
            else:
                status = statuses.get(item, "error")
                points = None if needs_manual and manual is None and auto is None else score
            outcome.grades[(name, item)] = (auto, needs_manual)
            outcome.result.rows.append(
                GradeRow(job.student, job.assignment, name, item, points, max_points, status)
            )
        if graded is not None:
            outcome.result.replies.extend(_reply_scores(reference, graded, job, name))
    return outcome


def _submitted_names(job: _Job) -> set[str]:
    course = load_course(job.course_root)
    folder = course.root / course._coursedir().submitted_directory / job.student / job.assignment
    return {p.stem for p in folder.glob("*.ipynb")}


def _error_names(cell: Any) -> list[str]:
    return [o.get("ename", "") for o in cell.get("outputs", []) if o.get("output_type") == "error"]


def _statuses(
    reference: Any,
    graded: Any,
    findings: list[Finding],
    notebook: str,
    comments: dict[tuple[str, str], str | None],
) -> dict[str, str]:
    """Each graded item's status in an autograded notebook (see :data:`STATUSES`)."""
    kinds = {_meta(c)["grade_id"]: _cell_kind(c) for c in reference.cells if _meta(c).get("grade")}
    found: dict[str, set[str]] = {}
    for finding in findings:
        if finding.notebook == notebook and finding.item:
            found.setdefault(finding.cell, set()).add(finding.kind)
    statuses: dict[str, str] = {}
    if graded is None:
        return statuses
    incidents: set[str] = set()
    for cell in graded.cells:
        if cell.metadata.get("kit_hidden_of"):
            continue  # a self-check's hidden tests belong to the test cell before them
        incidents.update(n for n in _error_names(cell) if n in (CRASHED, TIMED_OUT, NOT_RUN))
        grade_id = _meta(cell).get("grade_id")
        if grade_id not in kinds or not _meta(cell).get("grade"):
            continue
        kinds_found = found.get(grade_id, set())
        if kinds[grade_id] == "manual":
            answered = comments.get((notebook, grade_id)) != NO_RESPONSE
            status = "missing" if "deleted" in kinds_found or not answered else "ok"
            if kinds_found - {"deleted"}:
                status = "tampered"
        elif kinds_found:
            status = "tampered"
        elif incidents & {CRASHED, NOT_RUN}:
            status = "crashed"
        elif TIMED_OUT in incidents:
            status = "timeout"
        else:
            status = _test_status(cell)
        statuses[grade_id] = status
        incidents = set()
    return statuses


def _test_status(cell: Any) -> str:
    """ok / failed / error for an executed test cell, as nbgrader scores it."""
    names = _error_names(cell)
    if names:
        return "failed" if names[0] == "AssertionError" else "error"
    from nbgrader.utils import determine_grade

    score, max_score = determine_grade(cell)
    return "ok" if score is not None and float(score) >= float(max_score) else "failed"


def _reply_scores(reference: Any, graded: Any, job: _Job, notebook: str) -> list[dict[str, Any]]:
    """Rubric results of the answers flagged as replies (see :func:`student_replies`)."""
    return [
        reply_row(job.student, job.assignment, notebook, item, text, **context)
        for item, text, context in student_replies(reference, graded)
    ]


def student_replies(reference: Any, graded: Any) -> list[tuple[str, str, dict[str, Any]]]:
    """The customer-service replies a student wrote, for the rubric: ``(item, reply, context)``.

    An assignment marks reply answers in the metadata of the answer cell (in
    ``solutions/``; the release keeps it):

    - ``"kit": {"reply": {"customer": "…", "scenario": "refund"}}`` on a written answer:
      the cell's text is one reply (item: the grade id);
    - ``"kit": {"replies": {"answers": "rewrites", "cases": "PRESALE_CASES"}}`` on a code
      answer that assigns a dict literal ``rewrites = {"r1": "…", …}``: each value is a
      reply (item: ``<grade id>:<key>``), answering the case of the same key in the dict
      literal ``PRESALE_CASES`` of the notebook (its ``customer`` and ``scenario``).

    Answers left as released, and code that is not a literal, give no reply. Nothing is run.
    """
    flagged = {
        _meta(c)["grade_id"]: (c, c.metadata["kit"])
        for c in reference.cells
        if _meta(c).get("grade_id") and isinstance(c.metadata.get("kit"), dict)
    }
    found = []
    for cell in graded.cells:
        grade_id = _meta(cell).get("grade_id")
        if grade_id not in flagged or _normalised(cell.source) == _normalised(
            flagged[grade_id][0].source
        ):
            continue
        spec = flagged[grade_id][1]
        if isinstance(spec.get("reply"), dict) and cell.source.strip():
            context = {k: spec["reply"].get(k) for k in ("customer", "scenario")}
            found.append((grade_id, cell.source.strip(), context))
        if isinstance(spec.get("replies"), dict):
            answers = _literal_assignment(cell.source, spec["replies"].get("answers", ""))
            cases = _notebook_literal(reference, spec["replies"].get("cases", ""))
            for key, reply in (answers or {}).items():
                if isinstance(reply, str) and reply.strip():
                    case = cases.get(key) if isinstance(cases, dict) else None
                    case = case if isinstance(case, dict) else {}
                    context = {k: case.get(k) for k in ("customer", "scenario")}
                    found.append((f"{grade_id}:{key}", reply.strip(), context))
    return found


def _literal_assignment(source: str, name: str) -> Any:
    """The literal value assigned to ``name`` at the top level of ``source``, or None."""
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    value = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                value = None
    return value


def _notebook_literal(notebook: Any, name: str) -> Any:
    value = None
    for cell in notebook.cells:
        if cell.cell_type == "code" and name and name in cell.source:
            found = _literal_assignment(cell.source, name)
            value = found if found is not None else value
    return value


def reply_row(
    student_id: str,
    assignment: str,
    notebook: str,
    item: str,
    reply: str,
    *,
    customer: str | None = None,
    scenario: str | None = None,
    **_: Any,
) -> dict[str, Any]:
    """One row of a replies table (:data:`REPLY_COLUMNS`): a reply and the rubric's verdict.

    ``rules`` lists the rules that took points off (red lines and missing required
    elements included), separated by ``;``.

    >>> row = reply_row("s1", "practice", "-", "BR001", "不知道", customer="在吗")
    >>> row["passed"], "polite.curt" in row["rules"] or row["total"] < 80
    (False, True)
    """
    from kit.rubric import DIMENSIONS, score_reply

    result = score_reply(reply, customer=customer, scenario=scenario)
    row: dict[str, Any] = {
        "student_id": student_id,
        "assignment": assignment,
        "notebook": notebook,
        "item": item,
        "total": result.total,
        "passed": result.passed,
    }
    row.update({key: round(result.dimensions[key].score, 3) for key in DIMENSIONS})
    row["rules"] = ";".join(dict.fromkeys(hit.rule_id for hit in result.hits if hit.sign == "-"))
    row.update(reply=reply, customer=customer or "", scenario=scenario or "")
    return row


def _record(gb: Any, assignment: str, outcome: _Outcome) -> None:
    """Write one graded submission into the course gradebook, as nbgrader autograde does."""
    student = outcome.result.student
    gb.update_or_create_student(student)
    extra = {} if outcome.timestamp is None else {"timestamp": outcome.timestamp}
    submission = gb.update_or_create_submission(assignment, student, **extra)
    for nb in submission.notebooks:
        for grade in nb.grades:
            if (nb.name, grade.name) in outcome.grades:
                grade.auto_score, grade.needs_manual_grade = outcome.grades[(nb.name, grade.name)]
        for comment in nb.comments:
            if (nb.name, comment.name) in outcome.comments:
                comment.auto_comment = outcome.comments[(nb.name, comment.name)]
        if nb.name in outcome.penalties:
            nb.late_submission_penalty = outcome.penalties[nb.name]
    gb.db.commit()


def _points(value: float | None) -> str:
    if value is None:
        return ""
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _write_tables(course: Course, assignment: str, results: list[SubmissionResult]) -> Path:
    """Write ``grades/<assignment>.csv`` (and the replies table if there are replies).

    Rows of students not graded in this run are kept from the existing tables.
    """
    folder = course.root / "grades"
    folder.mkdir(exist_ok=True)
    graded = {result.student for result in results}
    rows = [
        {
            "student_id": row.student_id, "assignment": row.assignment, "notebook": row.notebook,
            "item": row.item, "points": _points(row.points), "max_points": _points(row.max_points),
            "status": row.status,
        }
        for result in results
        for row in result.rows
    ]  # fmt: skip
    path = folder / f"{assignment}.csv"
    _merge_table(path, GRADE_COLUMNS, rows, graded)
    replies = [reply for result in results for reply in result.replies]
    replies_path = folder / f"{assignment}-replies.csv"
    if replies or replies_path.is_file():
        _merge_table(replies_path, REPLY_COLUMNS, replies, graded)
    return path


def _merge_table(path: Path, columns: tuple[str, ...], rows: list[dict], graded: set[str]) -> None:
    import csv

    kept: list[dict] = []
    if path.is_file():
        with path.open(encoding="utf-8", newline="") as handle:
            kept = [r for r in csv.DictReader(handle) if r.get("student_id") not in graded]
    merged = sorted(kept + rows, key=lambda r: r["student_id"])  # stable: item order kept
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(merged)


class _Progress:
    """Prints ``[#####-----] 12/40 s07 5/7 分 ok (3.1 s)`` per finished submission."""

    WIDTH = 20

    def __init__(self, progress: bool | Callable[[SubmissionResult, int, int], None], total: int):
        self.callback = progress if callable(progress) else None
        self.enabled = progress is True
        self.total = total
        self.done = 0

    def __call__(self, result: SubmissionResult) -> None:
        self.done += 1
        if self.callback is not None:
            self.callback(result, self.done, self.total)
        if not self.enabled:
            return
        filled = round(self.WIDTH * self.done / self.total)
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        statuses = sorted({row.status for row in result.rows} - {"ok"})
        state = ",".join(statuses) if statuses else "ok"
        score = f"{_points(result.score)}/{_points(result.max_score)} 分"
        line = (
            f"[{bar}] {self.done}/{self.total} {result.student} {score} {state} "
            f"({result.seconds:.1f} s)"
        )
        print(line, file=sys.stderr, flush=True)
        for finding in result.findings:
            print(f"    ! {result.student}: {finding.message}", file=sys.stderr, flush=True)
        if result.error:
            print(f"    ! {result.student}: {result.error}", file=sys.stderr, flush=True)


# =============================================================================== messages
# What students read about a failed check: their own visible checks' messages, and for the
# hidden ones a general hint — never hidden-test code.

HIDDEN_HINT = (
    "你的答案通过了能看到的检查，但在更多情况下出错了：想一想边界情况"
    "（空的输入、缺失值、正好等于临界值的数）以及题目里的每一条要求。"
)
_CODE_CHARS = re.compile(r"[()\[\]{}=<>\"'`]")
_CELL_LINE = re.compile(r"(?:Cell In\s*\[\d*\]|<ipython-input-[^>]*>)[^\n]*?line (\d+)")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def safe_hint(message: str, hidden: Iterable[str] = ()) -> str | None:
    """``message`` if a student may read it: Chinese prose that quotes no code.

    A message is refused when it has no Chinese, contains code punctuation (brackets,
    quotes, ``=``, ``<``, ``>``), or contains any of the ``hidden`` lines.

    >>> safe_hint("正好 180 秒也算及时")
    '正好 180 秒也算及时'
    >>> safe_hint("安排得不对的事情：['s2']") is None, safe_hint("x == 3") is None
    (True, True)
    """
    text = message.strip()
    if not text or not re.search(r"[\u4e00-\u9fff]", text) or _CODE_CHARS.search(text):
        return None
    if any(line in text for line in hidden):
        return None
    return text


def _first_error(cell: Any) -> Any:
    return next((o for o in cell.get("outputs", []) if o.get("output_type") == "error"), None)


def _failing_line(error: Any) -> int | None:
    """The line of the executed cell where ``error`` was raised (its first frame)."""
    text = _ANSI.sub("", "\n".join(error.get("traceback", [])))
    match = _CELL_LINE.search(text)
    return int(match[1]) if match else None


def _explain(status: str, cell: Any, visible: str, hidden: list[str]) -> str:
    """A Chinese sentence on why a test item got ``status``; never hidden-test code.

    ``cell`` is the executed test cell (full source, hidden tests included) or None;
    ``visible`` is the part of it students see.
    """
    if status == "ok":
        return "全部检查通过。"
    if status == "timeout":
        return "运行超时被中止（每个格子都有时间上限）：检查答案里有没有停不下来的循环。"
    if status == "crashed":
        return "运行时内核退出了（例如调用了 os._exit 或 exit），这道题没能完成检查。"
    if status == "tampered":
        return "检查格子被删除或改动过，已按原始检查重新评分。"
    if status == "missing":
        return "没有找到你的作答。"
    error = _first_error(cell) if cell is not None else None
    if error is None:
        return "检查没有通过（输出里有错误信息）。"
    ename, evalue = error.get("ename", ""), error.get("evalue", "")
    line = _failing_line(error)
    in_hidden = line is None or line in _hidden_line_numbers(cell.source)
    if ename == "NotImplementedError":
        return "还没有作答：答题格子里仍是 raise NotImplementedError()。"
    if ename == "NameError" and not in_hidden:
        return "检查用到的名字还没有定义：先运行（或补全）前面的答题格子。"
    if in_hidden:
        hint = safe_hint(evalue, hidden) if ename == "AssertionError" else None
        return f"{HIDDEN_HINT}提示：{hint}" if hint else HIDDEN_HINT
    if ename == "AssertionError":
        if evalue.strip():
            return f"没通过的检查：{evalue.strip()}"
        lines = visible.split("\n")
        shown = lines[line - 1].strip() if line and line <= len(lines) else ""
        return f"没通过的检查：{shown}" if shown else "有一项能看到的检查没有通过。"
    detail = f"{ename}: {evalue}".strip(": ")
    return f"运行出错（{detail}）：先在自己的笔记本里运行这道题的检查格子，看看错误出在哪一行。"


# =============================================================================== feedback

_FEEDBACK_CSS = """
body{font-family:"Noto Sans SC","Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;
max-width:920px;margin:2em auto;padding:0 1em;color:#222;line-height:1.6}
table.items{border-collapse:collapse;width:100%;margin:1em 0}
table.items td,table.items th{border:1px solid #ccc;padding:.35em .6em;vertical-align:top}
.ok{color:#1a7f37}.bad{color:#c62828}.wait{color:#8a6d00}
pre{background:#f6f8fa;padding:.6em;overflow-x:auto;white-space:pre-wrap}
.cell{margin:1em 0}.answer{border-left:4px solid #1565c0;padding-left:.8em}
.check{border-left:4px solid #999;padding-left:.8em}.rubric{background:#fff8e1;padding:.5em}
.output{background:#fafafa;border:1px dashed #ddd;padding:.4em}
"""


def feedback(
    assignment: str,
    *,
    course_root: str | os.PathLike[str] | None = None,
    students: Iterable[str] | None = None,
) -> list[Path]:
    """Write ``feedback/<student>/<assignment>/<notebook>.html`` for graded students.

    Each page shows the scores from the gradebook (manual grades included), each item's
    status and a hint, the rubric's verdict and hints on reply answers, and the student's
    answers with their outputs — but no hidden test, no test-cell output (a student's
    code can print what a hidden test passes it) and nothing from the solutions. Any
    output that still contains a hidden-test line is withheld. Student text is escaped.
    The folder is where ``nbgrader release_feedback`` looks.

    Returns:
        The HTML files written.
    """
    import html

    course = load_course(course_root)
    _known(course, [assignment])
    references = _references(course, assignment)
    sources = {
        name: _read_notebook(course.source_dir / assignment / f"{name}.ipynb")
        for name in references
    }
    hidden = sorted({line for nb in sources.values() for line in hidden_test_lines(nb)})
    names = course._coursedir()
    graded_root = course.root / names.autograded_directory
    recorded = scores(assignment, course_root=course.root)
    statuses = _read_statuses(course, assignment)
    chosen = sorted(recorded) if students is None else list(students)
    written: list[Path] = []
    for student in chosen:
        if student not in recorded:
            raise ValueError(f"no graded submission of {assignment!r} by {student!r}")
        for name, reference in references.items():
            path = graded_root / student / assignment / f"{name}.ipynb"
            graded = _read_notebook(path) if path.is_file() else None
            page = _feedback_page(
                student, assignment, name, reference, graded, recorded[student],
                statuses, hidden,
            )  # fmt: skip
            for line in hidden:  # last line of defence: nothing hidden leaves this function
                page = page.replace(html.escape(line), "（已隐去）").replace(line, "（已隐去）")
            target = course.root / names.feedback_directory / student / assignment / f"{name}.html"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page, encoding="utf-8")
            written.append(target)
    return written


def _read_statuses(course: Course, assignment: str) -> dict[tuple[str, str, str], str]:
    """Statuses from ``grades/<assignment>.csv`` (written by :func:`grade`), if any."""
    import csv

    path = course.root / "grades" / f"{assignment}.csv"
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as handle:
        return {
            (row["student_id"], row["notebook"], row["item"]): row["status"]
            for row in csv.DictReader(handle)
        }


def _markdown(text: str) -> str:
    import mistune

    render = mistune.create_markdown(escape=True, plugins=["table", "strikethrough"])
    return str(render(text))


def _feedback_page(
    student: str,
    assignment: str,
    notebook: str,
    reference: Any,
    graded: Any,
    recorded: SubmissionScore,
    statuses: dict[tuple[str, str, str], str],
    hidden: list[str],
) -> str:
    import html

    esc = html.escape
    labels = item_labels(reference)
    released = {_meta(c)["grade_id"]: c for c in reference.cells if _meta(c).get("grade_id")}
    items = {i.grade_id: i for i in recorded.items if i.notebook == notebook}
    computed = _statuses(reference, graded, [], notebook, {}) if graded is not None else {}
    cells_by_id = {_meta(c).get("grade_id"): c for c in graded.cells} if graded else {}

    rows, notes = [], {}
    for grade_id, max_points in _graded_items(reference):
        item = items.get(grade_id)
        status = statuses.get((student, notebook, grade_id)) or computed.get(grade_id, "missing")
        kind = _cell_kind(released[grade_id])
        label = STATUS_LABELS.get(status, status)
        if kind == "manual":
            waiting = item is None or (item.needs_manual_grade and status != "missing")
            shown = "待老师评分" if waiting else f"{_points(item.score)}"
            note = "书面作答，由老师评分。" if status != "missing" else "没有找到你的作答。"
            label = "已作答" if waiting and status == "ok" else label
        else:
            shown = _points(item.score if item else 0.0)
            visible = split_hidden(released[grade_id].source)[0]
            cell = cells_by_id.get(grade_id)
            note = _explain(status, cell, visible, hidden)
            if status == "tampered" and cell is not None and _test_status(cell) != "ok":
                note += _explain(_test_status(cell), cell, visible, hidden)
        notes[grade_id] = note
        css = "bad" if status != "ok" else "wait" if shown == "待老师评分" else "ok"
        rows.append(
            f"<tr><td>{esc(labels.get(grade_id, grade_id))}</td><td><code>{esc(grade_id)}</code>"
            f"</td><td>{esc(shown)} / {esc(_points(max_points))}</td>"
            f"<td class='{css}'>{esc(label)}</td><td>{esc(note)}</td></tr>"
        )
    total = sum(i.score for i in items.values())
    possible = sum(points for _, points in _graded_items(reference))
    parts = [
        "<!DOCTYPE html><html lang='zh-CN'><head><meta charset='utf-8'>",
        f"<title>{esc(assignment)} 反馈 · {esc(student)}</title><style>{_FEEDBACK_CSS}</style>",
        "</head><body>",
        f"<h1>{esc(assignment)} · 作业反馈</h1>",
        f"<p>学员：<b>{esc(student)}</b>　笔记本：{esc(notebook)}.ipynb　"
        f"得分：<b>{esc(_points(total))} / {esc(_points(possible))}</b>"
        "（书面题由老师评分后计入）</p>",
        "<table class='items'><tr><th>题目</th><th>检查</th><th>得分</th><th>状态</th>"
        "<th>说明</th></tr>",
        *rows,
        "</table>",
    ]
    if graded is None:
        parts.append("<p class='bad'>没有收到这个笔记本。</p>")
    else:
        parts.append("<h2>你的作答</h2>")
        parts.extend(_feedback_cells(graded, reference, notes, hidden))
    parts.append("</body></html>")
    return "\n".join(parts)


def _feedback_cells(graded: Any, reference: Any, notes: dict[str, str], hidden: list[str]):
    import html

    esc = html.escape
    released = {_meta(c)["grade_id"]: c for c in reference.cells if _meta(c).get("grade_id")}
    for cell in graded.cells:
        grade_id = _meta(cell).get("grade_id")
        kind = _cell_kind(released[grade_id]) if grade_id in released else "plain"
        if kind == "test":
            visible = split_hidden(released[grade_id].source)[0]
            yield (
                f"<div class='cell check'><pre>{esc(visible)}</pre>"
                f"<p>检查结果：{esc(notes.get(grade_id, ''))}</p></div>"
            )
        elif cell.cell_type == "markdown" and kind in ("answer", "manual"):
            yield f"<div class='cell answer'><p><b>你的回答</b></p>{_markdown(cell.source)}"
            yield from _rubric_block(cell, reference)
            yield "</div>"
        elif cell.cell_type == "markdown":
            yield f"<div class='cell'>{_markdown(cell.source)}</div>"
        elif cell.cell_type == "code":
            css = "cell answer" if kind == "answer" else "cell"
            yield f"<div class='{css}'><pre>{esc(cell.source)}</pre>"
            yield from _outputs(cell, hidden)
            if kind == "answer":
                yield from _rubric_block(cell, reference)
            yield "</div>"


def _outputs(cell: Any, hidden: list[str]):
    """A code cell's outputs as safe HTML: text, PNG images; never raw HTML."""
    import base64
    import html

    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            text = output.get("text", "")
        elif kind == "error":
            text = f"{output.get('ename', '')}: {output.get('evalue', '')}"
        else:
            data = output.get("data", {})
            png = data.get("image/png")
            if isinstance(png, str):
                try:
                    base64.b64decode(png, validate=True)
                except ValueError:
                    continue
                yield f"<img alt='图表' src='data:image/png;base64,{png.strip()}'>"
                continue
            plain = data.get("text/plain", "")
            text = "".join(plain) if isinstance(plain, list) else str(plain)
        if any(line in text for line in hidden):
            text = "（这段输出含有隐藏检查的内容，已隐去）"
        yield f"<pre class='output'>{html.escape(_ANSI.sub('', text))}</pre>"


def _rubric_block(cell: Any, reference: Any):
    """The rubric's verdict and hints on the replies a flagged answer holds."""
    import html

    from nbformat.v4 import new_notebook

    from kit.rubric import score_reply

    graded = new_notebook(cells=[cell])
    for item, reply, context in student_replies(reference, graded):
        result = score_reply(reply, **context)
        lines = "".join(f"<li>{html.escape(line)}</li>" for line in result.explain().split("\n"))
        yield (
            f"<div class='rubric'><p><b>回复评分</b> {html.escape(item)}："
            f"{html.escape(reply)}</p><ul>{lines}</ul></div>"
        )


# =============================================================================== self-check


@dataclass(frozen=True)
class CheckItem:
    """One graded item of a learner's self-check."""

    item: str
    label: str
    points: float | None
    max_points: float
    status: str
    message: str

    @property
    def passed(self) -> bool:
        return self.status == "ok"


@dataclass
class CheckReport:
    """What :func:`check` found: every graded item, and integrity findings."""

    assignment: str
    notebook: Path
    items: list[CheckItem]
    findings: list[Finding]

    @property
    def passed(self) -> bool:
        """Every autograded item passed (written answers are graded by a teacher)."""
        return all(i.passed for i in self.items if i.status != "manual")

    def text(self) -> str:
        """The report in Chinese, one line per item, as ``kit check`` prints it."""
        lines = [f"自查：{self.notebook.name}（作业 {self.assignment}）"]
        for finding in self.findings:
            lines.append(f"注意：{finding.message}（自查时已按原版处理）")
        auto = [i for i in self.items if i.status != "manual"]
        for item in self.items:
            if item.status == "manual":
                lines.append(f"– {item.label}  书面题（{_points(item.max_points)} 分），由老师评分")
                continue
            mark = "✓" if item.passed else "✗"
            lines.append(
                f"{mark} {item.label}  {item.item}  "
                f"{_points(item.points)}/{_points(item.max_points)} 分"
            )
            if not item.passed:
                lines.append(f"    {item.message}")
        got = sum(i.points or 0 for i in auto)
        lines.append(
            f"自动评分部分：{_points(got)}/{_points(sum(i.max_points for i in auto))} 分"
            + ("，全部通过！" if self.passed else "")
        )
        return "\n".join(lines)


def check(
    notebook: str | os.PathLike[str],
    *,
    course_root: str | os.PathLike[str] | None = None,
    timeout: int | None = None,
    memory_limit_mb: int | None = DEFAULT_MEMORY_LIMIT_MB,
) -> CheckReport:
    """Self-grade a learner's notebook with the visible and the hidden tests.

    The notebook is read once and run as a copy in a temporary folder; the learner's file
    is never written. Its assignment is found from its folder name, its file name, or
    the grade ids of its cells. Deleted or edited checks are put back
    (:func:`reconcile`); each test cell runs with its hidden tests in a separate cell
    right after it, so a hidden failure is reported with a general hint (and the test's
    own message when it is prose that quotes no code), never with the hidden code.

    Raises:
        ValueError: the file is not a notebook of one of the course's assignments.
    """
    import shutil
    import tempfile

    from nbformat.v4 import new_code_cell

    course = load_course(course_root)
    path = Path(notebook).resolve()
    if not path.is_file():
        raise ValueError(f"{path}: no such notebook")
    try:
        submitted = _read_notebook(path)
    except Exception as exc:
        raise ValueError(f"{path}: not a readable notebook ({exc})") from None
    assignment, name = _find_assignment(course, path, submitted)
    reference = _references(course, assignment)[name]
    source = _read_notebook(course.source_dir / assignment / f"{name}.ipynb")
    full = {_meta(c)["grade_id"]: c.source for c in source.cells if _cell_kind(c) == "test"}
    hidden = hidden_test_lines(source)
    repaired, findings = reconcile(submitted, reference, name)

    cells = []
    for cell in repaired.cells:
        cells.append(cell)
        grade_id = _meta(cell).get("grade_id")
        if grade_id in full:
            visible, secret = split_hidden(full[grade_id])
            cell.source = visible
            if secret.strip():
                extra = new_code_cell(secret)
                extra.metadata["kit_hidden_of"] = grade_id
                cells.append(extra)
    repaired.cells = cells

    run_dir = Path(tempfile.mkdtemp(prefix="kit-check-"))
    try:
        for item in (course.source_dir / assignment).iterdir():
            if item.suffix != ".ipynb" and item.name != ".ipynb_checkpoints":
                copier = shutil.copytree if item.is_dir() else shutil.copy2
                copier(item, run_dir / item.name)
        executor = contained_execute()(config=course.config, memory_limit_mb=memory_limit_mb)
        if timeout is not None:
            executor.timeout = timeout
        with _nbgrader_runtime(), _environ(NBGRADER_EXECUTION="validate"):
            executed, _ = executor.preprocess(repaired, {"metadata": {"path": str(run_dir)}})
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    items = _check_items(executed, reference, hidden)
    return CheckReport(assignment, path, items, findings)


@contextmanager
def _environ(**values: str) -> Iterator[None]:
    old = {key: os.environ.get(key) for key in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _find_assignment(course: Course, path: Path, nb: Any) -> tuple[str, str]:
    """The assignment and notebook name a learner's notebook belongs to."""
    assignments = course.assignments()
    folder = path.parent.name
    if folder in assignments and (course.source_dir / folder / path.name).is_file():
        return folder, path.stem
    named = [a for a in assignments if (course.source_dir / a / path.name).is_file()]
    if len(named) == 1:
        return named[0], path.stem
    ids = {_meta(c).get("grade_id") for c in nb.cells} - {None}
    best, overlap = None, 0
    for assignment in assignments:
        for source in sorted((course.source_dir / assignment).glob("*.ipynb")):
            shared = len(ids & {_meta(c).get("grade_id") for c in _read_notebook(source).cells})
            if shared > overlap:
                best, overlap = (assignment, source.stem), shared
    if best is None:
        raise ValueError(
            f"{path}: not a notebook of this course's exercises "
            f"({', '.join(assignments) or 'no assignment'})"
        )
    return best


def _check_items(executed: Any, reference: Any, hidden: list[str]) -> list[CheckItem]:
    labels = item_labels(reference)
    released = {_meta(c)["grade_id"]: c for c in reference.cells if _meta(c).get("grade_id")}
    statuses = _statuses(reference, executed, [], "", {})
    cells = list(executed.cells)
    items = []
    for grade_id, max_points in _graded_items(reference):
        if _cell_kind(released[grade_id]) == "manual":
            items.append(CheckItem(grade_id, labels[grade_id], None, max_points, "manual", ""))
            continue
        index = next(i for i, c in enumerate(cells) if _meta(c).get("grade_id") == grade_id)
        test = cells[index]
        extra = cells[index + 1] if index + 1 < len(cells) else None
        if extra is None or extra.metadata.get("kit_hidden_of") != grade_id:
            extra = None
        status = statuses.get(grade_id, "error")
        visible = split_hidden(released[grade_id].source)[0]
        error = _first_error(extra) if extra is not None else None
        ename = error.get("ename") if error is not None else None
        if status == "ok" and error is not None:
            if ename == TIMED_OUT:
                status = "timeout"
            elif ename in (CRASHED, NOT_RUN):
                status = "crashed"
            else:
                status = "failed"
        if status == "failed" and error is not None and _first_error(test) is None:
            hint = safe_hint(error.get("evalue", ""), hidden) if ename == "AssertionError" else None
            message = f"{HIDDEN_HINT}提示：{hint}" if hint else HIDDEN_HINT
        else:
            message = _explain(status, test, visible, hidden)
        points = max_points if status == "ok" else 0.0
        items.append(CheckItem(grade_id, labels[grade_id], points, max_points, status, message))
    return items
