"""Static HTML (``make html``) and offline slides (``make slides``) of the course."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from kit.publish import render_html, render_slides


@pytest.fixture()
def notebook(tmp_path: Path) -> Path:
    source = tmp_path / "nb" / "01_demo.ipynb"
    source.parent.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 第一章 <演示>"),
                nbformat.v4.new_markdown_cell("## 第二页"),
                nbformat.v4.new_code_cell("print(6 * 7)")]
    nb.cells[0].metadata["slideshow"] = {"slide_type": "slide"}
    nb.cells[1].metadata["slideshow"] = {"slide_type": "slide"}
    nbformat.write(nb, source)
    return source


def test_render_html_executes_and_indexes_without_touching_the_source(notebook, tmp_path):
    before = notebook.read_bytes()

    index, page = render_html([notebook], tmp_path / "out", timeout=60)

    assert notebook.read_bytes() == before
    assert "42" in page.read_text(encoding="utf-8")
    index_html = index.read_text(encoding="utf-8")
    assert 'href="01_demo.html"' in index_html
    assert "第一章 &lt;演示&gt;" in index_html


def test_slides_reference_only_files_shipped_beside_them(notebook, tmp_path):
    out = tmp_path / "slides"

    index, deck = render_slides([notebook], out, timeout=60)

    text = deck.read_text(encoding="utf-8")
    assert text.count("<section") >= 2 and "42" in text
    references = re.findall(r'(?:src|href)="([^"#]+)"', text)
    references += re.findall(r'"(reveal\.js/[^"]+)"', text)
    assert references, "the deck should load reveal.js"
    for ref in references:
        assert not ref.startswith(("http:", "https:", "//")), f"network reference {ref}"
        local = ref if ref.endswith((".js", ".css")) else ref + ".js"
        assert (out / local).is_file(), f"{deck.name} needs {ref}, missing from {out}"
    assert "01_demo.slides.html" in index.read_text(encoding="utf-8")
