"""`cdktf` works whatever PATH holds: with only /usr/bin:/bin, where `node` is the system's Node 20
(or none at all) and `python` is not the project's, it runs the CDK Terrain CLI on the Node 22 in
.venv and cdktf.json's `python main.py` on .venv's Python. A successful `cdktf synth` shows no
error: infrakit's progress lines go to stdout, which the CLI prints as they are, not to stderr,
which it prints as red [ERROR] lines.

What these cannot prove: a machine whose system Node is older than 20 (the re-run needs only
Node's standard modules, and this machine has Node 20), and `cdktf deploy`, which needs providers.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import ROOT

CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"
SYSTEM_PATH = "/usr/bin:/bin"
# Without TF_CLI_CONFIG_FILE: where it names a missing file, as on some CI machines, the CLI logs
# Terraform's complaint about it as an error, which is no business of these tests.
ENV = {
    "PATH": SYSTEM_PATH,
    "HOME": os.environ.get("HOME", "/root"),
    "CHECKPOINT_DISABLE": "1",
    "LANG": "C.UTF-8",
}
STACK_TRACE_MARKERS = ("    at ", "node:internal", "Traceback")


def run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300
    )


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    assert CDKTF.exists(), "run scripts/setup.sh: it installs the cdktf command"


def assert_no_stack_trace(result: subprocess.CompletedProcess[str]) -> None:
    output = result.stdout + result.stderr
    for marker in STACK_TRACE_MARKERS:
        assert marker not in output, output


def test_cdktf_version_runs_with_only_the_system_path():
    result = run(CDKTF, "--version")

    assert result.returncode == 0, result.stdout + result.stderr
    assert_no_stack_trace(result)
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["cdktn-cli"]
    assert result.stdout.strip() == pinned


def test_cdktf_synth_with_only_the_system_path_succeeds_shows_no_error_and_matches_main_py(
    tmp_path, synthesized
):
    """One real `cdktf synth` of every environment, in a copy of the app (main.py, cdktf.json,
    infrakit/, environments/), so the project's own cdktf.out is not written. The copy shares the
    project's node_modules and .venv. Its stacks are byte for byte those of `python main.py`: the
    CLI runs the same app, whatever PATH holds."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("main.py", "cdktf.json"):
        shutil.copy(ROOT / name, project / name)
    for name in ("infrakit", "environments"):
        shutil.copytree(ROOT / name, project / name)  # bytecode too: it stays valid (same mtimes)
    (project / "node_modules").symlink_to(ROOT / "node_modules")

    result = run(CDKTF, "synth", "--output", "cli.out", cwd=project)

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert_no_stack_trace(result)
    assert "[ERROR]" not in output and "\x1b[91m" not in output, output
    assert "infrakit: synthesized dev, local, prod, staging" in result.stdout
    cli_stacks = project / "cli.out" / "stacks"
    names = sorted(p.name for p in cli_stacks.iterdir())
    assert names == sorted(p.name for p in (synthesized / "stacks").iterdir())
    assert {"dev", "dev-images", "local", "prod", "prod-images", "staging", "staging-images"} <= set(names)
    for name in names:
        expected = synthesized / "stacks" / name / "cdk.tf.json"
        assert (cli_stacks / name / "cdk.tf.json").read_bytes() == expected.read_bytes(), name


def test_without_the_projects_venv_it_says_to_run_setup(tmp_path):
    """A project whose CLI is installed but whose .venv is missing (the CLI's package.json is all
    that finding it needs)."""
    cli = tmp_path / "node_modules" / "cdktn-cli"
    cli.mkdir(parents=True)
    shutil.copy(ROOT / "node_modules" / "cdktn-cli" / "package.json", cli / "package.json")
    shutil.copytree(ROOT / "tools" / "cdktf", tmp_path / "tools" / "cdktf")
    node = shutil.which("node", path=SYSTEM_PATH)
    if node is None:
        pytest.skip("no system Node on /usr/bin:/bin to start the cdktf command with")

    result = run(node, tmp_path / "tools" / "cdktf" / "bin" / "cdktf.js", "--version", cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"cdktf: the project's Python environment {tmp_path / '.venv'} is missing; run scripts/setup.sh "
        "(it creates it)"
    )
