"""``kit doctor``: every check passes in a complete course and names what is missing."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from kit import doctor, fonts

JUPYTER = Path(sys.executable).with_name("jupyter")


@pytest.fixture
def course(tmp_path, monkeypatch) -> Path:
    """A complete course folder (current folder) with its data, exchange and fonts ready.

    Jupyter's user config folder is an empty temporary one, so settings of whoever
    runs the tests cannot change the result.
    """
    data = tmp_path / "datasets"
    data.mkdir()
    for name in doctor.REQUIRED_DATASETS:
        (data / name).parent.mkdir(parents=True, exist_ok=True)
        (data / name).write_text("x\n", encoding="utf-8")
    folder = tmp_path / "course"
    folder.mkdir()
    (folder / doctor.COURSE_CONFIG).write_text(
        'c = get_config()  # noqa: F821\nc.Exchange.root = "exchange"\n', encoding="utf-8")
    doctor.create_exchange(folder / "exchange")
    (tmp_path / "jupyter-config").mkdir()
    monkeypatch.setenv("KIT_DATASETS", str(data))
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "jupyter-config"))
    for name in (fonts.SOURCE_ENV, fonts.FONT_DIR_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(folder)
    fonts.prepare_fonts()  # what `make install` does; instant once built
    return folder


def failures(rows: list[doctor.Check]) -> dict[str, doctor.Check]:
    return {row.name: row for row in rows if not row.ok}


def report(capsys, **kwargs) -> tuple[int, str]:
    code = doctor.main(**kwargs)
    return code, capsys.readouterr().out


def test_every_check_passes_in_a_complete_course(course, capsys):
    assert failures(doctor.run_checks()) == {}
    code, out = report(capsys)
    assert code == 0
    assert "失败" not in out and "全部" in out
    for name in ("Python", "nbgrader", "ipywidgets", "Lab 扩展 jupyterlab_widgets",
                 "中文字体 CJK font", "数据集 datasets", "课程目录", "交换目录"):
        assert name in out


def test_this_repository_passes_after_setup(monkeypatch):
    """`make test` and `make lab` set up with `kit doctor --fix`: every check passes."""
    monkeypatch.delenv("KIT_DATASETS", raising=False)
    monkeypatch.chdir(doctor.REPO_ROOT)
    failed = failures(doctor.run_checks())
    assert not failed, f"run `make install` (kit doctor --fix) first: {failed}"


@pytest.mark.parametrize("missing", doctor.REQUIRED_DATASETS)
def test_missing_data_file_is_named_and_fails(course, capsys, missing):
    (Path(os.environ["KIT_DATASETS"]) / missing).unlink()
    code, out = report(capsys)
    assert code == 1
    assert f"缺少 {missing}" in out
    assert "unset KIT_DATASETS" in out


def test_empty_datasets_folder_lists_every_required_file(course, tmp_path, monkeypatch):
    monkeypatch.setenv("KIT_DATASETS", str(tmp_path))
    (row,) = doctor.check_datasets()
    assert not row.ok
    assert all(name in row.detail for name in doctor.REQUIRED_DATASETS)


def test_required_datasets_can_be_extended(course, monkeypatch):
    monkeypatch.setattr(doctor, "REQUIRED_DATASETS", [*doctor.REQUIRED_DATASETS, "extra.csv"])
    (row,) = doctor.check_datasets()
    assert not row.ok and "extra.csv" in row.detail


def test_uninstalled_package_is_named_with_the_install_command(course, capsys, monkeypatch):
    real_version = metadata.version

    def version(name):
        if name == "nbgrader":
            raise metadata.PackageNotFoundError(name)
        return real_version(name)

    monkeypatch.setattr(doctor.metadata, "version", version)
    code, out = report(capsys)
    assert code == 1
    declared = [Requirement(r) for r in metadata.requires(doctor.DISTRIBUTION)]
    spec = next(r.specifier for r in declared if r.name == "nbgrader")
    assert "nbgrader" in out and "未安装" in out
    assert f"pip install 'nbgrader{spec}'" in out
    assert [r.name for r in failures(doctor.run_checks()).values()] == ["nbgrader"]


def test_package_outside_the_declared_range_fails(course, monkeypatch):
    real_version = metadata.version
    monkeypatch.setattr(doctor.metadata, "version",
                        lambda name: "3.6.8" if name == "jupyterlab" else real_version(name))
    failed = failures(doctor.check_packages())
    assert list(failed) == ["jupyterlab"]
    assert "3.6.8" in failed["jupyterlab"].detail
    assert "pip install 'jupyterlab" in failed["jupyterlab"].fix


def test_kit_not_installed_is_reported(course, monkeypatch):
    def requires(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(doctor.metadata, "requires", requires)
    failed = failures(doctor.check_packages())
    assert list(failed) == [doctor.DISTRIBUTION]
    assert "pip install -e" in failed[doctor.DISTRIBUTION].fix


def test_old_python_fails(monkeypatch):
    monkeypatch.setattr(doctor.sys, "version_info", (3, 9, 18, "final", 0))
    (row,) = doctor.check_python()
    assert not row.ok and "3.9.18" in row.detail


def test_disabled_lab_extension_is_named_and_its_fix_command_works(course, capsys):
    """Disable nbgrader's extension with the real CLI, then run the fix it prints."""
    name = "@jupyter/nbgrader"
    env = dict(os.environ)
    subprocess.run([str(JUPYTER), "labextension", "disable", "--level=user", name],
                   env=env, check=True, capture_output=True)
    code, out = report(capsys)
    assert code == 1 and name in out
    (row,) = failures(doctor.run_checks()).values()
    assert name in row.detail and "被禁用" in row.detail
    command = row.fix.split("`")[1]
    assert command == f"jupyter labextension enable --level=user {name}"
    subprocess.run([str(JUPYTER), *shlex.split(command)[1:]], env=env, check=True,
                   capture_output=True)
    assert failures(doctor.run_checks()) == {}


