"""The coverage tables (docs/coverage/chNN.md) point at sections that really exist.

Each table maps the bullets of a chapter in the curriculum outline to the notebook section
that teaches it. The first table of every file is checked: the first section a row names
must be a heading of that chapter's notebook, so the table cannot drift from the notebook.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
COVERAGE = sorted((ROOT / "docs" / "coverage").glob("ch*.md"))


def _headings(notebook: Path) -> list[str]:
    found = []
    for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    found.append(line.lstrip("#").strip().replace("**", ""))
    return found


def _first_table(text: str) -> list[list[str]]:
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if re.match(r"^\|[-| :]+\|$", line))
    rows = []
    for line in lines[start + 1:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip() for cell in line.strip().strip("|").split("|")])
    return rows


def _first_section(cell: str) -> str:
    piece = re.split(r"；|;| / ", cell)[0]
    return re.split(r" \(|（|\s\(`", piece)[0].strip().strip("`")


def test_every_chapter_has_a_coverage_table():
    assert [p.stem for p in COVERAGE] == [f"ch{n:02d}" for n in range(1, 9)]


@pytest.mark.parametrize("table", COVERAGE, ids=lambda p: p.name)
def test_coverage_rows_name_real_notebook_sections(table: Path):
    text = table.read_text(encoding="utf-8")
    notebook = ROOT / re.search(r"`(notebooks/[^`]+\.ipynb)`", text).group(1)
    headings = _headings(notebook)
    rows = _first_table(text)
    assert len(rows) >= 5, f"{table.name}: the outline table has too few rows"
    for row in rows:
        section = _first_section(row[1])
        assert any(section in h or h in section for h in headings if h), (
            f"{table.name}: row {row[0][:30]!r} names {section!r}, "
            f"which is not a heading of {notebook.name}")
