"""The nbgrader course checks, for every assignment in ``solutions/``.

They also run over the fixture course in ``tests/data/course/`` (its own
``nbgrader_config.py``, one small assignment), so the machinery is tested even before the
real course has assignments.

For each assignment:

- the solution notebooks pass ``nbgrader validate``;
- the committed student notebooks, unanswered, fail every autograded test
  (``nbgrader validate --invert``);
- ``exercises/<assignment>/`` is byte for byte what ``kit release`` generates;
- no solution line and no hidden-test line appears in any file under ``exercises/``;
- the notebook states each item's points and the total, and they add up to the graded cells;
- autograding the model answers gives full marks, and autograding the crafted partial
  answer in ``tests/data/partial/<assignment>.json`` gives the score it states.

Items are numbered markdown headings ending in their points, e.g.
``## 第 2 题：3 分钟回复率（3 分）``; every graded cell after a heading belongs to that item.
Some markdown cell states ``总分 N 分``.

A partial answer (``tests/data/partial/<assignment>.json``; every assignment needs one) is
the model answers with some answer cells changed: ``"blank"`` lists grade ids left as
released, ``"answers"`` maps grade ids to hand-written code (a list of lines), and
``"expected_score"`` / ``"expected_failing_tests"`` say what autograding must give
(``"notebook"`` picks the notebook of a multi-notebook assignment).

The work happens in one temporary copy of each course per session: the copy's exercises
are regenerated, and each assignment is autograded once for all its crafted submissions.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from kit import grading
from kit.cli import main

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
PARTIAL = TESTS / "data" / "partial"


@dataclass(frozen=True)
class CourseSpec:
    """A course under test and the rules its assignments follow."""

    key: str
    root: Path
    name_pattern: str
    min_autograded_items: int


COURSES = {
    spec.key: spec
    for spec in (
        CourseSpec("course", REPO, r"ch0[1-8]_[a-z0-9]+(_[a-z0-9]+)*", 5),
        CourseSpec("fixture", TESTS / "data" / "course", r"fx\d\d_[a-z0-9]+(_[a-z0-9]+)*", 3),
    )
}
ASSIGNMENTS = [
    pytest.param(key, name, id=f"{key}/{name}")
    for key, spec in COURSES.items()
    for name in grading.load_course(spec.root).assignments()
]

REGIONS = (
    ("BEGIN SOLUTION", "END SOLUTION"),
    ("BEGIN HIDDEN TESTS", "END HIDDEN TESTS"),
    ("BEGIN MARK SCHEME", "END MARK SCHEME"),
)
# Lines too common to mean a leak when they appear in a student version.
TRIVIAL_LINES = {"pass", "else:", "try:", "finally:", "return", "break", "continue"}
ITEM_HEADING = re.compile(r"^#+\s*第\s*(\d+)\s*题.*[（(][^（()）]*?(\d+(?:\.\d+)?)\s*分[）)]\s*$")
TOTAL = re.compile(r"总分\s*[:：]?\s*(\d+(?:\.\d+)?)\s*分")

MODEL, PARTIAL_STUDENT = "model", "partial"


# ---------------------------------------------------------------- notebook helpers


def nbgrader_meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def is_test(cell) -> bool:
    """An autograded test cell: graded, read-only code that is not an answer."""
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade") and not meta.get("solution")


def read(path: Path):
    return nbformat.read(path, as_version=4)


def strip_markers(source: str) -> str:
    begin, end = REGIONS[0]
    return "\n".join(line for line in source.split("\n") if begin not in line and end not in line)


def answered(release_nb, solution_nb, *, blank=(), answers=None):
    """The student version with the model answers filled in, as a student would submit it.

    ``blank`` lists answer cells (grade ids) left as released; ``answers`` maps grade ids
    to hand-written answers.
    """
    answers = answers or {}
    model = {
        nbgrader_meta(c)["grade_id"]: strip_markers(c.source)
        for c in solution_nb.cells
        if nbgrader_meta(c).get("solution")
    }
    unknown = sorted((set(blank) | set(answers)) - set(model))
    assert not unknown, f"not answer cells of the notebook: {unknown}"
    nb = copy.deepcopy(release_nb)
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if not nbgrader_meta(cell).get("solution") or grade_id in blank:
            continue
        cell.source = answers.get(grade_id, model[grade_id])
    return nb


def region_lines(nb) -> list[str]:
    """Non-trivial lines of every solution, hidden-test and mark-scheme region."""
    found = []
    for cell in nb.cells:
        lines = cell.source.split("\n")
        if nbgrader_meta(cell).get("solution") and not any(REGIONS[0][0] in x for x in lines):
            found += lines  # a solution cell without markers is replaced whole
        inside = None
        for line in lines:
            if inside is None:
                inside = next((end for begin, end in REGIONS if begin in line), None)
            elif inside in line:
                inside = None
            else:
                found.append(line)
    return sorted(
        {
            line.strip()
            for line in found
            if re.search(r"[0-9A-Za-z\u4e00-\u9fff]", line) and line.strip() not in TRIVIAL_LINES
        }
    )


def searchable_text(path: Path) -> str:
    """A file's text, plus the decoded sources and outputs if it is a notebook."""
    text = path.read_bytes().decode("utf-8", errors="replace")
    if path.suffix == ".ipynb":
        nb = json.loads(text)
        parts = []
        for cell in nb.get("cells", []):
            parts.append("".join(cell.get("source", "")))
            for output in cell.get("outputs", []):
                parts.append(json.dumps(output, ensure_ascii=False))
                parts.append("".join(output.get("text", "")))
                for value in output.get("data", {}).values():
                    parts.append("".join(value) if isinstance(value, list) else str(value))
        text += "\n".join(parts)
    return text


