"""`cdktf` (tools/cdktf, installed as node_modules/.bin/cdktf) runs the pinned CDK Terrain CLI with
the same arguments. tests/test_synth_output.py synthesizes through it. What these cannot prove:
`cdktf deploy`, which needs provider binaries this machine cannot download."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PYTHON, ROOT

CDKTF = ROOT / "node_modules" / ".bin" / "cdktf"
# Node 22 from .venv first. Without TF_CLI_CONFIG_FILE: where it names a missing file, as on some
# CI machines, the CLI logs Terraform's complaint about it on stdout, between us and the version.
ENV = {
    **{k: v for k, v in os.environ.items() if k != "TF_CLI_CONFIG_FILE"},
    "PATH": f"{Path(PYTHON).parent}{os.pathsep}{os.environ['PATH']}",
    "CHECKPOINT_DISABLE": "1",
}


def run(*command: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(part) for part in command], cwd=cwd, env=ENV, capture_output=True, text=True, timeout=120
    )


@pytest.fixture(scope="module", autouse=True)
def installed() -> None:
    assert CDKTF.exists(), "run scripts/setup.sh: it installs the cdktf command"


def test_cdktf_is_the_cdk_terrain_cli_that_package_json_pins() -> None:
    pinned = json.loads((ROOT / "package.json").read_text())["devDependencies"]["cdktn-cli"]
    assert run(CDKTF, "--version").stdout.strip() == pinned
    assert run(ROOT / "node_modules" / ".bin" / "cdktn", "--version").stdout.strip() == pinned
    assert not (ROOT / "node_modules" / "cdktf-cli").exists(), "the archived CLI is not installed"


def test_the_cli_sees_the_same_arguments_and_its_exit_code_comes_back() -> None:
    listed = run(CDKTF, "list", "--help")
    assert listed.returncode == 0, listed.stderr
    assert "List stacks in app" in listed.stdout
    unknown = run(CDKTF, "no-such-command")
    assert unknown.returncode != 0
    assert 'Could not find command "no-such-command"' in unknown.stdout + unknown.stderr


def test_without_the_cli_installed_it_says_how_to_install_it(tmp_path: Path) -> None:
    alone = tmp_path / "cdktf"
    shutil.copytree(ROOT / "tools" / "cdktf", alone)  # no node_modules anywhere above it
    result = run("node", alone / "bin" / "cdktf.js", "--version", cwd=tmp_path)
    assert result.returncode == 1
    assert "cdktn-cli) is not installed; run scripts/setup.sh" in result.stderr
