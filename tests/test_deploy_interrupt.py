"""Ctrl-C during `python -m infrakit deploy` waits for cdktf to stop at a safe point. Killing it
instead (what subprocess.run does a quarter of a second after Ctrl-C) could leave Terraform's state
unsaved and its lock held. A terminal's Ctrl-C reaches the whole foreground process group, so the
test signals the group; `cdktf` is a stand-in script that takes a second to finish on SIGINT, as
Terraform does while it saves state. It cannot prove what a real cdktf or Terraform does."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from tests.conftest import ENVIRONMENTS, start_foreground_job

CDKTF_STAND_IN = """#!/usr/bin/env bash
trap 'sleep 1; echo saved > "$0.saved"; exit 130' INT
echo running > "$0.running"
while true; do sleep 0.1; done
"""


def test_ctrl_c_waits_for_cdktf_to_save_its_state(tmp_path: Path) -> None:
    cdktf = tmp_path / "node_modules" / ".bin" / "cdktf"
    cdktf.parent.mkdir(parents=True)
    cdktf.write_text(CDKTF_STAND_IN)
    cdktf.chmod(0o755)
    process = start_foreground_job(
        [
            sys.executable,
            "-m",
            "infrakit",
            "--environments-dir",
            str(ENVIRONMENTS),
            "deploy",
            "--env",
            "local",
            "--skip-preflight",  # no Docker engine here; the fake cdktf stands in for the deploy
        ],
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 30
        while not Path(f"{cdktf}.running").exists():
            assert process.poll() is None and time.monotonic() < deadline, process.communicate()
            time.sleep(0.05)
        os.killpg(process.pid, signal.SIGINT)
        _, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 130, stderr
    assert Path(f"{cdktf}.saved").read_text() == "saved\n"  # cdktf finished its own cleanup
    assert "Traceback" not in stderr
    assert stderr.strip().splitlines()[-1].startswith("infrakit: deploy interrupted (Ctrl-C)")