@dataclass
class Item:
    number: int
    stated: float
    points: float = 0.0
    autograded: int = 0
    manual: int = 0


def stated_points(nb) -> tuple[float | None, list[Item], list[str]]:
    """The stated total, the items with the points of their graded cells, and problems."""
    totals: set[float] = set()
    items: list[Item] = []
    problems = []
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            totals.update(float(m) for m in TOTAL.findall(cell.source))
            for line in cell.source.split("\n"):
                match = ITEM_HEADING.match(line.strip())
                if match:
                    items.append(Item(int(match[1]), float(match[2])))
        meta = nbgrader_meta(cell)
        if meta.get("grade") or meta.get("task"):
            if not items:
                problems.append(f"graded cell {meta.get('grade_id')!r} comes before any item")
                continue
            items[-1].points += float(meta.get("points", 0))
            if is_test(cell):
                items[-1].autograded += 1
            else:
                items[-1].manual += 1
    if len(totals) != 1:
        problems.append(f"the notebook should state one total (总分 N 分), found {sorted(totals)}")
    return (totals.pop() if len(totals) == 1 else None), items, problems


def notebook_names(course: grading.Course, assignment: str) -> list[str]:
    return sorted(p.name for p in (course.source_dir / assignment).glob("*.ipynb"))


def relative_files(folder: Path) -> dict[str, Path]:
    return {
        str(p.relative_to(folder)): p
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".ipynb_checkpoints" not in p.parts
    }


# ---------------------------------------------------------------- the session workspace


class Workspace:
    """A temporary copy of one course with regenerated exercises and graded submissions."""

    def __init__(self, spec: CourseSpec, folder: Path):
        self.spec = spec
        self.committed = grading.load_course(spec.root)
        shutil.copy2(spec.root / grading.CONFIG_FILE, folder / grading.CONFIG_FILE)
        source = self.committed.source_dir
        shutil.copytree(
            source,
            folder / source.relative_to(spec.root),
            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
        )
        self.course = grading.load_course(folder)
        grading.release(course_root=folder)
        self._scores: dict[str, dict[str, grading.SubmissionScore]] = {}

    def scores(self, assignment: str) -> dict[str, grading.SubmissionScore]:
        """Autograde the model answers and the crafted partial answer, if any (once)."""
        if assignment not in self._scores:
            self.submit(MODEL, assignment)
            if partial_path(assignment).is_file():
                spec = partial_spec(assignment)
                blank, answers = spec.get("blank", []), spec.get("answers", {})
                self.submit(PARTIAL_STUDENT, assignment, spec.get("notebook"), blank, answers)
            self._scores[assignment] = grading.autograde(assignment, course_root=self.course.root)
        return self._scores[assignment]

    def submit(self, student, assignment, notebook=None, blank=(), answers=None) -> None:
        """Write a submission: model answers, except in ``notebook`` (default: the first)."""
        folder = self.course.root / "submitted" / student / assignment
        folder.mkdir(parents=True)
        names = notebook_names(self.course, assignment)
        target = f"{notebook}.ipynb" if notebook else names[0]
        for name in names:
            changes = {"blank": blank, "answers": answers} if name == target else {}
            nb = answered(
                read(self.course.release_dir / assignment / name),
                read(self.course.source_dir / assignment / name),
                **changes,
            )
            nbformat.write(nb, folder / name)


def partial_path(assignment: str) -> Path:
    return PARTIAL / f"{assignment}.json"


