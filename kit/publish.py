"""Render the course for reading without Jupyter: static HTML pages and offline slides.

``make html`` (``kit html``) executes every notebook in ``notebooks/`` in a fresh kernel and
writes ``build/html/<notebook>.html`` plus an ``index.html`` that links them. ``make slides``
(``kit slides``) writes reveal.js decks to ``build/slides/`` that open in a browser with no
network: reveal.js, require.js and jQuery are copied beside them from ``kit/assets/reveal``
and nothing is loaded from a CDN. The notebooks in the repository are never modified:
execution happens on an in-memory copy.

>>> _title_of({"cells": [{"cell_type": "markdown", "source": "# 第一章 标题\\n正文"}]}, "x")
'第一章 标题'
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path
from typing import Any

from kit.datasets import REPO_ROOT

ASSETS = Path(__file__).resolve().parent / "assets" / "reveal"


def _title_of(nb: dict[str, Any], fallback: str) -> str:
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
        for line in source.splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return fallback


def _course_notebooks() -> list[Path]:
    return sorted((REPO_ROOT / "notebooks").glob("*.ipynb"))


def _executed(path: Path, timeout: int) -> Any:
    import nbformat
    from nbconvert.preprocessors import ExecutePreprocessor

    nb = nbformat.read(path, as_version=4)
    ExecutePreprocessor(timeout=timeout, kernel_name="python3").preprocess(
        nb, {"metadata": {"path": str(path.parent)}})
    return nb


def _write_index(out_dir: Path, pages: list[tuple[Path, str]], heading: str) -> Path:
    links = "".join(f'<li><a href="{html.escape(page.name)}">{html.escape(title)}</a></li>'
                    for page, title in pages)
    index = out_dir / "index.html"
    index.write_text(
        f'<!doctype html><html lang="zh-CN"><meta charset="utf-8"><title>{heading}</title>'
        f"<h1>{heading}</h1><ol>{links}</ol></html>\n",
        encoding="utf-8",
    )
    return index


def _export(notebooks: list[Path] | None, out_dir: Path, exporter: Any, suffix: str,
            heading: str, timeout: int) -> list[Path]:
    pages = []
    for path in notebooks if notebooks is not None else _course_notebooks():
        nb = _executed(path, timeout)
        body, _ = exporter.from_notebook_node(nb)
        target = out_dir / f"{path.stem}{suffix}"
        target.write_text(body, encoding="utf-8")
        pages.append((target, _title_of(nb, path.stem)))
    return [_write_index(out_dir, pages, heading), *(page for page, _ in pages)]


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
    from nbconvert import HTMLExporter

    out_dir = out_dir or REPO_ROOT / "build" / "html"
    out_dir.mkdir(parents=True, exist_ok=True)
    return _export(notebooks, out_dir, HTMLExporter(), ".html", "课程目录", timeout)


def render_slides(
    notebooks: list[Path] | None = None,
    out_dir: Path | None = None,
    *,
    timeout: int = 120,
) -> list[Path]:
    """Execute notebooks and write offline reveal.js decks with an index.

    Cells are laid out by their ``slideshow.slide_type`` metadata. The decks reference only
    files copied into ``out_dir`` (``reveal.js/`` and ``lib/``), so they work with no network.

    Args:
        notebooks: notebooks to render; default every ``notebooks/*.ipynb`` in the course.
        out_dir: output folder; default ``build/slides`` in the repository.
        timeout: per-cell execution timeout in seconds.

    Returns:
        The written HTML files, index first.
    """
    from nbconvert import SlidesExporter

    out_dir = out_dir or REPO_ROOT / "build" / "slides"
    out_dir.mkdir(parents=True, exist_ok=True)
    for folder in ("reveal.js", "lib"):
        shutil.copytree(ASSETS / folder, out_dir / folder, dirs_exist_ok=True)
    exporter = SlidesExporter(
        template_name="kit_slides",
        extra_template_basedirs=[str(ASSETS / "template")],
        reveal_url_prefix="reveal.js",
        reveal_theme="kit",
        reveal_scroll=True,
        jquery_url="lib/jquery.min.js",
        require_js_url="lib/require.js",
    )
    return _export(notebooks, out_dir, exporter, ".slides.html", "课程幻灯片", timeout)
