"""Harness for the real-browser tests: JupyterLab 4 and Voila in headless Chromium.

Loaded by ``tests/test_browser.py`` as a pytest plugin (``pytest_plugins``), so its fixtures
and its failure hook apply to the tests that use them:

* ``lab`` (session): one JupyterLab server over a *temporary copy* of
  ``tests/data/browser/`` (autosave writes outputs, so the repository is never served), with
  private config, runtime, settings and workspace folders, in its own process group.
* ``browser`` (session): one headless Chromium (Debian's ``/usr/bin/chromium`` through the
  Python ``playwright`` package; no browser download). Missing Chromium or playwright skips
  the test with the reason, or fails it when ``KIT_REQUIRE_BROWSER=1`` (CI).
* ``page`` (per test): a fresh page; when the test fails, a screenshot and the page's text
  are saved in ``build/browser-screenshots/`` and the paths are added to the failure report.

The recipe (flags, waits, settings) is the one measured in the engineering notes, section
"Real browser tests".

PYTEST_DONT_REWRITE: ``--doctest-modules`` imports this file before ``test_browser.py``
loads it as a plugin; it raises its own errors, so it needs no assertion rewriting.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "tests" / "data" / "browser"
SCREENSHOTS = ROOT / "build" / "browser-screenshots"
REQUIRE_ENV = "KIT_REQUIRE_BROWSER"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)
# The news toast would cover the page; settings are written into the private settings folder.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false",
                                                    "checkForUpdates": False},
}
SERVER_START_S = 60.0
KERNEL_IDLE_MS = 60_000
PAGE_TIMEOUT_MS = 30_000


# --------------------------------------------------------------------------- availability
def find_chromium() -> str | None:
    """Debian's Chromium, else a ``chromium`` on PATH, else None."""
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    return shutil.which("chromium")


def has_playwright() -> bool:
    """Whether the ``playwright`` package can be imported."""
    return importlib.util.find_spec("playwright") is not None


def unavailable_reason() -> str | None:
    """Why the browser layer cannot run here, or None when it can."""
    missing = []
    if find_chromium() is None:
        missing.append(f"Chromium (neither {CHROMIUM} nor `chromium` on PATH; "
                       "apt-get install chromium fonts-noto-cjk)")
    if not has_playwright():
        missing.append("the Python package playwright (pip install -e '.[dev]')")
    if not missing:
        return None
    return "real-browser tests need " + " and ".join(missing)


def require_browser() -> str:
    """The Chromium executable; skip the test when something is missing, or fail it
    instead when ``KIT_REQUIRE_BROWSER=1``."""
    reason = unavailable_reason()
    if reason is None:
        return find_chromium()  # type: ignore[return-value]
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1 makes this a failure)", pytrace=False)
    pytest.skip(reason)


