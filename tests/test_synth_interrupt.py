"""Ctrl-C during `python main.py`: one line on stderr, exit status 130, no traceback, and
nothing half-done kept: the output directory is as it was and the next run synthesizes afresh.

Each test starts `python main.py` as a real process in its own process group, waits until jsii
has started its Node child, and sends SIGINT to the whole group, as a terminal's Ctrl-C does:
Node dies of the same signal while Python is talking to it. Whether Python notices Ctrl-C first
(KeyboardInterrupt) or Node's death first (a jsii error) depends on timing, which a test cannot
choose; both end the same way, and the tests interrupt at several moments of jsii's work.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest

from infrakit import synth_cache
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT, start_foreground_job

INTERRUPTED = "infrakit: synthesis interrupted; nothing half-done was kept"
UP_TO_DATE = "inputs unchanged"


def main_py(*args: str) -> list[str]:
    return [PYTHON, str(ROOT / "main.py"), *args]


def cache_enabled() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != synth_cache.DISABLE_VARIABLE}


def node_children(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    found = []
    for child in children:
        try:
            if os.readlink(f"/proc/{child}/exe").endswith("node"):
                found.append(int(child))
        except OSError:
            continue
    return found


def interrupt_while_jsii_works(args: list[str], cwd: Path, after_node_starts: float) -> subprocess.Popen[str]:
    """Start main.py, wait until jsii's Node child runs, wait a little more, then Ctrl-C."""
    process = start_foreground_job(args, cwd=cwd, env=cache_enabled())
    deadline = time.monotonic() + 60
    while not node_children(process.pid):
        assert process.poll() is None, f"main.py ended before jsii started: {process.communicate()}"
        assert time.monotonic() < deadline, "jsii's Node child never started"
        time.sleep(0.005)
    time.sleep(after_node_starts)
    assert process.poll() is None, "synthesis finished before Ctrl-C: nothing to test"
    os.killpg(process.pid, signal.SIGINT)
    return process


def finish(process: subprocess.Popen[str]) -> tuple[int, str]:
    _, stderr = process.communicate(timeout=30)
    return process.returncode, stderr


def run(args: list[str], cwd: Path) -> str:
    result = subprocess.run(args, cwd=cwd, env=cache_enabled(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stderr


def tree(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


@pytest.fixture
def environments(tmp_path: Path) -> Path:
    directory = tmp_path / "environments"
    directory.mkdir()
    shutil.copy(ENVIRONMENTS / "local.toml", directory / "local.toml")
    return directory


@pytest.mark.parametrize("after_node_starts", [0.0, 0.12, 0.25], ids=["node-starting", "loading", "building"])
def test_ctrl_c_prints_one_line_exits_130_and_the_next_run_synthesizes_the_same_output(
    tmp_path, environments, after_node_starts
):
    outdir = tmp_path / "out"
    args = main_py("local", "--environments-dir", str(environments), "--outdir", str(outdir))

    status, stderr = finish(interrupt_while_jsii_works(args, tmp_path, after_node_starts))

    assert status == 130, stderr
    assert stderr.splitlines() == [stderr.strip()], f"one line expected:\n{stderr}"
    assert stderr.startswith(INTERRUPTED)
    assert "Traceback" not in stderr
    assert not list(outdir.rglob("*.json")), "no stack, manifest or cache stamp was kept"

    rerun = run(args, tmp_path)
    assert UP_TO_DATE not in rerun and "synthesized local" in rerun
    reference = tmp_path / "reference"
    run(main_py("local", "--environments-dir", str(environments), "--outdir", str(reference)), tmp_path)
    assert tree(outdir) == tree(reference)


def test_ctrl_c_leaves_the_previous_output_as_it_was_and_forgets_it_for_the_cache(tmp_path, environments):
    outdir = tmp_path / "out"
    args = main_py("local", "--environments-dir", str(environments), "--outdir", str(outdir))
    run(args, tmp_path)
    stack = outdir / "stacks" / "local"
    (stack / ".terraform").mkdir()
    (stack / ".terraform" / "terraform.tfstate").write_text("{}\n")
    before = tree(outdir)
    config = environments / "local.toml"
    config.write_text(config.read_text().replace("memory_mb = 512", "memory_mb = 640"))

    status, stderr = finish(interrupt_while_jsii_works(args, tmp_path, 0.15))

    assert status == 130, stderr
    after = tree(outdir)
    assert synth_cache.STAMP not in after, "the cache must not vouch for an output it did not finish"
    assert after == {name: data for name, data in before.items() if name != synth_cache.STAMP}
    assert not [p for p in outdir.iterdir() if p.name.startswith(".infrakit-staging")]

    rerun = run(args, tmp_path)
    assert UP_TO_DATE not in rerun
    assert '"memory": 640' in (stack / "cdk.tf.json").read_text()
    assert (stack / ".terraform" / "terraform.tfstate").read_text() == "{}\n"
