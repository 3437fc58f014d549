"""Environment checks behind ``kit doctor``.

Each check is a small function returning :class:`Check` rows (name, ok, detail, fix);
:func:`run_checks` runs them all and :func:`main` prints them as a table, with the
exact command that fixes each failure, and returns 0 only when every check passes.
``kit doctor --fix`` applies the fixes that are safe to apply unattended (create the
nbgrader exchange folder, prepare the Chinese fonts) and checks again.

Checks read files and package metadata only; they start no subprocess, so the whole
run takes about a second (most of it loading matplotlib's font list).

>>> rows = [Check("Python", True, "3.11.7"),
...         Check("数据集 datasets", False, "缺少 dialogues.jsonl", "git restore datasets/")]
>>> print(format_table(rows))
状态  检查项           详情
通过  Python           3.11.7
失败  数据集 datasets  缺少 dialogues.jsonl
      修复：git restore datasets/
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

from kit.datasets import REPO_ROOT, datasets_dir

DISTRIBUTION = "cs-training-kit"
PACKAGES: list[str] = ["jupyterlab", "ipywidgets", "nbgrader", "matplotlib", "pandas", "nbval"]
"""Packages whose installed version is checked against the kit's declared range."""

LAB_EXTENSIONS: dict[str, str] = {
    "@jupyter-widgets/jupyterlab-manager": "jupyterlab_widgets",
    "@jupyter/nbgrader": "nbgrader",
}
"""JupyterLab extensions that must be installed and enabled → the pip package shipping it."""

REQUIRED_DATASETS: list[str] = [
    "README.md", "dialogues.jsonl", "bad_replies.jsonl", "phrases/library.yaml",
    "phrases/red_lines.yaml", "rubric/rules.yaml", "rubric/settings.toml",
    "lexicons/positive.tsv", "lexicons/negative.tsv", "quizzes/ch00.yaml",
    "personas/anxious_late_parcel.yaml",
]
"""Files that must exist in the datasets folder; append to require more."""

DEFAULT_EXCHANGE = Path("/usr/local/share/nbgrader/exchange")
"""nbgrader's exchange folder when the course config does not set ``c.Exchange.root``."""

COURSE_CONFIG = "nbgrader_config.py"


@dataclass(frozen=True)
class Check:
    """One line of the doctor's report.

    Attributes:
        name: what was checked (short, Chinese and/or English).
        ok: whether the check passed.
        detail: what was found (version, path, missing files …).
        fix: for a failure, what to do, in Chinese, with the exact command.
        repair: a safe automatic fix that ``kit doctor --fix`` may run, or None.
    """

    name: str
    ok: bool
    detail: str
    fix: str = ""
    repair: Callable[[], object] | None = field(default=None, compare=False, repr=False)


def check_python() -> list[Check]:
    """Python itself is at least the version the kit requires."""
    from packaging.specifiers import SpecifierSet

    try:
        wanted = metadata.metadata(DISTRIBUTION)["Requires-Python"] or ">=3.10"
    except metadata.PackageNotFoundError:
        wanted = ">=3.10"
    found = ".".join(map(str, sys.version_info[:3]))
    ok = SpecifierSet(wanted).contains(found, prereleases=True)
    fix = "" if ok else ("装好符合要求的 Python 后删除 .venv，再运行 "
                         "`make install PYTHON=python3.11`")
    return [Check("Python", ok, f"{found}（要求 {wanted}）", fix)]


def check_packages() -> list[Check]:
    """Each package in :data:`PACKAGES` is installed in the range the kit declares."""
    from packaging.requirements import Requirement

    try:
        declared = [Requirement(r) for r in metadata.requires(DISTRIBUTION) or []]
    except metadata.PackageNotFoundError:
        declared = []
        rows = [Check(DISTRIBUTION, False, "课程工具包没有安装到当前环境",
                      "在课程仓库根目录运行 `pip install -e '.[dev]'`")]
    else:
        rows = []
    ranges = {r.name.lower(): r.specifier for r in declared if not r.marker}
    for name in PACKAGES:
        spec = ranges.get(name.lower())
        wanted = str(spec) if spec else ""
        command = f"pip install '{name}{wanted}'"
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            rows.append(Check(name, False, "未安装", f"运行 `{command}`"))
            continue
        ok = spec is None or spec.contains(found, prereleases=True)
        detail = f"{found}（要求 {wanted}）" if wanted else found
        rows.append(Check(name, ok, detail, "" if ok else f"运行 `{command}`"))
    return rows


