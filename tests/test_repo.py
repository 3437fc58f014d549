"""Repository-level checks: layout, packaging agreement, notebooks committed clean."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIRS = ("notebooks", "solutions", "exercises")


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~; ]", requirement, maxsplit=1)[0].lower()


def _spec(requirement: str) -> str:
    without_marker = requirement.split(";", 1)[0]
    return without_marker[len(_name(without_marker)) :].replace(" ", "")


def _pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    reqs = list(project["dependencies"]) + list(project["optional-dependencies"]["dev"])
    return {_name(r): _spec(r) for r in reqs if "python_version" not in r}


def _environment_requirements() -> dict[str, str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for dep in env["dependencies"]:
        entries = dep["pip"] if isinstance(dep, dict) else [dep]
        for entry in entries:
            if entry.startswith("-e") or _name(entry) in {"python", "pip"}:
                continue
            found[_name(entry)] = _spec(entry)
    return found


def test_layout_has_the_course_folders():
    for name in ("notebooks", "exercises", "solutions", "datasets", "kit", "tests",
                 "environment.yml", "README.md", "pyproject.toml", "Makefile", ".ci/run",
                 "nbgrader_config.py"):
        assert (ROOT / name).exists(), f"missing {name} at the repository root"


def test_environment_yml_agrees_with_pyproject():
    assert _environment_requirements() == _pyproject_requirements()


def test_environment_yml_installs_the_kit_on_python_311():
    text = (ROOT / "environment.yml").read_text(encoding="utf-8")
    assert "python=3.11" in text
    assert "- -e ." in text
    assert "conda-forge" in text


def _notebooks() -> list[Path]:
    return sorted(p for d in NOTEBOOK_DIRS for p in (ROOT / d).rglob("*.ipynb")
                  if ".ipynb_checkpoints" not in p.parts)


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_is_committed_without_outputs(path: Path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] != "code":
            continue
        assert cell.get("outputs") == [], f"{path.name} cell {index}: outputs saved"
        assert cell.get("execution_count") is None, f"{path.name} cell {index}: execution count"


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "make test" in readme and "make lab" in readme
    assert re.search(r"^make test$", ci, re.MULTILINE)
    assert "KIT_REQUIRE_BROWSER=1" in ci


@pytest.mark.parametrize("path", ["submitted/s1/ch01_basics/x.ipynb", "autograded/s1/x",
                                  "feedback/s1/x.html", "exchange/cs-training/x",
                                  "gradebook.db", "grades/ch01_basics.csv", "build/html/x.html",
                                  ".venv/bin/python"])
def test_git_ignores_generated_course_state(path: str):
    assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 0


@pytest.mark.parametrize("path", ["kit/assets/reveal/reveal.js/dist/reveal.js",
                                  "tests/data/grading/feedback/x", "exercises/ch01_basics/x"])
def test_git_keeps_course_files_that_look_like_build_output(path: str):
    assert subprocess.run(["git", "check-ignore", "-q", path], cwd=ROOT).returncode == 1


def test_kit_command_runs_as_module():
    out = subprocess.run([sys.executable, "-m", "kit", "--help"], capture_output=True,
                         text=True, check=True)
    assert "doctor" in out.stdout
