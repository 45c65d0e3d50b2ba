"""A synth of several environments splits them across processes (infrakit/synth_jobs.py): the
output is byte for byte what one process writes, a failing process fails the whole synth with
nothing replaced, and Ctrl-C still ends it with one line.

The suite runs every other synth with INFRAKIT_SYNTH_JOBS=1 (conftest.py): xdist already keeps
every core busy. These tests ask for two processes explicitly.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from infrakit import synth_cache, synth_jobs
from tests.conftest import ENVIRONMENTS, PYTHON, ROOT, SENTINELS, start_foreground_job

# Preloaded into every Node of a synth: records each jsii kernel that starts (infrakit/jsii_kernel.js,
# or lib/program.js behind jsii's relay).
KERNEL_PROBE = """
const fs = require("node:fs");
if (process.argv.some((arg) => arg.endsWith("jsii_kernel.js") || arg.endsWith("program.js"))) {
  fs.appendFileSync(process.env.KERNELS_STARTED, `${process.pid}\\n`);
}
"""

# Preloaded into every Node of a synth: the kernel that loads the Docker provider fails there, as a
# kernel that runs out of memory or meets a broken package would.
DOCKER_PROVIDER_FAILS = """
const Module = require("node:module");
const load = Module._load;
Module._load = function (request, ...rest) {
  if (/provider-docker/.test(request)) throw new Error("test: the Docker provider failed to load");
  return load.call(this, request, ...rest);
};
"""


def tree(outdir: Path) -> dict[str, bytes]:
    return {str(p.relative_to(outdir)): p.read_bytes() for p in sorted(outdir.rglob("*")) if p.is_file()}


def main_py(
    outdir: Path, *args: str, jobs: str, preload: Path | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    options = f'--require "{preload}"' if preload else ""
    return subprocess.run(
        [PYTHON, str(ROOT / "main.py"), "--outdir", str(outdir), *args],
        cwd=ROOT,
        env={
            **os.environ,
            "INFRAKIT_SYNTH_CACHE": "0",
            synth_jobs.JOBS_VARIABLE: jobs,
            "NODE_OPTIONS": options,
            **env,
        },
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_two_processes_write_the_bytes_one_process_writes(synthesized, tmp_path):
    """Every shipped environment in two processes gives the files, manifest included, byte for
    byte, of the suite's shared synth (conftest.synthesized: one process, as every synth the
    suite starts); and two jsii kernels did run.

    It cannot prove the same for a machine with more cores than environments: that is one
    environment per process, which this covers less strictly (two groups here)."""
    probe = tmp_path / "kernels.js"
    probe.write_text(KERNEL_PROBE)
    started = tmp_path / "kernels"

    result = main_py(tmp_path / "out", jobs="2", preload=probe, KERNELS_STARTED=str(started), **SENTINELS)

    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout == "infrakit: synthesized dev, local, prod, staging\n"
    assert len(started.read_text().split()) == 2
    one = {name: data for name, data in tree(synthesized).items() if name != synth_cache.STAMP}
    two = tree(tmp_path / "out")
    assert sorted(one) == sorted(two)
    assert one == two


@pytest.fixture
def two_environments(tmp_path: Path) -> Path:
    """dev (AWS, synthesized by the first process) and local (Docker, by the second)."""
    directory = tmp_path / "environments"
    directory.mkdir()
    for name in ("dev", "local"):
        shutil.copy(ENVIRONMENTS / f"{name}.toml", directory / f"{name}.toml")
    return directory


def test_a_process_that_fails_fails_the_synth_naming_its_environments_and_replaces_nothing(
    synthesized, tmp_path, two_environments
):
    """The second process's Node fails while loading the Docker provider: exit 1, a line naming
    `local` and how to synthesize in one process, and the previous output untouched.

    It cannot prove what a real failure in Node looks like (here an exception thrown by a
    preloaded script, which jsii reports like any other)."""
    outdir = tmp_path / "out"
    args = ("--environments-dir", str(two_environments))
    # A previous synth's output: the shared synth's stacks of the two environments.
    for stack in ("dev", "dev-images", "local"):
        shutil.copytree(synthesized / "stacks" / stack, outdir / "stacks" / stack)
    shutil.copy(synthesized / "manifest.json", outdir / "manifest.json")
    before = tree(outdir)
    failing = tmp_path / "docker-fails.js"
    failing.write_text(DOCKER_PROVIDER_FAILS)

    result = main_py(outdir, *args, jobs="2", preload=failing)

    assert result.returncode == 1, result.stderr
    assert "test: the Docker provider failed to load" in result.stderr
    assert result.stderr.rstrip().splitlines()[-1] == (
        "infrakit: synthesis of local failed in a separate process (exit status 1, see above); nothing "
        f"was replaced in {outdir}. To synthesize in one process, set INFRAKIT_SYNTH_JOBS=1"
    )
    assert tree(outdir) == before
    assert [p.name for p in outdir.iterdir()] == [
        p.name for p in outdir.iterdir() if not p.name.startswith(".")
    ]


def test_ctrl_c_ends_every_process_with_one_line_and_nothing_half_written(tmp_path, two_environments):
    """SIGINT to the process group while both processes build their stacks, as a terminal sends
    it: exit 130, the one interrupted line, no traceback, nothing written, and no process of the
    synth left running.

    It cannot choose which of the processes notices first; the test interrupts at one moment."""
    outdir = tmp_path / "out"
    env = {**os.environ, "INFRAKIT_SYNTH_CACHE": "0", synth_jobs.JOBS_VARIABLE: "2"}
    args = [
        PYTHON,
        str(ROOT / "main.py"),
        "--environments-dir",
        str(two_environments),
        "--outdir",
        str(outdir),
    ]
    process = start_foreground_job(args, cwd=tmp_path, env=env)
    deadline = time.monotonic() + 60
    while len(_kernels_in_group(process.pid)) < 2:
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "two jsii kernels never ran"
        time.sleep(0.01)
    time.sleep(0.2)
    os.killpg(process.pid, signal.SIGINT)
    _, stderr = process.communicate(timeout=60)

    assert process.returncode == 130, stderr
    assert stderr.splitlines() == [
        "infrakit: synthesis interrupted; nothing half-done was kept (run it again to synthesize)"
    ]
    assert not list(outdir.rglob("*.json"))
    deadline = time.monotonic() + 10
    while _group_members(process.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _group_members(process.pid) == []


def _group_members(group: int) -> list[int]:
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == group and fields[0] != "Z":
                members.append(int(entry.name))
    return members


def _kernels_in_group(group: int) -> list[int]:
    kernels = []
    for pid in _group_members(group):
        try:
            command = (Path(f"/proc/{pid}/cmdline")).read_bytes()
        except OSError:
            continue
        if command.rstrip(b"\0").endswith((b"jsii_kernel.js", b"program.js")):
            kernels.append(pid)
    return kernels


def environment(name: str, aws: bool) -> Any:
    return SimpleNamespace(name=name, config=SimpleNamespace(uses_aws=aws))


def test_partition_balances_aws_environments_and_keeps_each_groups_order():
    """Three AWS environments and a local one over two processes: two AWS environments in one
    group, the third with local in the other; the first group starts with the first environment.

    It cannot prove the weights match every machine: they come from round trips counted here."""
    dev, local, prod, staging = (environment(n, n != "local") for n in ("dev", "local", "prod", "staging"))

    groups = synth_jobs.partition([dev, local, prod, staging], 2)

    assert [[e.name for e in g] for g in groups] == [["dev", "staging"], ["local", "prod"]]
    assert [[e.name for e in g] for g in synth_jobs.partition([dev, local], 8)] == [["dev"], ["local"]]
    assert [[e.name for e in g] for g in synth_jobs.partition([dev, local, prod], 1)] == [
        ["dev", "local", "prod"]
    ]


@pytest.mark.parametrize("value", ["0", "-1", "two", "1.5"])
def test_a_jobs_value_that_is_not_a_whole_number_of_processes_is_a_usage_error(tmp_path, value):
    """Exit 2 with a line naming the variable and the value, before anything is loaded.

    It cannot prove every spelling of a bad value is caught: four are tried."""
    result = main_py(tmp_path / "out", "local", jobs=value)

    assert result.returncode == 2
    assert result.stderr == (
        "python main.py: INFRAKIT_SYNTH_JOBS must be a whole number of processes, at least 1 (1 "
        f"synthesizes in this process alone); it is {value!r}\n"
    )


def test_manifests_naming_the_same_stack_are_not_merged():
    """A stack synthesized twice would mean a partition bug: refused, naming the stack.

    It cannot prove anything about manifests cdktn may write in future versions."""
    with pytest.raises(ValueError, match="same stacks: local"):
        synth_jobs.merged_manifest(
            {"version": "1", "stacks": {"local": {}}}, {"version": "1", "stacks": {"local": {}}}
        )
