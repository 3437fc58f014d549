"""The package's public API: every re-exported name resolves, and ``import kit`` stays light."""

import subprocess
import sys

import pytest

import kit


@pytest.mark.parametrize("name", kit.__all__)
def test_every_exported_name_resolves(name: str):
    assert getattr(kit, name) is not None


def test_unknown_name_raises_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        kit.nope  # noqa: B018


def test_import_kit_does_not_load_heavy_libraries():
    code = ("import sys, kit; heavy = {'pandas', 'matplotlib', 'ipywidgets', 'nbgrader'};"
            "print(sorted(heavy & set(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "[]"