def federated_extensions() -> dict[str, Path]:
    """Installed JupyterLab (federated) extensions: name → folder, as JupyterLab finds them."""
    from jupyter_core.paths import jupyter_path

    found: dict[str, Path] = {}
    for root in map(Path, jupyter_path("labextensions")):
        for package in [*root.glob("[!@]*/package.json"), *root.glob("@*/*/package.json")]:
            name = _read_json(package).get("name")
            if name:
                found.setdefault(name, package.parent)
    return found


def disabled_extensions() -> dict[str, Path]:
    """Extensions and plugins disabled in JupyterLab's page config → the file saying so.

    Reads what ``jupyter labextension disable`` writes (``labconfig/page_config.json``
    and ``page_config.d/*.json`` in every Jupyter config folder, the first folder
    winning), the application settings, and lists that installed extensions declare.
    """
    from jupyter_core.paths import jupyter_config_path

    state: dict[str, tuple[bool, Path]] = {}
    app_dir = Path(os.environ.get("JUPYTERLAB_DIR") or Path(sys.prefix, "share/jupyter/lab"))
    files = [app_dir / "settings" / "page_config.json"]
    for folder in reversed(jupyter_config_path()):
        labconfig = Path(folder) / "labconfig"
        files += [*sorted(labconfig.glob("page_config.d/*.json")), labconfig / "page_config.json"]
    for path in files:
        entries = _read_json(path).get("disabledExtensions", {})
        if isinstance(entries, list):
            entries = dict.fromkeys(entries, True)
        state.update((name, (bool(off), path)) for name, off in entries.items())
    for folder in federated_extensions().values():
        lab = _read_json(folder / "package.json").get("jupyterlab", {})
        for name in lab.get("disabledExtensions", []):
            state.setdefault(name, (True, folder / "package.json"))
    return {name: path for name, (off, path) in state.items() if off}


def _enable_fix(name: str, source: Path) -> str:
    """The command that re-enables ``name``, at the config level that disabled it."""
    from jupyter_core.paths import ENV_CONFIG_PATH, SYSTEM_CONFIG_PATH, jupyter_config_dir

    levels = [(jupyter_config_dir(), "user"), *((p, "sys_prefix") for p in ENV_CONFIG_PATH),
              *((p, "system") for p in SYSTEM_CONFIG_PATH)]
    for folder, level in levels:
        if source.is_relative_to(Path(folder) / "labconfig"):
            sudo = "sudo " if level == "system" else ""
            return (f"运行 `{sudo}jupyter labextension enable --level={level} {name}`，"
                    "再刷新 JupyterLab")
    return f"在 {source} 里删掉 {name} 这一项，再刷新 JupyterLab"


def check_lab_extensions() -> list[Check]:
    """The ipywidgets and nbgrader JupyterLab extensions are installed and enabled."""
    installed = federated_extensions()
    disabled = disabled_extensions()
    rows = []
    for name, package in LAB_EXTENSIONS.items():
        label = f"Lab 扩展 {package}"
        if name not in installed:
            rows.append(Check(label, False, f"{name} 未安装",
                              f"运行 `pip install --force-reinstall {package}`，再重启 JupyterLab"))
        elif name in disabled:
            rows.append(Check(label, False, f"{name} 已安装但被禁用（{disabled[name]}）",
                              _enable_fix(name, disabled[name])))
        else:
            plugins = sorted(p for p in disabled if p.startswith(name + ":"))
            note = f"；禁用的插件：{', '.join(plugins)}" if plugins else ""
            version = _read_json(installed[name] / "package.json").get("version", "?")
            rows.append(Check(label, True, f"{name} {version} 已启用{note}"))
    return rows


