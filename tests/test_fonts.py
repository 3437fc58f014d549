"""Chinese fonts for matplotlib: rendering without glyph warnings, bold, caching."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from kit import fonts

# Rendered in a fresh process whose HOME and MPLCONFIGDIR are new empty folders, so
# neither ~/.cache nor a matplotlib font list left by another environment can matter.
RENDER = textwrap.dedent("""
    import io, json, logging, os, warnings
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.font_manager import findfont
    from kit.fonts import resolve_faces, setup_chinese_fonts

    logged = []
    class Keep(logging.Handler):
        def emit(self, record):
            logged.append(record.getMessage())
    logging.getLogger().addHandler(Keep())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            family = setup_chinese_fonts()
        except LookupError as exc:
            print(json.dumps({"skip": str(exc)}))
            raise SystemExit(0)
        fig = Figure(figsize=(6, 4))
        ax = fig.subplots()
        title = ax.set_title("各平台客服首次响应时长", fontweight="bold")
        ax.bar(["淘宝", "京东", "抖音", "拼多多"], [42, -8, 35, 60])
        ax.set_xlabel("店铺所在平台")
        ax.set_ylabel("平均首响（秒）")
        ax.set_yticks([-10, 0, 30, 60], ["负十", "零", "半分钟", "一分钟"])
        fig.savefig(io.BytesIO(), format="png")
    faces = {face.role: face for face in resolve_faces(family)}
    print(json.dumps({
        "family": family,
        "messages": [str(w.message) for w in caught] + logged,
        "title_font": os.path.realpath(findfont(title.get_fontproperties())),
        "bold": [str(faces["bold"].path), faces["bold"].weight, faces["bold"].name],
        "regular": [str(faces["regular"].path), faces["regular"].weight],
    }))
""")


def render_in_fresh_process(tmp_path: Path, source: str) -> dict:
    home, mpl = tmp_path / "home", tmp_path / "mplconfig"
    home.mkdir()
    mpl.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("MPL", "XDG_", "KIT_FONT"))}
    env.update(HOME=str(home), MPLCONFIGDIR=str(mpl), KIT_FONT_SOURCE=source)
    out = subprocess.run([sys.executable, "-c", RENDER], env=env, capture_output=True,
                         text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def assert_clean_bold_chart(result: dict) -> None:
    glyph = [m for m in result["messages"] if "Glyph" in m or "missing from font" in m]
    assert glyph == []
    bold_path, bold_weight, bold_name = result["bold"]
    assert bold_name == result["family"]
    assert bold_weight >= fonts.BOLD_WEIGHT > result["regular"][1]
    assert result["title_font"] == bold_path
    assert bold_path != result["regular"][0]


def test_bundled_fonts_render_chinese_regular_and_bold(tmp_path):
    result = render_in_fresh_process(tmp_path, "bundled")
    assert result["family"] == fonts.BUNDLED_FAMILY
    assert_clean_bold_chart(result)
    assert Path(result["bold"][0]).name == "NotoSansSC-Bold.ttf"


def test_system_font_renders_chinese_regular_and_bold(tmp_path):
    result = render_in_fresh_process(tmp_path, "system")
    if "skip" in result:
        pytest.skip(f"no system CJK font installed: {result['skip']}")
    assert result["family"] in fonts.SYSTEM_FAMILIES
    assert_clean_bold_chart(result)


def forbid_builds(monkeypatch) -> None:
    def no_build(*args, **kwargs):
        raise AssertionError("prepare_fonts started a build although the fonts exist")

    monkeypatch.setattr(fonts.subprocess, "Popen", no_build)


def test_second_prepare_returns_cached_files_without_building(monkeypatch):
    first = fonts.prepare_fonts()
    stamps = [p.stat().st_mtime_ns for p in first]
    forbid_builds(monkeypatch)
    again = fonts.prepare_fonts()
    assert again == first
    assert [p.stat().st_mtime_ns for p in again] == stamps
    assert (first[0].parent / fonts.LICENCE).read_text(encoding="utf-8").count("Open Font")


@pytest.fixture(scope="module")
def small_variable_font(tmp_path_factory) -> Path:
    """A few glyphs of the real variable Noto Sans SC (same axes, names and STAT table)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    source = fonts.variable_font_source()
    folder = tmp_path_factory.mktemp("variable")
    options = subset.Options()
    options.name_IDs = ["*"]
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(text=fonts.SAMPLE_TEXT + "ABC123")
    subsetter.subset(font)
    path = folder / source.name
    font.save(path)
    shutil.copyfile(source.parent / fonts.LICENCE, folder / fonts.LICENCE)
    return path


