"""The instructor dashboard: a class's grades and rubric results as tables and charts.

Reads an nbgrader course (its gradebook, the ``grades/<assignment>.csv`` statuses written
by ``kit grade``, and the rubric results ``grades/*-replies.csv``) into a
:class:`ClassData`, then computes what ``notebooks/instructor/class_dashboard.ipynb``
shows: the score distribution per assignment, a skill heatmap (the rubric's six
dimensions × trainees), who needs help, the most common mistakes, and an export to CSV
and Excel. Every function returns a DataFrame or a matplotlib Figure.

Without a real class, :func:`build_sample_class` makes one: seeded simulated trainees of
varied quality answer the course's assignments, their submissions are graded by
:func:`kit.grading.grade`, and their practice rewrites are scored by
:func:`kit.rubric.score_reply` (``scripts/make_sample_class.py``; cached in
``build/sample_class/``).

>>> data = ClassData.from_frames(
...     scores=[{"student_id": "T01", "assignment": "a1", "item": "t1", "score": 2.0,
...              "max_score": 2.0, "status": "ok"},
...             {"student_id": "T02", "assignment": "a1", "item": "t1", "score": 0.0,
...              "max_score": 2.0, "status": "failed"}])
>>> student_summary(data)["平均得分率"].tolist()
[100.0, 0.0]
>>> needs_help(data)["学员"].tolist()
['T02']
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kit.datasets import REPO_ROOT, dataset_path

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.figure import Figure

SAMPLE_DIR = REPO_ROOT / "build" / "sample_class"
SAMPLE_VERSION = 2
SAMPLE_TRAINEES = 32
SAMPLE_SEED = 2026
PRACTICE = "practice"  # the assignment name of the sample's rewriting drill results

DIMENSIONS = ("politeness", "empathy", "commitment", "solution", "positivity", "clarity")
SCORE_COLUMNS = (
    "student_id", "assignment", "notebook", "item", "label", "kind", "score", "max_score",
    "needs_manual", "status",
)  # fmt: skip
HELP_RULE = (
    "需要帮助 = 满足任一条：所有作业的平均得分率低于 {mean_below}%；"
    "某一次作业低于 {any_below}%；改写练习的平均分低于及格线 {pass_mark} 分；"
    "有检查格子被删改（状态为 tampered）。得分率只算已评分的题目，待人工评分的题目不计。"
)
NOT_OK = ("failed", "error", "timeout", "missing", "tampered", "crashed")


@dataclass
class ClassData:
    """A class's results.

    Attributes:
        scores: one row per student × graded item (:data:`SCORE_COLUMNS`): ``score`` and
            ``max_score`` from the gradebook, ``kind`` ``test`` (autograded) or ``manual``,
            ``needs_manual`` True while a written answer awaits grading, ``status`` from
            ``grades/<assignment>.csv`` (see ``docs/grading.md``).
        replies: one row per scored reply (:data:`kit.grading.REPLY_COLUMNS`).
        root: the course folder read; ``source`` says what it is (``course``, ``sample``
            or ``frames``).
    """

    scores: pd.DataFrame
    replies: pd.DataFrame
    root: Path | None = None
    source: str = "course"
    assignments: list[str] = field(default_factory=list)

    @classmethod
    def from_frames(
        cls, scores: Any, replies: Any = None, *, source: str = "frames"
    ) -> ClassData:
        """Build from rows or DataFrames (missing columns get defaults)."""
        import pandas as pd

        from kit.grading import REPLY_COLUMNS

        frame = pd.DataFrame(scores)
        defaults = {"notebook": "", "label": "", "kind": "test", "needs_manual": False}
        for column, value in defaults.items():
            if column not in frame:
                frame[column] = frame["item"] if column == "label" else value
        frame = frame.reindex(columns=list(SCORE_COLUMNS))
        answers = pd.DataFrame(replies if replies is not None else [], columns=REPLY_COLUMNS)
        names = list(dict.fromkeys(frame["assignment"]))
        return cls(frame, answers, None, source, names)

    def describe(self) -> str:
        """One line in Chinese: where the data comes from and how much there is."""
        where = {"sample": "示例班级（模拟学员）", "course": "课程成绩册"}.get(self.source, "数据")
        trainees = self.scores["student_id"].nunique() if len(self.scores) else 0
        return (
            f"数据来源：{where} {self.root or ''}\n"
            f"{trainees} 名学员，{len(self.assignments)} 次作业（{'、'.join(self.assignments)}），"
            f"{len(self.replies)} 条回复评分"
        )


# ------------------------------------------------------------------------------ reading


def load_class(
    course_root: str | os.PathLike[str] | None = None, *, build: bool = True
) -> ClassData:
    """Read a class: ``course_root``, else ``$KIT_CLASS_ROOT``, else the course in this
    repository if its gradebook has submissions, else the sample class (built on first
    use when ``build`` is True; it is cached in ``build/sample_class/``).
    """
    if course_root is None and os.environ.get("KIT_CLASS_ROOT"):
        course_root = os.environ["KIT_CLASS_ROOT"]
    if course_root is not None:
        return read_class(course_root)
    if _has_submissions(REPO_ROOT):
        return read_class(REPO_ROOT)
    if not sample_is_current(SAMPLE_DIR):
        if not build:
            raise ValueError(f"{SAMPLE_DIR}: no sample class; run scripts/make_sample_class.py")
        print("第一次使用：正在生成示例班级（模拟学员的作业要逐份批改，需要几分钟）……")
        build_sample_class(SAMPLE_DIR)
    return read_class(SAMPLE_DIR, source="sample")


def _has_submissions(root: Path) -> bool:
    import sqlite3

    from kit.grading import _sqlite_path, load_course

    path = _sqlite_path(load_course(root).db_url)
    if not path.is_file():
        return False
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            return bool(db.execute("SELECT COUNT(*) FROM submitted_assignment").fetchone()[0])
    except sqlite3.Error:
        return False


def read_class(course_root: str | os.PathLike[str], *, source: str | None = None) -> ClassData:
    """Read the gradebook, statuses and reply scores of the course at ``course_root``."""
    import csv

    import pandas as pd
    from nbgrader.api import Gradebook

    from kit.grading import (
        REPLY_COLUMNS,
        _nbgrader_runtime,
        _read_notebook,
        item_labels,
        load_course,
    )

    course = load_course(course_root)
    grades = course.root / "grades"
    rows = []
    with _nbgrader_runtime(), Gradebook(course.db_url, course.course_id) as gb:
        names = [a.name for a in gb.assignments]
        for assignment in gb.assignments:
            labels: dict[str, str] = {}
            for path in sorted((course.release_dir / assignment.name).glob("*.ipynb")):
                labels.update(item_labels(_read_notebook(path)))
            statuses: dict[tuple[str, str, str], str] = {}
            table = grades / f"{assignment.name}.csv"
            if table.is_file():
                with table.open(encoding="utf-8", newline="") as handle:
                    statuses = {
                        (r["student_id"], r["notebook"], r["item"]): r["status"]
                        for r in csv.DictReader(handle)
                    }
            for submission in assignment.submissions:
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        waiting = bool(grade.needs_manual_grade) and grade.manual_score is None
                        score, top = float(grade.score), float(grade.max_score)
                        key = (submission.student.id, nb.name, grade.name)
                        default = "ok" if waiting or score >= top else "failed"
                        rows.append({
                            "student_id": submission.student.id,
                            "assignment": assignment.name,
                            "notebook": nb.name,
                            "item": grade.name,
                            "label": labels.get(grade.name, grade.name),
                            "kind": "test" if grade.cell.cell_type == "code" else "manual",
                            "score": score,
                            "max_score": top,
                            "needs_manual": waiting,
                            "status": statuses.get(key, default),
                        })  # fmt: skip
    scores = pd.DataFrame(rows, columns=list(SCORE_COLUMNS))
    text = {"student_id": str, "rules": str, "reply": str, "customer": str, "scenario": str}
    frames = [
        pd.read_csv(path, dtype=text, keep_default_na=False)
        for path in sorted(grades.glob("*-replies.csv"))
    ]
    replies = (
        pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=REPLY_COLUMNS)
    )
    kind = source or ("sample" if course.root == SAMPLE_DIR else "course")
    return ClassData(scores, replies, course.root, kind, names)


# ------------------------------------------------------------------------------ tables


def student_summary(data: ClassData) -> pd.DataFrame:
    """Per trainee: the score rate (%) of each assignment, the mean over assignments, and
    the mean rubric total of their replies. Items awaiting manual grading are left out."""
    import pandas as pd

    graded = data.scores[~data.scores["needs_manual"].astype(bool)]
    sums = graded.groupby(["student_id", "assignment"])[["score", "max_score"]].sum()
    rate = (100 * sums["score"] / sums["max_score"].where(sums["max_score"] > 0)).round(1)
    table = rate.unstack("assignment").reindex(columns=data.assignments)
    table.columns.name = None
    table["平均得分率"] = table.mean(axis=1).round(1)
    if len(data.replies):
        table["改写平均分"] = data.replies.groupby("student_id")["total"].mean().round(1)
    else:
        table["改写平均分"] = pd.Series(dtype=float)
    table.index.name = "学员"
    return table.sort_index()


def skill_matrix(data: ClassData) -> pd.DataFrame:
    """The mean score (0–1) of each rubric dimension over each trainee's replies
    (rows: the six dimensions, columns: trainees)."""
    from kit.rubric import default_settings

    labels = default_settings().labels
    if not len(data.replies):
        import pandas as pd

        return pd.DataFrame(index=[labels.get(d, d) for d in DIMENSIONS])
    means = data.replies.groupby("student_id")[list(DIMENSIONS)].mean().T
    means.index = [labels.get(d, d) for d in means.index]
    means.columns.name = "学员"
    return means.round(3)


def needs_help(
    data: ClassData, *, mean_below: float = 60, any_below: float = 40
) -> pd.DataFrame:
    """The trainees who need help, with the reasons (the rule: :data:`HELP_RULE`)."""
    import pandas as pd

    from kit.rubric import default_settings

    pass_mark = default_settings().pass_mark
    summary = student_summary(data)
    tampered = set(data.scores.loc[data.scores["status"] == "tampered", "student_id"])
    rows = []
    for student, row in summary.iterrows():
        rates = row[[a for a in data.assignments if a in row.index]].dropna()
        reasons = []
        if pd.notna(row["平均得分率"]) and row["平均得分率"] < mean_below:
            reasons.append(f"平均得分率 {row['平均得分率']:.0f}%")
        low = rates[rates < any_below]
        reasons += [f"{name} 只得 {value:.0f}%" for name, value in low.items()]
        if pd.notna(row["改写平均分"]) and row["改写平均分"] < pass_mark:
            reasons.append(f"改写练习平均 {row['改写平均分']:.0f} 分")
        if student in tampered:
            reasons.append("检查格子被删改")
        if reasons:
            rows.append({
                "学员": student,
                "平均得分率": row["平均得分率"],
                "最低一次": rates.min() if len(rates) else None,
                "改写平均分": row["改写平均分"],
                "原因": "；".join(reasons),
            })  # fmt: skip
    columns = ["学员", "平均得分率", "最低一次", "改写平均分", "原因"]
    return pd.DataFrame(rows, columns=columns).sort_values("平均得分率", ignore_index=True)


def help_rule(*, mean_below: float = 60, any_below: float = 40) -> str:
    """The rule :func:`needs_help` applies, in Chinese."""
    from kit.rubric import default_settings

    return HELP_RULE.format(
        mean_below=mean_below, any_below=any_below, pass_mark=default_settings().pass_mark
    )


def common_mistakes(data: ClassData, top: int = 10) -> pd.DataFrame:
    """The autograded items most often not passed: how many trainees, what share, and the
    most frequent status among them."""
    import pandas as pd

    tests = data.scores[data.scores["kind"] == "test"]
    columns = ["作业", "题目", "检查", "没通过人数", "比例", "最常见状态"]
    if not len(tests):
        return pd.DataFrame(columns=columns)
    rows = []
    for (assignment, item, label), group in tests.groupby(["assignment", "item", "label"]):
        bad = group[group["status"].isin(NOT_OK)]
        if len(bad):
            rows.append({
                "作业": assignment, "题目": label, "检查": item, "没通过人数": len(bad),
                "比例": f"{len(bad) / len(group):.0%}",
                "最常见状态": bad["status"].value_counts().idxmax(),
            })  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["没通过人数", "作业", "检查"], ascending=[False, True, True])[
        :top
    ].reset_index(drop=True)


def common_rule_hits(data: ClassData, top: int = 10) -> pd.DataFrame:
    """The rubric rules that took points off most often in the trainees' replies, with
    what each checks and the hint the rubric gives."""
    import pandas as pd

    from kit.rubric import default_settings, rules

    columns = ["规则", "维度", "说明", "次数", "涉及学员", "提示"]
    if not len(data.replies):
        return pd.DataFrame(columns=columns)
    fired = data.replies[["student_id", "rules"]].dropna()
    fired = fired.assign(rule=fired["rules"].astype(str).str.split(";")).explode("rule")
    fired = fired[fired["rule"].str.len() > 0]
    settings = default_settings()
    labels = {**settings.labels, "red_line": "红线"}
    known = {rule.id: (rule.dimension, rule.description, rule.hint) for rule in rules()}
    for name, element in settings.elements.items():
        known[f"require.{name}"] = (element.dimension, f"缺少必备内容：{name}", element.hint)
    rows = []
    for rule_id, group in fired.groupby("rule"):
        dimension, description, hint = known.get(rule_id, ("", rule_id, ""))
        rows.append({
            "规则": rule_id,
            "维度": labels.get(dimension, dimension),
            "说明": description,
            "次数": len(group),
            "涉及学员": group["student_id"].nunique(),
            "提示": hint,
        })  # fmt: skip
    table = pd.DataFrame(rows, columns=columns)
    return table.sort_values(["次数", "规则"], ascending=[False, True])[:top].reset_index(
        drop=True
    )


def export(data: ClassData, folder: str | os.PathLike[str] | None = None) -> list[Path]:
    """Write ``class_summary.csv`` and ``class_report.xlsx`` (sheets: 成绩汇总, 各题得分,
    技能, 需要帮助, 常见错误, 常见扣分规则) to ``folder`` (default: the class's
    ``grades/`` folder). Returns the two paths."""
    from kit.datasets import spreadsheet_safe

    target = Path(folder) if folder is not None else (data.root or Path.cwd()) / "grades"
    target.mkdir(parents=True, exist_ok=True)
    summary = student_summary(data)
    csv_path = target / "class_summary.csv"
    spreadsheet_safe(summary).to_csv(csv_path, encoding="utf-8-sig")
    xlsx_path = target / "class_report.xlsx"
    import pandas as pd

    with pd.ExcelWriter(xlsx_path, engine="openpyxl") as writer:
        for frame, sheet, index in (
                (summary, "成绩汇总", True), (data.scores, "各题得分", False),
                (skill_matrix(data), "技能", True), (needs_help(data), "需要帮助", False),
                (common_mistakes(data, top=50), "常见错误", False),
                (common_rule_hits(data, top=50), "常见扣分规则", False)):
            spreadsheet_safe(frame).to_excel(writer, sheet_name=sheet, index=index)
    return [csv_path, xlsx_path]


# ------------------------------------------------------------------------------ charts


def score_distribution(data: ClassData) -> Figure:
    """One histogram per assignment of the trainees' score rates (0–100 %, in tens), with
    the class mean marked."""
    import numpy as np

    summary = student_summary(data)
    names = [a for a in data.assignments if a in summary] or [""]
    from kit.charts import new_figure

    fig = new_figure(min(4.0 * len(names), 14.0), 3.6)
    axes = fig.subplots(1, len(names), sharey=True, squeeze=False)[0]
    bins = np.arange(0, 110, 10)
    for ax, name in zip(axes, names, strict=True):
        rates = summary[name].dropna() if name else summary.iloc[0:0, 0]
        ax.hist(rates.clip(0, 99.9), bins=bins, color="#4c78a8", edgecolor="white")
        if len(rates):
            ax.axvline(rates.mean(), color="#e45756", linestyle="--",
                       label=f"平均 {rates.mean():.0f}%")  # fmt: skip
            ax.legend(loc="upper left", fontsize=8)
        ax.set_title(name or "暂无成绩")
        ax.set_xlabel("得分率（%）")
        ax.set_xlim(0, 100)
    from matplotlib.ticker import MaxNLocator

    axes[0].yaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0].set_ylabel("学员人数")
    fig.suptitle("各次作业的成绩分布")
    return fig


def skill_heatmap(data: ClassData) -> Figure:
    """The rubric's six dimensions × trainees: each trainee's mean dimension score over
    their replies (0 = weak, 1 = strong)."""
    matrix = skill_matrix(data)
    from kit.charts import new_figure

    fig = new_figure(max(6.0, 0.32 * len(matrix.columns) + 2.5), 3.8)
    ax = fig.subplots()
    image = ax.imshow(matrix.to_numpy(dtype=float), aspect="auto", cmap="RdYlGn",
                      vmin=0.0, vmax=1.0)  # fmt: skip
    ax.set_yticks(range(len(matrix.index)), labels=list(matrix.index))
    ax.set_xticks(range(len(matrix.columns)), labels=list(matrix.columns), rotation=90,
                  fontsize=7)  # fmt: skip
    ax.set_xlabel("学员")
    ax.set_title("回复技能热力图（六个评分维度 × 学员，数值越高越好）")
    fig.colorbar(image, ax=ax, label="维度平均分（0–1）")
    return fig


# ------------------------------------------------------------------------------ sample class

_WRITTEN_ANSWER = "（示例学员的书面作答：结合前面算出的数字，说明自己的看法。）"


def sample_fingerprint(
    course_root: Path, assignments: list[str], trainees: int, seed: int
) -> str:
    """A digest of everything a sample class is built from (its inputs and this code's
    version), so a stale cached class is rebuilt."""
    digest = hashlib.sha256(f"{SAMPLE_VERSION}|{trainees}|{seed}|{assignments}".encode())
    for name in assignments:
        for path in sorted((course_root / "solutions" / name).rglob("*")):
            if path.is_file() and ".ipynb_checkpoints" not in path.parts:
                digest.update(path.read_bytes())
        partial = REPO_ROOT / "tests" / "data" / "partial" / f"{name}.json"
        if partial.is_file():
            digest.update(partial.read_bytes())
    for name in ("bad_replies.jsonl", "rubric/rules.yaml", "rubric/settings.toml"):
        digest.update(dataset_path(name).read_bytes())
    return digest.hexdigest()


def _sample_params(
    course_root: str | os.PathLike[str] | None, assignments: list[str] | None
) -> tuple[Path, list[str]]:
    from kit.grading import load_course

    course = load_course(course_root)
    names = list(assignments) if assignments else course.assignments()[:2]
    return course.root, names


def sample_is_current(
    folder: str | os.PathLike[str],
    *,
    course_root: str | os.PathLike[str] | None = None,
    assignments: list[str] | None = None,
    trainees: int = SAMPLE_TRAINEES,
    seed: int = SAMPLE_SEED,
) -> bool:
    """Whether ``folder`` holds a sample class built from the current inputs."""
    stamp = Path(folder) / "sample.json"
    if not stamp.is_file():
        return False
    root, names = _sample_params(course_root, assignments)
    recorded = json.loads(stamp.read_text(encoding="utf-8"))
    return recorded.get("fingerprint") == sample_fingerprint(root, names, trainees, seed)


def build_sample_class(
    folder: str | os.PathLike[str] = SAMPLE_DIR,
    *,
    course_root: str | os.PathLike[str] | None = None,
    assignments: list[str] | None = None,
    trainees: int = SAMPLE_TRAINEES,
    seed: int = SAMPLE_SEED,
    workers: int | None = None,
    progress: bool = False,
) -> Path:
    """Build a simulated class in ``folder``: a copy of the course with ``assignments``
    (default: its first two) released, one submission per trainee and assignment, graded
    by :func:`kit.grading.grade`, and each trainee's practice rewrites scored by the rubric
    (``grades/practice-replies.csv``).

    Trainees (``T01``, ``T02``, …) get a seeded skill between 0.35 and 0.98. For each answer
    cell a trainee gives the model answer with probability = skill, otherwise the wrong
    answer of ``tests/data/partial/<assignment>.json`` for that cell (when there is one) or
    nothing; written answers are filled in for manual grading. One trainee deletes a test
    cell, one submits no notebook for the last assignment. In the rewriting drill each
    trainee rewrites 8 replies of the bad-reply bank: a model rewrite (probability = skill),
    the bad reply with one sentence of a model rewrite added, or the bad reply unchanged.

    The folder is replaced; the build is written beside it and moved in when complete.
    Returns the folder.
    """
    import nbformat

    from kit import grading

    root, names = _sample_params(course_root, assignments)
    target = Path(folder).resolve()
    work = target.with_name(f"{target.name}.building-{os.getpid()}")
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    shutil.copy2(root / grading.CONFIG_FILE, work / grading.CONFIG_FILE)
    for name in names:
        shutil.copytree(root / "solutions" / name, work / "solutions" / name,
                        ignore=shutil.ignore_patterns(".ipynb_checkpoints"))  # fmt: skip
    grading.release(names, course_root=work)

    rng = random.Random(seed)
    skills = {f"T{n + 1:02d}": rng.uniform(0.35, 0.98) for n in range(trainees)}
    students = sorted(skills)
    for number, name in enumerate(names):
        wrong = _partial_answers(name)
        for path in sorted((work / "exercises" / name).glob("*.ipynb")):
            released = nbformat.read(path, as_version=4)
            solution = nbformat.read(work / "solutions" / name / path.name, as_version=4)
            model = _model_answers(solution)
            for student in students:
                folder_ = work / "submitted" / student / name
                folder_.mkdir(parents=True, exist_ok=True)
                if student == students[-1] and number == len(names) - 1:
                    continue  # submitted nothing
                nb = _simulated(released, model, wrong, skills[student], rng)
                if student == students[2] and number == 0:
                    tests = [c for c in nb.cells if grading._cell_kind(c) == "test"]
                    nb.cells.remove(tests[-1])
                nbformat.write(nb, folder_ / path.name)
    for name in names:
        grading.grade(name, course_root=work, workers=workers, progress=progress)
    _practice(work, skills, rng)
    stamp = {
        "fingerprint": sample_fingerprint(root, names, trainees, seed),
        "assignments": names,
        "trainees": trainees,
        "seed": seed,
    }
    (work / "sample.json").write_text(json.dumps(stamp, ensure_ascii=False, indent=1) + "\n",
                                      encoding="utf-8")  # fmt: skip
    shutil.rmtree(target, ignore_errors=True)
    work.rename(target)
    return target


def _model_answers(solution: Any) -> dict[str, str]:
    from kit.grading import _cell_kind, _meta

    return {
        _meta(c)["grade_id"]: "\n".join(
            line for line in c.source.split("\n") if "BEGIN SOLUTION" not in line
            and "END SOLUTION" not in line
        )
        for c in solution.cells
        if _cell_kind(c) == "answer"
    }


def _partial_answers(assignment: str) -> dict[str, str]:
    path = REPO_ROOT / "tests" / "data" / "partial" / f"{assignment}.json"
    if not path.is_file():
        return {}
    spec = json.loads(path.read_text(encoding="utf-8"))
    return {key: "\n".join(lines) for key, lines in spec.get("answers", {}).items()}


def _simulated(released: Any, model: dict[str, str], wrong: dict[str, str], skill: float,
               rng: random.Random) -> Any:  # fmt: skip
    """A trainee's submission: per answer cell the model answer, a wrong one or nothing."""
    import copy

    from kit.grading import _cell_kind, _meta

    nb = copy.deepcopy(released)
    for cell in nb.cells:
        kind = _cell_kind(cell)
        if kind == "manual" and rng.random() < 0.5 + skill / 2:
            cell.source = _WRITTEN_ANSWER
        elif kind == "answer":
            grade_id = _meta(cell)["grade_id"]
            roll = rng.random()
            if roll < skill and grade_id in model:
                cell.source = model[grade_id]
            elif grade_id in wrong and roll < skill + (1 - skill) * 0.7:
                cell.source = wrong[grade_id]
    return nb


def _practice(course_root: Path, skills: dict[str, float], rng: random.Random) -> Path:
    """Score each trainee's rewrites of 8 bank replies; write grades/practice-replies.csv."""
    import csv
    import re

    from kit.datasets import read_jsonl
    from kit.grading import REPLY_COLUMNS, reply_row

    bank = [item for item in read_jsonl("bad_replies.jsonl") if item.get("rewrites")]
    rows = []
    for student, skill in sorted(skills.items()):
        for item in rng.sample(bank, 8):
            rewrite = rng.choice(item["rewrites"])
            roll = rng.random()
            if roll < skill:
                text = rewrite
            elif roll < skill + (1 - skill) / 2:
                first = re.split(r"(?<=[。！？!?])", rewrite)[0]
                text = f"{item['bad_reply']}{first}"
            else:
                text = item["bad_reply"]
            rows.append(reply_row(student, PRACTICE, "reply_rewriter", item["id"], text,
                                  customer=item.get("customer"),
                                  scenario=item.get("scenario")))  # fmt: skip
    path = course_root / "grades" / f"{PRACTICE}-replies.csv"
    path.parent.mkdir(exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, REPLY_COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path