def check_fonts() -> list[Check]:
    """matplotlib has a Chinese font with a regular and a bold face covering common text."""
    from kit import fonts

    name = "中文字体 CJK font"
    try:
        family = fonts.setup_chinese_fonts(prepare=False)
    except FileNotFoundError as exc:
        try:
            fonts.variable_font_source()
        except FileNotFoundError as missing:
            return [Check(name, False, str(missing), "运行 `pip install justmytype-intl-cjk`，"
                          "再运行 `kit fonts`")]
        return [Check(name, False, str(exc), "运行 `kit fonts`（约半分钟，只需一次）",
                      fonts.prepare_fonts)]
    except (ValueError, LookupError) as exc:
        return [Check(name, False, str(exc), f"运行 `unset {fonts.SOURCE_ENV}`")]
    regular, bold = fonts.resolve_faces(family)
    problems = [f"{face.role} 用的是 {face.name}" for face in (regular, bold)
                if face.name != family]
    problems += [f"{face.role} 缺字 {face.missing}" for face in (regular, bold) if face.missing]
    if bold.weight < fonts.BOLD_WEIGHT or bold.path == regular.path:
        problems.append(f"粗体不够粗（字重 {bold.weight}）")
    if problems:
        return [Check(name, False, f"{family}：{'；'.join(problems)}",
                      f"运行 `export {fonts.SOURCE_ENV}=bundled` 改用内置字体，"
                      "再运行 `kit doctor`")]
    return [Check(name, True, f"{family}（常规 {regular.weight}，粗体 {bold.weight}）")]


def check_datasets() -> list[Check]:
    """Every file in :data:`REQUIRED_DATASETS` is in the datasets folder."""
    folder = datasets_dir()
    missing = [n for n in REQUIRED_DATASETS if not (folder / n).is_file()]
    name = "数据集 datasets"
    if not missing:
        return [Check(name, True, f"{folder}（{len(REQUIRED_DATASETS)} 个必需文件齐全）")]
    if os.environ.get("KIT_DATASETS"):
        fix = ("环境变量 KIT_DATASETS 指向的文件夹不完整：改成课程的 datasets 文件夹，"
               "或运行 `unset KIT_DATASETS`")
    else:
        fix = f"在 {REPO_ROOT} 运行 `git restore datasets/`"
    return [Check(name, False, f"{folder} 缺少 {', '.join(missing)}", fix)]


def course_dir() -> Path:
    """The course folder: the current folder if it has ``nbgrader_config.py``, else the repo."""
    cwd = Path.cwd()
    return cwd if (cwd / COURSE_CONFIG).is_file() else REPO_ROOT


def exchange_root(course: Path) -> tuple[Path, str]:
    """Return nbgrader's exchange folder for ``course`` and where that setting came from.

    ``c.Exchange.root`` from the course's ``nbgrader_config.py`` (relative paths are
    taken from the course folder), else :data:`DEFAULT_EXCHANGE`.

    Raises:
        ValueError: when the config file cannot be run, naming the file.
    """
    config = course / COURSE_CONFIG
    if not config.is_file():
        return DEFAULT_EXCHANGE, "nbgrader 默认值"
    from traitlets.config.loader import PyFileConfigLoader

    try:
        loaded = PyFileConfigLoader(config.name, path=str(course)).load_config()
    except Exception as exc:  # the config is user code: report whatever it raises
        raise ValueError(f"{config}: cannot load nbgrader config: {exc}") from exc
    if "root" not in loaded.Exchange:
        return DEFAULT_EXCHANGE, f"nbgrader 默认值（{config.name} 未设置 c.Exchange.root）"
    return course / Path(loaded.Exchange.root).expanduser(), f"{config} 的 c.Exchange.root"


