"""Ctrl-C during `python main.py`: one line on stderr, exit status 130, no traceback, and
nothing half-done kept: the output directory is as it was and the next run synthesizes afresh.

Each test starts `python main.py` as a real process in its own process group, waits until jsii
has started its Node child, and sends SIGINT to the whole group, as a terminal's Ctrl-C does:
Node dies of the same signal while Python is talking to it. Whether Python notices Ctrl-C first
(KeyboardInterrupt) or Node's death first (a jsii error) depends on timing, which a test cannot
choose; both end the same way, and the tests interrupt at several moments of jsii's work.
"""

from __future__ import annotations

import contextlib
import json
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
    """Start main.py, wait until jsii's Node child runs, wait a little more, then Ctrl-C. Its
    temporary directory is cwd/tmp (TMPDIR), for the test to look into."""
    (cwd / "tmp").mkdir(exist_ok=True)
    process = start_foreground_job(args, cwd=cwd, env=cache_enabled() | {"TMPDIR": str(cwd / "tmp")})
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
    return result.stdout


def tree(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


@pytest.fixture
def environments(tmp_path: Path) -> Path:
    directory = tmp_path / "environments"
    directory.mkdir()
    shutil.copy(ENVIRONMENTS / "local.toml", directory / "local.toml")
    return directory


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """What an uninterrupted `python main.py local` writes, cache stamp included (its fingerprint
    does not depend on where the environment file or the output is)."""
    tmp_path = tmp_path_factory.mktemp("reference")
    (tmp_path / "environments").mkdir()
    shutil.copy(ENVIRONMENTS / "local.toml", tmp_path / "environments" / "local.toml")
    outdir = tmp_path / "out"
    run(
        main_py("local", "--environments-dir", str(tmp_path / "environments"), "--outdir", str(outdir)),
        tmp_path,
    )
    return tree(outdir)


@pytest.mark.parametrize("after_node_starts", [0.0, 0.12, 0.25], ids=["node-starting", "loading", "building"])
def test_ctrl_c_prints_one_line_exits_130_and_the_next_run_synthesizes_the_same_output(
    tmp_path, environments, after_node_starts, reference
):
    outdir = tmp_path / "out"
    args = main_py("local", "--environments-dir", str(environments), "--outdir", str(outdir))

    status, stderr = finish(interrupt_while_jsii_works(args, tmp_path, after_node_starts))

    assert status == 130, stderr
    assert stderr.splitlines() == [stderr.strip()], f"one line expected:\n{stderr}"
    assert stderr.startswith(INTERRUPTED)
    assert "Traceback" not in stderr
    assert not list(outdir.rglob("*.json")), "no stack, manifest or cache stamp was kept"
    # Node, ended by the Ctrl-C, never ran the exit handler that deletes its jsii-kernel-* directory.
    assert not list((tmp_path / "tmp").iterdir()), "temporary files were left behind"

    rerun = run(args, tmp_path)
    assert UP_TO_DATE not in rerun and "synthesized local" in rerun
    assert tree(outdir) == reference


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


# ----------------------------------------------------------------------------- at any moment


def mapped(pid: int, name: str) -> bool:
    """Whether the process has loaded a shared library whose path contains name."""
    try:
        return name in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


# Each moment is an event the test can observe, not a delay: the same point of the run on a fast
# machine and a slow one.
MOMENTS = {
    # main.py is importing infrakit.synth (synth_cache loads hashlib's C module), before main() runs.
    "importing": lambda pid: mapped(pid, "_hashlib"),
    # main() is validating the environment files (pydantic's compiled core is loaded), before Node.
    "validating": lambda pid: mapped(pid, "pydantic_core"),
}


def interrupt_at(moment: str, args: list[str], cwd: Path) -> subprocess.Popen[str]:
    process = start_foreground_job(args, cwd=cwd, env=cache_enabled())
    deadline = time.monotonic() + 60
    while not MOMENTS[moment](process.pid):
        assert process.poll() is None, f"main.py ended before {moment}: {process.communicate()}"
        assert time.monotonic() < deadline, f"main.py never reached {moment}"
        time.sleep(0.002)
    os.killpg(process.pid, signal.SIGINT)
    return process


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_ctrl_c_at_any_moment_prints_one_line_and_keeps_nothing_half_written(tmp_path, environments, moment):
    """The terminal's Ctrl-C reaches Python and jsii's Node at once. Cannot prove the moments between
    these events, nor Python's own start-up before main.py's first line, where Python itself
    reports the interrupt."""
    outdir = tmp_path / "out"
    args = main_py("local", "--environments-dir", str(environments), "--outdir", str(outdir))

    status, stderr = finish(interrupt_at(moment, args, tmp_path))

    assert status == 130, stderr
    assert len(stderr.splitlines()) == 1, f"one line, no jsii noise:\n{stderr}"
    assert stderr.startswith("infrakit: synthesis interrupted"), stderr
    assert "Traceback" not in stderr
    assert not outdir.exists() or not list(outdir.iterdir()), "nothing was written"


def test_ctrl_c_while_finishing_keeps_the_complete_output_and_says_so(tmp_path, environments):
    """Once the stack is in place, Ctrl-C stops only the cleanup (jsii's Node): exit 130, one line
    saying the output is complete. The process may also have finished already, with status 0: then
    there was nothing left to interrupt, and the output must be just as complete."""
    outdir = tmp_path / "out"
    args = main_py("local", "--environments-dir", str(environments), "--outdir", str(outdir))
    process = start_foreground_job(args, cwd=tmp_path, env=cache_enabled())
    stack = outdir / "stacks" / "local" / "cdk.tf.json"
    deadline = time.monotonic() + 60
    while not stack.exists() and process.poll() is None:
        assert time.monotonic() < deadline, "the stack never appeared"
        time.sleep(0.001)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGINT)

    status, stderr = finish(process)

    assert "Traceback" not in stderr and "jsii" not in stderr, stderr
    assert status in (0, 130), stderr
    if status == 130:
        assert stderr.startswith("infrakit: synthesis interrupted while finishing"), stderr
        assert "holds the complete output of local" in stderr
        assert len(stderr.splitlines()) == 1, stderr
    assert json.loads(stack.read_text())["terraform"], "the stack is complete"


def test_ctrl_c_reaches_node_even_when_python_ignores_it(tmp_path, environments):
    """A script's background job (`python main.py &` in a script, or `setsid ... &`) starts with
    Ctrl-C ignored; Node resets its signals and still dies of the terminal's Ctrl-C. That failure is
    an interruption too: one line and status 130, not jsii's traceback."""
    outdir = tmp_path / "out"
    args = main_py("local", "--environments-dir", str(environments), "--outdir", str(outdir))
    process = subprocess.Popen(
        args,
        cwd=tmp_path,
        env=cache_enabled(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    deadline = time.monotonic() + 60
    while not node_children(process.pid):
        assert process.poll() is None, f"main.py ended before jsii started: {process.communicate()}"
        assert time.monotonic() < deadline, "jsii's Node child never started"
        time.sleep(0.005)
    time.sleep(0.1)
    assert process.poll() is None, "synthesis finished before Ctrl-C: nothing to test"
    os.killpg(process.pid, signal.SIGINT)

    status, stderr = finish(process)

    assert status == 130, stderr
    assert stderr.splitlines() == [stderr.strip()], f"one line expected:\n{stderr}"
    assert stderr.startswith(INTERRUPTED)
    assert not list(outdir.rglob("*.json"))