def test_disabled_plugin_of_an_extension_is_only_noted(course):
    labconfig = Path(os.environ["JUPYTER_CONFIG_DIR"]) / "labconfig"
    labconfig.mkdir()
    (labconfig / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyter/nbgrader:formgrader": true,'
        ' "@jupyter-widgets/jupyterlab-manager": false}}', encoding="utf-8")
    rows = {row.name: row for row in doctor.check_lab_extensions()}
    assert all(row.ok for row in rows.values())
    assert "@jupyter/nbgrader:formgrader" in rows["Lab 扩展 nbgrader"].detail


def test_missing_lab_extension_is_named(course, monkeypatch):
    monkeypatch.setattr(doctor, "federated_extensions", dict)
    failed = failures(doctor.check_lab_extensions())
    assert "@jupyter-widgets/jupyterlab-manager 未安装" in failed[
        "Lab 扩展 jupyterlab_widgets"].detail
    assert "pip install --force-reinstall nbgrader" in failed["Lab 扩展 nbgrader"].fix


def test_unprepared_fonts_fail_with_a_safe_repair(course, tmp_path, monkeypatch):
    monkeypatch.setenv(fonts.SOURCE_ENV, "bundled")
    monkeypatch.setenv(fonts.FONT_DIR_ENV, str(tmp_path / "no-fonts-yet"))
    (row,) = doctor.check_fonts()
    assert not row.ok
    assert "kit fonts" in row.fix
    assert row.repair is fonts.prepare_fonts


def test_bad_font_source_setting_is_reported(course, monkeypatch):
    monkeypatch.setenv(fonts.SOURCE_ENV, "comic")
    (row,) = doctor.check_fonts()
    assert not row.ok and "KIT_FONT_SOURCE" in row.detail


def test_missing_exchange_is_created_by_fix(course, capsys):
    exchange = course / "exchange"
    exchange.rmdir()
    code, out = report(capsys)
    assert code == 1
    assert f"{exchange} 不存在" in out
    code, out = report(capsys, fix=True)
    assert code == 0, out
    assert exchange.is_dir() and exchange.stat().st_mode & 0o777 == 0o777


def test_unwritable_exchange_is_named(course, capsys):
    blocker = course / "not-a-folder"
    blocker.write_text("", encoding="utf-8")
    (course / doctor.COURSE_CONFIG).write_text(
        f"c = get_config()  # noqa: F821\nc.Exchange.root = {str(blocker / 'exchange')!r}\n",
        encoding="utf-8")
    code, out = report(capsys, fix=True)  # mkdir under a file cannot succeed
    assert code == 1
    assert str(blocker / "exchange") in out and "未能修复" in out


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write to read-only folders")
def test_read_only_exchange_fails(course):
    (course / "exchange").chmod(0o555)
    (row,) = doctor.check_exchange()
    assert not row.ok and "没有写权限" in row.detail and "chmod 777" in row.fix


def test_exchange_defaults_when_config_does_not_set_it(tmp_path):
    (tmp_path / doctor.COURSE_CONFIG).write_text("c = get_config()  # noqa: F821\n",
                                                 encoding="utf-8")
    assert doctor.exchange_root(tmp_path)[0] == doctor.DEFAULT_EXCHANGE
    assert doctor.exchange_root(tmp_path / "elsewhere")[0] == doctor.DEFAULT_EXCHANGE


def test_broken_course_config_is_named(course):
    (course / doctor.COURSE_CONFIG).write_text("c.Exchange.root = undefined_name\n",
                                               encoding="utf-8")
    (row,) = doctor.check_exchange()
    assert not row.ok and doctor.COURSE_CONFIG in row.detail and "undefined_name" in row.detail


def test_course_folder_that_is_not_a_folder_fails(course, monkeypatch):
    monkeypatch.setattr(doctor, "course_dir", lambda: course / doctor.COURSE_CONFIG)
    (row,) = doctor.check_course_dir()
    assert not row.ok and "不是文件夹" in row.detail


def test_table_aligns_chinese_and_english_names():
    rows = [doctor.Check("Python", True, "ok"), doctor.Check("数据集 datasets", True, "ok")]
    body = doctor.format_table(rows).splitlines()
    columns = {doctor._width(line[: line.rindex("ok")]) for line in body[1:]}
    assert len(columns) == 1
