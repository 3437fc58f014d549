"""Whole-class grading, integrity checks, containment, feedback and the learner's self-check.

The crafted submissions are described in ``tests/data/grading/submissions.json`` (one case
per situation of the issue: correct, partially wrong, deleted test, stripped metadata,
edited test, duplicated cell, infinite loop, ``os._exit``, 10 MB print, memory bomb,
missing notebook, and a submission that prints the hidden tests it can see). They are
built from a temporary copy of the fixture course (``tests/data/course/``) and graded
once per session with ``kit.grading.grade`` (2 workers, 5 s per cell, 1 GB per kernel).
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import json
import os
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
FIXTURE = TESTS / "data" / "course"
SPEC = json.loads((TESTS / "data" / "grading" / "submissions.json").read_text(encoding="utf-8"))
ASSIGNMENT = SPEC["assignment"]
CASES = SPEC["cases"]
# Students whose submissions nbgrader alone grades the same way (no tampering, no crash).
PLAIN = ("correct", "partial", "big_print", "snooping")
TRIVIAL_LINES = {"pass", "else:", "try:", "finally:", "return", "break", "continue"}


# ---------------------------------------------------------------- building submissions


def meta(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def copy_course(source: Path, folder: Path, assignments: list[str], prepare=None) -> grading.Course:
    """A course folder with ``assignments`` copied from ``source`` and released;
    ``prepare(folder)`` may change the copied solutions first."""
    shutil.copy2(source / grading.CONFIG_FILE, folder / grading.CONFIG_FILE)
    for name in assignments:
        shutil.copytree(source / "solutions" / name, folder / "solutions" / name)
    if prepare is not None:
        prepare(folder)
    grading.release(assignments, course_root=folder)
    return grading.load_course(folder)


def model_answers(solution) -> dict[str, str]:
    return {
        meta(c)["grade_id"]: "\n".join(x for x in c.source.split("\n") if "SOLUTION" not in x)
        for c in solution.cells
        if meta(c).get("solution")
    }


def lines(value) -> str:
    return "\n".join(value)


def craft(released, solution, case: dict):
    """The released notebook answered with the model answers, then changed as ``case`` says."""
    nb = copy.deepcopy(released)
    model = model_answers(solution)
    answers = {key: lines(value) for key, value in case.get("answers", {}).items()}
    for cell in nb.cells:
        grade_id = meta(cell).get("grade_id")
        if meta(cell).get("solution") and grade_id not in case.get("blank", []):
            cell.source = answers.get(grade_id, model[grade_id])
    by_id = {meta(c).get("grade_id"): c for c in nb.cells}
    for grade_id, source in case.get("edit", {}).items():
        by_id[grade_id].source = lines(source)
    for grade_id, source in case.get("duplicate", {}).items():
        twin = copy.deepcopy(by_id[grade_id])
        if source is not None:
            twin.source = lines(source)
        nb.cells.insert(nb.cells.index(by_id[grade_id]) + 1, twin)
    for grade_id in case.get("strip", []):
        del by_id[grade_id].metadata["nbgrader"]
    for grade_id in case.get("renumber", []):
        by_id[grade_id]["id"] = f"renumbered-{grade_id}"[:64]
    nb.cells = [c for c in nb.cells if c not in [by_id[g] for g in case.get("delete", [])]]
    return nb


def submit(course: grading.Course, student: str, case: dict) -> None:
    folder = course.root / "submitted" / student / ASSIGNMENT
    folder.mkdir(parents=True)
    if case.get("missing"):
        return
    name = f"{ASSIGNMENT}.ipynb"
    released = nbformat.read(course.release_dir / ASSIGNMENT / name, as_version=4)
    solution = nbformat.read(course.source_dir / ASSIGNMENT / name, as_version=4)
    # Written as plain JSON: nbformat.write would "correct" a duplicated cell id.
    text = json.dumps(craft(released, solution, case), ensure_ascii=False, indent=1)
    (folder / name).write_text(text, encoding="utf-8")


def hidden_lines(solution) -> list[str]:
    """Non-trivial lines inside the hidden-test regions (computed here, independently)."""
    found, inside = set(), False
    for cell in solution.cells:
        for line in cell.source.split("\n"):
            if "BEGIN HIDDEN TESTS" in line:
                inside = True
            elif "END HIDDEN TESTS" in line:
                inside = False
            elif inside and re.search(r"[0-9A-Za-z\u4e00-\u9fff]", line):
                found.add(line.strip())
    return sorted(found - TRIVIAL_LINES)


# ---------------------------------------------------------------- the graded class


@dataclass
class Graded:
    course: grading.Course
    report: grading.GradeReport
    console: str
    rows: list[dict]
    serial: dict  # scores of the PLAIN students graded by nbgrader autograde alone


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> Graded:
    course = copy_course(FIXTURE, tmp_path_factory.mktemp("class"), [ASSIGNMENT])
    for student, case in CASES.items():
        submit(course, student, case)
    serial_root = tmp_path_factory.mktemp("serial")
    shutil.copy2(course.root / grading.CONFIG_FILE, serial_root / grading.CONFIG_FILE)
    for folder in ("solutions", "exercises"):
        shutil.copytree(course.root / folder, serial_root / folder)
    shutil.copy2(course.root / "gradebook.db", serial_root / "gradebook.db")
    for student in PLAIN:
        shutil.copytree(course.root / "submitted" / student, serial_root / "submitted" / student)

    console = io.StringIO()
    with contextlib.redirect_stderr(console):
        report = grading.grade(
            ASSIGNMENT,
            course_root=course.root,
            workers=2,
            timeout=SPEC["timeout"],
            memory_limit_mb=SPEC["memory_limit_mb"],
            progress=True,
        )
    with report.csv_path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    serial = grading.autograde(ASSIGNMENT, course_root=serial_root)
    return Graded(course, report, console.getvalue(), rows, serial)


def test_grades_table_has_one_row_per_item_and_student(graded):
    assert graded.report.csv_path == graded.course.root / "grades" / f"{ASSIGNMENT}.csv"
    with graded.report.csv_path.open(encoding="utf-8") as handle:
        assert handle.readline().strip() == ",".join(grading.GRADE_COLUMNS)
    items = list(CASES["correct"]["expected"])
    assert [(r["student_id"], r["item"]) for r in graded.rows] == [
        (student, item) for student in sorted(CASES) for item in items
    ]
    assert {r["status"] for r in graded.rows} <= set(grading.STATUSES)
    assert {r["assignment"] for r in graded.rows} == {ASSIGNMENT}


@pytest.mark.parametrize("student", sorted(CASES))
def test_each_crafted_submission_gets_its_expected_statuses(graded, student):
    got = {
        r["item"]: [float(r["points"]) if r["points"] else None, r["status"]]
        for r in graded.rows
        if r["student_id"] == student
    }
    expected = {item: [p if p is None else float(p), s] for item, (p, s) in
                CASES[student]["expected"].items()}  # fmt: skip
    assert got == expected, CASES[student]["note"]


@pytest.mark.parametrize("student", sorted(CASES))
def test_integrity_findings_are_reported_by_item(graded, student):
    result = next(r for r in graded.report.results if r.student == student)
    found = sorted([f.cell, f.kind] for f in result.findings)
    assert found == sorted(CASES[student]["findings"])
    for finding in result.findings:
        assert f"! {student}: {finding.message}" in graded.console
        assert finding.cell in finding.message


def test_console_shows_progress_for_every_submission(graded):
    progress = [line for line in graded.console.splitlines() if line.startswith("[")]
    assert len(progress) == len(CASES)
    assert progress[-1].startswith(f"[{'#' * 20}] {len(CASES)}/{len(CASES)} ")
    assert any(" missing " in line and line.split()[2] == "missing" for line in progress)


def test_the_gradebook_holds_the_grades(graded):
    recorded = grading.scores(ASSIGNMENT, course_root=graded.course.root)
    assert sorted(recorded) == sorted(CASES)
    for row in graded.rows:
        item = next(i for i in recorded[row["student_id"]].items if i.grade_id == row["item"])
        if row["points"]:
            assert item.score == float(row["points"])
        else:
            assert item.needs_manual_grade and item.score == 0
    assert grading.submissions(ASSIGNMENT, course_root=graded.course.root) == sorted(CASES)


def test_kit_grade_command_regrades_one_student_and_keeps_the_others(graded, capsys):
    before = graded.report.csv_path.read_text(encoding="utf-8")
    root = str(graded.course.root)
    assert main(["grade", ASSIGNMENT, "--student", "correct", "--course-root", root]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines()[0].startswith("已评分 1 份提交（1 个进程")
    assert out.splitlines()[1] == str(graded.report.csv_path)
    assert err.startswith(f"[{'#' * 20}] 1/1 correct 7/10 分 ok")
    assert graded.report.csv_path.read_text(encoding="utf-8") == before
    assert main(["grade", "fx99", "--course-root", root]) == 1
    assert "fx99" in capsys.readouterr().err


def test_scores_are_those_of_serial_nbgrader_autograde(graded):
    recorded = grading.scores(ASSIGNMENT, course_root=graded.course.root)
    for student in PLAIN:
        ours = {(i.grade_id, i.score, i.needs_manual_grade) for i in recorded[student].items}
        theirs = {(i.grade_id, i.score, i.needs_manual_grade) for i in graded.serial[student].items}
        assert ours == theirs, student


def test_autograded_notebooks_show_what_was_contained(graded):
    folder = graded.course.root / "autograded"

    def errors(student):
        nb = nbformat.read(folder / student / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", as_version=4)
        return {
            meta(c).get("grade_id") or c.get("id"): [
                o.ename for o in c.outputs if o.output_type == "error"
            ]
            for c in nb.cells
            if c.cell_type == "code"
        }

    assert errors("kernel_exit")["three_minute_rate"] == [grading.CRASHED]
    assert errors("kernel_exit")["test_has_polite_address"] == []
    assert errors("infinite_loop")["test_seconds_between"] == [grading.TIMED_OUT]
    assert errors("memory_bomb")["test_seconds_between"] == ["MemoryError"]
    size = (folder / "big_print" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").stat().st_size
    assert size < 100_000, f"a 10 MB print left a {size}-byte notebook"
    assert not (folder / "missing").exists()


# ---------------------------------------------------------------- feedback


def test_feedback_shows_scores_hints_and_answers_but_no_hidden_test(graded):
    paths = grading.feedback(ASSIGNMENT, course_root=graded.course.root)
    assert sorted(p.parts[-3] for p in paths) == sorted(CASES)
    solution = nbformat.read(graded.course.source_dir / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    secrets = hidden_lines(solution)
    assert len(secrets) >= 5
    for path in paths:
        text = path.read_text(encoding="utf-8")
        leaked = [line for line in secrets if line in text]
        assert not leaked, f"{path} shows hidden tests: {leaked}"
        assert "BEGIN HIDDEN TESTS" not in text
    page = {p.parts[-3]: p.read_text(encoding="utf-8") for p in paths}
    assert "得分：<b>7 / 10</b>" in page["correct"]
    assert grading.HIDDEN_HINT in page["partial"]
    assert "还没有作答" in page["partial"]
    assert "def three_minute_rate" in page["partial"]  # the student's own answer
    assert "已隐去" in page["snooping"]
    assert "&lt;script&gt;" in page["stripped"] and "<script>" not in page["stripped"]
    assert "运行超时" in page["infinite_loop"]
    assert "按原始检查重新评分" in page["deleted_test"]


def test_kit_feedback_command_names_the_files(graded, capsys):
    assert main(["feedback", ASSIGNMENT, "--student", "correct",
                 "--course-root", str(graded.course.root)]) == 0  # fmt: skip
    assert capsys.readouterr().out.split() == [f"feedback/correct/{ASSIGNMENT}/{ASSIGNMENT}.html"]
    assert main(["feedback", ASSIGNMENT, "--student", "nobody",
                 "--course-root", str(graded.course.root)]) == 1  # fmt: skip
    assert "nobody" in capsys.readouterr().err


REAL_ASSIGNMENTS = grading.load_course(REPO).assignments()
# The reply-rewriting answers of the real course (flagged for the rubric as docs/grading.md
# says) and how many replies each holds; the other assignments have none.
REWRITING = {
    "ch02_wording": {"rewrites": 3, "concrete": 3, "declines": 3},
    "ch03_emotions": {"soothing": 3},
    "ch04_empathy": {"empathetic": 3},
    "ch05_presale": {"rewrites": 3},
    "ch06_aftersale": {"fixes": 3},
    "ch07_complaints": {"cool_replies": 3},
}
# The assignment whose graded replies and feedback are checked end to end below.
REPLIES = "ch05_presale"


@pytest.mark.parametrize("assignment", REAL_ASSIGNMENTS)
def test_real_rewriting_items_give_the_rubric_each_model_reply_in_context(assignment):
    from kit.labels import SCENARIO_LABELS
    from kit.rubric import score_reply

    found = []
    for path in sorted((REPO / "exercises" / assignment).glob("*.ipynb")):
        released = nbformat.read(path, as_version=4)
        solution = nbformat.read(REPO / "solutions" / assignment / path.name, as_version=4)
        released_text = "\n".join(cell.source for cell in released.cells)
        for item, reply, context in grading.student_replies(released, solution):
            found.append(item.split(":")[0])
            assert context["customer"] and context["customer"] in released_text, item
            assert context["scenario"] is None or context["scenario"] in SCENARIO_LABELS, item
            result = score_reply(reply, **context)
            assert result.passed, f"{assignment} {item}: {result.total}\n{result.explain()}"
    assert {key: found.count(key) for key in found} == REWRITING.get(assignment, {})


@pytest.fixture(scope="module")
def real_course(tmp_path_factory) -> grading.Course:
    """The real assignments released into one temporary course, each submitted once: its
    partial answer (visible and hidden failures) plus a cell printing the input history."""
    course = copy_course(REPO, tmp_path_factory.mktemp("real"), REAL_ASSIGNMENTS)
    for assignment in REAL_ASSIGNMENTS:
        partial = json.loads((TESTS / "data" / "partial" / f"{assignment}.json").read_text("utf-8"))
        notebook = f"{partial.get('notebook', assignment)}.ipynb"
        case = {"answers": partial.get("answers", {}), "blank": partial.get("blank", [])}
        folder = course.root / "submitted" / "learner" / assignment
        folder.mkdir(parents=True)
        for path in sorted((course.release_dir / assignment).glob("*.ipynb")):
            released = nbformat.read(path, as_version=4)
            solution = nbformat.read(course.source_dir / assignment / path.name, as_version=4)
            nb = craft(released, solution, case if path.name == notebook else {})
            nb.cells.append(nbformat.v4.new_code_cell("print(In)"))
            nbformat.write(nb, folder / path.name)
    return course


@pytest.mark.parametrize("assignment", REAL_ASSIGNMENTS)
def test_feedback_on_real_assignments_never_shows_hidden_tests(assignment, real_course):
    partial = json.loads((TESTS / "data" / "partial" / f"{assignment}.json").read_text("utf-8"))
    report = grading.grade(assignment, course_root=real_course.root, workers=1)
    assert report.results[0].score == partial["expected_score"]
    pages = grading.feedback(assignment, course_root=real_course.root)
    for path in pages:
        solution = nbformat.read(real_course.source_dir / assignment / f"{path.stem}.ipynb", 4)
        text = path.read_text(encoding="utf-8")
        leaked = [line for line in hidden_lines(solution) if line in text]
        assert not leaked, f"{path.name} shows hidden tests: {leaked}"
        assert "print(In)" in text and "已隐去" in text
    if assignment == REPLIES:
        replies = real_course.root / "grades" / f"{assignment}-replies.csv"
        with replies.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        assert [r["item"] for r in rows] == ["rewrites:r1", "rewrites:r2", "rewrites:r3"]
        assert all(0 <= int(r["total"]) <= 100 for r in rows)
        assert pages[0].read_text(encoding="utf-8").count("回复评分") == 3


# ---------------------------------------------------------------- kit check


@pytest.fixture(scope="module")
def fixture_copy(tmp_path_factory) -> grading.Course:
    return copy_course(FIXTURE, tmp_path_factory.mktemp("check"), [ASSIGNMENT])


def learner_file(course: grading.Course, folder: Path, case: dict) -> Path:
    name = f"{ASSIGNMENT}.ipynb"
    released = nbformat.read(course.release_dir / ASSIGNMENT / name, as_version=4)
    solution = nbformat.read(course.source_dir / ASSIGNMENT / name, as_version=4)
    path = folder / ASSIGNMENT / name
    path.parent.mkdir(parents=True)
    nbformat.write(craft(released, solution, case), path)
    return path


def test_kit_check_reports_hidden_failures_without_code_and_leaves_the_file(
    fixture_copy, tmp_path, capsys
):
    path = learner_file(fixture_copy, tmp_path, CASES["partial"])
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    code = main(["check", str(path), "--timeout", "5", "--course-root", str(fixture_copy.root)])
    out = capsys.readouterr().out
    assert code == 1
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before
    assert sorted(p.name for p in path.parent.iterdir()) == [f"{ASSIGNMENT}.ipynb"]
    lines_out = out.splitlines()
    assert lines_out[0] == f"自查：{ASSIGNMENT}.ipynb（作业 {ASSIGNMENT}）"
    assert "✓ 第 1 题  test_seconds_between  2/2 分" in lines_out
    assert "✗ 第 2 题  test_three_minute_rate  0/3 分" in lines_out
    assert grading.HIDDEN_HINT in out
    assert "还没有作答" in out
    solution = nbformat.read(fixture_copy.source_dir / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)
    assert not [line for line in hidden_lines(solution) if line in out]
    assert lines_out[-1] == "自动评分部分：2/7 分"


def test_kit_check_passes_model_answers_and_restores_deleted_checks(fixture_copy, tmp_path):
    case = {"delete": ["test_three_minute_rate"]}
    report = grading.check(learner_file(fixture_copy, tmp_path, case), timeout=5,
                           course_root=fixture_copy.root)  # fmt: skip
    assert report.passed
    assert [(f.cell, f.kind) for f in report.findings] == [("test_three_minute_rate", "deleted")]
    assert [(i.item, i.status) for i in report.items] == [
        ("test_seconds_between", "ok"), ("test_three_minute_rate", "ok"),
        ("test_has_polite_address", "ok"), ("reflection", "manual"),
    ]  # fmt: skip
    assert "注意：" in report.text() and report.text().endswith("7/7 分，全部通过！")


def test_kit_check_rejects_other_files(fixture_copy, tmp_path, capsys):
    stray = tmp_path / "notes.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1")]), stray)
    assert main(["check", str(stray), "--course-root", str(fixture_copy.root)]) == 2
    assert "not a notebook of this course" in capsys.readouterr().err
    with pytest.raises(ValueError, match="no such notebook"):
        grading.check(tmp_path / "absent.ipynb", course_root=fixture_copy.root)


# ---------------------------------------------------------------- reconcile, errors


def released_notebook():
    return nbformat.read(FIXTURE / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", 4)


def test_reconcile_leaves_an_untouched_submission_alone():
    nb = released_notebook()
    repaired, findings = grading.reconcile(nb, released_notebook(), ASSIGNMENT)
    assert findings == []
    assert [c.source for c in repaired.cells] == [c.source for c in nb.cells]
    assert [c.get("id") for c in repaired.cells] == [c.get("id") for c in nb.cells]


def test_reconcile_restores_points_type_and_unknown_ids():
    nb = released_notebook()
    by_id = {meta(c).get("grade_id"): c for c in nb.cells}
    by_id["test_seconds_between"].metadata["nbgrader"]["points"] = 99
    by_id["reflection"].cell_type = "raw"
    forged = nbformat.v4.new_code_cell("assert True")
    forged.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 5,
                                   "solution": False, "locked": True}  # fmt: skip
    nb.cells.append(forged)
    repaired, findings = grading.reconcile(nb, released_notebook(), ASSIGNMENT)
    assert sorted((f.cell, f.kind, f.item) for f in findings) == [
        ("bonus", "unknown", False),
        ("reflection", "metadata", True),
        ("test_seconds_between", "metadata", True),
    ]
    fixed = {meta(c).get("grade_id"): c for c in repaired.cells}
    assert fixed["test_seconds_between"].metadata["nbgrader"]["points"] == 2
    assert fixed["reflection"].cell_type == "markdown"
    assert "bonus" not in fixed and repaired.cells[-1].source == "assert True"


def test_reconcile_reports_a_deleted_setup_cell_and_an_answer_moved_elsewhere():
    nb = released_notebook()
    nb.cells = [c for c in nb.cells if meta(c).get("grade_id") not in ("intro", "seconds_between")]
    repaired, findings = grading.reconcile(nb, released_notebook(), ASSIGNMENT)
    assert [(f.cell, f.kind, f.item) for f in findings] == [
        ("intro", "deleted", False), ("seconds_between", "deleted", False),
    ]  # fmt: skip
    ids = [meta(c).get("grade_id") for c in repaired.cells]
    assert ids[0] == "intro" and "seconds_between" not in ids  # answers are not put back


def test_grade_explains_what_is_missing(tmp_path):
    course = copy_course(FIXTURE, tmp_path, [ASSIGNMENT])
    with pytest.raises(ValueError, match="no submission"):
        grading.grade(ASSIGNMENT, course_root=course.root)
    with pytest.raises(ValueError, match="fx99"):
        grading.grade("fx99", course_root=course.root)
    (course.root / "submitted" / "s1" / ASSIGNMENT).mkdir(parents=True)
    with pytest.raises(ValueError, match="nobody"):
        grading.grade(ASSIGNMENT, course_root=course.root, students=["nobody"])
    os.remove(course.root / "gradebook.db")
    with pytest.raises(ValueError, match=f"kit release {ASSIGNMENT}"):
        grading.grade(ASSIGNMENT, course_root=course.root)


# ---------------------------------------------------------------- infrastructure failures


def _kill_kernel_at(monkeypatch, index: int, times: int) -> list[int]:
    """Make the grading kernel die (SIGKILL from outside, as the out-of-memory killer or a
    lost kernel would) when cell ``index`` is about to run, the first ``times`` times."""
    import signal

    executor = grading.contained_execute()
    original = executor.preprocess_cell
    kills: list[int] = []

    def preprocess_cell(self, cell, resources, at):
        if at == index and len(kills) < times:
            kills.append(at)
            os.kill(self.km.provisioner.pid, signal.SIGKILL)
        return original(self, cell, resources, at)

    monkeypatch.setattr(executor, "preprocess_cell", preprocess_cell)
    return kills


def test_a_kernel_killed_once_from_outside_is_not_blamed_on_the_student(
    fixture_copy, tmp_path, monkeypatch
):
    # Cell 2 defines seconds_between (a model answer). Before the fix the death was blamed
    # on it: the cell was skipped and its test failed with a NameError (0 points, "error").
    kills = _kill_kernel_at(monkeypatch, 2, times=1)
    report = grading.check(learner_file(fixture_copy, tmp_path, {}), timeout=5,
                           course_root=fixture_copy.root)  # fmt: skip
    assert kills == [2]
    assert [(i.item, i.status) for i in report.items if i.status != "manual"] == [
        ("test_seconds_between", "ok"), ("test_three_minute_rate", "ok"),
        ("test_has_polite_address", "ok"),
    ]  # fmt: skip


def test_a_cell_that_kills_the_kernel_every_time_is_still_skipped(
    fixture_copy, tmp_path, monkeypatch
):
    _kill_kernel_at(monkeypatch, 2, times=2)
    report = grading.check(learner_file(fixture_copy, tmp_path, {}), timeout=5,
                           course_root=fixture_copy.root)  # fmt: skip
    statuses = {i.item: i.status for i in report.items}
    assert statuses["test_seconds_between"] == "crashed"
    assert statuses["test_three_minute_rate"] == statuses["test_has_polite_address"] == "ok"


def test_a_kernel_that_does_not_start_twice_is_an_infrastructure_failure(
    fixture_copy, tmp_path, monkeypatch
):
    executor = grading.contained_execute()
    starts: list[int] = []

    def no_kernel(self, **kwargs):
        starts.append(1)
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(executor, "start_new_kernel", no_kernel)
    with pytest.raises(grading.KernelFailureError, match=r"did not start.*not the student"):
        grading.check(learner_file(fixture_copy, tmp_path, {}), timeout=5,
                      course_root=fixture_copy.root)  # fmt: skip
    assert len(starts) == 1 + grading.INFRA_RETRIES


def test_grade_marks_a_kernel_that_cannot_start_as_crashed_not_failed(tmp_path):
    # A kernel that dies before answering (here: a 1 MiB address-space cap) is run
    # again, then reported on the console and as "crashed", with every item left to the
    # instructor in the gradebook; never "failed" or "error" as if the student's code ran.
    course = copy_course(FIXTURE, tmp_path, [ASSIGNMENT])
    submit(course, "unlucky", {})
    console = io.StringIO()
    with contextlib.redirect_stderr(console):
        report = grading.grade(ASSIGNMENT, course_root=course.root, workers=1, timeout=5,
                               memory_limit_mb=1, progress=True)  # fmt: skip
    assert {row.status for row in report.rows} == {"crashed"}
    assert "KernelFailureError" in console.getvalue()
    assert "not the student's doing" in console.getvalue()
    recorded = grading.scores(ASSIGNMENT, course_root=course.root)["unlucky"]
    assert all(item.needs_manual_grade for item in recorded.items)