# --------------------------------------------------------------------------- the lab server
class LabServer:
    """A JupyterLab server in its own process group, serving ``root``."""

    def __init__(self, root: Path, private: Path) -> None:
        self.root = root
        self.token = secrets.token_hex(16)
        self.log_path = private / "server.log"
        self.runtime = private / "runtime"
        settings = private / "settings"
        for name, values in LAB_SETTINGS.items():
            target = settings / f"{name}.jupyterlab-settings"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values), encoding="utf-8")
        env = dict(os.environ, JUPYTER_CONFIG_DIR=str(private / "config"),
                   JUPYTER_RUNTIME_DIR=str(self.runtime), JUPYTERLAB_SETTINGS_DIR=str(settings),
                   JUPYTERLAB_WORKSPACES_DIR=str(private / "workspaces"),
                   PYTHONUNBUFFERED="1")
        env.pop(REQUIRE_ENV, None)
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               "--ServerApp.port=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={root}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.base = self._wait_ready(time.monotonic() + SERVER_START_S)
        except BaseException:
            self.stop()
            raise

    def log_tail(self, lines: int = 30) -> str:
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def _fail(self, message: str) -> AssertionError:
        return AssertionError(f"{message}; server log {self.log_path}:\n{self.log_tail()}")

    def _wait_ready(self, deadline: float) -> str:
        info_file = self.runtime / f"jpserver-{self.proc.pid}.json"
        base = None
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise self._fail(f"JupyterLab exited with code {self.proc.returncode}")
            if base is None and info_file.is_file():
                try:
                    base = f"http://127.0.0.1:{json.loads(info_file.read_text())['port']}"
                except (ValueError, KeyError):
                    base = None  # half-written file: read it again
            if base is not None:
                try:
                    if self.request("GET", "/api/status", base=base) == 200:
                        return base
                except (OSError, urllib.error.URLError):
                    pass
            time.sleep(0.1)
        raise self._fail(f"JupyterLab was not ready within {SERVER_START_S:.0f} s")

    def request(self, method: str, path: str, *, base: str | None = None) -> int:
        """Status of an authenticated API request (HTTP errors return their status)."""
        request = urllib.request.Request(f"{base or self.base}{path}", method=method,
                                         headers={"Authorization": f"token {self.token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as exc:
            return exc.code

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` with the token."""
        separator = "&" if "?" in path else "?"
        return f"{self.base}{path}{separator}token={self.token}"

    def stop(self) -> None:
        """POST /api/shutdown (it stops the kernels too), then end the process group."""
        if self.proc.poll() is None and getattr(self, "base", None):
            try:
                self.request("POST", "/api/shutdown")
                self.proc.wait(timeout=15)
            except (OSError, urllib.error.URLError, subprocess.TimeoutExpired):
                pass
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The Chromium executable (skips or fails per :func:`require_browser`)."""
    return require_browser()


@pytest.fixture(scope="session")
def lab(chromium_path: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabServer]:
    """One JupyterLab server per session over a temporary copy of the demo notebooks."""
    base = tmp_path_factory.mktemp("browser-lab")
    served = base / "served"
    shutil.copytree(NOTEBOOKS, served)
    server = LabServer(served, base)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser(chromium_path: str) -> Iterator[Any]:
    """One headless Chromium for the session."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=chromium_path, headless=True,
                                      args=list(CHROMIUM_ARGS))
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any, lab: LabServer) -> Iterator[Any]:
    """A fresh page (its own context) with generous timeouts; closed after the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000}, locale="zh-CN")
    context.set_default_timeout(PAGE_TIMEOUT_MS)
    page = context.new_page()
    page.kit_errors = []  # uncaught page errors, shown when the test fails
    page.on("pageerror", lambda exc: page.kit_errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_")[:100]


def save_evidence(page: Any, name: str) -> list[Path]:
    """Save a full-page screenshot and the page's text under ``build/browser-screenshots/``."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot, text = SCREENSHOTS / f"{_slug(name)}.png", SCREENSHOTS / f"{_slug(name)}.txt"
    saved = []
    try:
        page.screenshot(path=str(shot), full_page=True, timeout=10_000)
        saved.append(shot)
    except Exception as exc:  # the page may be gone; keep whatever else we can
        shot.with_suffix(".error").write_text(f"screenshot failed: {exc}", encoding="utf-8")
    try:
        body = page.inner_text("body", timeout=5_000)
    except Exception as exc:
        body = f"(page text unavailable: {exc})"
    errors = getattr(page, "kit_errors", [])
    if errors:
        body += "\n\n--- uncaught page errors ---\n" + "\n".join(errors)
    text.write_text(f"{page.url}\n\n{body}", encoding="utf-8")
    saved.append(text)
    return saved


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    """On a failed test that used ``page``, save the evidence and name it in the report."""
    report = yield
    page = getattr(item, "funcargs", {}).get("page")
    if report.when == "call" and report.failed and page is not None:
        paths = save_evidence(page, item.nodeid.split("::")[-1])
        message = "saved: " + ", ".join(str(p.relative_to(ROOT)) for p in paths)
        if hasattr(report.longrepr, "addsection"):
            report.longrepr.addsection("browser evidence", message)
        else:
            report.sections.append(("browser evidence", message))
    return report


# --------------------------------------------------------------------------- page helpers
ERROR_OUTPUT = ('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
                ':has-text("Error"), .jp-RenderedText[data-mime-type='
                '"application/vnd.jupyter.error"]')


def wait_for(page: Any, selector: str, what: str, timeout_ms: int = PAGE_TIMEOUT_MS) -> Any:
    """Wait until ``selector`` is visible, failing at once on a Python error in the page's
    output (with its text) instead of running into the timeout."""
    target = page.locator(selector).first
    error = page.locator(ERROR_OUTPUT).first
    target.or_(error).first.wait_for(state="visible", timeout=timeout_ms)
    if error.is_visible() and not target.is_visible():
        raise AssertionError(f"a cell failed before {what} appeared:\n{error.inner_text()}")
    return target


def goto(page: Any, url: str, what: str) -> None:
    """Load ``url``; fail at once, naming ``what``, unless the server answers 200."""
    response = page.goto(url)
    if response is None or response.status != 200:
        status = "no response" if response is None else f"HTTP {response.status}"
        raise AssertionError(f"{what} did not serve {url.split('?')[0]}: {status}")


def open_notebook(page: Any, lab: LabServer, name: str) -> None:
    """Open ``name`` in JupyterLab (its own workspace), wait for the kernel to be idle, then
    Run All through the Run menu (command ``runmenu:run-all``)."""
    workspace = _slug(Path(name).stem)
    goto(page, lab.url(f"/lab/workspaces/{workspace}/tree/{name}?reset"), "JupyterLab")
    # The execution indicator says idle before a kernel exists; the status bar text
    # ("Python 3 (ipykernel) | Idle") only once the kernel is up.
    # A dialog (kernel not found, file error) would block the page: fail with its text.
    idle = page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first
    dialog = page.locator(".jp-Dialog").first
    idle.or_(dialog).first.wait_for(timeout=KERNEL_IDLE_MS)
    if dialog.is_visible():
        raise AssertionError(f"JupyterLab opened a dialog instead of {name}'s kernel:\n"
                             f"{dialog.inner_text()}")
    page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
    page.locator('.lm-Menu-item[data-command="runmenu:run-all"]').click()

