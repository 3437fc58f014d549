"""`make lab` serves JupyterLab with the course (HTTP 200 on /lab)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "kit-test-token"


def _wait_for_server_file(runtime: Path, proc: subprocess.Popen, deadline: float) -> dict:
    while time.monotonic() < deadline:
        assert proc.poll() is None, "make lab exited early"
        for info_file in runtime.glob("jpserver-*.json"):
            return json.loads(info_file.read_text())
        time.sleep(0.2)
    raise AssertionError("JupyterLab did not write its server file within 60 s")


def test_make_lab_serves_the_course(tmp_path: Path):
    runtime = tmp_path / "runtime"
    env = dict(os.environ, JUPYTER_RUNTIME_DIR=str(runtime),
               JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"))
    args = (f"LAB_ARGS=--no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port=0 "
            f"--IdentityProvider.token={TOKEN}")
    proc = subprocess.Popen(["make", "--no-print-directory", "lab", args], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        info = _wait_for_server_file(runtime, proc, time.monotonic() + 60)
        base = f"http://127.0.0.1:{info['port']}"
        with urllib.request.urlopen(f"{base}/lab?token={TOKEN}", timeout=30) as response:
            assert response.status == 200
        request = urllib.request.Request(
            f"{base}/api/contents/notebooks/00_start_here.ipynb?content=0",
            headers={"Authorization": f"token {TOKEN}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            assert json.loads(response.read())["type"] == "notebook"
        shutdown = urllib.request.Request(f"{base}/api/shutdown", method="POST",
                                          headers={"Authorization": f"token {TOKEN}"})
        urllib.request.urlopen(shutdown, timeout=30).close()
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)
