"""Every chapter notebook carries what the course promises (issue: the course, chapters 01–08).

Learning goals at the top; at least one chart drawn through ``kit.charts``; an interactive
drill and the chapter's quiz (≥ 5 questions, each explained); a case study from the sample
dialogues; a summary, an action checklist and the chapter's graded exercise; ≥ 3,000
characters of teaching text in ≥ 4 sections; slide metadata; thin code cells.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from kit.quiz import load_quiz

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = sorted(p for p in (ROOT / "notebooks").glob("0[1-8]_*.ipynb"))
DRILLS = ("ReplyRewriter(", "DialogueExplorer(", "RolePlay(")


def _cells(path: Path) -> list[dict]:
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def _text(cell: dict) -> str:
    return "".join(cell["source"])


def test_there_are_eight_chapters_and_a_start_here():
    assert [p.name[:2] for p in CHAPTERS] == [f"{n:02d}" for n in range(1, 9)]
    assert (ROOT / "notebooks" / "00_start_here.ipynb").exists()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_has_every_required_part(path: Path):
    cells = _cells(path)
    markdown = "\n".join(_text(c) for c in cells if c["cell_type"] == "markdown")
    code = "\n".join(_text(c) for c in cells if c["cell_type"] == "code")
    assert "学习目标" in _text(cells[0]), "learning goals belong in the first cell"
    for part in ("案例分析", "本章小结", "行动清单"):
        assert part in markdown, f"{path.name} lacks {part}"
    chapter = path.name[:2]
    assert re.search(rf"exercises/ch{chapter}_\w+/ch{chapter}_\w+\.ipynb", markdown)
    assert "kit.charts." in code, "a chart computed from the data through kit.charts"
    assert any(drill in code for drill in DRILLS), "an interactive drill"
    assert f'Quiz(chapter="{chapter}")' in code


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_teaches_enough_in_sections(path: Path):
    cells = _cells(path)
    teaching = [c for c in cells if c["cell_type"] == "markdown"
                and c["metadata"].get("slideshow", {}).get("slide_type") != "notes"]
    characters = sum(len(re.sub(r"\s", "", _text(c))) for c in teaching)
    sections = sum(line.startswith("## ") for c in teaching for line in _text(c).splitlines())
    assert characters >= 3000, f"{path.name}: {characters} characters of teaching text"
    assert sections >= 4, f"{path.name}: {sections} sections"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_is_thin_and_ready_for_slides(path: Path):
    for index, cell in enumerate(_cells(path)):
        assert "slideshow" in cell["metadata"], f"{path.name} cell {index}: no slide metadata"
        if cell["cell_type"] == "code":
            lines = [line for line in _text(cell).splitlines() if line.strip()]
            assert 1 <= len(lines) <= 5, f"{path.name} cell {index}: {len(lines)} lines of code"


@pytest.mark.parametrize("chapter", [f"{n:02d}" for n in range(0, 9)])
def test_chapter_quiz_has_five_explained_questions(chapter: str):
    quiz = load_quiz(chapter=chapter)
    assert len(quiz.questions) >= 5
    assert all(q.explanation.strip() for q in quiz.questions)