def test_prepare_builds_static_regular_and_bold_once(tmp_path, monkeypatch,
                                                     small_variable_font):
    from fontTools.ttLib import TTFont

    monkeypatch.setenv(fonts.FONT_DIR_ENV, str(tmp_path / "fonts"))
    monkeypatch.setattr(fonts, "variable_font_source", lambda: small_variable_font)
    assert fonts.prepared_fonts() is None

    paths = fonts.prepare_fonts()
    assert [p.name for p in paths] == list(fonts.INSTANCES)
    for path, weight in zip(paths, fonts.INSTANCES.values(), strict=True):
        font = TTFont(path)
        assert "fvar" not in font and "gvar" not in font
        assert font["OS/2"].usWeightClass == weight
        assert font["name"].getDebugName(1) == fonts.BUNDLED_FAMILY
    assert sorted(p.name for p in (tmp_path / "fonts").iterdir()) == sorted(
        [".lock", fonts.LICENCE, *fonts.INSTANCES])

    stamps = [p.stat().st_mtime_ns for p in paths]
    forbid_builds(monkeypatch)
    assert fonts.prepare_fonts() == paths
    assert [p.stat().st_mtime_ns for p in paths] == stamps


def test_prepare_falls_back_to_user_cache(tmp_path, monkeypatch, small_variable_font):
    blocker = tmp_path / "prefix-is-a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    monkeypatch.delenv(fonts.FONT_DIR_ENV, raising=False)
    monkeypatch.setattr(fonts.sys, "prefix", str(blocker))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(fonts, "variable_font_source", lambda: small_variable_font)
    paths = fonts.prepare_fonts()
    assert all(p.parent == tmp_path / "cache" / "cs-training-kit" / "fonts" for p in paths)


def test_failed_build_names_the_file_and_leaves_no_partial_font(tmp_path, monkeypatch):
    broken = tmp_path / "broken.ttf"
    broken.write_bytes(b"this is not a font")
    monkeypatch.setenv(fonts.FONT_DIR_ENV, str(tmp_path / "fonts"))
    monkeypatch.setattr(fonts, "variable_font_source", lambda: broken)
    with pytest.raises(RuntimeError, match=r"NotoSansSC-Regular\.ttf"):
        fonts.prepare_fonts()
    assert [p.name for p in (tmp_path / "fonts").iterdir()] == [".lock"]


def test_setup_is_idempotent_and_reregisters_dropped_fonts(monkeypatch):
    import matplotlib
    from matplotlib.font_manager import fontManager

    monkeypatch.setenv(fonts.SOURCE_ENV, "bundled")
    assert fonts.setup_chinese_fonts() == fonts.BUNDLED_FAMILY
    assert fonts.setup_chinese_fonts() == fonts.BUNDLED_FAMILY
    bundled = {str(p) for p in fonts.prepared_fonts()}
    registered = [e.fname for e in fontManager.ttflist if e.fname in bundled]
    assert sorted(set(registered)) == sorted(bundled)
    assert len(registered) == len(set(registered))
    sans = matplotlib.rcParams["font.sans-serif"]
    assert sans[0] == fonts.BUNDLED_FAMILY and sans.count(fonts.BUNDLED_FAMILY) == 1
    assert matplotlib.rcParams["font.family"] == ["sans-serif"]

    # A font list rebuilt elsewhere (shared ~/.cache/matplotlib) lacks run-time fonts.
    monkeypatch.setattr(fontManager, "ttflist",
                        [e for e in fontManager.ttflist if e.fname not in bundled])
    fonts.setup_chinese_fonts()
    assert {f.path.name for f in fonts.resolve_faces(fonts.BUNDLED_FAMILY)} == set(
        fonts.INSTANCES)


def test_setup_rejects_unknown_source(monkeypatch):
    monkeypatch.setenv(fonts.SOURCE_ENV, "fancy")
    with pytest.raises(ValueError, match="KIT_FONT_SOURCE='fancy'"):
        fonts.setup_chinese_fonts()


def test_setup_without_prepare_says_how_to_prepare(tmp_path, monkeypatch):
    monkeypatch.setenv(fonts.SOURCE_ENV, "bundled")
    monkeypatch.setenv(fonts.FONT_DIR_ENV, str(tmp_path))
    with pytest.raises(FileNotFoundError, match="kit fonts"):
        fonts.setup_chinese_fonts(prepare=False)