def partial_spec(assignment: str) -> dict:
    """The crafted partial answer of ``assignment`` (answers given as lists of lines)."""
    path = partial_path(assignment)
    assert path.is_file(), (
        f"{path} is missing: describe a partial answer for {assignment} "
        "(answer cells to leave blank or hand-written answers, and the expected score)"
    )
    spec = json.loads(path.read_text(encoding="utf-8"))
    answers = spec.get("answers", {})
    return {**spec, "answers": {k: "\n".join(v) for k, v in answers.items()}}


@pytest.fixture(scope="session")
def workspaces(tmp_path_factory):
    built: dict[str, Workspace] = {}

    def get(key: str) -> Workspace:
        if key not in built:
            built[key] = Workspace(COURSES[key], tmp_path_factory.mktemp(key))
        return built[key]

    return get


# ---------------------------------------------------------------- the checks


@pytest.mark.parametrize("key", COURSES)
def test_course_layout(key):
    course = grading.load_course(COURSES[key].root)
    assert course.root == COURSES[key].root, "the config must set root to its own folder"
    assert (course.source_dir.name, course.release_dir.name) == ("solutions", "exercises")
    assert course.db_url == f"sqlite:///{course.root / 'gradebook.db'}"


def test_course_config_for_instructors_and_learners():
    course = grading.load_course(REPO)
    assert Path(course.config.Exchange.root).parent == course.root, "exchange outside the course"
    stub = course.config.ClearSolutions.code_stub["python"]
    assert "在这里写你的答案" in stub and "raise NotImplementedError" in stub
    assert course.config.ClearSolutions.text_stub.strip()
    assert 30 <= course.config.ExecutePreprocessor.timeout <= 120


@pytest.mark.parametrize(("key", "assignment"), ASSIGNMENTS)
def test_assignment_shape(key, assignment):
    spec = COURSES[key]
    course = grading.load_course(spec.root)
    assert re.fullmatch(spec.name_pattern, assignment), (
        f"{assignment} is not named {spec.name_pattern}"
    )
    assert notebook_names(course, assignment) == [f"{assignment}.ipynb"]


@pytest.mark.parametrize(("key", "assignment"), ASSIGNMENTS)
def test_solutions_pass_validate(key, assignment, workspaces):
    course = workspaces(key).course
    for name in notebook_names(course, assignment):
        problems = grading.validate(course.source_dir / assignment / name, course_root=course.root)
        assert not problems, "\n\n".join(f"{p.kind}: {p.source}\n{p.error}" for p in problems)


@pytest.mark.parametrize(("key", "assignment"), ASSIGNMENTS)
def test_exercises_fail_every_test_unanswered(key, assignment, workspaces, tmp_path):
    ws = workspaces(key)
    committed = ws.committed.release_dir / assignment
    assert committed.is_dir(), f"{committed} is missing: run `kit release {assignment}`"
    shutil.copytree(committed, tmp_path / assignment)  # run a copy: never the learners' files
    for name in notebook_names(ws.course, assignment):
        path = tmp_path / assignment / name
        assert any(is_test(c) for c in read(path).cells), f"{name} has no autograded test"
        problems = grading.validate(path, invert=True, course_root=ws.course.root)
        assert not problems, "these cells do not fail unanswered:\n\n" + "\n\n".join(
            f"{p.kind}: {p.source}" for p in problems
        )


@pytest.mark.parametrize(("key", "assignment"), ASSIGNMENTS)
def test_exercises_are_what_release_generates(key, assignment, workspaces):
    ws = workspaces(key)
    committed = relative_files(ws.committed.release_dir / assignment)
    generated = relative_files(ws.course.release_dir / assignment)
    hint = f"run `kit release {assignment}` and commit exercises/{assignment}/"
    assert sorted(committed) == sorted(generated), hint
    for name, path in generated.items():
        assert committed[name].read_bytes() == path.read_bytes(), f"{name} differs: {hint}"


@pytest.mark.parametrize("key", COURSES)
def test_exercises_have_no_stale_assignments(key):
    course = grading.load_course(COURSES[key].root)
    folders = course.release_dir.iterdir() if course.release_dir.is_dir() else []
    released = sorted(p.name for p in folders if p.is_dir())
    assert released == course.assignments(), (
        "exercises/ must hold exactly the solutions/ assignments"
    )


@pytest.mark.parametrize(("key", "assignment"), ASSIGNMENTS)
def test_no_solution_or_hidden_test_in_exercises(key, assignment):
    course = grading.load_course(COURSES[key].root)
    secrets = [
        line
        for name in notebook_names(course, assignment)
        for line in region_lines(read(course.source_dir / assignment / name))
    ]
    assert secrets, "the solutions have no solution region to check"
    for path in relative_files(course.release_dir).values():
        text = searchable_text(path)
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{path} contains solution or hidden-test lines: {leaked}"


