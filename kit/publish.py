"""Render the course for reading without Jupyter: executed notebooks as static HTML.

``make html`` (``kit html``) executes every notebook in ``notebooks/`` in a fresh kernel and
writes ``build/html/<notebook>.html`` plus an ``index.html`` that links them. The notebooks
in the repository are never modified: execution happens on an in-memory copy.

>>> _title_of({"cells": [{"cell_type": "markdown", "source": "# 第一章 标题\\n正文"}]}, "x")
'第一章 标题'
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from kit.datasets import REPO_ROOT


def _title_of(nb: dict[str, Any], fallback: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for line in source.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return fallback


def render_html(
    notebooks: list[Path] | None = None,
    out_dir: Path | None = None,
    *,
    timeout: int = 120,
) -> list[Path]:
    """Execute notebooks and write them as static HTML pages with an index.

    Args:
        notebooks: notebooks to render; default every ``notebooks/*.ipynb`` in the course.
        out_dir: output folder; default ``build/html`` in the repository.
        timeout: per-cell execution timeout in seconds.

    Returns:
        The written HTML files, index first.
    """
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import ExecutePreprocessor

    notebooks = notebooks if notebooks is not None else sorted(
        (REPO_ROOT / "notebooks").glob("*.ipynb"))
    out_dir = out_dir or REPO_ROOT / "build" / "html"
    out_dir.mkdir(parents=True, exist_ok=True)
    exporter = HTMLExporter()
    written: list[Path] = []
    links = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        ExecutePreprocessor(timeout=timeout, kernel_name="python3").preprocess(
            nb, {"metadata": {"path": str(path.parent)}})
        body, _ = exporter.from_notebook_node(nb)
        target = out_dir / f"{path.stem}.html"
        target.write_text(body, encoding="utf-8")
        written.append(target)
        title = html.escape(_title_of(nb, path.stem))
        links.append(f'<li><a href="{html.escape(target.name)}">{title}</a></li>')
    index = out_dir / "index.html"
    index.write_text(
        '<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>课程目录</title>'
        f"<h1>课程目录</h1><ol>{''.join(links)}</ol></html>\n",
        encoding="utf-8",
    )
    return [index, *written]