def check_course_dir() -> list[Check]:
    """The course folder can be written (nbgrader writes release/, submitted/ … there)."""
    course = course_dir()
    name = "课程目录 course folder"
    problem = _write_problem(course)
    if problem:
        return [Check(name, False, f"{course}：{problem}",
                      f"运行 `sudo chown -R \"$USER\" {course}`，或把课程复制到自己的主目录")]
    return [Check(name, True, f"{course} 可写")]


def check_exchange() -> list[Check]:
    """nbgrader's exchange folder exists and can be written."""
    name = "nbgrader 交换目录 exchange"
    try:
        root, origin = exchange_root(course_dir())
    except ValueError as exc:
        return [Check(name, False, str(exc),
                      f"修正 {COURSE_CONFIG} 中的错误，再运行 `kit doctor`")]
    problem = _write_problem(root)
    if problem is None:
        return [Check(name, True, f"{root} 可写（来自 {origin}）")]
    sudo = "" if root.is_relative_to(course_dir()) else "sudo "
    if not root.exists():
        return [Check(name, False, f"{root} 不存在（来自 {origin}）",
                      f"运行 `kit doctor --fix`，或 `{sudo}mkdir -p {root} && "
                      f"{sudo}chmod 777 {root}`", lambda: create_exchange(root))]
    return [Check(name, False, f"{root}：{problem}（来自 {origin}）",
                  f"运行 `{sudo}chmod 777 {root}`")]


def create_exchange(root: Path) -> None:
    """Create the exchange folder world-writable, as ``nbgrader release_assignment`` does."""
    root.mkdir(parents=True, exist_ok=True)
    root.chmod(0o777)


CHECKS: list[Callable[[], list[Check]]] = [
    check_python, check_packages, check_lab_extensions, check_fonts, check_datasets,
    check_course_dir, check_exchange,
]
"""The checks :func:`run_checks` runs, in report order."""


def run_checks() -> list[Check]:
    """Run every check in :data:`CHECKS` and return all their rows."""
    return [row for check in CHECKS for row in check()]


def format_table(checks: Iterable[Check]) -> str:
    """Format checks as an aligned table (CJK characters count as two columns)."""
    checks = list(checks)
    status = {True: "通过", False: "失败"}
    width = max([_width("检查项"), *(_width(c.name) for c in checks)])
    lines = [f"状态  {_pad('检查项', width)}  详情"]
    for c in checks:
        lines.append(f"{status[c.ok]}  {_pad(c.name, width)}  {c.detail}".rstrip())
        if not c.ok and c.fix:
            lines.append(f"      修复：{c.fix}")
    return "\n".join(lines)


def main(fix: bool = False) -> int:
    """Print the check table; return 0 when every check passes, 1 otherwise.

    With ``fix``, first run the safe repairs of failed checks, then check again.
    """
    checks = run_checks()
    if fix:
        for check in checks:
            if not check.ok and check.repair is not None:
                print(f"正在修复：{check.name} …", flush=True)
                try:
                    check.repair()
                except (OSError, RuntimeError) as exc:
                    print(f"  未能修复：{exc}")
        checks = run_checks()
    print(format_table(checks))
    failed = sum(not c.ok for c in checks)
    print(f"\n全部 {len(checks)} 项通过。" if not failed
          else f"\n{failed} 项未通过，请按“修复”一行的命令处理后再运行 `kit doctor`。")
    return 0 if not failed else 1


def _read_json(path: Path) -> dict:
    try:
        with path.open(encoding="utf-8") as fh:
            data = json.load(fh)
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _write_problem(folder: Path) -> str | None:
    """Return why files cannot be created in ``folder``, or None if they can."""
    if not folder.is_dir():
        return "不存在" if not folder.exists() else "不是文件夹"
    if not os.access(folder, os.W_OK | os.X_OK):
        return "没有写权限"
    try:
        with tempfile.TemporaryFile(dir=folder, prefix=".kit-doctor-"):
            pass
    except OSError as exc:
        return f"无法写入（{exc.strerror or exc}）"
    return None


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int) -> str:
    return text + " " * (width - _width(text))