@pytest.mark.parametrize(("key", "assignment"), ASSIGNMENTS)
def test_points_are_stated_and_add_up(key, assignment, workspaces):
    ws = workspaces(key)
    nb = read(ws.course.release_dir / assignment / f"{assignment}.ipynb")
    total, items, problems = stated_points(nb)
    numbers = [item.number for item in items]
    assert numbers == list(range(1, len(items) + 1)), f"items should be numbered 1…n: {numbers}"
    for item in items:
        if item.points != item.stated:
            problems.append(
                f"第 {item.number} 题 states {item.stated} points, its cells give {item.points}"
            )
        if not item.autograded + item.manual:
            problems.append(f"第 {item.number} 题 has no graded cell")
    if total is not None and total != sum(item.points for item in items):
        problems.append(
            f"总分 {total} is not the sum of the items ({sum(i.points for i in items)})"
        )
    assert not problems, "\n".join(problems)
    autograded = sum(1 for item in items if item.autograded)
    assert autograded >= ws.spec.min_autograded_items, f"only {autograded} autograded items"
    assert any(item.manual for item in items), "no manually graded item"


@pytest.mark.parametrize(("key", "assignment"), ASSIGNMENTS)
def test_model_answers_get_full_marks(key, assignment, workspaces):
    ws = workspaces(key)
    result = ws.scores(assignment)[MODEL]
    assert result.failed == [], (
        f"autograded tests that failed on the model answers: {result.failed}"
    )
    tests = [i for i in result.items if i.cell_type == "code"]
    assert tests and result.score == sum(i.max_score for i in tests)
    total, _, _ = stated_points(read(ws.course.release_dir / assignment / f"{assignment}.ipynb"))
    assert result.max_score == total, "the gradebook's maximum is not the stated total"


@pytest.mark.parametrize(("key", "assignment"), ASSIGNMENTS)
def test_partial_answer_gets_expected_score(key, assignment, workspaces):
    ws = workspaces(key)
    spec = partial_spec(assignment)
    result = ws.scores(assignment)[PARTIAL_STUDENT]
    assert sorted(result.failed) == sorted(spec["expected_failing_tests"])
    assert result.score == spec["expected_score"]


# ---------------------------------------------------------------- kit.grading and `kit release`


def fixture_copy(folder: Path) -> grading.Course:
    """A copy of the fixture course without its exercises."""
    spec = COURSES["fixture"]
    shutil.copy2(spec.root / grading.CONFIG_FILE, folder / grading.CONFIG_FILE)
    shutil.copytree(spec.root / "solutions", folder / "solutions")
    return grading.load_course(folder)


def test_kit_release_is_byte_identical_after_the_solutions_were_run(tmp_path, capsys):
    course = fixture_copy(tmp_path)
    [solution] = (course.source_dir / "fx01_rounds").glob("*.ipynb")
    nb = read(solution)
    nb.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {}}}
    for count, cell in enumerate(c for c in nb.cells if c.cell_type == "code"):
        cell.metadata["execution"] = {"iopub.status.idle": f"2026-03-0{count % 9 + 1}T10:00:00Z"}
        cell.metadata["ExecuteTime"] = {"end_time": "2026-03-01T10:00:01"}
        cell.execution_count = count + 1
        cell.outputs = [nbformat.v4.new_output("stream", text="97\n")]
    nbformat.write(nb, solution)

    assert main(["release", "--course-root", str(tmp_path)]) == 0
    assert capsys.readouterr().out.split() == ["exercises/fx01_rounds/fx01_rounds.ipynb"]
    committed = COURSES["fixture"].root / "exercises" / "fx01_rounds" / "fx01_rounds.ipynb"
    released = course.release_dir / "fx01_rounds" / "fx01_rounds.ipynb"
    assert released.read_bytes() == committed.read_bytes()


def test_kit_release_names_unknown_assignments(tmp_path, capsys):
    fixture_copy(tmp_path)
    assert main(["release", "fx99_nothing", "--course-root", str(tmp_path)]) == 1
    error = capsys.readouterr().err
    assert "fx99_nothing" in error and "available: fx01_rounds" in error
    assert not (tmp_path / "exercises").exists()


def test_load_course_needs_a_config(tmp_path):
    with pytest.raises(ValueError, match=r"nbgrader_config\.py not found"):
        grading.load_course(tmp_path)
