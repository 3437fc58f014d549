"""The instructor dashboard (kit.dashboard), its sample class and its Voila rendering.

A small sample class (6 simulated trainees, the fixture assignment) is built once per
module through the real grading machinery; the full sample class of
``scripts/make_sample_class.py`` has the same shape, only bigger.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from kit import dashboard, grading

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
FIXTURE = TESTS / "data" / "course"
NOTEBOOK = REPO / "notebooks" / "instructor" / "class_dashboard.ipynb"
TRAINEES = 6
OPTIONS = {"course_root": FIXTURE, "assignments": ["fx01_rounds"], "trainees": TRAINEES}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("sample") / "class"
    return dashboard.build_sample_class(folder, workers=2, **OPTIONS)


@pytest.fixture(scope="module")
def data(sample) -> dashboard.ClassData:
    return dashboard.read_class(sample, source="sample")


def test_sample_class_is_graded_through_the_gradebook(sample, data):
    assert dashboard.sample_is_current(sample, **OPTIONS)
    assert not dashboard.sample_is_current(sample, **{**OPTIONS, "seed": 1})
    students = [f"T{n:02d}" for n in range(1, TRAINEES + 1)]
    assert sorted(data.scores["student_id"].unique()) == students
    recorded = grading.scores("fx01_rounds", course_root=sample)
    assert sorted(recorded) == students
    for student, result in recorded.items():
        rows = data.scores[data.scores["student_id"] == student]
        assert rows["score"].sum() == result.score
    statuses = set(data.scores["status"])
    assert {"tampered", "missing"} <= statuses, "the sample shows integrity findings too"
    assert len(set(data.scores.groupby("student_id")["score"].sum())) >= 3, "varied quality"


def test_rubric_results_are_scored_replies(data):
    from kit.rubric import score_reply

    assert len(data.replies) == TRAINEES * 8
    assert set(data.replies["assignment"]) == {dashboard.PRACTICE}
    assert data.replies["total"].nunique() > 5, "trainees of varied quality"
    for _, row in data.replies.iterrows():
        verdict = score_reply(row["reply"], customer=row["customer"] or None,
                              scenario=row["scenario"] or None)  # fmt: skip
        assert row["total"] == verdict.total
        assert row["politeness"] == round(verdict.dimensions["politeness"].score, 3)


def test_summary_and_skill_matrix(data):
    summary = dashboard.student_summary(data)
    assert list(summary.columns) == ["fx01_rounds", "平均得分率", "改写平均分"]
    assert summary["fx01_rounds"].between(0, 100).all()
    graded = data.scores[~data.scores["needs_manual"]]
    first = graded[graded["student_id"] == "T01"]
    assert summary.loc["T01", "fx01_rounds"] == round(
        100 * first["score"].sum() / first["max_score"].sum(), 1
    )
    matrix = dashboard.skill_matrix(data)
    dimensions = ["礼貌尊重", "共情安抚", "具体承诺", "解决方案", "积极措辞", "简洁清晰"]
    assert list(matrix.index) == dimensions
    assert matrix.shape == (6, TRAINEES)
    assert ((matrix >= 0) & (matrix <= 1)).all().all()


def test_needs_help_follows_the_stated_rule(data):
    table = dashboard.needs_help(data)
    summary = dashboard.student_summary(data)
    tampered = set(data.scores.loc[data.scores["status"] == "tampered", "student_id"])
    expected = {
        s for s, row in summary.iterrows()
        if row["平均得分率"] < 60 or row["fx01_rounds"] < 40 or row["改写平均分"] < 80
        or s in tampered
    }  # fmt: skip
    assert set(table["学员"]) == expected
    assert all(table["原因"].str.len() > 0)
    assert "60%" in dashboard.help_rule() and "80" in dashboard.help_rule()


def test_common_mistakes_count_failed_items_and_fired_rules(data):
    mistakes = dashboard.common_mistakes(data)
    tests = data.scores[data.scores["kind"] == "test"]
    for _, row in mistakes.iterrows():
        item = tests[tests["item"] == row["检查"]]
        assert row["没通过人数"] == item["status"].isin(dashboard.NOT_OK).sum()
    assert list(mistakes["没通过人数"]) == sorted(mistakes["没通过人数"], reverse=True)
    rules = dashboard.common_rule_hits(data)
    fired = data.replies["rules"].fillna("").str.split(";").explode()
    top = rules.iloc[0]
    assert top["次数"] == (fired == top["规则"]).sum()
    assert rules["维度"].str.len().gt(0).all()


def test_export_writes_csv_and_excel(data, tmp_path):
    from openpyxl import load_workbook

    csv_path, xlsx_path = dashboard.export(data, tmp_path)
    assert csv_path.read_text(encoding="utf-8-sig").splitlines()[0].startswith("学员,")
    sheets = load_workbook(xlsx_path, read_only=True).sheetnames
    assert sheets == ["成绩汇总", "各题得分", "技能", "需要帮助", "常见错误", "常见扣分规则"]


def test_export_writes_formula_like_text_as_text(data, tmp_path, monkeypatch):
    from openpyxl import load_workbook

    original = dashboard.student_summary

    def renamed(class_data):
        summary = original(class_data)
        return summary.rename(index={summary.index[0]: "=cmd|' /C calc'!A0"})

    monkeypatch.setattr(dashboard, "student_summary", renamed)
    csv_path, xlsx_path = dashboard.export(data, tmp_path)
    cell = load_workbook(xlsx_path)["成绩汇总"].cell(row=2, column=1)
    assert cell.data_type == "s" and cell.value == "'=cmd|' /C calc'!A0"
    assert "'=cmd" in csv_path.read_text(encoding="utf-8-sig")


def test_charts_are_drawn_from_the_data(data):
    figure = dashboard.score_distribution(data)
    ax = figure.axes[0]
    assert ax.get_title() == "fx01_rounds"
    assert sum(patch.get_height() for patch in ax.patches) == TRAINEES
    heat = dashboard.skill_heatmap(data)
    assert heat.axes[0].images[0].get_array().shape == (6, TRAINEES)


def test_load_class_prefers_an_explicit_folder(sample, monkeypatch):
    monkeypatch.setenv("KIT_CLASS_ROOT", str(sample))
    assert dashboard.load_class().root == sample
    assert "6 名学员" in dashboard.load_class().describe()


def test_dashboard_notebook_is_thin_and_reads_through_the_kit():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(1 <= len(c.source.strip().splitlines()) <= 5 for c in code)
    assert all(not c.outputs for c in code)
    assert "dashboard.load_class()" in code[0].source
    text = "".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert len(re.findall(r"[\u4e00-\u9fff]", text)) > 300


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_voila_renders_the_dashboard(sample, tmp_path):
    port = free_port()
    env = {**os.environ, "KIT_CLASS_ROOT": str(sample), "JUPYTER_CONFIG_DIR": str(tmp_path / "cfg"),
           "JUPYTER_RUNTIME_DIR": str(tmp_path / "run")}  # fmt: skip
    command = [sys.executable, "-m", "voila", str(NOTEBOOK), "--no-browser", f"--port={port}",
               "--Voila.ip=127.0.0.1"]  # fmt: skip
    server = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    try:
        page, deadline = "", time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=60) as reply:
                    assert reply.status == 200
                    page = reply.read().decode("utf-8")
                break
            except OSError:
                time.sleep(0.5)
        # Voila ships each cell's outputs as JSON that its page script renders.
        assert page.count('{"data": {"image/png": "iVBOR') == 2, "the two charts"
        assert "这个看板读取" in page and "T01" in page and "需要帮助 = " in page
        assert '"output_type": "error"' not in page and "Traceback" not in page
    finally:
        os.killpg(server.pid, 15)
        server.wait(timeout=20)
