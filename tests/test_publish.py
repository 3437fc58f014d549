"""Static HTML rendering of the course (``make html``)."""

from pathlib import Path

import nbformat

from kit.publish import render_html


def test_render_html_executes_and_indexes_without_touching_the_source(tmp_path: Path):
    source = tmp_path / "nb" / "01_demo.ipynb"
    source.parent.mkdir()
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# 第一章 <演示>"),
                nbformat.v4.new_code_cell("print(6 * 7)")]
    nbformat.write(nb, source)
    before = source.read_bytes()

    index, page = render_html([source], tmp_path / "out", timeout=60)

    assert source.read_bytes() == before
    assert "42" in page.read_text(encoding="utf-8")
    index_html = index.read_text(encoding="utf-8")
    assert 'href="01_demo.html"' in index_html
    assert "第一章 &lt;演示&gt;" in index_html
